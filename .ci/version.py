"""The course's version: one number in one place, bumped once per release.

    python .ci/version.py                      print the version (vicourse.__version__)
    python .ci/version.py --check [--tag v0.2.0]
    python .ci/version.py --notes              this version's section of CHANGELOG.md
    python .ci/version.py bump 0.3.0

The one place is vicourse/__init__.py's `__version__ = "X.Y.Z"`. pyproject.toml holds no number: it
declares `dynamic = ["version"]` and `[tool.setuptools.dynamic] version = { attr =
"vicourse.__version__" }`, setuptools' standard way to single-source a version. setuptools reads a
literal assignment from the file without importing the package (so an install with build isolation
needs no torch), and the wheel's metadata, hence importlib.metadata.version("vicourse"), follows.
The package reads `__version__` itself (the site's status page prints it, runtime.describe() too):
an editable install's metadata keeps the version it was installed with until it is reinstalled,
the file does not. The other route, the number in pyproject.toml and `__version__` read from
importlib.metadata, would have a checkout on sys.path report whatever was installed last, or fail.

CITATION.cff's `version` (citation tools want it there) and a `## X.Y.Z` section of CHANGELOG.md
are copies, written by `bump`. --check exits 1 if a copy disagrees, if pyproject.toml holds a
version of its own or does not take it from vicourse.__version__, or if --tag (the git tag being
released) is not `v` + the version. `bump` writes the new version into vicourse/__init__.py and
CITATION.cff, dates CITATION.cff, and turns CHANGELOG.md's "Unreleased" notes into the new
version's section. Then commit, tag and push:

    git commit -am "Release 0.3.0" && git tag v0.3.0 && git push origin main v0.3.0

and .github/workflows/release.yml builds the release (`bash .ci/release.sh`) and publishes it.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
SOURCE = "vicourse/__init__.py"  # the one place that holds the version
ATTR = "vicourse.__version__"  # how pyproject.toml names it
# where each file keeps the version: (file, pattern whose group 2 is the version); the first is
# the source, the rest are copies that `bump` writes
PLACES = {
    SOURCE: re.compile(r'^(__version__ = ")([^"]*)(")', re.M),
    "CITATION.cff": re.compile(r"^(version: )(\S*)()", re.M),
}
RELEASED = re.compile(r'^(date-released: ")([^"]*)(")', re.M)
UNRELEASED = "## Unreleased\n"


def read(root: Path = ROOT) -> dict[str, str | None]:
    """The version each file holds (None where it has none)."""
    found = {}
    for name, pattern in PLACES.items():
        match = pattern.search((root / name).read_text())
        found[name] = match[2] if match else None
    return found


def current(root: Path = ROOT) -> str:
    return read(root)[SOURCE] or ""


def pyproject_problems(root: Path = ROOT) -> list[str]:
    """What is wrong with how pyproject.toml takes its version (empty when all is well)."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    project = pyproject.get("project", {})
    bad = []
    if "version" in project:
        bad.append(
            f"pyproject.toml: [project] says version = {project['version']!r}; the version is"
            f' {SOURCE}\'s alone: delete that line and keep dynamic = ["version"]'
        )
    if "version" not in project.get("dynamic", []):
        bad.append('pyproject.toml: [project] must declare dynamic = ["version"]')
    dynamic = pyproject.get("tool", {}).get("setuptools", {}).get("dynamic", {})
    if dynamic.get("version") != {"attr": ATTR}:
        bad.append(
            f'pyproject.toml: [tool.setuptools.dynamic] must say version = {{ attr = "{ATTR}" }},'
            f" got {dynamic.get('version')!r}"
        )
    return bad


def problems(root: Path = ROOT, tag: str | None = None) -> list[str]:
    """What disagrees with vicourse/__init__.py's version (empty when all is well)."""
    version = current(root)
    bad = []
    if not VERSION.match(version):
        bad.append(f"{SOURCE}: __version__ must be X.Y.Z, got {version!r}")
    bad += pyproject_problems(root)
    for name, value in read(root).items():
        if value != version:
            bad.append(f"{name}: version {value!r}, but {SOURCE} says {version!r}")
    headings = re.findall(r"^## (\S+)", (root / "CHANGELOG.md").read_text(), flags=re.M)
    if version not in headings:
        bad.append(
            f"CHANGELOG.md: no '## {version}' section; run: python .ci/version.py bump X.Y.Z"
        )
    if tag is not None and tag != f"v{version}":
        bad.append(
            f"the tag is {tag!r} but {SOURCE}'s version is {version!r}: tag v{version},"
            " or bump the version first (python .ci/version.py bump X.Y.Z) and tag that commit"
        )
    return bad


def notes(root: Path = ROOT) -> str:
    """CHANGELOG.md's section for the current version (the release's description)."""
    changelog = (root / "CHANGELOG.md").read_text()
    section = re.search(
        rf"^## {re.escape(current(root))}\b.*?\n(.*?)(?=^## |\Z)", changelog, re.M | re.S
    )
    return section[1].strip() + "\n" if section else ""


def bump(new: str, root: Path = ROOT, today: datetime.date | None = None) -> list[Path]:
    """Write version `new` everywhere; returns the files changed."""
    old = current(root)
    if not VERSION.match(new):
        raise SystemExit(f"the new version must be X.Y.Z (three numbers), got {new!r}")
    if VERSION.match(old) and tuple(map(int, VERSION.match(new).groups())) <= tuple(
        map(int, VERSION.match(old).groups())
    ):
        raise SystemExit(f"the new version must be above the current {old}, got {new}")
    wrong = pyproject_problems(root)
    if wrong:
        raise SystemExit("fix pyproject.toml first:\n" + "\n".join(wrong))
    changelog = (root / "CHANGELOG.md").read_text()
    if UNRELEASED not in changelog:
        raise SystemExit("CHANGELOG.md has no '## Unreleased' section to release")
    unreleased = changelog.split(UNRELEASED, 1)[1].split("\n## ", 1)[0].strip()
    if not unreleased:
        raise SystemExit(
            "CHANGELOG.md's Unreleased section is empty: say what this release changes"
        )
    today = today or datetime.date.today()
    changed = []
    for name, pattern in [*PLACES.items(), ("CITATION.cff", RELEASED)]:
        path = root / name
        value = today.isoformat() if pattern is RELEASED else new
        path.write_text(pattern.sub(rf"\g<1>{value}\g<3>", path.read_text(), count=1))
        changed.append(path)
    changelog = changelog.replace(UNRELEASED, f"{UNRELEASED}\n## {new} ({today.isoformat()})\n", 1)
    (root / "CHANGELOG.md").write_text(changelog)
    changed.append(root / "CHANGELOG.md")
    left = problems(root)
    if left:
        raise SystemExit("after the bump, still:\n" + "\n".join(left))
    return sorted(set(changed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=["bump"], help="bump the version")
    parser.add_argument("version", nargs="?", help="the new version, X.Y.Z")
    parser.add_argument("--check", action="store_true", help="exit 1 if the files disagree")
    parser.add_argument("--tag", help="the git tag being released: must be v + the version")
    parser.add_argument("--notes", action="store_true", help="print the version's changelog")
    args = parser.parse_args(argv)
    if args.notes:
        print(notes(), end="")
        return 0
    if args.command == "bump":
        if not args.version:
            parser.error("give the new version: bump X.Y.Z")
        for path in bump(args.version):
            print(f"rewrote {path.relative_to(ROOT)}")
        print(f"version {args.version}: commit, then git tag v{args.version} and push the tag")
        return 0
    if args.check or args.tag:
        bad = problems(tag=args.tag)
        print("\n".join(bad) or f"version {current()} everywhere")
        return 1 if bad else 0
    print(current())
    return 0


if __name__ == "__main__":
    sys.exit(main())
