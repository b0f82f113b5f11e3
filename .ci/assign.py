"""Make the coursework from the chapters' otter-grader master notebooks (README.md: Teach).

    python .ci/assign.py [--out dist/coursework] [--chapters 03 07] [--jobs 1] [--no-run-tests]

Under --out, per chapter: student/ and autograder/ (the notebook to hand out, the zip that grades
it), classroom/ (a GitHub Classroom template), masters/ (the master as otter assign read it, its
ASSIGNMENT CONFIG completed) and otter's own output; wheel/ holds the vicourse every zip carries.
`bash .ci/assign.sh` runs it after installing otter-grader.
"""

import argparse
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 1800  # s for one chapter's `otter assign` (it executes the chapter once)
PYTHON_VERSION = "3.11"  # the oldest Python vicourse supports, and the one CI tests on
CPU_TORCH = "--extra-index-url https://download.pytorch.org/whl/cpu"  # graders have no GPU
IPYKERNEL = "ipykernel>=6.0,<7"  # the kernel that grades: requirements.txt says why not 7

WORKFLOW = """\
# Grades {notebook} on every push, as Gradescope would grade it (made by vicourse's
# .ci/assign.py), and reports each autograded question's points to GitHub Classroom.
name: Autograding Tests
on:
  push:
  repository_dispatch:
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 40
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
      - name: Install what the grader needs
        run: python -m pip install --quiet pyyaml psutil
      - name: Grade the notebook
        run: python .github/gradescope.py --zip .github/autograder.zip --submissions . \
--work "$RUNNER_TEMP/grading"
{steps}      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
{results}        with:
          runners: {runners}
"""
STEP = """\
      - name: {name}
        id: {name}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: {name}
          command: python .github/gradescope.py --scores scores.csv --full {name}={points}
          timeout: 1
          max-score: {points}
"""
RESULT = '          {env}_RESULTS: "${{{{ steps.{name}.outputs.result }}}}"\n'


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


def classroom_workflow(notebook_name: str, graded: list[dict]) -> str:
    """The GitHub Classroom workflow for one chapter's autograded questions (code, experiments)."""
    auto = [q for q in graded if not q["manual"]]
    return WORKFLOW.format(
        notebook=notebook_name,
        python=PYTHON_VERSION,
        steps="".join(STEP.format(name=q["name"], points=q["points"]) for q in auto),
        results="".join(RESULT.format(env=q["name"].upper(), name=q["name"]) for q in auto),
        runners=",".join(q["name"] for q in auto),
    )


def config_cells(notebook: nbformat.NotebookNode) -> list:
    return [c for c in notebook.cells if c.cell_type == "raw" and "# ASSIGNMENT CONFIG" in c.source]


def run(command: list[str], cwd: Path, failure: str, timeout: float | None = None) -> float:
    """Run a command quietly; the seconds it took, or SystemExit with the end of its output."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{failure}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return time.perf_counter() - start


def build_wheel(out: Path) -> Path:
    """A wheel of this checkout's vicourse, built in a copy so that the checkout stays clean."""
    shutil.rmtree(out / "wheel", ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        skip = shutil.ignore_patterns(".git", ".venv", "dist", "_build", "node_modules", "book")
        source = shutil.copytree(ROOT, Path(tmp) / "source", ignore=skip)
        pip = ["pip", "wheel", "--quiet", "--no-deps", "-w", str(out / "wheel"), "."]
        run([sys.executable, "-m", *pip], source, "could not build vicourse's wheel")
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
    and write the chapter's GitHub Classroom template."""
    target = out / notebook.stem
    shutil.rmtree(target, ignore_errors=True)
    master = staged(notebook, wheel, out)
    command = [sys.executable, "-m", "otter", "assign", str(master), str(target), "--no-pdfs"]
    command += [] if run_tests else ["--no-run-tests"]
    failure = f"otter assign failed on {notebook.name} (a solution fails its tests, or bad cells)"
    seconds = run(command, master.parent, failure, timeout=TIMEOUT)
    (zip_path,) = (target / "autograder").glob("*-autograder_*.zip")
    template = out / "classroom" / notebook.stem
    shutil.rmtree(template, ignore_errors=True)
    (template / ".github" / "workflows").mkdir(parents=True)
    shutil.copy2(target / "student" / notebook.name, out / "student")
    shutil.copy2(target / "student" / notebook.name, template)
    shutil.copy2(zip_path, out / "autograder" / f"{notebook.stem}.zip")
    shutil.copy2(zip_path, template / ".github" / "autograder.zip")
    shutil.copy2(ROOT / ".ci" / "gradescope.py", template / ".github")
    graded = questions(notebook)
    workflow = classroom_workflow(notebook.name, graded)
    (template / ".github" / "workflows" / "classroom.yml").write_text(workflow)
    return {"chapter": notebook.stem, "questions": graded, "seconds": seconds}


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
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        run_tests = not args.no_run_tests
        results = list(pool.map(lambda nb: assign(nb, out, wheel, run_tests=run_tests), picked))
    (out / "summary.json").write_text(json.dumps(results, indent=2))
    print(f"{'chapter':<32} {'auto':>5} {'manual':>7} {'seconds':>8}")
    for r in results:
        auto = sum(q["points"] for q in r["questions"] if not q["manual"])
        manual = sum(q["points"] for q in r["questions"] if q["manual"])
        print(f"{r['chapter']:<32} {auto:>5} {manual:>7} {r['seconds']:>8.1f}")
    print(f"student notebooks: {out / 'student'}\nautograders:       {out / 'autograder'}")
    print(f"GitHub Classroom:  {out / 'classroom'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
