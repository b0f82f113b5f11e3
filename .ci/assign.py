"""Make the coursework from the chapters' otter-grader master notebooks (README.md: Teach).

    python .ci/assign.py [--out dist/coursework] [--chapters 03 07] [--jobs 1] [--no-run-tests]

Under --out, per chapter: student/ and autograder/ (the notebook to hand out, the zip that grades
it), github/ (a template repository that grades on every push with GitHub Actions, without the
zip), classroom50/ (the zip with the script that grades it there, for Classroom 50's
CLASSROOM/autograders/ASSIGNMENT/), masters/ (the master as otter assign read it, its ASSIGNMENT
CONFIG completed) and otter's own output; wheel/ holds the vicourse every zip carries. A chapter
whose `otter assign` runs past PATIENCE seconds is killed with its kernel and run once more; one
that still fails is named at the end, with the end of its output, and the others are made.
`bash .ci/assign.sh` runs it after installing otter-grader.
"""

import argparse
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gradescope  # beside this file, for its run_patiently

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / ".ci" / "coursework"  # the GitHub template's workflow and grading script
PATIENCE = 900  # s for one chapter's `otter assign`, which executes it once (a few minutes)
OTTER = ["-m", "otter", "assign"]
PYTHON_VERSION = "3.11"  # the oldest Python vicourse supports, and the one CI tests on
CPU_TORCH = "--extra-index-url https://download.pytorch.org/whl/cpu"  # graders have no GPU
IPYKERNEL = "ipykernel>=6.0,<7"  # the kernel that grades: requirements.txt says why not 7


def chapters() -> list[Path]:
    """The numbered chapter notebooks (book/NN_…) in the table of contents' order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    paths = [ROOT / f"{f}.ipynb" for f in files if re.fullmatch(r"book/\d\d_\w+", f)]
    return [p for p in paths if p.is_file()]


def questions(notebook: Path) -> list[dict]:
    """The otter questions of a master notebook: name, points, manual."""
    found = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        lines = cell.source.splitlines()
        if cell.cell_type == "raw" and lines and lines[0].strip().upper() == "# BEGIN QUESTION":
            spec = yaml.safe_load("\n".join(lines[1:])) or {}
            manual = bool(spec.get("manual", False))
            found.append({"name": spec["name"], "points": spec.get("points", 1), "manual": manual})
    return found


def config_cells(notebook: nbformat.NotebookNode) -> list:
    return [c for c in notebook.cells if c.cell_type == "raw" and "# ASSIGNMENT CONFIG" in c.source]


def run(command: list[str], cwd: Path, label: str, failure: str, prepare=lambda: None) -> float:
    """Run a command quietly, after prepare(); the seconds it took, or SystemExit with the end
    of its output. Past PATIENCE seconds it is killed with every process it started and run
    once more (gradescope.run_patiently)."""
    start = time.perf_counter()
    try:
        status, output = gradescope.run_patiently(
            command, cwd, dict(os.environ), label=label, prepare=prepare, patience=PATIENCE
        )
    except subprocess.TimeoutExpired as late:
        raise SystemExit(f"{label} ran past {PATIENCE} s twice:\n{late.output[-3000:]}") from None
    if status != 0:
        raise SystemExit(f"{failure}:\n{output[-3000:]}")
    return time.perf_counter() - start


def build_wheel(out: Path) -> Path:
    """A wheel of this checkout's vicourse, built in a copy so that the checkout stays clean."""
    shutil.rmtree(out / "wheel", ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        skip = shutil.ignore_patterns(".git", ".venv", "dist", "_build", "node_modules", "book")
        source = shutil.copytree(ROOT, Path(tmp) / "source", ignore=skip)
        pip = ["pip", "wheel", "--quiet", "--no-deps", "-w", str(out / "wheel"), "."]
        failure = "could not build vicourse's wheel"
        run([sys.executable, "-m", *pip], source, "pip wheel", failure)
    (wheel,) = (out / "wheel").glob("vicourse-*.whl")
    return wheel


def staged(notebook: Path, wheel: Path, out: Path) -> Path:
    """A copy of the master notebook, beside the wheel, its ASSIGNMENT CONFIG completed."""
    stage = out / "masters" / notebook.stem
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copy2(wheel, stage)
    nb = nbformat.read(notebook, as_version=4)
    (cell,) = config_cells(nb)
    config = yaml.safe_load(cell.source) or {}
    torch = importlib.metadata.version("torch").split("+")[0]  # 2.13.0+cu128 -> 2.13.0
    installed = f"/autograder/source/files/{wheel.name}"  # where Gradescope unpacks the zip
    grading = {
        "python_version": PYTHON_VERSION,
        "requirements": [CPU_TORCH, f"torch=={torch}+cpu", IPYKERNEL, installed],
        "autograder_files": [wheel.name],
    }
    if clash := set(config) & set(grading):
        raise SystemExit(f"{notebook.name}: leave {sorted(clash)} to .ci/assign.py")
    config_text = yaml.safe_dump(config | grading, sort_keys=False).strip()
    cell.source = f"# ASSIGNMENT CONFIG\n{config_text}"
    nbformat.write(nb, stage / notebook.name)
    return stage / notebook.name


def assign(notebook: Path, out: Path, wheel: Path, *, run_tests: bool = True) -> dict:
    """Run `otter assign` on one chapter; copy out the student notebook and the autograder zip,
    and write the chapter's GitHub template and Classroom 50 bundle."""
    target, chapter = out / notebook.stem, notebook.stem
    template, bundle = out / "github" / chapter, out / "classroom50" / chapter
    for folder in template, bundle:  # nothing of an earlier run is left if this one fails
        shutil.rmtree(folder, ignore_errors=True)
    (out / "student" / notebook.name).unlink(missing_ok=True)
    (out / "autograder" / f"{chapter}.zip").unlink(missing_ok=True)
    master = staged(notebook, wheel, out)
    command = [sys.executable, *OTTER, str(master), str(target), "--no-pdfs"]
    command += [] if run_tests else ["--no-run-tests"]
    failure = f"otter assign failed on {notebook.name} (a solution fails its tests, or bad cells)"

    def fresh():
        shutil.rmtree(target, ignore_errors=True)

    seconds = run(command, master.parent, f"otter assign on {notebook.name}", failure, fresh)
    (zip_path,) = (target / "autograder").glob("*-autograder_*.zip")
    shutil.copy2(target / "student" / notebook.name, out / "student")
    shutil.copy2(zip_path, out / "autograder" / f"{chapter}.zip")
    (template / ".github" / "workflows").mkdir(parents=True)
    bundle.mkdir(parents=True)
    shutil.copy2(target / "student" / notebook.name, template)
    workflow = (TEMPLATE / "grade.yml").read_text().replace("{chapter}", chapter)
    (template / ".github" / "workflows" / "grade.yml").write_text(workflow)
    for folder in template / ".github", bundle:
        shutil.copy2(TEMPLATE / "autograder.py", folder)
        shutil.copy2(ROOT / ".ci" / "gradescope.py", folder)
    shutil.copy2(zip_path, bundle / f"{chapter}.zip")
    return {"chapter": chapter, "questions": questions(notebook), "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "coursework")
    parser.add_argument("--chapters", nargs="*", help="chapter numbers, e.g. 03 07 (default: all)")
    # one at a time by default: kernels started together can race for a TCP port, and one hangs
    parser.add_argument("--jobs", type=int, default=1, help="chapters assigned at once")
    skip = "skip otter's check of the solutions (only where they ran their tests elsewhere)"
    parser.add_argument("--no-run-tests", action="store_true", help=skip)
    args = parser.parse_args(argv)
    picked = [nb for nb in chapters() if not args.chapters or nb.name[:2] in args.chapters]
    picked = [nb for nb in picked if config_cells(nbformat.read(nb, as_version=4))]
    if not picked:
        raise SystemExit(f"no chapter with graded questions matches {args.chapters}")
    out = args.out.resolve()
    for folder in "student", "autograder":
        (out / folder).mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(out)

    def attempt(notebook: Path) -> dict:
        try:
            return assign(notebook, out, wheel, run_tests=not args.no_run_tests)
        except SystemExit as failure:  # the others are still made
            return {"chapter": notebook.stem, "failure": f"{failure}"}
        except Exception:  # a fault of this script's: its traceback, and the others made
            return {"chapter": notebook.stem, "failure": traceback.format_exc()}

    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(pool.map(attempt, picked))
    made = [r for r in results if "failure" not in r]
    failed = [r for r in results if "failure" in r]
    (out / "summary.json").write_text(json.dumps(made, indent=2))
    print(f"{'chapter':<32} {'auto':>5} {'manual':>7} {'seconds':>8}")
    for r in made:
        auto = sum(q["points"] for q in r["questions"] if not q["manual"])
        manual = sum(q["points"] for q in r["questions"] if q["manual"])
        print(f"{r['chapter']:<32} {auto:>5} {manual:>7} {r['seconds']:>8.1f}")
    print(f"student notebooks: {out / 'student'}\nautograders:       {out / 'autograder'}")
    print(f"GitHub templates:  {out / 'github'}\nClassroom 50:      {out / 'classroom50'}")
    for r in failed:
        print(f"\n{r['chapter']} FAILED: {r['failure']}")
    print(f"\nmade: {', '.join(r['chapter'] for r in made) or 'none'}")
    if failed:
        print(f"failed: {', '.join(r['chapter'] for r in failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
