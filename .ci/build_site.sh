#!/usr/bin/env bash
# Build the site: install what it needs, execute every chapter, build HTML with warnings as errors.
# --student builds the student edition instead (exercise solutions removed) into _build/student/.
set -euo pipefail
output=()
html=_build/html
if [ "${1:-}" = "--student" ]; then
    export VICOURSE_EDITION=student
    output=(--path-output _build/student)
    html=_build/student/_build/html
    shift
fi
cd "$(dirname "$0")/.."
source .ci/install.sh
# The full edition executes every chapter afresh, into an empty cache, several at a time
# (.ci/execute.py); the build takes them from the cache, and so does the student edition, which
# executes only what is not there (_config.yml).
if [ -z "${output[*]}" ]; then
    rm -rf _build/.jupyter_cache _build/executed _build/executed.json
    "$PYTHON" .ci/execute.py
fi
log=$(mktemp)
status=0
"$PYTHON" -c "from jupyter_book.cli.main import main; main()" build . "${output[@]}" -W -n --keep-going 2>&1 | tee "$log" || status=$?
if grep -q "Executed notebook in" "$log"; then
    echo
    echo "Executed by the build itself (budget: 60 s each on a 2-core CPU):"
    grep -o "book/[0-9A-Za-z_]*\.ipynb: Executed notebook in [0-9.]* seconds" "$log" | sed 's/^/  /'
fi
rm -f "$log"
if [ "$status" -ne 0 ]; then
    echo "The site build failed (exit $status): see the warnings above." >&2
    exit "$status"
fi
if [ -z "${output[*]}" ]; then
    "$PYTHON" .ci/executed.py --stamp  # the tests may reuse these executions (.ci/executed.py)
fi
echo "The site is at: $(pwd)/$html/index.html"
