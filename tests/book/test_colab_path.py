"""The Colab path, simulated: a fresh virtual environment holding what Colab preinstalls, at the
oldest versions this package declares (and ipywidgets 7.7.1, Colab's), gets vicourse installed
the way a chapter's first cell installs it (pip, with dependency resolution, from the checkout
instead of GitHub). Nothing preinstalled may change; then every chapter runs top to bottom, on
another float path than the site build's (benchmarks/spread.py's "avx2": ATen's AVX2 kernels,
MKL's and oneDNN's processor-independent paths, two threads), so that every CI run proves each
chapter's asserts on two sets of CPU kernels.

torch is the exception to "oldest": only this machine's CPU build (torch==2.13.0, as .ci/run
installs) can be had without downloading a CUDA build of several GB, so the torch floor itself is
not exercised here. Needs PyPI (pip's normal index); without it the tests skip, unless
VICOURSE_REQUIRE_SITE=1 (as in .ci/run), where it fails.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import torch
from conftest import ROOT, copy_of_the_working_tree, load_tool, require
from filelock import FileLock
from packaging.version import Version

FLOAT_PATH = load_tool("spread", "benchmarks").PATHS["avx2"]  # not the site build's kernels
COLAB_PINS = {"ipywidgets": "7.7.1"}  # Colab's, newer than the floor we declare
# Colab runs notebooks with its own IPython and ipykernel (old ones: matplotlib 3.7 cannot run
# under IPython 9, which dropped pylabtools.backend2gui); nbclient executes the chapters here.
JUPYTER = ["ipython==7.34.0", "ipykernel==6.17.1", "nbclient", "nbformat"]

RUN_CHAPTER = r"""
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
path = Path(sys.argv[1])
nb = nbformat.read(path, as_version=4)
def started(cell, cell_index, **_):  # where a run that hangs stopped
    print(f"running cell {cell_index}", flush=True)
NotebookClient(nb, timeout=int(sys.argv[2]), kernel_name="python3", on_cell_execute=started,
               resources={"metadata": {"path": str(path.parent)}}).execute()
"""
# A cell past this many seconds fails its chapter's run, which runs once more: in case a reply
# between the kernel and nbclient is lost and both wait (.ci/gradescope.py, PATIENCE).
CELL_TIMEOUT = 300
CHAPTER_TIMEOUT = 1800  # a whole chapter, in case a run stops outside a cell (a kernel's start)


def run_chapter(python: str, path, env: dict, cwd) -> float:
    """Seconds to run one chapter top to bottom in a kernel of `python`'s environment."""
    start = time.perf_counter()
    for attempt in range(2):
        command = [python, "-c", RUN_CHAPTER, str(path), str(CELL_TIMEOUT)]
        try:
            done = run(command, cwd=cwd, env=env, timeout=CHAPTER_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{path.name} ran past {CHAPTER_TIMEOUT} s")
        if "CellTimeoutError" not in done.stderr:
            break
        print(f"{path.name}: a cell ran past {CELL_TIMEOUT} s (attempt {attempt + 1} of 2)")
    assert done.returncode == 0, f"{path.name}:\n{(done.stdout + done.stderr)[-4000:]}"
    return round(time.perf_counter() - start, 1)


def oldest_declared() -> dict[str, str]:
    """name -> the floor of each dependency in pyproject.toml (torch: this machine's build)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for requirement in project["dependencies"]:
        name, floor = re.match(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement).groups()
        pins[name] = floor
    pins["torch"] = torch.__version__.split("+")[0]
    pins.update(COLAB_PINS)
    return pins


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def installed(python) -> dict[str, str]:
    out = run([python, "-m", "pip", "list", "--format", "json"]).stdout
    return {p["name"].lower(): p["version"] for p in json.loads(out)}


def build(folder) -> str:
    """The Colab-like environment in folder/colab, vicourse installed into it from a copy of the
    working tree in folder/checkout, as a chapter's first cell installs it; its python."""
    venv = folder / "colab"
    run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pins = oldest_declared()
    # torch from VICOURSE_TORCH_INDEX where it is set, as .ci/install.sh does (a CPU build in CI)
    index = os.environ.get("VICOURSE_TORCH_INDEX")
    preinstall = run(
        # --no-compile: what Colab has preinstalled need not be byte-compiled here, and it is
        # the slow part of installing torch; vicourse itself is installed as a chapter does
        [python, "-m", "pip", "install", "-q", "--no-compile", f"torch=={pins['torch']}"]
        + (["--index-url", index] if index else [])
    )
    if preinstall.returncode == 0:
        preinstall = run(
            [python, "-m", "pip", "install", "-q", "--no-compile"]
            + [f"{n}=={v}" for n, v in pins.items()]
            + JUPYTER
        )
    require(
        preinstall.returncode == 0,
        f"could not build the Colab-like environment (no PyPI?):\n{preinstall.stderr[-2000:]}",
    )
    before = installed(python)
    for name, version in pins.items():
        assert Version(before[name.lower()].split("+")[0]) == Version(version), name
    shutil.rmtree(folder / "checkout", ignore_errors=True)
    checkout = copy_of_the_working_tree(folder / "checkout")
    install = run([python, "-m", "pip", "install", "-q", str(checkout)])
    assert install.returncode == 0, install.stderr[-3000:]
    after = installed(python)
    changed = {n: (before[n], after.get(n)) for n in before if after.get(n) != before[n]}
    assert not changed, f"installing vicourse would change Colab's packages: {changed}"
    print(f"Colab-like ({pins}), float path {FLOAT_PATH}")
    return python


@pytest.fixture(scope="session")
def colab(tmp_path_factory) -> tuple[str, dict, Path]:
    """The Colab-like environment's python and the environment variables to run chapters with,
    made once per test run: under pytest-xdist the first worker to get here makes it in the
    run's shared temporary folder, the others wait (and then run chapters beside it)."""
    shared = os.environ.get("PYTEST_XDIST_WORKER") is not None
    root = tmp_path_factory.getbasetemp().parent if shared else tmp_path_factory.getbasetemp()
    with FileLock(str(root / "colab.lock")):
        python = root / "colab" / "bin" / "python"
        if not (root / "colab.made").is_file():
            build(root)
            (root / "colab.made").touch()
    env = {**os.environ, "PATH": f"{python.parent}:{os.environ['PATH']}", "MPLBACKEND": "Agg"}
    env.update(FLOAT_PATH)
    env.pop("PYTHONPATH", None)
    return str(python), env, root / "checkout"


# every chapter of the table of contents, the later (longer) first
CHAPTERS = sorted(re.findall(r"file: book/(\d\d_\w+)", (ROOT / "_toc.yml").read_text()))[::-1]


@pytest.mark.end_to_end
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_chapter_runs_in_a_colab_like_environment(colab, chapter, tmp_path):
    python, env, checkout = colab
    seconds = run_chapter(python, checkout / "book" / f"{chapter}.ipynb", env, tmp_path)
    print(f"{chapter} ran in {seconds} s on the float path {FLOAT_PATH}")
