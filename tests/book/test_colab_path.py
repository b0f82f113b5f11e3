"""The Colab path, simulated. A fresh virtual environment holds Colab's image as far as the
chapters use it (colab_image.txt: Colab's Python where this machine has it, and Colab's versions
of torch, numpy, matplotlib, ipywidgets, IPython, ipykernel and what they need, installed without
dependency resolution, as Colab has them, jedi missing). A kernel in it starts with a stand-in
`google.colab` module, so that each chapter's first cell installs vicourse as it does in Colab
(pip, with dependency resolution, from a wheel of the working tree instead of GitHub). That
install may add packages but change none of Colab's; then every chapter runs top to bottom, on
another float path than the site build's (benchmarks/spread.py's "avx2": ATen's AVX2 kernels,
MKL's and oneDNN's processor-independent paths, two threads), so that every CI run proves each
chapter's asserts on two sets of CPU kernels and two Pythons.

A second, cheap check keeps pyproject.toml's floors true: an environment at the oldest versions
it declares (torch: this machine's CPU build, since any other torch is a download of GB) imports
every module and runs chapter 1.

torch comes from PyPI, or from VICOURSE_TORCH_INDEX where that is set (PyTorch's CPU index in
GitHub's CI): Colab's is the same release built for CUDA 12.8, from PyTorch's own index. Needs
PyPI; without it the tests skip, unless VICOURSE_REQUIRE_SITE=1 (as in .ci/run), where they fail.
"""

import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import time
import tomllib
import warnings
from pathlib import Path

import colab_image
import pytest
import torch
from colab_image import normal
from conftest import ROOT, copy_of_the_working_tree, load_tool, require
from filelock import FileLock
from packaging.version import Version

FLOAT_PATH = load_tool("spread", "benchmarks").PATHS["avx2"]  # not the site build's kernels
# Colab runs notebooks with its own IPython and ipykernel (old ones: matplotlib 3.7 cannot run
# under IPython 9, which dropped pylabtools.backend2gui); so does the floors' environment.
FLOORS_KERNEL = ["ipython==7.34.0", "ipykernel==6.17.1"]
FROM_GITHUB = "git+https://github.com/vicourse/vicourse@main"  # what a chapter installs in Colab
# Colab imports google.colab when its kernel starts; the chapters' first cell looks for it.
STUB = '"""Stands in for Colab\'s module: a chapter\'s first cell installs vicourse here."""\n'
LAUNCH = "import google.colab\nfrom ipykernel import kernelapp\nkernelapp.launch_new_instance()\n"

RUN_CHAPTER = r"""
import queue, sys, time
from pathlib import Path
import nbformat
from jupyter_client.channels import AsyncZMQSocketChannel
from nbclient import NotebookClient

# Wait for a kernel's message in slices of a second: should the wake-up for a message that has
# arrived be lost (jupyter/nbclient#312), the next slice finds it, instead of the cell timeout.
wait = AsyncZMQSocketChannel.get_msg
async def get_msg(self, timeout=None):
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        left = 1.0 if end is None else min(1.0, max(0.0, end - time.monotonic()))
        try:
            return await wait(self, timeout=left)
        except queue.Empty:
            if end is not None and time.monotonic() >= end:
                raise
AsyncZMQSocketChannel.get_msg = get_msg

path = Path(sys.argv[1])
nb = nbformat.read(path, as_version=4)
def started(cell, cell_index, **_):  # where a run that hangs stopped
    print(f"running cell {cell_index}", flush=True)
NotebookClient(nb, timeout=int(sys.argv[2]), kernel_name=sys.argv[3], on_cell_execute=started,
               resources={"metadata": {"path": str(path.parent)}}).execute()
"""
CELL_TIMEOUT = 300  # a cell past this many seconds fails its chapter's run
CHAPTER_TIMEOUT = 1800  # a whole chapter, in case a run stops outside a cell (a kernel's start)


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def pip(python: str, *args: str) -> None:
    """pip install into `python`'s environment; skip (fail under .ci/run) where it cannot."""
    done = run([python, "-m", "pip", "install", "-q", "--no-compile", *args])
    require(done.returncode == 0, f"could not install {args} (no PyPI?):\n{done.stderr[-2000:]}")


def installed(python) -> dict[str, str]:
    out = run([python, "-m", "pip", "list", "--format", "json"]).stdout
    return {normal(p["name"]): p["version"] for p in json.loads(out)}


def mismatched(python, pins: dict[str, str]) -> dict:
    """name -> (asked, installed) for each pin the environment does not hold."""
    have = installed(python)
    return {
        n: (v, have.get(normal(n)))
        for n, v in pins.items()
        if have.get(normal(n)) is None or Version(have[normal(n)].split("+")[0]) != Version(v)
    }


def venv(folder: Path, python: str) -> str:
    run([python, "-m", "venv", "--clear", str(folder)], check=True)
    return str(folder / "bin" / "python")


def kernelspec(folder: Path, name: str, python: str, argv: list[str], env=None) -> Path:
    """A Jupyter data folder (for JUPYTER_PATH) with a kernel `name` run by `python`."""
    spec = {"argv": [python, *argv, "-f", "{connection_file}"], "language": "python"}
    (folder / "kernels" / name).mkdir(parents=True, exist_ok=True)
    spec |= {"display_name": name, "env": env or {}}
    (folder / "kernels" / name / "kernel.json").write_text(json.dumps(spec))
    return folder


def run_chapter(path: Path, kernel: str, env: dict, cwd) -> float:
    """Seconds to run one chapter top to bottom in `kernel` (nbclient runs in this Python)."""
    start = time.perf_counter()
    command = [sys.executable, "-c", RUN_CHAPTER, str(path), str(CELL_TIMEOUT), kernel]
    try:
        done = run(command, cwd=cwd, env=env, timeout=CHAPTER_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{path.name} ran past {CHAPTER_TIMEOUT} s")
    assert done.returncode == 0, f"{path.name}:\n{(done.stdout + done.stderr)[-4000:]}"
    return round(time.perf_counter() - start, 1)


def colab_python() -> tuple[str, str]:
    """Colab's Python where this machine has it, else this one; and a line saying which."""
    version = colab_image.python_version()
    found = colab_image.find_python(version)
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if found:
        return found, f"the Colab-like chapters ran on Python {version}, Colab's ({found})"
    return sys.executable, (
        f"the Colab-like chapters ran on Python {here}, not Colab's {version}: put "
        f"python{version} on PATH (or in pyenv) to run them on Colab's"
    )


def install_cell_spec(notebook: Path) -> str:
    """What a chapter's first cell installs with %pip in Colab."""
    source = json.loads(notebook.read_text())["cells"]
    code = "".join("".join(c["source"]) for c in source if c["cell_type"] == "code")
    (spec,) = set(re.findall(r'%pip install -q "(vicourse @ [^"]+)"', code))
    return spec


def build(folder: Path) -> str:
    """The Colab-like environment in folder/colab, and in folder/checkout a copy of the working
    tree whose chapters install vicourse from that copy; the line saying which Python."""
    python, which = colab_python()
    python = venv(folder / "colab", python)
    pins = colab_image.pins()
    index = os.environ.get("VICOURSE_TORCH_INDEX")  # a CPU build in GitHub's CI
    pip(python, f"torch=={pins['torch']}", *(["--index-url", index] if index else []))
    # the rest at Colab's versions, without what Colab's image lacks (pip would add jedi)
    pip(python, "--no-deps", "-r", str(colab_image.IMAGE))
    assert not mismatched(python, pins), mismatched(python, pins)
    shutil.rmtree(folder / "checkout", ignore_errors=True)
    checkout = copy_of_the_working_tree(folder / "checkout")
    # a wheel of it, which pip then finds installed when every other chapter's cell asks for it
    # (a folder it would install again each time, under the chapters running beside)
    shutil.rmtree(folder / "wheel", ignore_errors=True)
    pip_wheel = [python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder / "wheel")]
    run([*pip_wheel, str(checkout)], check=True)
    (wheel,) = (folder / "wheel").glob("vicourse-*.whl")
    for notebook in (checkout / "book").glob("[0-9][0-9]_*.ipynb"):
        text = notebook.read_text()
        assert FROM_GITHUB in text, f"{notebook.name}'s first cell no longer installs from GitHub"
        notebook.write_text(text.replace(FROM_GITHUB, wheel.as_uri()))
    # the first cell's install, once, before the chapters (whose cells then find it done)
    before = installed(python)
    spec = install_cell_spec(checkout / "book" / "01_latent_variable_models.ipynb")
    done = run([python, "-m", "pip", "install", "-q", spec])
    assert done.returncode == 0, done.stderr[-3000:]
    after = installed(python)
    changed = {n: (before[n], after.get(n)) for n in before if after.get(n) != before[n]}
    assert not changed, f"installing vicourse would change Colab's packages: {changed}"
    added = sorted(set(after) - set(before))
    expected = {"vicourse", *map(normal, colab_image.missing())}
    assert set(added) == expected, (
        f"installing vicourse adds {added} to Colab's image, not {sorted(expected)}: say why in "
        "book/troubleshooting.md, then refresh colab_image.txt"
    )
    return f"{which}; installing vicourse adds {', '.join(added)}"


@pytest.fixture(scope="session")
def colab(tmp_path_factory) -> tuple[dict, Path]:
    """The environment variables to run chapters in the Colab-like kernel ("colab") with, and
    the checkout they are in, made once per test run: under pytest-xdist the first worker to
    get here makes it in the run's shared temporary folder, the others wait (then run chapters
    beside it)."""
    shared = os.environ.get("PYTEST_XDIST_WORKER") is not None
    root = tmp_path_factory.getbasetemp().parent if shared else tmp_path_factory.getbasetemp()
    with FileLock(str(root / "colab.lock")):
        if not (root / "colab.made").is_file():
            (root / "colab.made").write_text(build(root))
    warnings.warn((root / "colab.made").read_text(), stacklevel=1)
    python = str(root / "colab" / "bin" / "python")
    stub = root / "stub"
    (stub / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (stub / "google" / "colab" / "__init__.py").write_text(STUB)
    (stub / "colab_kernel.py").write_text(LAUNCH)
    jupyter = kernelspec(root / "jupyter", "colab", python, ["-m", "colab_kernel"])
    env = {**os.environ, "JUPYTER_PATH": str(jupyter), "PYTHONPATH": str(stub), **FLOAT_PATH}
    env.pop("MPLBACKEND", None)  # the inline backend, as in Colab
    env["PATH"] = f"{Path(python).parent}:{env['PATH']}"
    return env, root / "checkout"


# every chapter of the table of contents, the later (longer) first
CHAPTERS = sorted(re.findall(r"file: book/(\d\d_\w+)", (ROOT / "_toc.yml").read_text()))[::-1]


@pytest.mark.end_to_end
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_chapter_runs_in_a_colab_like_environment(colab, chapter, tmp_path):
    env, checkout = colab
    seconds = run_chapter(checkout / "book" / f"{chapter}.ipynb", "colab", env, tmp_path)
    print(f"{chapter} ran in {seconds} s on the float path {FLOAT_PATH}")


def floors() -> dict[str, str]:
    """name -> the floor of each dependency in pyproject.toml (torch: this machine's build)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for requirement in project["dependencies"]:
        name, floor = re.match(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement).groups()
        pins[name] = floor
    pins["torch"] = torch.__version__.split("+")[0]
    return pins


@pytest.mark.end_to_end
def test_the_declared_floors_import_every_module_and_run_a_chapter(tmp_path):
    python = venv(tmp_path / "floors", sys.executable)
    pins = floors()
    index = os.environ.get("VICOURSE_TORCH_INDEX")
    pip(python, f"torch=={pins.pop('torch')}", *(["--index-url", index] if index else []))
    pip(python, *[f"{n}=={v}" for n, v in pins.items()], *FLOORS_KERNEL)
    assert not mismatched(python, pins), mismatched(python, pins)
    checkout = copy_of_the_working_tree(tmp_path / "checkout")
    before = installed(python)
    pip(python, str(checkout))
    after = installed(python)
    assert {n: v for n, v in after.items() if before.get(n, v) != v} == {}
    modules = [m.name for m in pkgutil.walk_packages([str(ROOT / "vicourse")], "vicourse.")]
    imports = run([python, "-c", f"import {', '.join(modules)}"], cwd=tmp_path)
    assert imports.returncode == 0, imports.stderr[-3000:]
    jupyter = kernelspec(tmp_path / "jupyter", "floors", python, ["-m", "ipykernel_launcher"])
    env = {**os.environ, "JUPYTER_PATH": str(jupyter), "MPLBACKEND": "Agg"}
    env.pop("PYTHONPATH", None)
    notebook = checkout / "book" / "01_latent_variable_models.ipynb"
    seconds = run_chapter(notebook, "floors", env, tmp_path)
    print(f"{notebook.name} ran in {seconds} s at the floors {pins}")
