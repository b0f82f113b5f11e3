"""Generate the coursework: for every chapter with graded questions, the student notebook
(solutions replaced by stubs) and the otter-grader autograder.

    python .ci/assign.py [--out dist/coursework] [--chapters 03 07]

The chapters are the master notebooks: otter's raw cells (ASSIGNMENT CONFIG, BEGIN QUESTION, …)
mark the questions, and `otter assign` runs each chapter's tests against its solutions, failing
when a solution is wrong. What comes out, under --out:

    student/<chapter>.ipynb        to hand out (Colab, Jupyter); the tests are not in it
    autograder/<chapter>.zip       for `otter run -a <zip> <submission>` or Gradescope
    <chapter>/                     otter's full output for that chapter

Run through `bash .ci/assign.sh`, which installs otter-grader first.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 1800  # s for one chapter's `otter assign` (it executes the chapter once)


def chapters() -> list[Path]:
    """The numbered chapter notebooks (book/NN_…) in the table of contents' order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [
        ROOT / f"{f}.ipynb"
        for f in files
        if re.fullmatch(r"book/\d\d_\w+", f) and (ROOT / f"{f}.ipynb").is_file()
    ]


def questions(notebook: Path) -> list[dict]:
    """The otter questions of a master notebook: name, points, manual."""
    found = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        lines = cell.source.splitlines()
        if cell.cell_type == "raw" and lines and lines[0].strip().upper() == "# BEGIN QUESTION":
            spec = yaml.safe_load("\n".join(lines[1:])) or {}
            found.append(
                {
                    "name": spec["name"],
                    "points": spec.get("points", 1),
                    "manual": bool(spec.get("manual", False)),
                }
            )
    return found


def is_master(notebook: Path) -> bool:
    cells = nbformat.read(notebook, as_version=4).cells
    return any(c.cell_type == "raw" and "# ASSIGNMENT CONFIG" in c.source for c in cells)


def assign(notebook: Path, out: Path) -> dict:
    """Run `otter assign` on one chapter; copy the student notebook and the autograder zip."""
    target = out / notebook.stem
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "otter", "assign", str(notebook), str(target), "--no-pdfs"],
        cwd=notebook.parent,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"otter assign failed on {notebook.name} (a solution fails its tests, or the"
            f" notebook's otter cells are malformed):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    student = target / "student" / notebook.name
    (out / "student").mkdir(parents=True, exist_ok=True)
    shutil.copy2(student, out / "student" / notebook.name)
    (zip_path,) = (target / "autograder").glob("*-autograder_*.zip")
    (out / "autograder").mkdir(parents=True, exist_ok=True)
    shutil.copy2(zip_path, out / "autograder" / f"{notebook.stem}.zip")
    return {"chapter": notebook.stem, "questions": questions(notebook), "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "coursework")
    parser.add_argument("--chapters", nargs="*", help="chapter numbers, e.g. 03 07 (default: all)")
    # One at a time by default: kernels started at the same moment can race for the same TCP
    # ports, and the loser waits forever.
    parser.add_argument("--jobs", type=int, default=1, help="chapters assigned at once")
    args = parser.parse_args(argv)
    selected = [
        nb
        for nb in chapters()
        if is_master(nb) and (not args.chapters or nb.name[:2] in args.chapters)
    ]
    if not selected:
        raise SystemExit(f"no chapter with graded questions matches {args.chapters}")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(pool.map(lambda nb: assign(nb, out), selected))
    (out / "summary.json").write_text(json.dumps(results, indent=2))
    print(f"{'chapter':<32} {'auto':>5} {'manual':>7} {'seconds':>8}")
    for r in results:
        auto = sum(q["points"] for q in r["questions"] if not q["manual"])
        manual = sum(q["points"] for q in r["questions"] if q["manual"])
        print(f"{r['chapter']:<32} {auto:>5} {manual:>7} {r['seconds']:>8.1f}")
    print(f"student notebooks: {out / 'student'}\nautograders:       {out / 'autograder'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
