#!/usr/bin/env bash
# Build a release's files into dist/release/: the site and the student edition as zips, the student
# notebooks as a zip, and each chapter's otter-grader autograder. .github/workflows/release.yml runs this
# on a tag vX.Y.Z and attaches the files to the GitHub release; run it yourself for the same files.
# On a tagged commit the tag must be v + vicourse.__version__ (python .ci/version.py bump X.Y.Z sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
# the versions first, before anything is installed or built (.ci/version.py needs only Python)
tags=$(git tag --points-at HEAD 'v*' 2>/dev/null || true)
for tag in $tags; do
    "${PYTHON:-python3}" .ci/version.py --tag "$tag"
done
"${PYTHON:-python3}" .ci/version.py --check
source .ci/install.sh
# the exercises' expected answers are what the master notebooks' solutions give
"$PYTHON" .ci/expected.py --check
version=$("$PYTHON" .ci/version.py)
[ -n "$tags" ] || echo "HEAD has no tag v$version: building the release files anyway (a dry run)"
bash .ci/build_site.sh
bash .ci/build_site.sh --student
bash .ci/assign.sh
# every chapter's zip, graded as Gradescope grades it: the solution full, the student notebook zero
"$PYTHON" .ci/gradescope.py
rm -rf dist/release
mkdir -p dist/release
"$PYTHON" .ci/version.py --notes > dist/release-notes.md  # the release's description
"$PYTHON" - "$version" <<'PY'
import shutil, sys
from pathlib import Path

version, out = sys.argv[1], Path("dist/release")
for name, folder in [
    ("site", "_build/html"),
    ("student-site", "_build/student/_build/html"),
    ("student-notebooks", "dist/coursework/student"),
]:
    shutil.make_archive(str(out / f"vicourse-{version}-{name}"), "zip", folder)
for grader in sorted(Path("dist/coursework/autograder").glob("*.zip")):
    shutil.copy2(grader, out / f"vicourse-{version}-autograder-{grader.name}")
PY
echo "The release files of $version are in $(pwd)/dist/release:"
ls -1 dist/release | sed 's/^/  /'
