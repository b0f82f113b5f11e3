"""Generate the coursework: for every chapter with graded questions, the student notebook
(solutions replaced by stubs) and the otter-grader autograder.

    python .ci/assign.py [--out dist/coursework] [--chapters 03 07]

The chapters are the master notebooks: otter's raw cells (ASSIGNMENT CONFIG, BEGIN QUESTION, …)
mark the questions, and `otter assign` runs each chapter's tests against its solutions, failing
when a solution is wrong. What comes out, under --out:

    student/<chapter>.ipynb        to hand out (Colab, Jupyter); the tests are not in it
    autograder/<chapter>.zip       for Gradescope, or `otter run -a <zip> <submission>`
    <chapter>/                     otter's full output for that chapter
    wheel/vicourse-*.whl           this checkout's vicourse, which every autograder carries
    masters/<chapter>/             the master notebook as otter assign read it (below)
    classroom/<chapter>/           a GitHub Classroom assignment template (below)

Each autograder grades on its own: the master notebook's ASSIGNMENT CONFIG gets, in a copy,
what the graded notebook needs (otter's own keys): `python_version` 3.11, and `requirements`
torch (a CPU build, from PyTorch's CPU index: graders have no GPU, and PyPI's Linux torch is a
CUDA build of several GB), ipykernel below 7 (requirements.txt says why) and the wheel of this
vicourse, which `autograder_files` puts in the zip. A wheel rather than the repository's URL:
the zip then grades with exactly the code its tests were made with, needs no access to GitHub,
and works for a private fork. Gradescope unpacks the zip into /autograder/source, so the wheel's
requirement is that absolute path.

A GitHub Classroom template is a repository to hand out: the student notebook, the zip and
.ci/gradescope.py in .github/, and .github/workflows/classroom.yml, which on every push grades
the notebook as Gradescope would and reports each autograded question to Classroom through its
command grader (full points or none, as otter scores these questions) and reporter actions.

Run through `bash .ci/assign.sh`, which installs otter-grader first.
"""

from __future__ import annotations

import argparse
import importlib.metadata
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
AUTOGRADER_DIR = "/autograder"  # where Gradescope (and otter's image) unpacks and grades
PYTHON_VERSION = "3.11"  # the oldest Python vicourse supports, and the one CI tests on
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
IPYKERNEL = "ipykernel>=6.0,<7"  # the kernel that grades: requirements.txt says why not 7


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


def build_wheel(out: Path) -> Path:
    """A wheel of this checkout's vicourse, built in a copy so that the checkout stays clean."""
    target = out / "wheel"
    shutil.rmtree(target, ignore_errors=True)
    source = out / "source"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(
        ROOT,
        source,
        ignore=lambda folder, names: {
            n for n in names if n in {".git", ".venv", "dist", "_build", "node_modules", "book"}
        },
    )
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(target), "."],
        cwd=source,
        capture_output=True,
        text=True,
    )
    shutil.rmtree(source, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"could not build vicourse's wheel:\n{done.stdout}{done.stderr}")
    (wheel,) = target.glob("vicourse-*.whl")
    return wheel


def grading_config(wheel: Path) -> dict:
    """The ASSIGNMENT CONFIG keys that make an autograder install what the chapter needs."""
    torch_version = importlib.metadata.version("torch").split("+")[0]  # 2.13.0+cu128 -> 2.13.0
    return {
        "python_version": PYTHON_VERSION,
        "requirements": [
            f"--extra-index-url {TORCH_CPU_INDEX}",
            f"torch=={torch_version}+cpu",
            IPYKERNEL,
            f"{AUTOGRADER_DIR}/source/files/{wheel.name}",
        ],
        "autograder_files": [wheel.name],
    }


def staged(notebook: Path, wheel: Path, out: Path) -> Path:
    """A copy of the master notebook, beside the wheel, its ASSIGNMENT CONFIG completed."""
    stage = out / "masters" / notebook.stem
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copy2(wheel, stage / wheel.name)
    nb = nbformat.read(notebook, as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "raw" and "# ASSIGNMENT CONFIG" in c.source]
    config = yaml.safe_load(cell.source) or {}
    grading = grading_config(wheel)
    clash = set(config) & set(grading)
    if clash:
        raise SystemExit(f"{notebook.name}: leave {sorted(clash)} to .ci/assign.py")
    config.update(grading)
    cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False).strip()
    nbformat.write(nb, stage / notebook.name)
    return stage / notebook.name


CLASSROOM_WORKFLOW = """\
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
        run: python -m pip install --quiet pyyaml
      - name: Grade the notebook
        run: {grade}
{questions}      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
{results}        with:
          runners: {runners}
"""
CLASSROOM_QUESTION = """\
      - name: {name}
        id: {name}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: {name}
          command: {command}
          timeout: 1
          max-score: {points}
"""
CLASSROOM_RESULT = '          {env}_RESULTS: "${{{{ steps.{name}.outputs.result }}}}"\n'
CLASSROOM_GRADE = (
    "python .github/gradescope.py --zip .github/autograder.zip --submissions ."
    ' --work "$RUNNER_TEMP/grading"'
)


def classroom_workflow(notebook_name: str, graded: list[dict]) -> str:
    """The GitHub Classroom workflow for one chapter's autograded questions (code, experiments)."""
    auto = [q for q in graded if not q["manual"]]
    return CLASSROOM_WORKFLOW.format(
        notebook=notebook_name,
        python=PYTHON_VERSION,
        grade=CLASSROOM_GRADE,
        questions="".join(
            CLASSROOM_QUESTION.format(
                name=q["name"],
                points=q["points"],
                command="python .github/gradescope.py --scores scores.csv"
                f" --full {q['name']}={q['points']}",
            )
            for q in auto
        ),
        results="".join(
            CLASSROOM_RESULT.format(env=q["name"].upper(), name=q["name"]) for q in auto
        ),
        runners=",".join(q["name"] for q in auto),
    )


def classroom(notebook: Path, out: Path, graded: list[dict]) -> Path:
    """A GitHub Classroom template for one chapter, from the student notebook and the zip;
    `graded`: the chapter's questions (questions(notebook))."""
    template = out / "classroom" / notebook.stem
    shutil.rmtree(template, ignore_errors=True)
    (template / ".github" / "workflows").mkdir(parents=True)
    shutil.copy2(out / "student" / notebook.name, template / notebook.name)
    shutil.copy2(
        out / "autograder" / f"{notebook.stem}.zip", template / ".github" / "autograder.zip"
    )
    shutil.copy2(ROOT / ".ci" / "gradescope.py", template / ".github" / "gradescope.py")
    workflow = classroom_workflow(notebook.name, graded)
    (template / ".github" / "workflows" / "classroom.yml").write_text(workflow)
    return template


def assign(notebook: Path, out: Path, wheel: Path, *, run_tests: bool = True) -> dict:
    """Run `otter assign` on one chapter; copy the student notebook and the autograder zip.
    run_tests=False skips otter's own run of the tests against the solution, for callers that
    grade the solution notebook with the zip anyway (the same check, end to end)."""
    target = out / notebook.stem
    shutil.rmtree(target, ignore_errors=True)
    master = staged(notebook, wheel, out)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "otter", "assign", str(master), str(target), "--no-pdfs"]
        + ([] if run_tests else ["--no-run-tests"]),
        cwd=master.parent,
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
    graded = questions(notebook)
    classroom(notebook, out, graded)
    return {"chapter": notebook.stem, "questions": graded, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "coursework")
    parser.add_argument("--chapters", nargs="*", help="chapter numbers, e.g. 03 07 (default: all)")
    # One at a time by default: kernels started at the same moment can race for the same TCP
    # ports, and the loser waits forever.
    parser.add_argument("--jobs", type=int, default=1, help="chapters assigned at once")
    parser.add_argument(
        "--no-run-tests",
        action="store_true",
        help="skip otter's run of each chapter's tests against its solution (only when the"
        " solution notebook is graded with the zip afterwards, which checks the same)",
    )
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
    wheel = build_wheel(out)
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(
            pool.map(lambda nb: assign(nb, out, wheel, run_tests=not args.no_run_tests), selected)
        )
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
