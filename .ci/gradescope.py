"""Grade notebooks with an autograder zip the way Gradescope does, without Docker.

    python .ci/gradescope.py [--out dist/coursework] [--chapters 03 07]
    python .ci/gradescope.py --zip ZIP --submissions FOLDER [--result result.json]

The zip is unpacked as Gradescope lays out /autograder (source/, submission/, results/) and its
run_otter.py grades each submission in a fresh virtual environment built from the zip's own
environment.yml alone, so a zip that forgets a requirement fails here as it would there. The
first form grades every chapter `.ci/assign.py` made (under --out): the solution must score full
marks and the untouched student notebook zero (.ci/release.sh). The second grades a class into
FOLDER/scores.csv, a row per notebook; with --result, FOLDER holds one student's notebook, whose
points go to that file in Classroom 50's result.json format and, on GitHub Actions, to the job
summary (the GitHub template's grading: .ci/coursework/).
"""

import argparse
import contextlib
import csv
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import psutil
import yaml

GRADESCOPE_DIR = "/autograder"
# An index the machine cannot reach (PyTorch's CPU index behind a firewall) is then skipped at
# once, as pip skips any index that fails, instead of being retried for every package.
PIP_ENV = {"PIP_RETRIES": "0", "PIP_DEFAULT_TIMEOUT": "20", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
# A grading takes a minute or two (chapter 8's at half a CPU, Gradescope's default, 395 s). Now
# and then a client missed the wake-up for a kernel's reply that had arrived (jupyter/nbclient#312,
# zeromq/pyzmq#1558) and, with no per-cell timeout (otter sets none), waited forever. So a run
# past PATIENCE seconds is killed with every process it started (its kernel runs in a session of
# its own) and run once more: twice, with the environment's build, within Classroom 50's 15 min.
PATIENCE = 420


def environment(source: Path, autograder: Path, envs: Path) -> Path:
    """The python of a fresh virtual environment with what the unpacked zip's environment.yml
    asks for: its pip lines, /autograder/ pointing at `autograder`, and its conda packages but
    python and pip, from PyPI under the same names. One per environment.yml and wheel."""
    deps = yaml.safe_load((source / "environment.yml").read_text())["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    (python,) = [d.split("=", 1)[1] for d in conda if d.startswith("python=")]
    if f"{sys.version_info.major}.{sys.version_info.minor}" != python:
        raise SystemExit(f"the zip asks for Python {python}; run this with Python {python}")
    pip = [line for d in deps if isinstance(d, dict) for line in d.get("pip", [])]
    lines = [d for d in conda if d.split("=")[0] not in ("python", "pip")]
    lines += [line.replace(f"{GRADESCOPE_DIR}/", f"{autograder}/") for line in pip]
    digest = hashlib.sha256((source / "environment.yml").read_bytes())
    for path in sorted((source / "files").rglob("*")):
        digest.update(path.read_bytes() if path.is_file() else path.name.encode())
    env = envs / digest.hexdigest()[:12]
    if not (env / "ready").is_file():
        shutil.rmtree(env, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(env)], check=True)
        (env / "requirements.txt").write_text("\n".join(lines) + "\n")
        # --no-compile: each module is compiled when first imported, which grades the same
        install = [env / "bin" / "python", "-m", "pip", "install", "-q", "--no-compile", "-r"]
        done = subprocess.run(
            [*install, "requirements.txt"],
            cwd=env,
            env=os.environ | PIP_ENV,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"the zip's requirements cannot be installed:\n{done.stderr[-3000:]}")
        (env / "ready").write_text("")
    return env / "bin" / "python"


def unpack(zip_path: Path, where: Path) -> Path:
    """/autograder as Gradescope lays it out, in where/autograder; beside it, the zip's
    run_otter.py pointed at that folder."""
    autograder = where / "autograder"
    shutil.rmtree(autograder, ignore_errors=True)
    for part in ("source", "submission", "results"):
        (autograder / part).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(autograder / "source")
    script = (autograder / "source" / "run_otter.py").read_text()
    if f'"{GRADESCOPE_DIR}"' not in script:
        raise SystemExit("run_otter.py does not grade in /autograder: otter changed its layout")
    runner = script.replace(f'"{GRADESCOPE_DIR}"', json.dumps(str(autograder)))
    (where / "run_otter.py").write_text(runner)
    return autograder


def scores(results: Path) -> dict[str, tuple[float, float]]:
    """{question: (score, max_score)} from otter's results.json, for the graded questions."""
    tests = json.loads(results.read_text())["tests"]
    return {t["name"]: (t["score"], t["max_score"]) for t in tests if t.get("max_score")}


def run_patiently(
    command: list[str], cwd: Path, env: dict, *, label: str, prepare=lambda: None, patience=None
) -> tuple[int, str]:
    """Run a command, after prepare(); its exit status and output. One that runs past patience
    seconds (PATIENCE unless given) is killed with every process it started and run once more,
    after prepare(); twice, and subprocess.TimeoutExpired is raised, with the last run's output."""
    patience = PATIENCE if patience is None else patience
    for attempt in range(2):
        prepare()
        with tempfile.TemporaryFile("w+") as output:
            run = psutil.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
            try:
                status = run.wait(patience)
            except psutil.TimeoutExpired:
                for process in [*run.children(recursive=True), run]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        process.kill()
                run.wait()
                status, again = None, "; running it again" if attempt == 0 else ""
                print(f"{label} ran past {patience} s (a lost kernel reply?){again}", flush=True)
            output.seek(0)
            text = output.read()
        if status is not None:
            return status, text
    raise subprocess.TimeoutExpired(command, patience, output=text)


def activated(python: Path) -> dict:
    """The environment variables with python's environment first on PATH, as `mamba activate
    otter-env` leaves them, and no PYTHONPATH (which could put another vicourse first)."""
    env = os.environ | {"PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    return env


def grader(zip_path: Path, work: Path):
    """A function that grades one notebook with the zip as Gradescope would: its scores."""
    if not zipfile.is_zipfile(zip_path):
        raise SystemExit(f"--zip must be an autograder zip, got {zip_path}: not a zip file there")
    autograder = unpack(zip_path, work / zip_path.stem)
    python = environment(autograder / "source", autograder, work / "envs")

    def grade(notebook: Path) -> dict[str, tuple[float, float]]:
        def fresh_submission():
            for part in ("submission", "results"):
                shutil.rmtree(autograder / part)
                (autograder / part).mkdir()
            shutil.copy2(notebook, autograder / "submission" / notebook.name)

        command = [str(python), str(autograder.parent / "run_otter.py")]
        label = f"grading {notebook.name}"
        try:
            _, output = run_patiently(
                command, autograder, activated(python), label=label, prepare=fresh_submission
            )
        except subprocess.TimeoutExpired:
            raise SystemExit(f"{label} ran past {PATIENCE} s twice") from None
        if not (autograder / "results" / "results.json").is_file():
            raise SystemExit(f"no results.json for {notebook.name}:\n{output[-3000:]}")
        return scores(autograder / "results" / "results.json")

    grade.python = python
    return grade


def grade_folder(zip_path: Path, folder: Path, work: Path) -> tuple[list[dict], Path]:
    """Grade every notebook in folder with the zip; write folder/scores.csv. Its rows, and the
    python of the environment that graded them."""
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no .ipynb in {folder}: pass the folder of submitted notebooks")
    grade, rows, failed = grader(zip_path, work), [], []
    for notebook in notebooks:
        try:
            graded = grade(notebook)
        except SystemExit as failure:  # one notebook's: the class is graded all the same
            failed.append(f"{notebook.name}: {failure}")
            rows.append({"notebook": notebook.name, "total": "not graded"})
            print(f"{notebook.name:<40} not graded (see the end)")
            continue
        total = sum(s for s, _ in graded.values())
        rows.append({"notebook": notebook.name} | {q: s for q, (s, _) in graded.items()})
        rows[-1]["total"] = total
        print(f"{notebook.name:<40} {total:g} / {sum(m for _, m in graded.values()):g}")
    columns = [*dict.fromkeys(k for row in rows for k in row if k != "total"), "total"]
    with open(folder / "scores.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print(f"scores: {folder / 'scores.csv'}")
    if failed:
        raise SystemExit("not graded, marked so in scores.csv:\n" + "\n".join(failed))
    return rows, grade.python


def report(graded: dict[str, tuple[float, float]], result: Path) -> dict:
    """One notebook's points, written to result in Classroom 50's result.json format (its
    identity from the variables Classroom 50's runner sets, else from GitHub Actions' own) and,
    where GITHUB_STEP_SUMMARY names a file, to the job's summary as a table. The result."""
    env = os.environ.get
    repository = f"{env('GITHUB_SERVER_URL', 'https://github.com')}/{env('GITHUB_REPOSITORY', '')}"
    commit = env("COMMIT_URL") or f"{repository}/commit/{env('GITHUB_SHA', '')}"

    def whole(points):  # Classroom 50 takes integers; otter gives floats
        if not float(points).is_integer():
            raise SystemExit(f"{points} points: Classroom 50 takes whole points only")
        return int(points)

    tests = [
        {"test-name": q, "passed": s >= m, "score": whole(s), "max-score": whole(m)}
        for q, (s, m) in graded.items()
    ]
    data = {
        "schema": "classroom50/result/v1",
        "classroom": env("CLASSROOM", env("GITHUB_REPOSITORY_OWNER", "")),
        "assignment": env("ASSIGNMENT", env("GITHUB_REPOSITORY", "").partition("/")[2]),
        "submission": env("SUBMISSION_TAG", env("GITHUB_SHA", "")),
        "commit": commit,
        "release": env("RELEASE_URL", f"{repository}/actions/runs/{env('GITHUB_RUN_ID', '')}"),
        "review": env("REVIEW_URL") or commit,
        "datetime": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "score": whole(sum(s for s, _ in graded.values())),
        "max-score": whole(sum(m for _, m in graded.values())),
        "tests": tests,
    }
    result.write_text(json.dumps(data, indent=2) + "\n")
    if env("GITHUB_STEP_SUMMARY") and not env("CLASSROOM50_BUNDLE_DIR"):  # (its runner's own)
        rows = [(t["test-name"], t["score"], t["max-score"]) for t in tests]
        rows.append(("**total**", data["score"], data["max-score"]))
        with open(env("GITHUB_STEP_SUMMARY"), "a") as f:
            f.write("### Autograded points\n\n| question | points | of |\n|---|---|---|\n")
            f.writelines(f"| {q} | {s} | {m} |\n" for q, s, m in rows)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("dist/coursework"))
    parser.add_argument("--chapters", nargs="*", help="chapter numbers (default: every zip)")
    parser.add_argument("--work", type=Path, default=Path("dist/gradescope"))
    parser.add_argument("--zip", type=Path, help="an autograder zip, to grade --submissions")
    parser.add_argument("--submissions", type=Path, help="a folder of submitted notebooks")
    parser.add_argument("--result", type=Path, help="FILE: one notebook's result.json")
    args = parser.parse_args(argv)
    if (args.zip is None) != (args.submissions is None):
        parser.error("--zip and --submissions go together")
    if args.result is not None and args.zip is None:
        parser.error("--result grades one notebook: give --zip ZIP --submissions FOLDER too")
    out, work = args.out.resolve(), args.work.resolve()
    if args.result is not None:
        notebooks = list(args.submissions.resolve().glob("*.ipynb"))
        if len(notebooks) != 1:
            raise SystemExit(
                f"--result grades one notebook, not the {len(notebooks)} in "
                f"{args.submissions}: leave the chapter's notebook alone there"
            )
        report(grader(args.zip.resolve(), work)(notebooks[0]), args.result)
        return 0
    if args.zip is not None:
        grade_folder(args.zip.resolve(), args.submissions.resolve(), work)
        return 0
    zips = sorted((out / "autograder").glob("*.zip"))
    zips = [z for z in zips if not args.chapters or z.stem[:2] in args.chapters]
    if not zips:
        raise SystemExit(f"no autograder in {out / 'autograder'}: run bash .ci/assign.sh first")
    for zip_path in zips:  # the solution full, the untouched student notebook zero
        grade, chapter = grader(zip_path, work), zip_path.stem
        solution = grade(out / chapter / "autograder" / f"{chapter}.ipynb")
        student = grade(out / "student" / f"{chapter}.ipynb")
        full = sum(m for _, m in solution.values())
        for who, graded, expected in [("solution", solution, full), ("student", student, 0)]:
            got = sum(s for s, _ in graded.values())
            if not graded or got != expected:
                raise SystemExit(f"{chapter}: the {who} notebook scored {graded}, not {expected}")
        print(f"{chapter:<32} solution {full:g}/{full:g}, student 0/{full:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
