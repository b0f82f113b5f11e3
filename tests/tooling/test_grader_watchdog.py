"""The grader's watchdog (.ci/gradescope.py): in run_watched, a grading whose processes stop
working (no CPU, no disk) is a hang, killed with everything it started; a busy one runs to the
end, and so does one that mostly reads and writes; one past its time limit is killed even while
busy. run_patiently runs a hung one again, ATTEMPTS in all, and says what it printed last."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import load_tool

gradescope = load_tool("gradescope")

pytestmark = pytest.mark.skipif(
    gradescope.process_tree(os.getpid()) is None, reason="needs /proc (Linux)"
)

# a parent that starts a child in a session of its own (as nbclient starts its kernel), then
# both wait; or the parent waits while the child works, as while a kernel runs a long cell
IDLE = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                         start_new_session=True)
with open("pids", "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
time.sleep(300)
"""
CHILD_BUSY = """
import subprocess, sys
spin = "import time\\nend = time.monotonic() + 4\\nwhile time.monotonic() < end: pass"
subprocess.run([sys.executable, "-c", spin], start_new_session=True, check=True)
print("done", flush=True)
"""
# little CPU, much writing, as a process waiting on a slow disk
WRITING = """
import time
end = time.monotonic() + 3
with open("written", "wb") as f:
    while time.monotonic() < end:
        f.write(bytes(512 * 1024))
        f.flush()
        time.sleep(0.05)
print("done", flush=True)
"""
BUSY = """
import time
end = time.monotonic() + {seconds}
while time.monotonic() < end:
    pass
print("done", flush=True)
"""


@pytest.fixture
def short_window(monkeypatch):
    monkeypatch.setattr(gradescope, "IDLE_WINDOW", 1.0)


def run(code: str, tmp_path: Path, timeout: float):
    return gradescope.run_watched([sys.executable, "-c", code], tmp_path, dict(os.environ), timeout)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_an_idle_run_is_killed_with_its_children_within_the_window(short_window, tmp_path):
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run(IDLE, tmp_path, timeout=120)
    assert time.monotonic() - start < 10
    pids = [int(pid) for pid in (tmp_path / "pids").read_text().split()]
    gone = time.monotonic() + 5  # a killed process may take a moment to exit
    while any(alive(pid) for pid in pids) and time.monotonic() < gone:
        time.sleep(0.1)
    assert len(pids) == 2 and not any(alive(pid) for pid in pids), pids


def test_a_busy_run_goes_on_past_the_window_and_returns_its_output(short_window, tmp_path):
    status, output = run(BUSY.format(seconds=3), tmp_path, timeout=120)
    assert (status, output.strip()) == (0, "done")


def test_a_run_waiting_on_a_busy_child_in_its_own_session_goes_on(short_window, tmp_path):
    status, output = run(CHILD_BUSY, tmp_path, timeout=120)
    assert (status, output.strip()) == (0, "done")


def test_a_run_that_mostly_writes_goes_on(short_window, tmp_path):
    status, output = run(WRITING, tmp_path, timeout=120)
    assert (status, output.strip()) == (0, "done")


def test_a_busy_run_past_its_time_limit_is_killed(short_window, tmp_path):
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run(BUSY.format(seconds=60), tmp_path, timeout=2)
    assert time.monotonic() - start < 10


def test_a_process_s_cpu_time_grows_while_it_works():
    first = gradescope.process_tree(os.getpid())
    start = time.process_time()
    while time.process_time() - start < 0.3:  # 0.3 s of CPU, however long a busy machine takes
        pass
    second = gradescope.process_tree(os.getpid())
    assert second[os.getpid()] - first[os.getpid()] > 0.2


# idle the first time (it leaves a mark), done the second
HANGS_ONCE = """
import pathlib, time
mark = pathlib.Path("tried")
if not mark.exists():
    mark.write_text("")
    print("waiting in cell 7", flush=True)
    time.sleep(300)
print("done", flush=True)
"""


def test_a_run_that_hangs_is_prepared_and_run_again(short_window, tmp_path, capsys):
    prepared = []
    status, output = gradescope.run_patiently(
        [sys.executable, "-c", HANGS_ONCE],
        tmp_path,
        dict(os.environ),
        label="the run",
        prepare=lambda: prepared.append(1),
    )
    assert (status, output.strip(), len(prepared)) == (0, "done", 2)
    printed = capsys.readouterr().out
    assert "the run hung (a lost kernel reply); running it again" in printed
    assert "its last output: waiting in cell 7" in printed


def test_a_run_that_hangs_every_time_raises_after_the_last_attempt(
    short_window, tmp_path, monkeypatch
):
    monkeypatch.setattr(gradescope, "ATTEMPTS", 2)
    prepared = []
    with pytest.raises(subprocess.TimeoutExpired):
        gradescope.run_patiently(
            [sys.executable, "-c", "import time; time.sleep(300)"],
            tmp_path,
            dict(os.environ),
            label="the run",
            prepare=lambda: prepared.append(1),
        )
    assert len(prepared) == 2
