"""The grader's timeout (.ci/gradescope.py, run_patiently): a run that ends gives its status and
output; one past PATIENCE seconds is killed with every process it started, the kernel-like child
in a session of its own too, and run once more; twice, and it raises."""

import os
import subprocess
import sys
import time

import psutil
import pytest
from conftest import load_tool

gradescope = load_tool("gradescope")

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
