"""Releases: one version, vicourse.__version__, which pyproject.toml takes as its dynamic version
and CITATION.cff, pyproject.toml's [tool.bumpversion] and CHANGELOG.md repeat;
`bump-my-version bump --new-version X.Y.Z` (configured in pyproject.toml) moves it and every copy
and turns the Unreleased notes into the version's section; `bash .ci/release.sh` checks the version
before it builds anything (`--check [TAG]`: only that) and refuses a tag that is not v + it; the
site's status page names the release.

The bumps run bump-my-version itself on a copy of the files (they skip where it is not installed);
the checks run the release script's own first part on such a copy."""

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
from conftest import ROOT, copy_of_the_working_tree

import vicourse

FILES = ["pyproject.toml", "vicourse/__init__.py", "CITATION.cff", "CHANGELOG.md", ".ci/release.sh"]
NOTES = "- Something new.\n"


def copy_of_the_versions(tmp_path):
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def versions(root) -> dict[str, str]:
    """The version each file holds: vicourse/__init__.py's and its copies."""
    citation = yaml.safe_load((root / "CITATION.cff").read_text())
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    return {
        "vicourse/__init__.py": re.search(
            r'^__version__ = "(.*)"$', (root / "vicourse/__init__.py").read_text(), re.M
        )[1],
        "CITATION.cff": str(citation["version"]),
        "pyproject.toml": pyproject["tool"]["bumpversion"]["current_version"],
    }


def release_check(root, tag=None):
    """`bash .ci/release.sh --check [TAG]` in `root`: the checks alone, nothing built."""
    return subprocess.run(
        ["bash", str(root / ".ci" / "release.sh"), "--check", *([tag] if tag else [])],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=60,
    )


def add_notes(root, notes=NOTES):
    path = root / "CHANGELOG.md"
    path.write_text(path.read_text().replace("## Unreleased\n", f"## Unreleased\n\n{notes}", 1))


@pytest.fixture
def bump_my_version():
    """Runs bump-my-version in a folder, with that folder's pyproject.toml as its configuration."""
    pytest.importorskip("bumpversion", reason="bump-my-version is not installed")

    def run(root, *args):
        return subprocess.run(
            [sys.executable, "-m", "bumpversion", "bump", *args],
            cwd=root,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "300"},  # its messages on one line
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def test_the_version_is_the_same_everywhere():
    assert set(versions(ROOT).values()) == {vicourse.__version__}
    result = release_check(ROOT, f"v{vicourse.__version__}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "CHANGELOG.md says nothing about this version"


@pytest.mark.parametrize("how", [["minor"], ["--new-version", "9.9.9"]])
def test_bump_moves_every_copy_and_dates_the_release(tmp_path, bump_my_version, how):
    root = copy_of_the_versions(tmp_path)
    old = vicourse.__version__
    major, minor, _ = map(int, old.split("."))
    new = "9.9.9" if "--new-version" in how else f"{major}.{minor + 1}.0"
    text = (root / "CHANGELOG.md").read_text()
    already = text.split("## Unreleased\n", 1)[1].split("\n## ", 1)[0]  # notes waiting, if any
    add_notes(root)
    before = {name: (root / name).read_text() for name in FILES}
    first = datetime.date.today().isoformat()
    result = bump_my_version(root, *how)
    days = {first, datetime.date.today().isoformat()}  # the bump's today (a run past midnight)
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(versions(root).values()) == {new}
    assert str(yaml.safe_load((root / "CITATION.cff").read_text())["date-released"]) in days
    # the Unreleased notes are the new version's, under a new empty Unreleased
    assert (root / "CHANGELOG.md").read_text() in {
        before["CHANGELOG.md"].replace("## Unreleased\n", f"## Unreleased\n\n## {new} ({day})\n", 1)
        for day in days
    }
    # and nothing else changed: the other files differ in the lines of the version and the date
    for name, lines in {"vicourse/__init__.py": 1, "CITATION.cff": 2, "pyproject.toml": 1}.items():
        pairs = zip(before[name].splitlines(), (root / name).read_text().splitlines(), strict=True)
        differ = [(a, b) for a, b in pairs if a != b]
        assert len(differ) == lines, differ
        assert all((old in a and new in b) or "date-released" in a for a, b in differ), differ
    # the release check passes the new version's tag, refuses the old one's, and the notes moved
    result = release_check(root, f"v{new}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (NOTES + already).strip()
    result = release_check(root, f"v{old}")
    assert result.returncode == 1 and result.stdout == ""
    assert f"the tag is 'v{old}' but vicourse/__init__.py's version is '{new}'" in result.stderr
    assert f"tag v{new} instead" in result.stderr
    assert f"bump-my-version bump --new-version {old}" in result.stderr


def test_bump_refuses_an_empty_unreleased_section_and_writes_nothing(tmp_path, bump_my_version):
    root = copy_of_the_versions(tmp_path)
    path = root / "CHANGELOG.md"
    head, rest = path.read_text().split("## Unreleased\n", 1)
    path.write_text(head + "## Unreleased\n\n## " + rest.split("\n## ", 1)[1])
    before = {name: (root / name).read_bytes() for name in FILES}
    result = bump_my_version(root, "minor")
    assert result.returncode != 0
    assert "Did not find" in result.stdout + result.stderr and "CHANGELOG.md" in result.stderr
    assert {name: (root / name).read_bytes() for name in FILES} == before


def test_bump_refuses_a_copy_that_lost_the_version_and_the_check_names_it(
    tmp_path, bump_my_version
):
    root = copy_of_the_versions(tmp_path)
    add_notes(root)
    path = root / "CITATION.cff"
    path.write_text(
        path.read_text().replace(f"version: {vicourse.__version__}\n", "version: 0.0.9\n")
    )
    before = {name: (root / name).read_bytes() for name in FILES}
    result = bump_my_version(root, "minor")
    assert result.returncode != 0
    assert "Did not find" in result.stderr and "CITATION.cff" in result.stderr
    assert {name: (root / name).read_bytes() for name in FILES} == before
    result = release_check(root, f"v{vicourse.__version__}")
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"CITATION.cff lacks 'version: {vicourse.__version__}', vicourse/__init__.py's version"
    )


def test_bump_leaves_the_citation_format_version_alone(tmp_path, bump_my_version):
    """CITATION.cff's `cff-version: 1.2.0` ends in `version: 1.2.0`: at version 1.2.0 the bump
    must still move only the course's own line."""
    root = copy_of_the_versions(tmp_path)
    assert (root / "CITATION.cff").read_text().startswith("cff-version: 1.2.0\n")
    for new in ["1.2.0", "1.2.1"]:
        add_notes(root, f"- Toward {new}.\n")
        result = bump_my_version(root, "--new-version", new)
        assert result.returncode == 0, result.stdout + result.stderr
        assert set(versions(root).values()) == {new}
        assert (root / "CITATION.cff").read_text().startswith("cff-version: 1.2.0\n")
    assert release_check(root, "v1.2.1").stdout == "- Toward 1.2.1.\n"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda text, v: text.replace(f"\n## {v} ", "\n## 0.0.0 "), "a section '## {v}'"),
        (
            lambda text, v: re.sub(rf"(\n## {re.escape(v)} .*\n)(?:(?!## ).*\n)*", r"\1\n", text),
            "a section '## {v}' with notes",
        ),
    ],
    ids=["no section", "no notes"],
)
def test_the_release_check_refuses_a_changelog_without_the_versions_notes(tmp_path, edit, message):
    root = copy_of_the_versions(tmp_path)
    path = root / "CHANGELOG.md"
    path.write_text(edit(path.read_text(), vicourse.__version__))
    result = release_check(root, f"v{vicourse.__version__}")
    assert result.returncode == 1 and result.stdout == ""
    assert message.format(v=vicourse.__version__) in result.stderr
    assert "then bump-my-version bump --new-version X.Y.Z" in result.stderr


def test_the_release_notes_are_the_versions_changelog_section():
    script = (ROOT / ".ci" / "release.sh").read_text()
    assert "\nprintf '%s\\n' \"$notes\" > dist/release-notes.md" in script
    release = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    (publish,) = [
        s for s in release["jobs"]["release"]["steps"] if "body_path" in s.get("with", {})
    ]
    assert publish["with"]["body_path"] == "dist/release-notes.md"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    section = changelog.split(f"\n## {vicourse.__version__} ", 1)[1].split("\n", 1)[1]
    assert release_check(ROOT, f"v{vicourse.__version__}").stdout == (
        section.split("\n## ", 1)[0].strip() + "\n"
    )


def test_pyproject_takes_the_version_from_the_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "vicourse.__version__"}
    assert not re.search(r"^version\s*=\s*\"", (ROOT / "pyproject.toml").read_text(), re.M)
    bump = pyproject["tool"]["bumpversion"]
    assert bump["commit"] is False and bump["tag"] is False  # the release commit and tag are yours
    assert sorted({f["filename"] for f in bump["files"]}) == [
        "CHANGELOG.md",
        "CITATION.cff",
        "vicourse/__init__.py",
    ]


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
    """The whole script, on a commit tagged v99.0.0: it stops at the check, before installing."""
    clone = copy_of_the_working_tree(tmp_path / "clone")  # committed and tagged v99.0.0 below
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for command in [["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"], ["tag", "v99.0.0"]]:
        subprocess.run(git + command, cwd=clone, check=True)
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", ".ci/release.sh"], cwd=clone, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert (
        f"the tag is 'v99.0.0' but vicourse/__init__.py's version is '{vicourse.__version__}':"
        f" tag v{vicourse.__version__} instead" in result.stderr
    )
    assert "bump-my-version bump --new-version 99.0.0" in result.stderr
    assert not (clone / "_build").exists() and not (clone / "dist").exists()
