"""Grade notebooks with an autograder zip the way Gradescope does, without Docker.

    python .ci/gradescope.py [--out dist/coursework] [--chapters 03 07]
    python .ci/gradescope.py --zip ZIP --submissions FOLDER
    python .ci/gradescope.py --scores FOLDER/scores.csv --full QUESTION=POINTS

For each chapter that `.ci/assign.py` made (under --out), this unpacks its zip into a folder laid
out as Gradescope lays out /autograder (source/, submission/, results/), builds the grading
environment in a fresh virtual environment from the zip's own environment.yml (its pip
requirements as they stand, with /autograder/ pointing at the folder; its conda packages, other
than python and pip, from PyPI under the same names), runs the zip's run_otter.py on a
submission, and reads results/results.json. The solution notebook must get full marks and the
untouched student notebook zero; it prints the scores and exits non-zero otherwise.

With --zip and --submissions it grades a class instead: every .ipynb in FOLDER, each as
Gradescope would grade it, and writes the scores to FOLDER/scores.csv (a row per notebook, a
column per question, and the total). With --scores and --full it exits 0 when the one notebook
in scores.csv has the question's full points, else 1: GitHub Classroom's command grader gives a
question's points on exit 0 (the template that .ci/assign.py writes for each chapter).

Nothing of the checkout's environment is used: the environment has only what the zip asks
for, so a zip that forgets a requirement fails here as it would on Gradescope. The chapters'
zips ask for the same packages, so one environment serves them all (one per distinct
environment.yml). .ci/release.sh runs this for every chapter; the tests run it for one.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import psutil
import yaml

GRADESCOPE_DIR = "/autograder"
# An index the machine cannot reach (PyTorch's CPU index behind a firewall) is then skipped at
# once, as pip skips any index that fails, instead of being retried for every package.
PIP_ENV = {"PIP_RETRIES": "0", "PIP_DEFAULT_TIMEOUT": "20", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def requirements(source: Path, autograder: Path) -> tuple[str, list[str]]:
    """The Python version and the pip requirements of an unpacked zip's environment.yml."""
    env = yaml.safe_load((source / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = [line for d in env["dependencies"] if isinstance(d, dict) for line in d.get("pip", [])]
    (python,) = [d.split("=", 1)[1] for d in conda if d.startswith("python=")]
    others = [d for d in conda if d.split("=")[0] not in ("python", "pip")]
    here = [line.replace(f"{GRADESCOPE_DIR}/", f"{autograder}/") for line in pip]
    return python, others + here


def build_environment(source: Path, autograder: Path, envs: Path) -> Path:
    """A fresh virtual environment with what the zip asks for; returns its python."""
    python, lines = requirements(source, autograder)
    if f"{sys.version_info.major}.{sys.version_info.minor}" != python:
        raise SystemExit(f"the zip asks for Python {python}; run this with Python {python}")
    # one environment per distinct environment.yml and files/ (the vicourse wheel)
    digest = hashlib.sha256((source / "environment.yml").read_bytes())
    for path in sorted((source / "files").rglob("*")):
        digest.update(path.read_bytes() if path.is_file() else path.name.encode())
    key = digest.hexdigest()[:12]
    env = envs / key
    if (env / "ready").is_file():
        return env / "bin" / "python"
    shutil.rmtree(env, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(env)], check=True)
    (env / "requirements.txt").write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        # --no-compile: Python compiles each module when first imported instead, which grades
        # the same and installs in about half the time
        [
            str(env / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-compile",
            "-r",
            "requirements.txt",
        ],
        cwd=env,
        env={**os.environ, **PIP_ENV},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"the zip's requirements cannot be installed:\n{done.stderr[-3000:]}")
    (env / "ready").write_text("")
    return env / "bin" / "python"


def unpack(zip_path: Path, where: Path) -> Path:
    """/autograder as Gradescope lays it out: the zip in source/; submission/ and results/;
    beside it, the zip's run_otter.py pointed at this folder instead of /autograder."""
    autograder = where / "autograder"
    shutil.rmtree(autograder, ignore_errors=True)
    for part in ("source", "submission", "results"):
        (autograder / part).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(autograder / "source")
    script = (autograder / "source" / "run_otter.py").read_text()
    if f'"{GRADESCOPE_DIR}"' not in script:
        raise SystemExit("run_otter.py does not grade in /autograder: otter changed its layout")
    runner = where / "run_otter.py"
    runner.write_text(script.replace(f'"{GRADESCOPE_DIR}"', json.dumps(str(autograder))))
    return autograder


def scores(results: Path) -> dict[str, tuple[float, float]]:
    """{question: (score, max_score)} from otter's results.json, for the graded questions."""
    tests = json.loads(results.read_text())["tests"]
    return {t["name"]: (t["score"], t["max_score"]) for t in tests if t.get("max_score")}


# A grading takes about a minute. In case a reply between the kernel and its client is lost and
# both wait forever (seen with ipykernel 7, ipython/ipykernel#1554; requirements.txt keeps it below
# 7), a run past PATIENCE seconds is killed with every process it started (its kernel runs in a
# session of its own) and run once more.
PATIENCE = 300


def run_patiently(
    command: list[str], cwd: Path, env: dict, *, label: str, prepare=lambda: None
) -> tuple[int, str]:
    """Run a command, after prepare(); its exit status and output. One that runs past PATIENCE
    seconds is run once more, after prepare(); twice, and subprocess.TimeoutExpired is raised."""
    for attempt in range(2):
        prepare()
        with tempfile.TemporaryFile("w+") as output:
            run = psutil.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
            try:
                status = run.wait(PATIENCE)
            except psutil.TimeoutExpired:
                for process in [*run.children(recursive=True), run]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        process.kill()
                run.wait()
                again = "; running it again" if attempt == 0 else ""
                print(f"{label} ran past {PATIENCE} s (a lost kernel reply?){again}", flush=True)
                continue
            output.seek(0)
            return status, output.read()
    raise subprocess.TimeoutExpired(command, PATIENCE)


def activated(python: Path) -> dict:
    """The environment variables with python's environment first on PATH, as `mamba activate
    otter-env` leaves them, and no PYTHONPATH (which could put another vicourse first)."""
    env = {**os.environ, "PATH": str(python.parent) + os.pathsep + os.environ.get("PATH", "")}
    env.pop("PYTHONPATH", None)
    return env


def grade(python: Path, autograder: Path, notebook: Path) -> dict[str, tuple[float, float]]:
    """Run the zip's run_otter.py (as unpack() wrote it) on one submission; its scores."""
    here = autograder.parent / "run_otter.py"
    env = activated(python)

    def fresh_submission():
        for part in ("submission", "results"):
            shutil.rmtree(autograder / part)
            (autograder / part).mkdir()
        shutil.copy2(notebook, autograder / "submission" / notebook.name)

    try:
        _, output = run_patiently(
            [str(python), str(here)],
            autograder,
            env,
            label=f"grading {notebook.name}",
            prepare=fresh_submission,
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(
            f"grading {notebook.name} ran past {PATIENCE} s twice (a lost kernel reply?)"
        ) from None
    results = autograder / "results" / "results.json"
    if not results.is_file():
        raise SystemExit(f"no results.json for {notebook.name}:\n{output[-3000:]}")
    return scores(results)


def check_chapter(out: Path, chapter: str, work: Path) -> dict:
    """Grade a chapter's solution and student notebooks; full marks and zero, or SystemExit."""
    autograder = unpack(out / "autograder" / f"{chapter}.zip", work / chapter)
    python = build_environment(autograder / "source", autograder, work / "envs")
    row = {"chapter": chapter}
    for who, notebook in (
        ("solution", out / chapter / "autograder" / f"{chapter}.ipynb"),
        ("student", out / "student" / f"{chapter}.ipynb"),
    ):
        start = time.perf_counter()
        graded = grade(python, autograder, notebook)
        got, possible = sum(s for s, _ in graded.values()), sum(m for _, m in graded.values())
        expected = possible if who == "solution" else 0
        if not graded or got != expected:
            raise SystemExit(f"{chapter}: the {who} notebook scored {graded}, not {expected}")
        row[who] = f"{got:g}/{possible:g}"
        row[f"{who} s"] = round(time.perf_counter() - start, 1)
    return row


def grade_folder(zip_path: Path, folder: Path, work: Path) -> tuple[list[dict], Path]:
    """Grade every notebook in folder with the zip; write folder/scores.csv. Its rows, and the
    python of the environment that graded them."""
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no .ipynb in {folder}: pass the folder of submitted notebooks")
    autograder = unpack(zip_path, work / zip_path.stem)
    python = build_environment(autograder / "source", autograder, work / "envs")
    rows = []
    for notebook in notebooks:
        graded = grade(python, autograder, notebook)
        total = sum(s for s, _ in graded.values())
        rows.append({"notebook": notebook.name, **{q: s for q, (s, _) in graded.items()}})
        rows[-1]["total"] = total
        print(f"{notebook.name:<40} {total:g} / {sum(m for _, m in graded.values()):g}")
    with open(folder / "scores.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"scores: {folder / 'scores.csv'}")
    return rows, python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("dist/coursework"))
    parser.add_argument("--chapters", nargs="*", help="chapter numbers (default: every zip)")
    parser.add_argument("--work", type=Path, default=Path("dist/gradescope"))
    parser.add_argument("--zip", type=Path, help="an autograder zip, to grade --submissions")
    parser.add_argument("--submissions", type=Path, help="a folder of submitted notebooks")
    parser.add_argument("--scores", type=Path, help="a scores.csv of one notebook, for --full")
    parser.add_argument("--full", help="QUESTION=POINTS: exit 0 if it scored them, else 1")
    args = parser.parse_args(argv)
    if (args.scores is None) != (args.full is None):
        parser.error("--scores and --full go together")
    if args.scores is not None:
        question, _, points = args.full.partition("=")
        with open(args.scores) as f:
            (row,) = list(csv.DictReader(f))
        got = float(row.get(question) or 0)
        print(f"{question}: {got:g} of {float(points):g} points")
        return 0 if got >= float(points) else 1
    out, work = args.out.resolve(), args.work.resolve()
    if (args.zip is None) != (args.submissions is None):
        parser.error("--zip and --submissions go together")
    if args.zip is not None:
        grade_folder(args.zip.resolve(), args.submissions.resolve(), work)
        return 0
    chapters = sorted(
        p.stem
        for p in (out / "autograder").glob("*.zip")
        if not args.chapters or p.stem[:2] in args.chapters
    )
    if not chapters:
        raise SystemExit(f"no autograder in {out / 'autograder'}: run bash .ci/assign.sh first")
    rows = [check_chapter(out, chapter, work) for chapter in chapters]
    print(f"{'chapter':<32} {'solution':>9} {'s':>6} {'student':>8} {'s':>6}")
    for r in rows:
        print(
            f"{r['chapter']:<32} {r['solution']:>9} {r['solution s']:>6}"
            f" {r['student']:>8} {r['student s']:>6}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
