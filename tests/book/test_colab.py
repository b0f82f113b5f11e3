"""The Colab path. The course's repository and ref live in _config.yml alone; every setup cell,
code link and launch button agrees with it, and .ci/repoint.py moves them all at once. Chapter 8
asks Colab for a GPU and every chapter says which device it got. The launch buttons of the built
site open notebooks that exist at the configured ref."""

import os
import re
import shutil
import subprocess

import nbformat
import pytest
from conftest import HTML, ROOT, executed_chapters, load_tool, require

repoint = load_tool("repoint")
GPU_CHAPTERS = {"08_vae", "09_gaps", "10_richer_posteriors"}  # the chapters that train a network
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def test_everything_points_at_the_configured_repository():
    url, ref = repoint.configured()
    assert repoint.disagreements() == []
    found = [f for path in repoint.sources() for f in repoint.found(repoint.text_of(path))]
    installs = [f for f in found if f[2] == "install" and f[1] is not None]
    links = [f for f in found if f[2] == "link"]
    assert len(installs) >= len(CHAPTERS) and len(links) >= 2 * len(CHAPTERS)
    for path in CHAPTERS:
        setup = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert f'%pip install -q "vicourse @ git+{url}@{ref}"' in setup.source, path.name


def copy_of_the_course(tmp_path):
    for name in ["_config.yml", *repoint.METADATA]:
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book", ignore=shutil.ignore_patterns("_ext"))
    return tmp_path


def test_repoint_moves_every_place_at_once(tmp_path):
    root = copy_of_the_course(tmp_path)
    old_url, old_ref = repoint.configured(root)
    before = [f for p in repoint.sources(root) for f in repoint.found(repoint.text_of(p))]
    repoint.repoint("https://github.com/prof/vi-course.git", "fall-2027", root)
    assert repoint.configured(root) == ("https://github.com/prof/vi-course", "fall-2027")
    after = [f for p in repoint.sources(root) for f in repoint.found(repoint.text_of(p))]
    assert len(after) == len(before)
    assert {u for u, _, _ in after} == {"https://github.com/prof/vi-course"}
    assert {r for _, r, _ in after} - {None} == {"fall-2027"}
    for path in repoint.sources(root):
        assert f"{old_url}@{old_ref}" not in repoint.text_of(path)
    assert repoint.disagreements(root) == []
    assert "# Jupyter Book 1 configuration" in (root / "_config.yml").read_text()  # comments kept
    # the published site moves with the repository, in the config and in the metadata
    assert repoint.published(root) == "https://prof.github.io/vi-course/"
    for name in repoint.METADATA:
        text = (root / name).read_text()
        assert "https://prof.github.io/vi-course/" in text and "github.com/prof/vi-course" in text
        assert old_url not in text and "vicourse.github.io" not in text, name
    repoint.repoint(old_url, old_ref, root)  # and back, byte for byte
    for path in [*repoint.sources(root), *(root / n for n in ["_config.yml", *repoint.METADATA])]:
        assert path.read_bytes() == (ROOT / path.relative_to(root)).read_bytes(), path.name


@pytest.mark.parametrize(
    "url, site",
    [
        ("https://github.com/vicourse/vicourse", "https://vicourse.github.io/vicourse/"),
        ("https://github.com/Prof-X/VI", "https://prof-x.github.io/VI/"),
        ("https://github.com/prof/prof.github.io", "https://prof.github.io/"),
    ],
)
def test_the_published_address_follows_github_pages_rules(url, site):
    assert repoint.pages_url(url) == site


def test_the_readme_names_the_published_site():
    url, _ = repoint.configured()
    assert repoint.published() == repoint.pages_url(url)
    assert f"<{repoint.published()}>" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    "url, ref",
    [
        ("github.com/a/b", "main"),
        ("https://gitlab.com/a/b", "main"),
        ("https://github.com/a/b", ""),
    ],
)
def test_repoint_refuses_what_is_not_a_repository_and_ref(tmp_path, url, ref):
    root = copy_of_the_course(tmp_path)
    with pytest.raises(SystemExit, match="must be"):
        repoint.repoint(url, ref, root)
    assert repoint.configured(root) == repoint.configured()


def test_a_disagreement_is_found(tmp_path):
    root = copy_of_the_course(tmp_path)
    page = root / "book" / "intro.md"
    page.write_text(page.read_text().replace("/tree/main/vicourse", "/tree/v0.1/vicourse", 1))
    assert repoint.disagreements(root) == [
        "book/intro.md: link https://github.com/vicourse/vicourse@v0.1"
    ]


def test_a_stale_published_address_is_found(tmp_path):
    root = copy_of_the_course(tmp_path)
    readme = root / "README.md"
    readme.write_text(readme.read_text() + "\nAlso at https://old.github.io/vicourse/.\n")
    assert repoint.disagreements(root) == [
        "README.md: names the site https://old.github.io/vicourse/"
    ]


def test_gpu_chapters_ask_colab_for_a_gpu():
    for path in CHAPTERS:
        metadata = nbformat.read(path, as_version=4).metadata
        if path.stem in GPU_CHAPTERS:
            assert metadata.get("accelerator") == "GPU", path.name
            assert metadata.get("colab", {}).get("gpuType"), path.name
        else:
            assert "accelerator" not in metadata, f"{path.name} would take a scarce Colab GPU"


def test_every_chapter_says_which_device_it_got():
    executed = executed_chapters()
    require(executed, "no executed chapters; build the site first")
    for name, nb in executed.items():
        setup = next(c for c in nb.cells if c.cell_type == "code")
        text = "".join(o.get("text", "") for o in setup.outputs)
        assert re.search(r"^device (cpu|cuda(:\d)? \(.+\)|mps)$", text, re.M), (name, text)


COLAB = re.compile(
    r'https://colab\.research\.google\.com/github/([^/"]+/[^/"]+)/blob/([^"]+?)/(book/[^"]+)"'
)


def revision(ref: str) -> str:
    """Where to look the configured ref's files up: the ref itself (a local branch or tag), or
    origin's branch (a CI checkout has no local main). In a pull request's CI run, the merge
    commit: its notebooks reach the ref when it is merged."""
    if os.environ.get("GITHUB_EVENT_NAME") == "pull_request":
        return "HEAD"
    for candidate in [ref, f"origin/{ref}"]:
        found = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", f"{candidate}^{{commit}}"],
            cwd=ROOT,
            capture_output=True,
        )
        if found.returncode == 0:
            return candidate
    return ref


def test_every_launch_link_opens_a_notebook_that_exists_at_the_configured_ref():
    require((HTML / "index.html").is_file(), f"no built site at {HTML}; build it first")
    url, ref = repoint.configured()
    at = revision(ref)
    pages = sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)
    checked = 0
    for page in pages:
        links = set(COLAB.findall(page.read_text(encoding="utf-8")))
        if page.parent.name == "book" and re.match(r"\d\d_", page.name):
            assert len(links) == 1, f"{page.name} has no launch button"
        for repository, branch, path in links:
            assert (f"https://github.com/{repository}", branch) == (url, ref), page.name
            assert path == f"{page.relative_to(HTML).with_suffix('.ipynb')}", (page.name, path)
            exists = subprocess.run(
                ["git", "cat-file", "-e", f"{at}:{path}"], cwd=ROOT, capture_output=True
            )
            assert exists.returncode == 0, (
                f"{page.name} opens {path} at {branch}, which this repository does not have"
                f" (commit it, or create the ref: git tag {branch})"
            )
            checked += 1
    assert checked >= len(CHAPTERS)
