"""Shared fixtures. Statistical tests are seeded and use tolerances in standard errors (5 SE unless
said), so a failure is reproducible and a false alarm has probability below 1e-6 per check.
"""

import ast
import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import pytest
import torch
import yaml

matplotlib.use("Agg")

# Each test gets the marker of its folder, so a part runs on its own: `-m unit` (one file per
# package module), `-m book` (the chapters' structure, coursework and Colab path), `-m site` (the
# built site), `-m tooling` (workflows, release, style, benchmarks), `-m chapters` (nbval).
PARTS = ("unit", "book", "site", "tooling")


# In a parallel run (bash .ci/test.sh runs pytest-xdist, --dist loadgroup) a worker takes the next
# test when it is free: the longest (the end-to-end checks, then the chapters under nbval) are
# queued first, so that none starts last while the other worker idles (the chapters, the later
# first).
LONGEST_FIRST = ("test_gradescope.py", "test_coursework.py", "test_colab_path.py")


def start_order(item) -> tuple[int, int]:
    path = Path(str(item.path))
    if item.get_closest_marker("end_to_end"):
        return (0, LONGEST_FIRST.index(path.name) if path.name in LONGEST_FIRST else 99)
    if path.suffix == ".ipynb":  # the later chapters train longer: queued first
        return (1, -int(path.name[:2])) if path.name[:2].isdigit() else (1, 0)
    return (2, 0)


@pytest.hookimpl(tryfirst=True)  # the xdist_group marks must be there before xdist reads them
def pytest_collection_modifyitems(config, items):
    items.sort(key=start_order)  # stable: each file keeps its own order
    reused = []
    for item in items:
        path = Path(str(item.path)).resolve()
        if path.suffix == ".ipynb":
            item.add_marker("chapters")
            # a chapter's cells share one kernel: in parallel runs they stay on one worker
            item.add_marker(pytest.mark.xdist_group(path.name))
            if reuse_the_site_build() and executed(path) is not None:
                reused.append(item)
        elif path.parent.name in PARTS and path.parent.parent.name == "tests":
            item.add_marker(path.parent.name)
    if reused:  # execute once, reuse: tests/book/test_book.py checks the site build's copies
        config.hook.pytest_deselected(items=reused)
        items[:] = [item for item in items if item not in reused]


def pytest_report_header(config):
    if reuse_the_site_build():
        return (
            "chapters: VICOURSE_REUSE_EXECUTED=1, so nbval leaves out the chapters whose code "
            "the site build executed (its cache, _build/.jupyter_cache); tests/book checks them"
        )
    return None


def reuse_the_site_build() -> bool:
    """True when the caller says the site was just built from this very tree
    (VICOURSE_REUSE_EXECUTED=1, as .ci/run sets it after building): nbval then leaves out the
    chapters the build executed, and tests/book/test_book.py checks those executions instead.
    The cache matches a chapter by its code alone, not by the package's, hence the opt-in."""
    return os.environ.get("VICOURSE_REUSE_EXECUTED") == "1"


@functools.cache
def executed(path: Path):
    """The site build's execution of a chapter as its code stands now (MyST-NB's cache, which
    keeps only executions that ran without error), as a notebook; None if there is none."""
    import nbformat
    from jupyter_cache import get_cache

    if not (EXECUTION_CACHE / "global.db").is_file():
        return None
    try:
        return get_cache(str(EXECUTION_CACHE)).merge_match_into_notebook(
            nbformat.read(path, as_version=4)
        )[1]
    except KeyError:
        return None


def executed_chapters() -> dict[str, object]:
    """{chapter file name: its execution by the site build} for the chapters that have one."""
    chapters = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    return {p.name: executed(p) for p in chapters if executed(p) is not None}


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


@pytest.fixture(params=[torch.float32, torch.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


def gen(seed, device="cpu"):
    return torch.Generator(device=torch.device(device)).manual_seed(seed)


@functools.cache
def digits():
    """scikit-learn's digits as the VAE sees them (vicourse.load_images), loaded once."""
    import vicourse

    return vicourse.load_images("digits")


def small_vae(seed=0):
    """A VAE for the digits, 64-32-2, its weights drawn from torch's global generator at `seed`."""
    import vicourse

    torch.manual_seed(seed)
    return vicourse.VAE.for_data(digits().x_train, 2, hidden=(32,))


ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
EXECUTION_CACHE = ROOT / "_build" / ".jupyter_cache"  # the site build's (_config.yml)


def require(condition, message: str) -> None:
    """Skip when `condition` is false; fail instead where the site must be there
    (VICOURSE_REQUIRE_SITE=1, as .ci/run sets it after building the site)."""
    if not condition:
        if os.environ.get("VICOURSE_REQUIRE_SITE") == "1":
            pytest.fail(message)
        pytest.skip(message)


def chapter_pages() -> list[Path]:
    """The built chapter pages, book/NN_*.html (empty before the site is built)."""
    folder = HTML / "book"
    return sorted(p for p in folder.glob("*.html") if re.match(r"\d\d_", p.name))


@pytest.fixture(scope="module")
def pages():
    require((HTML / "index.html").is_file(), f"no built site at {HTML}; build it first")
    return sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)


def load_tool(name: str, folder: str = ".ci"):
    """A script in .ci/ (repoint.py, assign.py), or in another folder, as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def toc() -> dict:
    return yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files() -> list[str]:
    """Every page in _toc.yml, in order, as paths without suffix (book/01_…, book/status…)."""
    contents = toc()
    return [
        chapter["file"]
        for part in contents.get("parts", [{"chapters": contents.get("chapters", [])}])
        for chapter in part["chapters"]
    ]


def solution_lines(source: str, visible: str = "") -> list[str]:
    """The stripped, non-empty lines of a code solution: what lies between a cell's
    `# BEGIN SOLUTION` and `# END SOLUTION` comments (none when the cell has no solution),
    less those that `visible`, the text a student sees anyway, also contains (a `)` or a
    `with torch.no_grad():`), so that finding one of them in a student's copy is a leak."""
    if "# BEGIN SOLUTION" not in source:
        return []
    body = source.split("# BEGIN SOLUTION")[1].split("# END SOLUTION")[0]
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    return [line for line in lines if line not in visible]


def visible_text(cells) -> str:
    """The sources of a master notebook's cells that its student edition keeps: neither a
    solution (code or derivation), nor a hidden cell, nor one of otter's raw markers."""
    kept = []
    for cell in cells:
        source = "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "raw" or "remove-cell" in tags or "# BEGIN SOLUTION" in source:
            continue
        if ":class-container: solution" in source:
            continue
        kept.append(source)
    return "\n".join(kept)


def graded_questions(nb) -> list[tuple[dict, list]]:
    """(its config, the code cells between its BEGIN TESTS and END TESTS) for each question of
    a master notebook: the autograder's tests, a public one and then, for an autograded
    question, a hidden one (first line `# HIDDEN`)."""
    found, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            found.append((yaml.safe_load(cell.source.split("\n", 1)[1]), []))
        elif cell.cell_type == "raw":
            inside = cell.source.strip() == "# BEGIN TESTS"
        elif inside and cell.cell_type == "code":
            found[-1][1].append(cell)
    return found


def functions_defined(sources: list[str], filename: str) -> dict:
    """{name: function} of the test_ functions that these cells define (not their calls)."""
    namespace = {}
    for source in sources:
        tree = ast.parse(source)
        tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        exec(compile(tree, filename, "exec"), namespace)
    return {k: v for k, v in namespace.items() if k.startswith("test_")}


def copy_of_the_working_tree(target: Path) -> Path:
    """The committed files with the working tree's changes, and the new files git does not
    ignore, copied to `target` (a checkout as CI would clone it after a commit)."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target
