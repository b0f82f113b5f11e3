"""Releases: one version, vicourse.__version__, which pyproject.toml takes as its dynamic version
and CITATION.cff and CHANGELOG.md repeat; `python .ci/version.py bump X.Y.Z` moves it and every
copy; `bash .ci/release.sh` refuses a tag that is not v + that version before it builds anything;
the site's status page names the release."""

import datetime
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata

import pytest
import yaml
from conftest import HTML, ROOT, copy_of_the_working_tree, load_tool, require

import vicourse

version = load_tool("version")
FILES = ["pyproject.toml", "vicourse/__init__.py", "CITATION.cff", "CHANGELOG.md"]
HOLD_IT = ["vicourse/__init__.py", "CITATION.cff"]  # the files with the number in them


def copy_of_the_versions(tmp_path):
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_version_is_the_same_everywhere():
    assert version.problems() == []
    assert vicourse.__version__ == version.current()
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert str(citation["version"]) == vicourse.__version__
    assert version.notes().strip(), "CHANGELOG.md says nothing about this version"


def test_bump_moves_every_place_and_dates_the_release(tmp_path):
    root = copy_of_the_versions(tmp_path)
    old = version.current(root)
    unreleased = "\n- Something new.\n"
    path = root / "CHANGELOG.md"
    text = path.read_text()
    already = text.split("## Unreleased\n", 1)[1].split("\n## ", 1)[0]  # notes waiting, if any
    path.write_text(text.replace("## Unreleased\n", "## Unreleased\n" + unreleased))
    major, minor, _ = map(int, old.split("."))
    new = f"{major}.{minor + 1}.0"
    day = datetime.date(2027, 1, 15)
    version.bump(new, root, today=day)
    assert set(version.read(root).values()) == {new}
    assert version.problems(root) == []
    assert version.problems(root, tag=f"v{new}") == []
    (wrong,) = version.problems(root, tag=f"v{old}")
    assert f"'v{old}'" in wrong and f"'{new}'" in wrong
    citation = yaml.safe_load((root / "CITATION.cff").read_text())
    assert str(citation["date-released"]) == "2027-01-15"
    changelog = (root / "CHANGELOG.md").read_text()
    assert f"## Unreleased\n\n## {new} (2027-01-15)\n" in changelog
    assert version.notes(root).strip() == (unreleased + already).strip()  # the notes moved with it
    assert (root / "pyproject.toml").read_bytes() == (ROOT / "pyproject.toml").read_bytes()
    for name in HOLD_IT:  # nothing else changed
        before = (ROOT / name).read_text().splitlines()
        after = (root / name).read_text().splitlines()
        differ = [(a, b) for a, b in zip(before, after, strict=False) if a != b]
        assert len(before) == len(after) and all(
            (old in a and new in b) or "date-released" in a for a, b in differ
        ), differ


@pytest.mark.parametrize("new", ["0.3", "v9.0.0", "9.0.0rc1", "0.0.1", "CURRENT"])
def test_bump_refuses_what_is_not_a_higher_version(tmp_path, new):
    root = copy_of_the_versions(tmp_path)
    new = version.current(root) if new == "CURRENT" else new
    with pytest.raises(SystemExit, match="the new version must be"):
        version.bump(new, root)
    assert all((root / n).read_bytes() == (ROOT / n).read_bytes() for n in FILES)


def test_bump_refuses_a_release_without_notes(tmp_path):
    root = copy_of_the_versions(tmp_path)
    path = root / "CHANGELOG.md"
    text = path.read_text()
    head, rest = text.split("## Unreleased\n", 1)
    path.write_text(head + "## Unreleased\n\n## " + rest.split("\n## ", 1)[1])
    with pytest.raises(SystemExit, match="Unreleased section is empty"):
        version.bump("99.0.0", root)


def test_check_names_every_file_that_disagrees(tmp_path):
    root = copy_of_the_versions(tmp_path)
    path = root / "CITATION.cff"
    path.write_text(path.read_text().replace(f"version: {version.current(root)}", "version: 0.0.9"))
    (problem,) = version.problems(root)
    assert problem.startswith("CITATION.cff: version '0.0.9'")


def test_check_names_pyproject_when_it_holds_a_version_again(tmp_path):
    root = copy_of_the_versions(tmp_path)
    path = root / "pyproject.toml"
    text = path.read_text()
    path.write_text(text.replace('dynamic = ["version"]', f'version = "{version.current(root)}"'))
    assert [p.split(":")[0] for p in version.problems(root)] == ["pyproject.toml"] * 2
    path.write_text(text.replace('attr = "vicourse.__version__"', 'attr = "vicourse.VERSION"'))
    changelog = root / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace("## Unreleased\n", "## Unreleased\n\n- New.\n")
    )
    (problem,) = version.problems(root)
    assert problem.startswith("pyproject.toml: [tool.setuptools.dynamic]")
    with pytest.raises(SystemExit, match=r"fix pyproject\.toml first"):
        version.bump("99.0.0", root)
    assert all((root / n).read_bytes() == (ROOT / n).read_bytes() for n in HOLD_IT)


def test_pyproject_takes_the_version_from_the_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "vicourse.__version__"}
    assert not re.search(r"^version\s*=\s*\"", (ROOT / "pyproject.toml").read_text(), re.M)


def test_the_package_list_names_every_folder_of_the_package():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "vicourse").rglob("__init__.py")
    }
    assert listed == folders, "pyproject.toml's [tool.setuptools] packages must list every folder"


def test_the_built_metadata_has_the_version_without_importing_torch(tmp_path):
    """What pip writes for an install, built from a copy of the sources in a Python where
    importing torch fails: setuptools reads __version__ from the file."""
    source = tmp_path / "source"
    for name in ["pyproject.toml", "README.md", "LICENSE"]:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "vicourse", source / "vicourse", ignore=shutil.ignore_patterns("__py*"))
    build = (
        "import sys; sys.modules['torch'] = None; from setuptools import build_meta;"
        " print(build_meta.prepare_metadata_for_build_wheel(sys.argv[1]))"
    )
    out = tmp_path / "metadata"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", build, str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    dist_info = out / result.stdout.strip().splitlines()[-1]
    assert metadata.Distribution.at(dist_info).version == vicourse.__version__
    assert f"\nVersion: {vicourse.__version__}\n" in (dist_info / "METADATA").read_text()


def test_release_refuses_a_tag_that_is_not_the_version_before_building(tmp_path):
    clone = copy_of_the_working_tree(tmp_path / "clone")  # committed and tagged v99.0.0 below
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for command in [["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"], ["tag", "v99.0.0"]]:
        subprocess.run(git + command, cwd=clone, check=True)
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", ".ci/release.sh"], cwd=clone, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "the tag is 'v99.0.0' but vicourse/__init__.py's version is" in result.stdout
    assert not (clone / "_build").exists() and not (clone / "dist").exists()


def test_the_status_page_names_the_release():
    page = HTML / "book" / "status.html"
    require(page.is_file(), f"no built site at {HTML}; build it first")
    text = page.read_text(encoding="utf-8")
    assert f"v{vicourse.__version__}" in text or f"version {vicourse.__version__}," in text
    assert f"vicourse {vicourse.__version__}" in text
