"""Style is part of the tests: ruff lints and formats the package, the tests and the chapters
(79 columns in book/, see book/ruff.toml; 100 elsewhere, see pyproject.toml)."""

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

RUFF = [sys.executable, "-m", "ruff"] if shutil.which("ruff") is None else ["ruff"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff(command):
    result = subprocess.run([*RUFF, *command, "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
