"""The spread tool (benchmarks/spread.py): a chapter's asserts record their operands across seeds
and float paths instead of raising, and the table says which failed where."""

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import load_tool

spread = load_tool("spread", "benchmarks")

CHAPTER = """\
import vicourse, torch
g = vicourse.make_generator(0)
x = torch.rand(3, generator=g)
calls = []
def once(v):
    calls.append(v)
    return v
assert 0 <= once(x.mean()) < 1 and x.max() < 2
assert (x > 0).all()
assert all(v < 0 for v in x.tolist()), "a test that is not a comparison can fail too"
for k in range(2):
    assert k < 1, "fails on the second pass"
"""


@pytest.fixture
def chapter(tmp_path):
    path = tmp_path / "01_tiny.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CHAPTER)])
    nb.cells.append(nbformat.v4.new_code_cell("assert len(calls) == 1  # evaluated once"))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_every_assert_is_recorded_across_seeds_and_failures_are_named(chapter, capsys):
    status = spread.main([str(chapter), "--seeds", "0", "1", "--paths", "default", "--jobs", "2"])
    out = capsys.readouterr().out
    assert status == 1  # two asserts fail
    rows = {
        m[0]: m[1] for m in re.findall(r"(cell \d line \d+(?: \(#2\))?): .*\[(\d/\d) pass", out)
    }
    assert rows == {
        "cell 0 line 8": "2/2",  # both operands of `and`, each a row of its own
        "cell 0 line 9": "2/2",
        "cell 0 line 10": "0/2",  # a test that is not a comparison, by its truth
        "cell 0 line 12": "2/2",
        "cell 0 line 12 (#2)": "0/2",  # an assert in a loop: a row per pass
        "cell 1 line 1": "2/2",  # a chained comparison evaluates each operand once
    }
    assert out.count("<-- FAILS") == 2
    # the seeds gave other draws: x.mean() is a range, the bounds are single numbers
    (mean_row,) = re.findall(r"0 <= once\(x.mean\(\)\) < 1 .*\n\s+operands.*: (.*)", out)
    low, high = re.match(r"0  \|  (\S+) \.\. (\S+)  \|  1", mean_row).groups()
    assert float(low) < float(high)


def test_the_chapter_itself_is_not_changed(chapter):
    before = chapter.read_bytes()
    copy = spread.instrument(nbformat.read(chapter, as_version=4), chapter.with_suffix(".jsonl"))
    assert chapter.read_bytes() == before
    assert "__spread_record" in copy.cells[1].source and "assert" not in copy.cells[1].source


@pytest.mark.skipif(
    "avx2" not in Path("/proc/cpuinfo").read_text(errors="ignore")
    if Path("/proc/cpuinfo").exists()
    else True,
    reason="a processor without AVX2",
)
def test_the_avx2_path_runs_other_kernels():
    env = {**os.environ, **spread.PATHS["avx2"]}
    code = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    got = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert got.stdout.strip() == "AVX2", got.stderr
