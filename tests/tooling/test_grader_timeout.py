"""The grader's timeout (.ci/gradescope.py, run_patiently): a run that ends gives its status and
output; one past PATIENCE seconds is killed with every process it started, the kernel-like child
in a session of its own too, and run once more; twice, and it raises. .ci/assign.py runs each
chapter's `otter assign` so: a chapter that hangs twice, or fails, is named at the end with the
end of its output, the others are made, and it exits 1. And gradescope.report, the points of
one notebook for GitHub (result.json in Classroom 50's form, and the job's summary)."""

import os
import subprocess
import sys
import time

import psutil
import pytest
from conftest import load_tool

gradescope = load_tool("gradescope")
assign = load_tool("assign")

# a parent that starts a child in a session of its own (as nbclient starts its kernel), writes
# both pids, then both wait
HANGS = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                         start_new_session=True)
with open("pids", "a") as f:
    f.write(f"{os.getpid()} {child.pid}\\n")
print("started", flush=True)
time.sleep(300)
"""


def test_a_run_that_ends_gives_its_status_and_output(tmp_path):
    code = "import sys; print('graded'); sys.exit(3)"
    status, output = gradescope.run_patiently(
        [sys.executable, "-c", code], tmp_path, dict(os.environ), label="x"
    )
    assert (status, output) == (3, "graded\n")


def test_a_run_that_hangs_once_gives_the_second_runs_status_and_output(tmp_path):
    # hangs while the marker is missing, which the first run leaves for the second
    code = (
        "import pathlib, sys, time\n"
        "marker = pathlib.Path('ran')\n"
        "if not marker.exists():\n"
        "    marker.touch(); time.sleep(300)\n"
        "print('graded'); sys.exit(0)"
    )
    status, output = gradescope.run_patiently(
        [sys.executable, "-c", code], tmp_path, dict(os.environ), label="x", patience=3
    )
    assert (status, output) == (0, "graded\n")


def test_a_grade_reported_for_github_is_whole_points_in_classroom_50s_form(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.delenv("CLASSROOM50_BUNDLE_DIR", raising=False)
    data = gradescope.report({"ex7_2": (2.0, 2.0), "ex7_3": (0.0, 3.0)}, tmp_path / "r.json")
    assert (data["score"], data["max-score"]) == (2, 5)
    assert [(t["test-name"], t["passed"], t["score"]) for t in data["tests"]] == [
        ("ex7_2", True, 2),
        ("ex7_3", False, 0),
    ]
    assert "| ex7_3 | 0 | 3 |" in summary.read_text()
    with pytest.raises(SystemExit, match=r"1\.5 points: Classroom 50 takes whole points only"):
        gradescope.report({"ex7_2": (1.5, 2.0)}, tmp_path / "r.json")


def test_a_run_past_its_time_is_killed_with_its_kernel_and_run_once_more(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(gradescope, "PATIENCE", 2)
    prepared = []
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        gradescope.run_patiently(
            [sys.executable, "-c", HANGS],
            tmp_path,
            dict(os.environ),
            label="grading ch07.ipynb",
            prepare=lambda: prepared.append(1),
        )
    assert prepared == [1, 1] and time.monotonic() - start < 20
    pids = [int(pid) for pid in (tmp_path / "pids").read_text().split()]
    assert len(pids) == 4
    time.sleep(0.5)
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    out = capsys.readouterr().out
    assert "grading ch07.ipynb ran past 2 s (a lost kernel reply?); running it again\n" in out
    assert out.count("ran past") == 2


# `python -m otter assign MASTER TARGET …` as a chapter's master makes it run: chapter 03 hangs,
# with a kernel-like child, writing both pids; chapter 07 fails; any other makes what otter makes
FAKE_OTTER = """
import os, pathlib, shutil, subprocess, sys, time
master, target = map(pathlib.Path, sys.argv[1:3])
if master.stem.startswith("03"):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                             start_new_session=True)
    with open(master.parent / "pids", "a") as f:
        f.write(f"{os.getpid()} {child.pid}\\n")
    time.sleep(300)
if master.stem.startswith("07"):
    sys.exit("ex7_2: the solution fails its test")
for part in "student", "autograder":
    (target / part).mkdir(parents=True)
shutil.copy2(master, target / "student")
(target / "autograder" / f"{master.stem}-autograder_2026.zip").write_bytes(b"a zip")
"""


def test_assign_names_a_chapter_that_hangs_twice_or_fails_and_makes_the_others(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(assign, "PATIENCE", 2)
    monkeypatch.setattr(assign, "OTTER", ["-c", FAKE_OTTER])
    wheel = tmp_path / "vicourse-1.0-py3-none-any.whl"
    wheel.write_bytes(b"a wheel")
    monkeypatch.setattr(assign, "build_wheel", lambda out: wheel)
    out = tmp_path / "coursework"
    start = time.monotonic()
    assert assign.main(["--out", str(out), "--chapters", "03", "07", "09"]) == 1
    assert time.monotonic() - start < 30
    printed = capsys.readouterr().out
    hung, failed, made = "03_variational_approximation", "07_reparameterization", "09_gaps"
    pids = [int(p) for p in (out / "masters" / hung / "pids").read_text().split()]
    assert len(pids) == 4  # run twice, and each time killed with its kernel
    time.sleep(0.5)
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert (
        f"otter assign on {hung}.ipynb ran past 2 s (a lost kernel reply?); running it" in printed
    )
    assert f"{hung} FAILED: otter assign on {hung}.ipynb ran past 2 s twice" in printed
    assert f"{failed} FAILED: otter assign failed on {failed}.ipynb" in printed
    assert "ex7_2: the solution fails its test" in printed  # the end of its output
    assert printed.endswith(f"made: {made}\nfailed: {hung}, {failed}\n")
    assert sorted(p.name for p in (out / "student").iterdir()) == [f"{made}.ipynb"]
    assert sorted(p.name for p in (out / "autograder").iterdir()) == [f"{made}.zip"]
    workflow = (out / "github" / made / ".github" / "workflows" / "grade.yml").read_text()
    assert f'CHAPTER: "{made}"' in workflow
    assert not (out / "github" / hung).exists() and not (out / "classroom50" / failed).exists()
