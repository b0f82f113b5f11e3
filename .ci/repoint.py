"""Point the course at a repository and a ref: for teaching from a fork, pinned for a semester.

    python .ci/repoint.py https://github.com/YOU/vicourse fall-2027

`_config.yml` is the one place the course's repository and ref are kept (repository.url and
repository.branch: the repository button, the Colab links), with the address the site is
published at (html.baseurl, GitHub Pages: https://OWNER.github.io/REPO/, derived from the
repository). This rewrites it, then everything that repeats it: the first cell of every chapter
(which installs vicourse in Colab from `git+URL@REF`), every link to the package's code in the
chapters and pages (`URL/blob/REF/vicourse/…`, `URL/tree/REF/vicourse`), and the repository and
published addresses in README.md, CITATION.cff and pyproject.toml. tests/book/test_colab.py checks
that they all agree. With --check it changes nothing and exits 1 if anything disagrees with
_config.yml.
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


# files outside the book that name the repository and the published site
METADATA = ["README.md", "CITATION.cff", "pyproject.toml"]
PAGES = re.compile(r"https://[A-Za-z0-9-]+\.github\.io/[^\s\"'`)>]*")


def configured(root: Path = ROOT) -> tuple[str, str]:
    """(url, ref) from _config.yml."""
    repository = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    return repository["url"].rstrip("/"), str(repository["branch"])


def published(root: Path = ROOT) -> str:
    """The address the site is published at, from _config.yml (html.baseurl)."""
    return str(yaml.safe_load((root / "_config.yml").read_text())["html"]["baseurl"])


def pages_url(url: str) -> str:
    """GitHub Pages' address for a repository: https://OWNER.github.io/REPO/ (or
    https://OWNER.github.io/ for the repository OWNER.github.io)."""
    owner, repo = url.rstrip("/").split("/")[-2:]
    host = f"{owner.lower()}.github.io"
    return f"https://{host}/" if repo.lower() == host else f"https://{host}/{repo}/"


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
    """Every install, code link or address that does not name _config.yml's repository, ref
    and published site."""
    url, ref = configured(root)
    site = published(root)
    bad = []
    if site != pages_url(url):
        bad.append(f"_config.yml: html.baseurl {site}, but {url} publishes at {pages_url(url)}")
    for name in METADATA:
        text = (root / name).read_text()
        if url not in text:
            bad.append(f"{name}: does not name the repository {url}")
        if site not in text:
            bad.append(f"{name}: does not name the published site {site}")
        others = {address.rstrip(".,;:") for address in PAGES.findall(text)} - {site}
        bad += [f"{name}: names the site {other}" for other in sorted(others)]
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
    text = text[: block.start(1)] + body + text[block.end(1) :]
    text, count = re.subn(r"^(\s+baseurl:\s*).*$", rf"\g<1>{pages_url(url)}", text, flags=re.M)
    if count != 1:
        raise SystemExit("_config.yml needs one html.baseurl: line to rewrite")
    path.write_text(text)


def rewrite_metadata(root: Path, url: str) -> list[Path]:
    """README.md, CITATION.cff, pyproject.toml: the old repository and site become the new."""
    old_url, old_site = configured(root)[0], published(root)
    changed = []
    for name in METADATA:
        path = root / name
        text = path.read_text()
        new = re.sub(re.escape(old_url) + r"(?![A-Za-z0-9_.-])", url, text)
        new = new.replace(old_site, pages_url(url))
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def repoint(url: str, ref: str, root: Path = ROOT) -> list[Path]:
    """Point the course at url and ref; returns the files changed."""
    url = url.rstrip("/").removesuffix(".git")
    if not URL.match(url):
        raise SystemExit(
            f"url must be a GitHub repository like https://github.com/OWNER/REPO, got {url!r}"
        )
    if not REF.match(ref) or ".." in ref:
        raise SystemExit(f"ref must be a branch or tag name such as main or fall-2027, got {ref!r}")
    changed = rewrite_metadata(root, url)  # first: it reads the old addresses from _config.yml
    rewrite_config(root, url, ref)
    changed.append(root / "_config.yml")
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
