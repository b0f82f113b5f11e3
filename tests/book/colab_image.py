"""Colab's image, as far as the chapters use it: colab_image.txt, and the script that refreshes it.

    python tests/book/colab_image.py [SOURCE]

SOURCE is a checkout of googlecolab/backend-info or the address of its files (by default its
main branch on GitHub). Its pip-freeze.gpu.txt lists every package of Colab's GPU image and
os-info-gpu.txt its Python. The script resolves what a chapter's kernel and vicourse's
requirements need (ipykernel and pyproject.toml's dependencies) with pip, for Colab's Python
and constrained to Colab's versions, and writes those packages, at Colab's versions, to
colab_image.txt, a pip requirements file that tests/book/test_colab_path.py installs. torch's
CUDA libraries (nvidia-*, cuda-*, triton) are left out: Colab takes torch from PyTorch's own
CUDA index, the test from PyPI (or VICOURSE_TORCH_INDEX), each with the libraries that index's
build requires, and a CPU run uses none of them.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
IMAGE = HERE / "colab_image.txt"
BACKEND_INFO = "https://raw.githubusercontent.com/googlecolab/backend-info/main"
KERNEL = ["ipykernel"]  # what runs a notebook's cells; Colab's own frontend talks to it
MISSING = "# Needed by them but not in Colab's image (pip adds them): "
GPU_ONLY = re.compile(r"(nvidia|cuda|triton)\b", re.IGNORECASE)


def normal(name: str) -> str:
    """A package's name as pip compares names (PEP 503): jupyter_client, Jupyter-Client alike."""
    return re.sub(r"[-_.]+", "-", name).lower()


def python_version() -> str:
    """The Python (major.minor) that colab_image.txt was resolved for."""
    (line,) = [x for x in IMAGE.read_text().splitlines() if x.startswith("# python: ")]
    return line.removeprefix("# python: ").strip()


def missing() -> list[str]:
    """What the chapters need that Colab's image lacks, so that pip adds it."""
    (line,) = [x for x in IMAGE.read_text().splitlines() if x.startswith(MISSING)]
    return [] if line.endswith("none.") else line.removeprefix(MISSING).rstrip(".").split(", ")


def pins() -> dict[str, str]:
    """name -> Colab's version, for every package colab_image.txt lists."""
    lines = [x.split("#")[0].strip() for x in IMAGE.read_text().splitlines()]
    return dict(x.split("==") for x in lines if x)


def find_python(version: str) -> str | None:
    """A python of that major.minor: pythonX.Y on PATH, or pyenv's newest of them."""
    candidates = [f"python{version}"]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(map(str, pyenv.glob(f"{version}.*/bin/python{version}")))[::-1]
    for candidate in candidates:
        ask = [candidate, "-c", "import sys; print(sys.executable)"]
        try:
            found = subprocess.run(ask, capture_output=True, text=True)
        except OSError:  # not there at all
            continue
        if found.returncode == 0:  # (a pyenv shim of a version not selected fails)
            return found.stdout.strip()
    return None


def read(source: str, name: str) -> str:
    if re.match(r"https?://", source):
        with urllib.request.urlopen(f"{source}/{name}", timeout=60) as response:
            return response.read().decode()
    return (Path(source) / name).read_text()


def describe(source: str) -> str:
    """Where the freeze came from: its commit, where `source` is a git checkout."""
    log = ["git", "-C", source, "log", "-1", "--format=%h of %cs"]
    done = subprocess.run(log, capture_output=True, text=True) if Path(source).is_dir() else None
    if done and done.returncode == 0:
        return f"commit {done.stdout.strip()}"
    return source


def requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + KERNEL


def refresh(source: str) -> Path:
    """Write colab_image.txt from Colab's freeze at `source`."""
    freeze = read(source, "pip-freeze.gpu.txt").splitlines()
    python = re.search(r"Python (\d+\.\d+)", read(source, "os-info-gpu.txt")).group(1)
    colab = {}  # name -> version, the local labels (2.11.0+cu128) dropped
    for line in freeze:
        if m := re.fullmatch(r"([A-Za-z0-9_.-]+)==([^+\s]+)(\+\S+)?", line.strip()):
            colab[m[1]] = m[2]
    interpreter = find_python(python)
    if interpreter is None:
        raise SystemExit(f"Colab runs Python {python}: put python{python} on PATH (or pyenv's)")
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "constraints.txt"
        kept = {n: v for n, v in colab.items() if not GPU_ONLY.match(n)}
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in kept.items()))
        report = Path(tmp) / "report.json"
        pip = [interpreter, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed"]
        pip += ["--report", str(report), "-c", str(constraints), *requirements()]
        subprocess.run(pip, check=True)
        resolved = [p["metadata"] for p in json.loads(report.read_text())["install"]]
    named = {normal(n): n for n in colab}
    listed, missing = [], []
    for package in sorted(resolved, key=lambda p: p["name"].lower()):
        name = named.get(normal(package["name"]))
        if name is None:
            missing.append(package["name"])
        elif not GPU_ONLY.match(name):
            listed.append(f"{name}=={colab[name]}")
    note = ", ".join(m for m in missing if not GPU_ONLY.match(m)) or "none"
    IMAGE.write_text(
        "# Colab's GPU image: what a chapter's kernel and vicourse's requirements use, at the\n"
        "# versions of googlecolab/backend-info's pip-freeze.gpu.txt\n"
        f"# ({describe(source)}, read {date.today()}).\n"
        "# Refresh: python tests/book/colab_image.py [SOURCE] (see its docstring).\n"
        f"{MISSING}{note}.\n"
        f"# python: {python}\n" + "".join(f"{x}\n" for x in listed)
    )
    return IMAGE


if __name__ == "__main__":
    print(f"wrote {refresh(sys.argv[1] if len(sys.argv) > 1 else BACKEND_INFO)}")
