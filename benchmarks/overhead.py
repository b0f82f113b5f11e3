"""How much of vicourse is argument checking, and what the checks cost against plain torch.

1. Code: modules and lines; the check share of code lines (no blanks, comments, docstrings):
   all lines of check files (a path part under vicourse/ starting with `_checks`) and, elsewhere,
   the lines of calls `_checks*.f(...)`; how many public functions and methods declare specs.
2. Check calls per call (sys.setprofile): the spec layer (_checks_spec.py) + the checks proper.
3. Timings, each against a baseline timed in turn in the same run: (a) elbo_pathwise + backward
   vs (b) plain torch, float32 and float64, validation on and off; fit_local vs a plain loop on
   the same draws (their final ELBOs agree). benchmarks/README.md says more and keeps figures.
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import io
import math
import statistics
import sys
import time
import tokenize
from collections import Counter
from pathlib import Path

import torch

import vicourse
from vicourse._checks_spec import specs_of

N, K, S = 16, 2, 8
PRIOR_LOC, PRIOR_SCALE, NOISE_SCALE = 0.0, 1.0, 0.5  # z ~ N(m0, t^2 I), x|z ~ N(z, s^2 I)
ROOT = Path(vicourse.__file__).resolve().parent
COMPREHENSIONS = {"<genexpr>", "<listcomp>", "<dictcomp>", "<setcomp>"}  # not counted as calls


@functools.cache
def kind_of(filename: str) -> str:
    """'spec' for _checks_spec.py, 'checks' for another check file, '' for any other file."""
    path = Path(filename).resolve()
    parts = path.relative_to(ROOT).parts if path.is_relative_to(ROOT) else ()
    part = next((part for part in parts if part.startswith("_checks")), "")
    return "spec" if part == "_checks_spec.py" else "checks" if part else ""


def code_and_checks(path: Path) -> Counter:
    """A file's code lines and check lines (see the module docstring), counted."""
    source = path.read_text(encoding="utf-8")
    code = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT and token.string.strip():  # no blank, no comment
            code.update(range(token.start[0], token.end[0] + 1))
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if ast.get_docstring(node, clean=False) is not None:
                code -= set(range(node.body[0].lineno, node.body[0].end_lineno + 1))
    if kind_of(str(path)):
        return Counter({"code": len(code), "in check files": len(code)})
    checks = set()
    for node in ast.walk(tree):
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Attribute) and getattr(func.value, "id", "").startswith("_checks"):
            checks.update(range(node.lineno, node.end_lineno + 1))
    return Counter({"code": len(code), "in _checks*.f(...) calls": len(code & checks)})


def public_callables() -> list:
    """The functions, and the classes' public methods and constructors, of vicourse.__all__."""
    found = []
    for name in vicourse.__all__:
        obj = getattr(vicourse, name)
        named = vars(obj).items() if inspect.isclass(obj) else [(name, obj)]
        found += [m for k, m in named if inspect.isfunction(m) and (k == "__init__" or k[0] != "_")]
    return found


def report_code() -> dict:
    print("\n== 1. code ==")
    files = sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)
    sizes = [p.read_bytes().count(b"\n") for p in files]
    over = [sum(n > limit for n in sizes) for limit in (300, 200)]
    print(f"{len(files)} modules, {sum(sizes)} lines, {over[0]} over 300, {over[1]} over 200")
    n = sum(map(code_and_checks, files), Counter())
    checks = n.total() - n["code"]
    parts = " + ".join(f"{v} {k}" for k, v in n.items() if k != "code")
    share = f"{100 * checks / n['code']:.1f}% ({checks} of {n['code']} code lines"
    print(f"check share: {share} = {parts})")
    callables = public_callables()
    specs = [specs_of(fn) for fn in callables if specs_of(fn) is not None]
    print(f"specs on {len(specs)} of {len(callables)} public functions and methods")
    return {"modules": len(files), "code_lines": n["code"], "check_lines": checks}


def check_calls(fn) -> Counter:
    """Calls of code in check files during fn(), as {"spec": ..., "checks": ...}."""
    counts = Counter()

    def profile(frame, event, arg):
        code = frame.f_code
        if event == "call" and code.co_name not in COMPREHENSIONS and kind_of(code.co_filename):
            counts[kind_of(code.co_filename)] += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return counts


def report_calls() -> dict:
    print("\n== 2. check calls per call (sys.setprofile): spec layer + checks proper ==")
    g = torch.Generator().manual_seed(0)
    model = vicourse.GaussianMean(K, dtype=torch.float64)
    x, zeros = torch.randn(N, K, dtype=torch.float64, generator=g), torch.zeros(N, K).double()
    q = vicourse.DiagonalGaussian(zeros, zeros.clone())
    z = q.rsample(S, generator=g)
    calls = {
        "elbo_pathwise": lambda: vicourse.elbo_pathwise(model, q, x, S, generator=g),
        "log_weights": lambda: vicourse.log_weights(model, q, x, z),
        "fit 20": lambda: vicourse.fit_local(model, x, num_steps=20, generator=g),
        "fit 40": lambda: vicourse.fit_local(model, x, num_steps=40, generator=g),
    }
    for fn in calls.values():  # a warm-up: lazy imports and caches out of the counts
        fn()
    c = {name: check_calls(fn) for name, fn in calls.items()}
    twenty, forty = c.pop("fit 20"), c.pop("fit 40")
    step = c["fit_local per step"] = Counter({k: (forty[k] - twenty[k]) / 20 for k in forty})
    c["fit_local at entry"] = Counter({k: twenty[k] - 20 * step[k] for k in twenty})
    for name, n in c.items():
        print(f"{name + ':':20s} {n.total():5g} = {n['spec']:g} spec + {n['checks']:g} checks")
    return {name: n.total() for name, n in c.items()} | {"step_checks": step["checks"]}


def plain_elbo(loc, log_scale, x, num_samples: int, generator) -> torch.Tensor:
    """(b): the model's ELBO estimate in plain torch, (N,)."""
    scale = log_scale.exp()
    z = loc + scale * torch.randn((num_samples, *loc.shape), generator=generator, dtype=loc.dtype)
    log_prior = -0.5 * ((z - PRIOR_LOC) / PRIOR_SCALE).square() - math.log(PRIOR_SCALE)
    log_lik = -0.5 * ((x - z) / NOISE_SCALE).square() - math.log(NOISE_SCALE)
    log_q = -0.5 * ((z - loc) / scale).square() - log_scale
    half_log_2pi = 0.5 * math.log(2 * math.pi)  # twice in p, once in q
    return (log_prior + log_lik - log_q - half_log_2pi).sum(-1).mean(0)


def fit_plain(x: torch.Tensor, num_steps: int, generator, lr: float = 0.05) -> torch.Tensor:
    """The plain loop: its trace, (num_steps + 1,), one estimate per step as in fit_local."""
    mu = torch.full(x.shape, PRIOR_LOC, dtype=x.dtype, requires_grad=True)
    log_sigma = torch.full(x.shape, math.log(PRIOR_SCALE), dtype=x.dtype, requires_grad=True)
    optimizer = torch.optim.Adam([mu, log_sigma], lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, num_steps, eta_min=lr / 100)
    trace = torch.empty(num_steps + 1, dtype=x.dtype)
    for step in range(num_steps + 1):
        elbo = plain_elbo(mu, log_sigma, x, 1, generator)
        trace[step] = elbo.detach().mean()
        if step == num_steps:
            return trace
        optimizer.zero_grad()
        (-elbo.mean()).backward()
        optimizer.step()
        schedule.step()


def interleaved(fns: dict, repeats: int, inner: int) -> dict[str, float]:
    """Median seconds per call of each fn over `repeats` batches of `inner` calls, in turn."""
    seconds = {name: [] for name in fns}
    for _ in range(repeats + 1):  # the first round warms up
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            seconds[name].append((time.perf_counter() - start) / inner)
    return {name: statistics.median(values[1:]) for name, values in seconds.items()}


def time_elbo(dtype: torch.dtype, repeats: int, inner: int) -> list[float]:
    """Microseconds per call of (a), (a) with validation off, and (b)."""
    g = torch.Generator().manual_seed(0)
    model = vicourse.GaussianMean(K, PRIOR_LOC, PRIOR_SCALE, NOISE_SCALE, dtype=dtype)
    x = torch.randn(N, K, dtype=dtype, generator=g)
    loc, log_scale = (torch.zeros(N, K, dtype=dtype, requires_grad=True) for _ in range(2))
    q = vicourse.DiagonalGaussian(loc, log_scale)
    fns = {
        "a": lambda: vicourse.elbo_pathwise(model, q, x, S, generator=g).surrogate.sum().backward(),
        "b": lambda: plain_elbo(loc, log_scale, x, S, g).sum().backward(),
    }

    def entry_off():
        with vicourse.validation_enabled(False):
            fns["a"]()

    seconds = interleaved(fns | {"off": entry_off}, repeats, inner)
    return [1e6 * seconds[name] for name in ("a", "off", "b")]


def report_timings(repeats: int, inner: int, fit_repeats: int, num_steps: int) -> dict:
    print(f"\n== 3. timings (CPU, 1 thread, medians of {repeats} batches, contenders in turn) ==")
    print(f"elbo_pathwise + backward, N={N}, K={K}, S={S}, µs per call: (a) the public entry,")
    print("off: (a) with validation off, (b) plain torch; then the ratios (a)/(b) and off/(b)")
    r = {}
    for dtype in ("float32", "float64"):
        a, off, b = time_elbo(getattr(torch, dtype), repeats, inner)
        r[dtype], r[f"{dtype} off"] = a / b, off / b
        print(f"{dtype}: (a) {a:.1f}, off {off:.1f}, (b) {b:.1f}; {a / b:.2f}x, off {off / b:.2f}x")
    model = vicourse.GaussianMean(K, PRIOR_LOC, PRIOR_SCALE, NOISE_SCALE, dtype=torch.float64)
    x = torch.randn(50, K, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x = PRIOR_LOC + math.hypot(PRIOR_SCALE, NOISE_SCALE) * x  # drawn from the model
    traces = {}  # the last of each, both from the same draws (seed 0)

    def package():
        g = torch.Generator().manual_seed(0)
        traces["fit_local"] = vicourse.fit_local(model, x, num_steps=num_steps, generator=g).trace

    def plain():
        traces["plain"] = fit_plain(x, num_steps, torch.Generator().manual_seed(0))

    a, b = interleaved({"fit_local": package, "plain": plain}, fit_repeats, 1).values()
    ends = [traces[name][-100:].mean().item() for name in ("fit_local", "plain")]
    r |= {"fit": a / b, "finals": ends}
    print(f"fit_local vs the plain loop, x (50, {K}) float64, {num_steps} steps, S=1: seconds per")
    print("fit, their ratio, final ELBOs (mean of the trace's last 100 estimates; they agree):")
    print(f"{a:.3f} s / {b:.3f} s = {a / b:.2f}x; final ELBOs {ends[0]:.4f} / {ends[1]:.4f}")
    return r


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="timing repeats (default 21)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else max(1, args.repeats)
    inner, fit_repeats, num_steps = (5, 1, 40) if args.quick else (100, max(1, repeats // 4), 800)
    here = ROOT == Path(__file__).resolve().parents[1] / "vicourse"  # words: no path's width
    print(f"vicourse {vicourse.__version__}, {'this checkout' if here else 'an installed copy'}")
    print(f"python {sys.version.split()[0]}, torch {torch.__version__}" + " (quick)" * args.quick)
    results = report_code() | report_calls()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return results | report_timings(repeats, inner, fit_repeats, num_steps)
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    main()
