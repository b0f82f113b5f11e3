"""Execute the book's notebooks into MyST-NB's execution cache, several at a time.

    python .ci/execute.py [--jobs N]

`bash .ci/build_site.sh` runs this after emptying the cache and before the build: the build then
finds every notebook of the table of contents in the cache (_config.yml, `execute_notebooks:
cache`) and executes none itself. Each notebook runs in its own process, as MyST-NB would run it
(jupyter-cache's single_nb_execution, in the notebook's folder, the configured timeout, errors
not allowed), with torch on one thread, so that N notebooks share N cores without their threads
fighting. Each executed notebook is also written to _build/executed/book/, where the tests read
it (.ci/executed.py). A run that hangs (a lost kernel reply, .ci/gradescope.py) is killed and
run again (twice at most). A notebook that fails is left out of the cache: the build then
executes it itself and reports the error as it always does. Prints each notebook's seconds,
longest first.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

ROOT = Path(__file__).resolve().parents[1]
COPIES = ROOT / "_build" / "executed" / "book"  # the executed notebooks, which the tests read
spec = importlib.util.spec_from_file_location("gradescope", ROOT / ".ci" / "gradescope.py")
gradescope = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gradescope)

# One notebook, in a process of its own: execute as MyST-NB does, write the result, or exit 1.
EXECUTE_ONE = r"""
import sys
from pathlib import Path
import nbformat
from jupyter_cache.executors.utils import single_nb_execution
path, out, timeout = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
nb = nbformat.read(path, as_version=4)
result = single_nb_execution(nb, cwd=str(path.parent), allow_errors=False, timeout=timeout,
                             meta_override=True)
if result.err is not None:
    print(result.exc_string, file=sys.stderr)
    sys.exit(1)
nbformat.write(nb, out)
"""


def notebooks() -> list[Path]:
    """The table of contents' notebooks (.ipynb), in its order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").is_file()]


def execute(path: Path, timeout: int, folder: Path) -> tuple[nbformat.NotebookNode | None, float]:
    """The executed notebook (None if it failed) and the seconds it took."""
    out = folder / path.name
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    try:
        status, output = gradescope.run_patiently(
            [sys.executable, "-c", EXECUTE_ONE, str(path), str(out), str(timeout)],
            path.parent,
            env,
            label=path.name,
        )
    except subprocess.TimeoutExpired:
        print(f"{path.name} hung {gradescope.ATTEMPTS} times; the build will execute it itself")
        return None, 0.0
    seconds = time.perf_counter() - start
    if status != 0:
        print(f"{path.name} failed; the build will execute it and show why:\n{output[-2000:]}")
        return None, seconds
    return nbformat.read(out, as_version=4), seconds


def execute_into_cache(
    paths: list[Path], cache_path: Path, copies: Path, jobs: int, timeout: int
) -> dict:
    """Execute `paths`, `jobs` at a time, into the jupyter-cache at cache_path, and write each
    executed notebook to copies/<its name> (MyST-NB's own copies in _build/jupyter_execute/ hold
    no outputs when they come from the cache); {path: seconds} of those it cached (a failed one
    is left out)."""
    cache = get_cache(str(cache_path))
    copies.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(jobs) as pool:
        runs = list(pool.map(lambda p: execute(p, timeout, Path(folder)), paths))
    cached = {}
    for path, (nb, seconds) in zip(paths, runs, strict=True):
        if nb is not None:
            bundle = CacheBundleIn(nb, str(path), data={"execution_seconds": seconds})
            cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
            nbformat.write(nb, copies / path.name)
            cached[path] = seconds
    return cached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 4))
    args = parser.parse_args(argv)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]
    paths = notebooks()[::-1]  # the later chapters train more: started first
    cached = execute_into_cache(paths, ROOT / config["cache"], COPIES, args.jobs, config["timeout"])
    print(f"Executed {len(paths)} notebooks, {args.jobs} at a time (budget: 60 s per chapter):")
    for path in sorted(paths, key=lambda p: -cached.get(p, 0.0)):
        seconds = f"{cached[path]:.1f} s" if path in cached else "failed"
        print(f"  {path.relative_to(ROOT)}: {seconds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
