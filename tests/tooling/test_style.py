"""Style is part of the tests: ruff lints and formats the package, the tests and the chapters
(79 columns in book/, see book/ruff.toml; 100 elsewhere, see pyproject.toml).
.pre-commit-config.yaml runs the same ruff, and actionlint, on every commit, for those who enable
it."""

import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml
from conftest import ROOT

RUFF = [sys.executable, "-m", "ruff"] if shutil.which("ruff") is None else ["ruff"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff(command):
    result = subprocess.run([*RUFF, *command, "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_runs_ruff_at_a_version_the_tests_accept():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    (repo,) = [
        r for r in config["repos"] if r["repo"] == "https://github.com/astral-sh/ruff-pre-commit"
    ]
    assert [hook["id"] for hook in repo["hooks"]] == ["ruff-check", "ruff-format"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (floor,) = [
        re.fullmatch(r"ruff>=([0-9.]+)", r)[1]
        for r in project["optional-dependencies"]["test"]
        if r.startswith("ruff")
    ]
    rev = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)", repo["rev"])
    assert rev, f"rev {repo['rev']!r} is not a ruff release vX.Y.Z"
    numbers = tuple(map(int, rev.groups()))
    assert numbers >= tuple(map(int, floor.split("."))), (repo["rev"], floor)


def test_pre_commit_runs_actionlint_on_the_workflows():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    (repo,) = [r for r in config["repos"] if r["repo"] == "https://github.com/rhysd/actionlint"]
    assert [hook["id"] for hook in repo["hooks"]] == ["actionlint"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"]), repo["rev"]
