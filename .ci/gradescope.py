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
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

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


# A chapter grades in under a minute. Rarely, a reply between the kernel and nbclient is lost and
# both wait forever (seen in CI, in the widget cells of chapters 3, 7 and 8, more often when two
# gradings share the CPU): the grading is then idle. Where /proc exists (Linux: Gradescope,
# GitHub's runners, CI), a grading whose processes (itself and all it started, the kernel too)
# show no sign of work for IDLE_WINDOW seconds is that hang: looked at every POLL seconds, none
# used IDLE_SHARE of a core, none was waiting on the disk (state D) and together they read or
# wrote under IO_BYTES. Anywhere, one still running after PATIENCE seconds is a hang. Either way
# it is killed and run again, twice at most.
PATIENCE, ATTEMPTS = 300, 3
IDLE_WINDOW, IDLE_SHARE, IO_BYTES = 20, 0.05, 256 * 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100  # /proc's time unit


def _stat(pid_dir: Path) -> list[str] | None:
    try:  # fields after the name: state, ppid, …, utime (11), stime (12)
        return pid_dir.joinpath("stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # the process ended meanwhile


def process_tree(root: int) -> dict[int, float] | None:
    """{pid: CPU seconds used so far} for a process and all its live descendants, from /proc
    (a kernel runs in a session of its own, so its process group is not enough); None where
    there is no /proc."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").is_file():
        return None
    parent, used = {}, {}
    for pid_dir in proc.glob("[0-9]*"):
        fields = _stat(pid_dir)
        if fields is not None:
            pid = int(pid_dir.name)
            parent[pid] = int(fields[1])
            used[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    tree, grown = {root}, True
    while grown:
        found = {pid for pid, ppid in parent.items() if ppid in tree} - tree
        tree |= found
        grown = bool(found)
    return {pid: used[pid] for pid in tree if pid in used}


def disk_work(pids) -> tuple[int, bool]:
    """(bytes read and written so far, all of pids together; whether any waits on the disk)."""
    moved, waiting = 0, False
    for pid in pids:
        fields = _stat(Path(f"/proc/{pid}"))
        waiting |= fields is not None and fields[0] == "D"
        with contextlib.suppress(OSError, ValueError):
            counts = dict(
                line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines()
            )
            moved += int(counts.get("rchar", 0)) + int(counts.get("wchar", 0))
    return moved, waiting


def kill_tree(root: int) -> None:
    """Kill a process, its process group and every descendant (the kernel among them)."""
    for pid in process_tree(root) or {}:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(root, signal.SIGKILL)


def run_watched(command: list[str], cwd: Path, env: dict, timeout: float) -> tuple[int, str]:
    """Run a command; its exit status and output. When it has run `timeout` seconds, or it and
    what it started have shown no work for IDLE_WINDOW seconds (process_tree, disk_work), kill
    them all (kill_tree: the kernel too, which would keep its ports), then raise
    subprocess.TimeoutExpired, whose .output is the end of what the command printed."""
    poll = IDLE_WINDOW / 10
    with (
        tempfile.TemporaryFile("w+") as output,
        subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        ) as done,
    ):
        deadline = time.monotonic() + timeout
        before = process_tree(done.pid)
        moved_before, last_work = disk_work(before or {})[0], time.monotonic()
        while True:
            try:
                done.wait(timeout=max(0.0, min(poll, deadline - time.monotonic())))
                break
            except subprocess.TimeoutExpired as hung:
                now = process_tree(done.pid)
                if before is None or now is None:
                    last_work = time.monotonic()  # no /proc: only the time limit applies
                else:
                    cpu = sum(t - before.get(pid, 0.0) for pid, t in now.items())
                    moved, waiting = disk_work(now)
                    if cpu >= IDLE_SHARE * poll or waiting or moved - moved_before >= IO_BYTES:
                        last_work = time.monotonic()
                    before, moved_before = now, moved
                if time.monotonic() - last_work >= IDLE_WINDOW or time.monotonic() >= deadline:
                    kill_tree(done.pid)
                    done.wait()
                    output.seek(0)
                    hung.output = output.read()[-2000:]
                    raise
        output.seek(0)
        return done.returncode, output.read()


def run_patiently(
    command: list[str], cwd: Path, env: dict, *, label: str, prepare=lambda: None
) -> tuple[int, str]:
    """run_watched, up to ATTEMPTS times: a run that hangs is run again, after prepare() (which
    also runs before the first); its exit status and output, or subprocess.TimeoutExpired when
    every attempt hung. `label` names the run in the message that says it is run again."""
    for _ in range(ATTEMPTS - 1):
        prepare()
        try:
            return run_watched(command, cwd, env, timeout=PATIENCE)
        except subprocess.TimeoutExpired as hung:
            last = (hung.output or "").strip().splitlines()[-3:]
            print(f"{label} hung (a lost kernel reply); running it again", flush=True)
            print("".join(f"  its last output: {line}\n" for line in last), end="", flush=True)
    prepare()
    return run_watched(command, cwd, env, timeout=PATIENCE)


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
            f"grading {notebook.name} hung {ATTEMPTS} times (idle for {IDLE_WINDOW} s,"
            f" or still running after {PATIENCE} s)"
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
