"""Execute once, reuse: what a chapter's execution depends on, as one fingerprint.

    python .ci/executed.py --stamp    record the current fingerprint in _build/executed.json
    python .ci/executed.py            say whether _build's executed chapters are current

`bash .ci/build_site.sh` executes every chapter (.ci/execute.py, into MyST-NB's cache and
_build/executed/book/) and then stamps the fingerprint of the tree it executed: the chapters, the
package, the book's configuration, and the Python and torch that ran them. The test command would
execute every chapter again under nbval; where the stamp matches the tree as it is now, the
executed copies are what nbval would run, so tests/conftest.py leaves nbval out for the chapters
that have one and tests/book/test_book.py checks those copies instead (every code cell ran, none
failed, the code is the chapter's). Any change to a chapter or a module changes the fingerprint,
and the tests execute the chapters again; VICOURSE_REUSE_EXECUTED=0 makes them do so anyway. The
student edition reuses the same execution through MyST-NB's cache (_config.yml), so a CI run
executes each chapter once for the site, both editions and the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = ("book/*.ipynb", "vicourse/**/*.py", "vicourse/**/*.json", "_config.yml", "_toc.yml")


def stamp_path(root: Path = ROOT) -> Path:
    return root / "_build" / "executed.json"


def fingerprint(root: Path = ROOT) -> str:
    """SHA-256 of the files a chapter's execution depends on, and of the interpreter."""
    digest = hashlib.sha256()
    for pattern in PATTERNS:
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    digest.update(f"python {platform.python_version()}\0".encode())
    digest.update(f"torch {metadata.version('torch')}\0".encode())
    return digest.hexdigest()


def stamp(root: Path = ROOT) -> Path:
    """Record that _build's executed chapters are those of the tree as it is now."""
    path = stamp_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fingerprint": fingerprint(root)}) + "\n")
    return path


def current(root: Path = ROOT) -> bool:
    """True when the last site build executed the tree as it is now."""
    path = stamp_path(root)
    if not path.is_file():
        return False
    try:
        recorded = json.loads(path.read_text())["fingerprint"]
    except (ValueError, KeyError, TypeError):
        return False
    return recorded == fingerprint(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stamp", action="store_true", help="record the current fingerprint")
    args = parser.parse_args(argv)
    if args.stamp:
        print(f"stamped {stamp().relative_to(ROOT)}: the executed chapters are this tree's")
        return 0
    if current():
        print("_build's executed chapters are this tree's: the tests reuse them")
        return 0
    print("_build's executed chapters are not this tree's (or there are none): nbval runs them")
    return 1


if __name__ == "__main__":
    sys.exit(main())
