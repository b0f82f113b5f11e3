#!/usr/bin/env bash
# Run the tests: install what they need, then the unit tests and, through nbval, every chapter.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/install.sh
"$PYTHON" -m pytest -p no:cacheprovider --durations=8 "$@"
