"""Point the course at a repository and a ref: for teaching from a fork, pinned for a semester.

    python .ci/repoint.py https://github.com/YOU/vicourse fall-2027
    python .ci/repoint.py --check  # change nothing; exit 1 if anything disagrees with _config.yml

rewrites repository.url, repository.branch and html.baseurl (GitHub Pages' address) in _config.yml
and what repeats them: the chapters' installs and code links, README.md, CITATION.cff and
pyproject.toml.
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
# what repeats the repository in the book: an install from git, a link into the package's code
INSTALL = r"""vicourse @ git\+(https://github\.com/[^@"'\s]+?)(?:@([^"'\s]+))?(?=["'`\s])"""
CODE_LINK = r"(https://github\.com/[^/\s)]+/[^/\s)]+)/(blob|tree)/([^/\s)]+)/vicourse"
# and outside it, these files, which name the repository and the published site
METADATA = ["README.md", "CITATION.cff", "pyproject.toml"]
PAGES = r"https://[A-Za-z0-9-]+\.github\.io/[^\s\"'`)>]*"
BLOCK = r"(?m)^repository:\n(?:[ \t]+.*\n)+"  # _config.yml's, with url: and branch:


def configured(root: Path = ROOT) -> tuple[str, str]:
    """(url, ref) from _config.yml."""
    repository = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    return repository["url"].rstrip("/"), str(repository["branch"])


def published(root: Path = ROOT) -> str:
    """The address the site is published at, from _config.yml (html.baseurl)."""
    return str(yaml.safe_load((root / "_config.yml").read_text())["html"]["baseurl"])


def pages_url(url: str) -> str:
    """GitHub Pages' address for a repository (OWNER.github.io's own at the root)."""
    owner, repo = url.rstrip("/").split("/")[-2:]
    host = f"{owner.lower()}.github.io"
    return f"https://{host}/" if repo.lower() == host else f"https://{host}/{repo}/"


def sources(root: Path = ROOT) -> list[Path]:
    """Every file that may repeat the repository: the chapters and the book's pages."""
    return sorted([*(root / "book").glob("*.ipynb"), *(root / "book").glob("*.md")])


def text_of(path: Path) -> str:
    """What a reader sees of a file: a notebook's cell sources, or the text."""
    if path.suffix == ".ipynb":
        return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    return path.read_text()


def found(text: str) -> list[tuple[str, str | None, str]]:
    """(url, ref, what) for every install and code link in a text; ref None for a bare install."""
    out = [(m[1], m[2], "install") for m in re.finditer(INSTALL, text)]
    return out + [(m[1], m[3], "link") for m in re.finditer(CODE_LINK, text)]


def disagreements(root: Path = ROOT) -> list[str]:
    """Every install, code link or address that names another repository, ref or site."""
    (url, ref), site, bad = configured(root), published(root), []
    if site != pages_url(url):
        bad.append(f"_config.yml: html.baseurl {site}, but {url} publishes at {pages_url(url)}")
    for name in METADATA:
        text = (root / name).read_text()
        for what, address in [("repository", url), ("published site", site)]:
            if address not in text:
                bad.append(f"{name}: does not name the {what} {address}")
        others = {address.rstrip(".,;:") for address in re.findall(PAGES, text)} - {site}
        bad += [f"{name}: names the site {other}" for other in sorted(others)]
    for path in sources(root):
        for got_url, got_ref, what in found(text_of(path)):
            if got_url != url or got_ref not in (None, ref):
                bad.append(f"{path.relative_to(root)}: {what} {got_url}@{got_ref}")
    return bad


def sub(text: str, table: list) -> str:
    """The text with each (pattern, replacement) of the table applied in turn."""
    for pattern, replacement in table:
        text = re.sub(pattern, replacement, text)
    return text


def edit(path: Path, table: list) -> bool:
    """Apply the table to a file, or to each cell of a notebook; write it back if it changed."""
    if path.suffix != ".ipynb":
        text = path.read_text()
        new = sub(text, table)
        if new != text:
            path.write_text(new)
        return new != text
    nb = nbformat.read(path, as_version=4)
    old = [cell.source for cell in nb.cells]
    for cell in nb.cells:
        cell.source = sub(cell.source, table)
    if changed := [cell.source for cell in nb.cells] != old:
        nbformat.write(nb, path)
    return changed


def setting(key: str, value: str) -> tuple[str, str]:
    """An indented `key: value` line of _config.yml, as a (pattern, replacement)."""
    return rf"(?m)^(\s+{key}:\s*).*$", rf"\g<1>{value}"


def repoint(url: str, ref: str, root: Path = ROOT) -> list[Path]:
    """Point the course at url and ref; returns the files changed."""
    url = url.rstrip("/").removesuffix(".git")
    if not re.match(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", url):
        sys.exit(f"url must be a GitHub repository like https://github.com/OWNER/REPO, got {url!r}")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", ref) or ".." in ref:
        sys.exit(f"ref must be a branch or tag name such as main or fall-2027, got {ref!r}")
    site, config = pages_url(url), root / "_config.yml"
    old_url = re.escape(configured(root)[0]) + r"(?![A-Za-z0-9_.-])"
    moved = [(old_url, url), (re.escape(published(root)), site)]  # whole addresses, in METADATA
    changed = [root / name for name in METADATA if edit(root / name, moved)]
    repository = [setting("url", url), setting("branch", ref)]
    text, blocks = re.subn(BLOCK, lambda m: sub(m[0], repository), config.read_text(), count=1)
    if not blocks:
        sys.exit("_config.yml has no repository: block to rewrite")
    text, count = re.subn(*setting("baseurl", site), text)
    if count != 1:
        sys.exit("_config.yml needs one html.baseurl: line to rewrite")
    config.write_text(text)
    book = [  # in the chapters and pages, every install and code link, whatever it named
        (INSTALL, lambda m: f"vicourse @ git+{url}" + (f"@{ref}" if m[2] else "")),
        (CODE_LINK, lambda m: f"{url}/{m[2]}/{ref}/vicourse"),
    ]
    changed += [config, *(path for path in sources(root) if edit(path, book))]
    if left := disagreements(root):
        sys.exit("still pointing elsewhere:\n" + "\n".join(left))
    return changed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", help="https://github.com/OWNER/REPO")
    parser.add_argument("ref", nargs="?", help="branch or tag, e.g. main or fall-2027")
    parser.add_argument("--check", action="store_true", help="only report disagreements")
    args = parser.parse_args()
    if args.check:
        bad = disagreements()
        print("\n".join(bad) or f"everything points at {'@'.join(configured())}")
        sys.exit(1 if bad else 0)
    if not args.url or not args.ref:
        parser.error("give the repository URL and the ref, or --check")
    for path in repoint(args.url, args.ref):
        print(f"rewrote {path.relative_to(ROOT)}")
    print(f"the course now points at {args.url}@{args.ref}")
