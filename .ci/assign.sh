#!/usr/bin/env bash
# Generate the coursework: student notebooks (solutions replaced by stubs) and otter-grader
# autograders for every chapter with graded questions, in dist/coursework/. Installs what it needs
# first (as build_site.sh and test.sh do). Arguments go to .ci/assign.py (--chapters 03 07, --out).
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/install.sh
"$PYTHON" .ci/assign.py "$@"
