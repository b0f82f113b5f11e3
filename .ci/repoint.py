"""Point the course at a repository and a ref: for teaching from a fork, pinned for a semester.

    python .ci/repoint.py https://github.com/YOU/vicourse fall-2027

`_config.yml` is the one place the course's repository and ref are kept (repository.url and
repository.branch: the repository button, the Colab links). This rewrites it, then everything
that repeats it: the first cell of every chapter (which installs vicourse in Colab from
`git+URL@REF`), and every link to the package's code in the chapters and pages
(`URL/blob/REF/vicourse/…`, `URL/tree/REF/vicourse`). tests/test_colab.py checks that they all
agree. With --check it changes nothing and exits 1 if anything disagrees with _config.yml.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
# what repeats the repository: an install from git, and a link into the package's code
INSTALL = re.compile(
    r"vicourse @ git\+(https://github\.com/[^@\"'\s]+?)(?:@([^\"'\s]+))?(?=[\"'`\s])"
)
CODE_LINK = re.compile(r"(https://github\.com/[^/\s)]+/[^/\s)]+)/(blob|tree)/([^/\s)]+)/vicourse")


def configured(root: Path = ROOT) -> tuple[str, str]:
    """(url, ref) from _config.yml."""
    repository = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    return repository["url"].rstrip("/"), str(repository["branch"])


def sources(root: Path = ROOT) -> list[Path]:
    """Every file that may repeat the repository: the chapters and the book's pages."""
    book = root / "book"
    return sorted([*book.glob("*.ipynb"), *book.glob("*.md")])


def text_of(path: Path) -> str:
    """What a reader sees of a file: a notebook's cell sources, or the text."""
    if path.suffix == ".ipynb":
        return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    return path.read_text()


def found(text: str) -> list[tuple[str, str | None, str]]:
    """(url, ref, what) for every install and code link in a text; ref None for a bare install."""
    out = [(m[1], m[2], "install") for m in INSTALL.finditer(text)]
    out += [(m[1], m[3], "link") for m in CODE_LINK.finditer(text)]
    return out


def disagreements(root: Path = ROOT) -> list[str]:
    """Every install or code link that does not name _config.yml's repository and ref."""
    url, ref = configured(root)
    bad = []
    for path in sources(root):
        for got_url, got_ref, what in found(text_of(path)):
            if got_url != url or (got_ref is not None and got_ref != ref):
                bad.append(f"{path.relative_to(root)}: {what} {got_url}@{got_ref}")
    return bad


def rewrite_text(text: str, url: str, ref: str) -> str:
    text = INSTALL.sub(lambda m: f"vicourse @ git+{url}" + (f"@{ref}" if m[2] else ""), text)
    return CODE_LINK.sub(lambda m: f"{url}/{m[2]}/{ref}/vicourse", text)


def rewrite_config(root: Path, url: str, ref: str) -> None:
    """Change repository.url and repository.branch in place, keeping the file's comments."""
    path = root / "_config.yml"
    text = path.read_text()
    block = re.search(r"^repository:\n((?:[ \t]+.*\n)+)", text, flags=re.M)
    if block is None:
        raise SystemExit("_config.yml has no repository: block to rewrite")
    body = re.sub(r"^(\s+url:\s*).*$", rf"\g<1>{url}", block[1], flags=re.M)
    body = re.sub(r"^(\s+branch:\s*).*$", rf"\g<1>{ref}", body, flags=re.M)
    path.write_text(text[: block.start(1)] + body + text[block.end(1) :])


def repoint(url: str, ref: str, root: Path = ROOT) -> list[Path]:
    """Point the course at url and ref; returns the files changed."""
    url = url.rstrip("/").removesuffix(".git")
    if not URL.match(url):
        raise SystemExit(
            f"url must be a GitHub repository like https://github.com/OWNER/REPO, got {url!r}"
        )
    if not REF.match(ref) or ".." in ref:
        raise SystemExit(f"ref must be a branch or tag name such as main or fall-2027, got {ref!r}")
    rewrite_config(root, url, ref)
    changed = [root / "_config.yml"]
    for path in sources(root):
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            before = [c.source for c in nb.cells]
            for cell in nb.cells:
                cell.source = rewrite_text(cell.source, url, ref)
            if [c.source for c in nb.cells] != before:
                nbformat.write(nb, path)
                changed.append(path)
        else:
            text = path.read_text()
            new = rewrite_text(text, url, ref)
            if new != text:
                path.write_text(new)
                changed.append(path)
    left = disagreements(root)
    if left:
        raise SystemExit("still pointing elsewhere:\n" + "\n".join(left))
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="https://github.com/OWNER/REPO")
    parser.add_argument("ref", nargs="?", help="branch or tag, e.g. main or fall-2027")
    parser.add_argument("--check", action="store_true", help="only report disagreements")
    args = parser.parse_args(argv)
    if args.check:
        bad = disagreements()
        print("\n".join(bad) or f"everything points at {'@'.join(configured())}")
        return 1 if bad else 0
    if not args.url or not args.ref:
        parser.error("give the repository URL and the ref, or --check")
    for path in repoint(args.url, args.ref):
        print(f"rewrote {path.relative_to(ROOT)}")
    print(f"the course now points at {args.url}@{args.ref}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
