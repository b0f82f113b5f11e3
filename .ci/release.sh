#!/usr/bin/env bash
# Build a release's files into dist/release/: the site and the student edition as zips, the student
# notebooks as a zip, and each chapter's otter-grader autograder. .github/workflows/release.yml runs
# this on a tag vX.Y.Z and attaches the files to the GitHub release; run it yourself for the same
# files. First, before anything is installed or built, it checks the version, vicourse.__version__:
# the same in CITATION.cff and pyproject.toml, with notes in its section of CHANGELOG.md (the
# release's description, dist/release-notes.md), and each tag v* on HEAD is v + the version.
# `bump-my-version bump --new-version X.Y.Z` moves every copy ([tool.bumpversion]).
#   bash .ci/release.sh --check [TAG]    only those checks (of TAG, if given, instead of HEAD's
#                                        tags); prints the release notes and builds nothing
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in "" | --check) ;; *) echo "usage: bash .ci/release.sh [--check [TAG]]" >&2; exit 2 ;; esac
version=$(sed -n 's/^__version__ = "\([^"]*\)"$/\1/p' vicourse/__init__.py)
tags=$(git tag --points-at HEAD 'v*' 2>/dev/null || true)
[ "${1:-}" != --check ] || tags=${2:-$tags}
bump="bump-my-version bump --new-version"
# this version's section of CHANGELOG.md: the release's description
notes=$(awk -v v="$version" '/^## /{on = ($2 == v); next} on' CHANGELOG.md | sed '/./,$!d')
problems=()
for copy in "CITATION.cff:version: $version" "pyproject.toml:current_version = \"$version\""; do
    grep -qx "${copy#*:}" "${copy%%:*}" || problems+=("${copy%%:*} lacks '${copy#*:}',\
 vicourse/__init__.py's version: write it there ($bump X.Y.Z writes every copy)")
done
[ -n "${notes//[[:space:]]/}" ] || problems+=("CHANGELOG.md: the release needs a section\
 '## $version' with notes: write them under '## Unreleased', then $bump X.Y.Z")
for tag in $tags; do
    [ "$tag" = "v$version" ] || problems+=("the tag is '$tag' but vicourse/__init__.py's version\
 is '$version': tag v$version instead (git tag -d $tag && git tag v$version), or bump the\
 version first ($bump ${tag#v}), commit, and tag that commit")
done
if [ ${#problems[@]} -gt 0 ]; then
    printf '%s\n' "${problems[@]}" >&2
    exit 1
fi
if [ "${1:-}" = --check ]; then
    printf '%s\n' "$notes"
    exit 0
fi
[ -n "$tags" ] || echo "HEAD has no tag v$version: building the release files anyway (a dry run)"
source .ci/install.sh
# the exercises' expected answers are what the master notebooks' solutions give
"$PYTHON" .ci/expected.py --check
bash .ci/build_site.sh
bash .ci/build_site.sh --student
bash .ci/assign.sh
# every chapter's zip, graded as Gradescope grades it: the solution full, the student notebook zero
"$PYTHON" .ci/gradescope.py
rm -rf dist/release
mkdir -p dist/release
printf '%s\n' "$notes" > dist/release-notes.md  # the release's description
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
