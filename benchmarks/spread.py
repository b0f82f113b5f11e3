"""Measure how far a chapter's asserted quantities move across seeds and float paths.

    python benchmarks/spread.py book/08_vae.ipynb [more chapters] [--seeds 0 1 2]
        [--paths default avx2] [--jobs N] [--json FILE]

Executes each chapter once per (seed, float path) and prints, for every assert of every code
cell, each compared quantity's min and max across the runs beside the assert's other operands
(its bounds) and how many runs passed it. The chapter itself is not changed: a copy is executed
whose asserts record their operands instead of raising (a chained comparison evaluates each
operand once, left to right, and stops where Python would), so one run reports every assert.

A seed is `VICOURSE_SEED` (vicourse.runtime: every seed a chapter passes to
vicourse.seed_everything or vicourse.make_generator is shifted by it; 0, the page's, leaves them
as written). A float path is a set of environment variables that changes which kernels torch runs
and in what order they add (PATHS below); "cuda" runs on the GPU where there is one.

Exits 1 if any assert failed in any run, or a run stopped on an error.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

# The float paths: environment variables, each set on top of the caller's.
PATHS = {
    # torch's own choice of kernels for this processor, one thread
    "default": {"OMP_NUM_THREADS": "1"},
    # the same kernels on two threads (reductions split differently); a waiting thread sleeps
    # instead of spinning, which made small steps fifty times slower on a busy machine
    "threads2": {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"},
    # ATen's AVX2 kernels, MKL's and oneDNN's processor-independent paths, two threads
    "avx2": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_CBWR": "COMPATIBLE",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "OMP_NUM_THREADS": "2",
        "OMP_WAIT_POLICY": "PASSIVE",
    },
    # ATen's scalar kernels: no vector instructions at all
    "scalar": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "OMP_NUM_THREADS": "1"},
    "cuda": {"VICOURSE_DEVICE": "cuda"},
}

# Defined in the copy's first cell: the record every rewritten assert calls.
RECORDER = r"""
def __spread_record(cell, line, text, thunks, ops):
    import json, operator
    compare = {"Lt": operator.lt, "LtE": operator.le, "Gt": operator.gt, "GtE": operator.ge,
               "Eq": operator.eq, "NotEq": operator.ne, "In": lambda a, b: a in b,
               "NotIn": lambda a, b: a not in b, "Is": operator.is_, "IsNot": operator.is_not}

    def summary(value):
        try:
            import torch
            if isinstance(value, torch.Tensor):
                value = value.detach().double().cpu()
                if value.numel() == 0:
                    return None
                return [value.min().item(), value.max().item()]
        except ImportError:
            pass
        if isinstance(value, bool):
            return [float(value), float(value)]
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
        return [number, number]

    values, ok = [], True
    try:
        left = thunks[0]()
        values.append(summary(left))
        if not ops:  # a test that is not a comparison: its truth
            ok = bool(left.all() if hasattr(left, "all") else left)
        for op, thunk in zip(ops, thunks[1:]):
            right = thunk()
            values.append(summary(right))
            result = compare[op](left, right)
            if hasattr(result, "all"):
                result = result.all()
            if not bool(result):
                ok = False
                break
            left = right
    except Exception as error:  # an operand that fails to evaluate fails the assert
        ok, values = False, values + [repr(error)[:200]]
    with open(__SPREAD_OUT, "a") as out:
        out.write(json.dumps({"cell": cell, "line": line, "text": text, "ok": ok,
                              "values": values}) + "\n")
"""


class _Asserts(ast.NodeTransformer):
    """Every `assert test` becomes __spread_record(...): each `and` operand an assert of its
    own, each comparison's operands as thunks (evaluated once, in order, by the record)."""

    def __init__(self, cell: int, source: str):
        self.cell, self.source = cell, source

    def visit_Assert(self, node: ast.Assert):
        tests = (
            node.test.values
            if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.And)
            else [node.test]
        )
        calls = []
        for test in tests:
            if isinstance(test, ast.Compare):
                operands = [test.left, *test.comparators]
                ops = [type(op).__name__ for op in test.ops]
            else:
                operands, ops = [test], []
            thunks = [
                ast.Lambda(args=ast.arguments([], [], None, [], [], None, []), body=o)
                for o in operands
            ]
            call = ast.Call(
                func=ast.Name("__spread_record", ast.Load()),
                args=[
                    ast.Constant(self.cell),
                    ast.Constant(node.lineno),
                    ast.Constant(ast.get_source_segment(self.source, test) or ast.unparse(test)),
                    ast.List(thunks, ast.Load()),
                    ast.List([ast.Constant(o) for o in ops], ast.Load()),
                ],
                keywords=[],
            )
            calls.append(ast.Expr(call))
        return calls


def instrument(nb: nbformat.NotebookNode, out: Path) -> nbformat.NotebookNode:
    """A copy of nb whose asserts record (into the JSON-lines file `out`) instead of raising."""
    from IPython.core.inputtransformer2 import TransformerManager

    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    python = TransformerManager()
    for index, cell in enumerate(copy.cells):
        if cell.cell_type != "code" or "assert" not in cell.source:
            continue
        source = python.transform_cell(cell.source)  # %pip and friends as plain Python
        tree = ast.fix_missing_locations(_Asserts(index, source).visit(ast.parse(source)))
        cell.source = ast.unparse(tree)
    first = nbformat.v4.new_code_cell(f"__SPREAD_OUT = {str(out)!r}\n{RECORDER}")
    copy.cells.insert(0, first)
    return copy


# One run, in a process of its own (so that the kernel inherits the run's environment).
RUN_ONE = r"""
import sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
nb = nbformat.read(sys.argv[1], as_version=4)
try:
    resources = {"metadata": {"path": sys.argv[2]}}
    NotebookClient(nb, timeout=int(sys.argv[3]), resources=resources).execute()
except CellExecutionError as error:
    print(str(error)[-3000:], file=sys.stderr)
    sys.exit(1)
"""


def run(chapter: Path, seed: int, path: str, folder: Path, timeout: int) -> dict:
    """Execute chapter's instrumented copy with this seed and float path: its records."""
    records = folder / f"{chapter.stem}-{seed}-{path}.jsonl"
    copy = folder / f"{chapter.stem}-{seed}-{path}.ipynb"
    nbformat.write(instrument(nbformat.read(chapter, as_version=4), records), copy)
    env = {**os.environ, **PATHS[path], "VICOURSE_SEED": str(seed)}
    done = subprocess.run(
        [sys.executable, "-c", RUN_ONE, str(copy), str(chapter.parent), str(timeout)],
        env=env,
        capture_output=True,
        text=True,
    )
    lines = records.read_text().splitlines() if records.exists() else []
    error = re.sub(r"\x1b\[[0-9;]*m", "", done.stderr).strip()[-1500:] if done.returncode else ""
    print(f"  {chapter.name} seed {seed} {path}: {'error' if error else 'ran'}", flush=True)
    return {"seed": seed, "path": path, "records": [json.loads(x) for x in lines], "error": error}


def _number(x: float) -> str:
    return f"{x:.4g}" if abs(x) < 1e5 else f"{x:.3e}"


def table(chapter: Path, runs: list[dict]) -> tuple[list[str], bool]:
    """The printed lines for one chapter and whether every assert passed in every run."""
    keyed: dict[tuple, list[dict]] = {}
    for r in runs:
        seen: dict[tuple, int] = {}
        for rec in r["records"]:
            key = (rec["cell"], rec["line"], rec["text"])
            seen[key] = seen.get(key, 0) + 1  # an assert in a loop: one row per iteration
            keyed.setdefault((*key, seen[key]), []).append(rec)
    lines, clean = [f"{chapter.name}: {len(runs)} runs"], True
    for r in runs:
        if r["error"]:
            clean = False
            lines.append(
                f"  ERROR seed {r['seed']} {r['path']}:\n    " + r["error"].replace("\n", "\n    ")
            )
    for (cell, line, text, nth), recs in sorted(keyed.items(), key=lambda kv: kv[0][:2]):
        passed = sum(rec["ok"] for rec in recs)
        clean &= passed == len(runs)
        mark = "" if passed == len(recs) else "  <-- FAILS"
        # a run that stopped on an error before this assert did not reach it
        unreached = f", {len(runs) - len(recs)} did not reach it" if len(recs) < len(runs) else ""
        where = f"cell {cell} line {line}" + (f" (#{nth})" if nth > 1 else "")
        lines.append(f"  {where}: {text[:150]}   [{passed}/{len(runs)} pass{unreached}]{mark}")
        width = max(len(rec["values"]) for rec in recs)
        parts = []
        for i in range(width):
            got = [rec["values"][i] for rec in recs if len(rec["values"]) > i]
            numbers = [v for v in got if isinstance(v, list)]
            if not numbers:
                continue
            low = min(v[0] for v in numbers)
            high = max(v[1] for v in numbers)
            parts.append(_number(low) if low == high else f"{_number(low)} .. {_number(high)}")
        if parts:
            lines.append("      operands (min .. max): " + "  |  ".join(parts))
    return lines, clean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="+", type=Path)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--paths", nargs="+", choices=sorted(PATHS), default=["default", "avx2"])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    parser.add_argument("--json", type=Path, help="write every run's records here")
    args = parser.parse_args(argv)
    jobs = list(itertools.product(args.chapters, args.seeds, args.paths))
    print(f"{len(jobs)} runs, {args.jobs} at a time", flush=True)
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda j: run(*j, Path(folder), args.timeout), jobs))
    everything, status = {}, 0
    for chapter in args.chapters:
        runs = [r for (c, _, _), r in zip(jobs, results, strict=True) if c == chapter]
        lines, clean = table(chapter, runs)
        print("\n".join(lines))
        status |= not clean
        everything[str(chapter)] = runs
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))
    return status


if __name__ == "__main__":
    sys.exit(main())
