"""How much of vicourse is argument checking, and what the checks cost against plain torch.

Only the public API (`import vicourse`) and the file layout (every vicourse/**/*.py, walked
recursively) are used, so the same script measures the package before and after a refactor.
A file holds check functions if its name, or a folder's between vicourse/ and it, starts with
`_checks` (vicourse/_checks.py, or later vicourse/_checks_values.py). It prints:

1. Module sizes: lines per module (as `wc -l` counts them), longest first, flagged over 300
   and over 200 lines, and the number of modules.
2. Check share of code lines. Code lines are the lines that hold a token other than a comment
   (tokenize), less the docstrings (of modules, classes and functions, from the AST). A code
   line is a check line, counted once however many rules take it, if it is
     - in a check file (above);
     - inside a function or method whose name starts with check, _check, validate or
       _validate (its whole span, decorators included);
     - in a simple statement that calls through a check module: a Call whose function is an
       attribute of a name bound to a check file (`_checks.fail(...)`: `from . import
       _checks`, any name starting with `_checks`, or an `as` alias of one) or a name imported
       from one (`from ._checks import fail`); the statement's full line span counts (a
       7-line `_checks.fail(...)` is 7 lines);
     - in an `if` whose body (and else branch) holds only such statements, `raise`, and such
       `if`s: the whole `if`, its test included;
     - in the header of another compound statement (`with _checks.values_trusted():`, the test
       of an `if` that does more than check) when the header calls through a check module.
   It prints total code lines, check lines and their share in %.
3. Check calls per call: sys.setprofile counts the Python function calls ("call" events, a
   generator counted once, not per resumption; comprehensions not counted) whose code lives in
   a check file, plus those of any vicourse function or method whose name starts with check,
   _check, validate or _validate, during one call of
     - elbo_pathwise(model, q, x, num_samples=8, generator=g),
     - log_weights(model, q, x, z), z drawn beforehand,
     - fit_local(model, x, num_steps=20, generator=g), divided by 20 (one ELBO estimate and one
       Adam step per step; the fit's own checks and its 21st estimate are spread over the 20);
       the marginal cost of a step, from a 40-step fit less a 20-step one, is printed too,
   with model = GaussianMean(2) in float64, x 16 rows of torch.randn, q =
   DiagonalGaussian(zeros (16, 2), zeros (16, 2)).
4. Timings on the CPU, one thread, after a warm-up, the median over --repeats of the mean over
   a batch of calls (each repeat times every contender in turn, so drift hits them alike):
     (a) elbo_pathwise(model, q, x, 8, generator=g).surrogate.sum().backward(), the public
         entry, N=16, K=2, S=8, in float32 and float64;
     (b) the same arithmetic in plain torch: z = loc + exp(log_scale) ε, ε ~ N(0, I) of shape
         (S, N, K); log p(z) + log p(x|z) − log q(z) by the Gaussian formulas for the model
         z ~ N(m₀, τ²I), x|z ~ N(z, s²I) with (a)'s constants; the mean over S; the backward;
   and the ratio (a)/(b). If vicourse has a public validation switch (a context manager
   `vicourse.validation_enabled(False)` or a function `vicourse.enable_validation(False)`), (a)
   is also timed with validation off. Then fit_local at a chapter's scale:
   fit_local(GaussianMean(2, prior_scale=1, noise_scale=0.5) in float64, x (50, 2),
   num_steps=800, lr=0.05, generator=g) with its default estimator and one sample per step,
   against the plain loop: leaf tensors μ, log σ (50, 2) at the prior, Adam(lr=0.05) with
   CosineAnnealingLR(800, eta_min=0.05/100), per step the ELBO estimate as in (b) (S = 1) into
   a preallocated trace (no .item()), the backward of −mean, the steps; as fit_local does, 801
   estimates for 800 steps, and the trace read once at the end. Seconds each and the ratio,
   and the final ELBO of each (mean of the trace's last 100 entries), which must agree within
   noise.
5. Import order: for each module, the vicourse modules it imports (from the AST: `from . import
   x`, `from .x import y`, `from vicourse.x import y`, `import vicourse.x`), those inside
   functions or `if TYPE_CHECKING:` listed apart as deferred; and a topological order of the
   load-time imports (a module after those it imports; ties alphabetical).

Usage:

    python benchmarks/overhead.py [--repeats 21] [--quick]

A benchmark, not a test: the figures are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import io
import math
import statistics
import sys
import textwrap
import time
import tokenize
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import torch

import vicourse

WIDTH = 100
CHECK_FILE_PREFIX = "_checks"
CHECK_NAME_PREFIXES = ("check", "_check", "validate", "_validate")
NOT_TOKENS = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.ENCODING,
}
BODIES = ("body", "orelse", "finalbody", "handlers", "cases")
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
N, K, S = 16, 2, 8


class Constants(NamedTuple):
    """The conjugate model's m₀, τ, s: z ~ N(m₀, τ²I), x|z ~ N(z, s²I)."""

    prior_loc: float = 0.0
    prior_scale: float = 1.0
    noise_scale: float = 0.5


CONSTANTS = Constants(prior_loc=0.0, prior_scale=1.0, noise_scale=0.5)


def heading(title: str) -> None:
    print(f"\n== {title} ==")


def wrapped(text: str, indent: str = "    ") -> None:
    print(textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  "))


# The files.


def package_dir() -> Path:
    return Path(vicourse.__file__).resolve().parent


def modules() -> dict[str, Path]:
    """Every module of the package by its path inside it, without .py ('sub/x', '__init__')."""
    root = package_dir()
    files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)
    return {p.relative_to(root).with_suffix("").as_posix(): p for p in files}


def is_check_file(path: Path) -> bool:
    """A file under vicourse/ whose name, or a folder's between vicourse/ and it, is _checks*."""
    try:
        parts = Path(path).resolve().relative_to(package_dir()).parts
    except ValueError:
        return False
    return any(part.startswith(CHECK_FILE_PREFIX) for part in parts)


def is_check_name(name: str) -> bool:
    return name.startswith(CHECK_NAME_PREFIXES)


# 1. Module sizes.


def module_sizes() -> dict[str, int]:
    sizes = {
        f"vicourse/{name}.py": path.read_bytes().count(b"\n") for name, path in modules().items()
    }
    return dict(sorted(sizes.items(), key=lambda item: (-item[1], item[0])))


def report_sizes() -> dict:
    heading("1. module sizes (lines, as wc -l counts them)")
    sizes = module_sizes()
    for name, lines in sizes.items():
        flag = "  > 300" if lines > 300 else "  > 200" if lines > 200 else ""
        print(f"{lines:7d}  {name}{flag}")
    over_300 = sum(lines > 300 for lines in sizes.values())
    over_200 = sum(lines > 200 for lines in sizes.values())
    print(f"{sum(sizes.values()):7d}  total")
    print(f"{len(sizes)} modules; {over_300} over 300 lines, {over_200} over 200 lines")
    return {"modules": len(sizes), "over_300": over_300, "over_200": over_200}


# 2. Check share of code lines.


def span(node: ast.AST) -> set[int]:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return set(range(first, node.end_lineno + 1))


def code_lines(source: str, tree: ast.Module) -> set[int]:
    """Lines holding a token other than a comment, less the docstrings."""
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in NOT_TOKENS:
            lines.update(range(token.start[0], token.end[0] + 1))
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines -= span(first)
    return lines


def check_bindings(tree: ast.Module, module: str) -> tuple[set[str], set[str]]:
    """The names bound to a check module (called through: `_checks.fail`) and the names imported
    from one (called directly: `fail`)."""
    aliases, functions = set(), set()
    package = module.split("/")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = resolve_from(node, package)
            from_check = any(part.startswith(CHECK_FILE_PREFIX) for part in source)
            for alias in node.names:
                bound = alias.asname or alias.name
                if alias.name.startswith(CHECK_FILE_PREFIX):
                    aliases.add(bound)
                elif from_check:
                    functions.add(bound)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                last = alias.name.split(".")[-1]
                if alias.asname and last.startswith(CHECK_FILE_PREFIX):
                    aliases.add(alias.asname)
    return aliases, functions


def calls_checks(node: ast.AST, aliases: set[str], functions: set[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if func.value.id in aliases or func.value.id.startswith(CHECK_FILE_PREFIX):
                    return True
            if isinstance(func, ast.Name) and func.id in functions:
                return True
    return False


def check_lines(tree: ast.Module, module: str, *, by_name: bool = True) -> set[int]:
    """The lines taken by the rules of the docstring's point 2 (before intersecting with the
    code lines); by_name=False leaves out the rule that takes a check-named function whole."""
    aliases, functions = check_bindings(tree, module)
    lines: set[int] = set()

    def compound(stmt: ast.stmt) -> bool:
        return any(getattr(stmt, field, None) for field in BODIES)

    def checking(stmt: ast.stmt) -> bool:
        """A statement that only checks: a check call, a raise, or an if of those."""
        if isinstance(stmt, ast.Raise):
            return True
        if isinstance(stmt, ast.If):
            return all(checking(s) for s in [*stmt.body, *stmt.orelse])
        return not compound(stmt) and calls_checks(stmt, aliases, functions)

    def visit(stmts: list) -> None:
        for stmt in stmts:
            if (
                by_name
                and isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)
                and is_check_name(stmt.name)
            ):
                lines.update(span(stmt))
            elif isinstance(stmt, ast.If) and checking(stmt):
                lines.update(span(stmt))
            elif not compound(stmt):
                if calls_checks(stmt, aliases, functions):
                    lines.update(span(stmt))
            else:
                header = [
                    value
                    for field, value in ast.iter_fields(stmt)
                    if field not in BODIES and isinstance(value, ast.AST | list)
                ]
                nodes = [n for v in header for n in (v if isinstance(v, list) else [v])]
                nodes = [n for n in nodes if isinstance(n, ast.AST)]
                if any(calls_checks(n, aliases, functions) for n in nodes):
                    end = max(getattr(n, "end_lineno", None) or stmt.lineno for n in nodes)
                    lines.update(range(stmt.lineno, end + 1))
                for field in BODIES:
                    for child in getattr(stmt, field, None) or []:
                        visit(child.body if isinstance(child, ast.match_case) else [child])

    visit(tree.body)
    return lines


def check_share() -> tuple[int, int, dict[str, tuple[int, int]]]:
    per_module = {}
    for name, path in modules().items():
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        code = code_lines(source, tree)
        checks = code if is_check_file(path) else code & check_lines(tree, name)
        per_module[name] = (len(code), len(checks))
    total = sum(c for c, _ in per_module.values())
    checked = sum(k for _, k in per_module.values())
    return total, checked, per_module


def report_share() -> dict:
    heading("2. check share of code lines (AST; no blanks, comments or docstrings)")
    total, checked, per_module = check_share()
    ranked = sorted(per_module.items(), key=lambda item: (-item[1][1], item[0]))
    wrapped(
        "check lines per module: " + ", ".join(f"{name} {k}/{c}" for name, (c, k) in ranked if k),
        indent="",
    )
    share = 100 * checked / total
    print(f"code lines: {total}; check lines: {checked}; check share: {share:.1f}%")
    return {"code_lines": total, "check_lines": checked, "share": share}


# 6. Check lines in the bodies of the math modules' public functions.

MATH_MODULES = (
    "numerics families gaussian categorical relaxed fullcov flows contracts models mixture "
    "bernoulli_mixture mle bounds kl estimators local_vi nets amortized vae trainer checkpoints "
    "gaps snr"
).split()


def public_functions(tree: ast.Module):
    """Top-level functions and the methods of top-level public classes whose names do not start
    with an underscore, plus constructors (__init__)."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.startswith("_"):
            continue  # a private class's methods are not public
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        prefix = f"{node.name}." if isinstance(node, ast.ClassDef) else ""
        for fn in members:
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and (
                not fn.name.startswith("_") or fn.name == "__init__"
            ):
                yield prefix + fn.name, fn


def switch_uses(tree: ast.Module) -> tuple[int, int]:
    """`if ….enabled:` blocks on a check module, and lines naming TRUSTED."""
    blocks = trusted = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            tests = [n for n in ast.walk(node.test) if isinstance(n, ast.Attribute)]
            blocks += any(
                t.attr == "enabled"
                and isinstance(t.value, ast.Name)
                and t.value.id.startswith(CHECK_FILE_PREFIX)
                for t in tests
            )
    lines = {n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "TRUSTED"}
    trusted = len(lines)
    return blocks, trusted


def body_checks() -> dict:
    """Per public function of the math modules, its body's check lines (docstring and
    decorators excluded; the rules of point 2, less the one that counts a function named
    check* whole)."""
    counts, blocks, trusted = {}, 0, 0
    for name in MATH_MODULES:
        path = modules().get(name)
        if path is None:
            continue
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        checks = code_lines(source, tree) & check_lines(tree, name, by_name=False)
        for qualname, fn in public_functions(tree):
            body = set(range(fn.body[0].lineno, fn.end_lineno + 1))
            counts[f"{name}.{qualname}"] = len(body & checks)
        b, t = switch_uses(tree)
        blocks, trusted = blocks + b, trusted + t
    return {"bodies": counts, "enabled_blocks": blocks, "trusted_lines": trusted}


def report_bodies() -> dict:
    heading("6. check lines in the bodies of the math modules' public functions")
    result = body_checks()
    counts = result["bodies"]
    lean = sum(c <= 2 for c in counts.values())
    heavy = {k: c for k, c in sorted(counts.items(), key=lambda kv: -kv[1]) if c > 2}
    if heavy:
        wrapped("over two: " + ", ".join(f"{k} {c}" for k, c in heavy.items()), indent="")
    share = 100 * lean / max(1, len(counts))
    print(
        f"{lean} of {len(counts)} public functions ({share:.0f}%) have at most two check lines "
        f"in their body;\n`if _checks.enabled:` blocks: {result['enabled_blocks']}; "
        f"TRUSTED lines: {result['trusted_lines']}"
    )
    return {
        "public_functions": len(counts),
        "lean_bodies": lean,
        "lean_share": share,
        "enabled_blocks": result["enabled_blocks"],
        "trusted_lines": result["trusted_lines"],
    }


# 3. Check calls per call.


class CheckCalls:
    """Counts, while active, the calls of check code (see the docstring's point 3)."""

    def __init__(self):
        self.counts: Counter[str] = Counter()
        self.kinds: dict[object, str | None] = {}
        self.started: set[int] = set()
        self.frames: list = []  # keeps generator frames alive, so that their ids stay unique

    def name_if_check(self, code) -> str | None:
        if code not in self.kinds:
            name = None
            if not code.co_name.startswith("<") or code.co_name == "<lambda>":
                qualname = getattr(code, "co_qualname", code.co_name)
                if is_check_file(Path(code.co_filename)):
                    name = f"{Path(code.co_filename).stem}.{qualname}"
                elif is_check_name(code.co_name) and is_package_file(code.co_filename):
                    name = qualname
            self.kinds[code] = name
        return self.kinds[code]

    def profile(self, frame, event, arg):
        if event != "call":
            return
        name = self.name_if_check(frame.f_code)
        if name is None:
            return
        if frame.f_code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE):
            if id(frame) in self.started:  # a resumption, not a call
                return
            self.started.add(id(frame))
            self.frames.append(frame)
        self.counts[name] += 1

    def __enter__(self):
        sys.setprofile(self.profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)
        self.frames.clear()

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def is_package_file(filename: str) -> bool:
    try:
        Path(filename).resolve().relative_to(package_dir())
    except ValueError:
        return False
    return True


def make_model(dtype: torch.dtype, constants: Constants = CONSTANTS):
    """GaussianMean(2) with these constants in dtype (built, then cast, if it takes no dtype)."""
    try:
        return vicourse.GaussianMean(K, **constants._asdict(), dtype=dtype)
    except TypeError:
        return vicourse.GaussianMean(K, **constants._asdict()).to(dtype)


def fit_local_kwargs() -> dict:
    """One sample per step, the default estimator (whatever form it takes)."""
    parameters = inspect.signature(vicourse.fit_local).parameters
    num_samples = parameters.get("num_samples")
    if num_samples is not None and num_samples.default != 1:
        return {"num_samples": 1}
    return {}


def count(fn) -> CheckCalls:
    with CheckCalls() as counter:
        fn()
    return counter


def report_calls() -> dict:
    heading("3. check calls per call (sys.setprofile)")
    g = torch.Generator().manual_seed(0)
    model = make_model(torch.float64)
    x = torch.randn(N, K, dtype=torch.float64, generator=g)
    zeros = torch.zeros(N, K, dtype=torch.float64)
    q = vicourse.DiagonalGaussian(zeros, zeros.clone())
    z = q.rsample(S, generator=g)
    extra = fit_local_kwargs()

    def elbo():
        vicourse.elbo_pathwise(model, q, x, num_samples=S, generator=g)

    def log_w():
        vicourse.log_weights(model, q, x, z)

    def fit(steps):
        return lambda: vicourse.fit_local(model, x, num_steps=steps, generator=g, **extra)

    elbo(), log_w(), fit(2)()  # warm-up: lazy imports and caches out of the counts
    results = {}
    for key, title, fn in [
        ("elbo_pathwise", f"elbo_pathwise, N={N}, K={K}, S={S}", elbo),
        ("log_weights", f"log_weights, z given ({S}, {N}, {K})", log_w),
    ]:
        counter = count(fn)
        results[key] = counter.total
        print(f"{title}: {counter.total} check calls")
        wrapped(", ".join(f"{name} {n}" for name, n in counter.counts.most_common()))
    twenty, forty = count(fit(20)), count(fit(40))
    results["fit_local_step"] = twenty.total / 20
    marginal = (forty.total - twenty.total) / 20
    print(
        f"fit_local, 20 steps, S=1: {twenty.total} check calls, {twenty.total / 20:.2f} per step "
        f"(marginal: {marginal:.2f} per step)"
    )
    wrapped(", ".join(f"{name} {n}" for name, n in twenty.counts.most_common()))
    return results


# 4. Timings.


def plain_elbo(loc, log_scale, x, num_samples, generator, c: Constants) -> torch.Tensor:
    """(b): the ELBO estimate of the conjugate model in plain torch.   Shapes: -> (N,)."""
    scale = log_scale.exp()
    eps = torch.randn((num_samples, *loc.shape), generator=generator, dtype=loc.dtype)
    z = loc + scale * eps  # (S, N, K)
    log_prior = -0.5 * ((z - c.prior_loc) / c.prior_scale).square() - math.log(c.prior_scale)
    log_lik = -0.5 * ((x - z) / c.noise_scale).square() - math.log(c.noise_scale)
    log_q = -0.5 * ((z - loc) / scale).square() - log_scale
    # the three −½ log 2π per dimension: two from p, minus one from q
    log_w = (log_prior + log_lik - log_q - HALF_LOG_2PI).sum(-1)
    return log_w.mean(0)


def validation_off():
    """A function entering 'validation off', or None if vicourse has no public switch."""
    switch = getattr(vicourse, "validation_enabled", None)
    if switch is not None:
        return lambda: switch(False)
    enable = getattr(vicourse, "enable_validation", None)
    if enable is not None:

        @contextlib.contextmanager
        def off():
            enable(False)
            try:
                yield
            finally:
                enable(True)

        return off
    return None


def interleaved(fns: dict, repeats: int, inner: int) -> dict[str, list[float]]:
    """Seconds per call of each fn: `repeats` batches of `inner` calls, the fns in turn."""
    for fn in fns.values():
        for _ in range(max(2, inner // 10)):
            fn()
    seconds = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            seconds[name].append((time.perf_counter() - start) / inner)
    return seconds


def spread(samples: list[float], unit: float = 1e6, digits: int = 1) -> str:
    """The median, min and max of samples (seconds), times unit (µs by default)."""
    median, low, high = (unit * v for v in (statistics.median(samples), min(samples), max(samples)))
    return f"{median:8.{digits}f} (min {low:.{digits}f}, max {high:.{digits}f})"


def time_elbo(dtype: torch.dtype, repeats: int, inner: int) -> dict:
    c = CONSTANTS
    g = torch.Generator().manual_seed(0)
    model = make_model(dtype, c)
    x = torch.randn(N, K, dtype=dtype, generator=g)
    loc = torch.zeros(N, K, dtype=dtype, requires_grad=True)
    log_scale = torch.zeros(N, K, dtype=dtype, requires_grad=True)
    q = vicourse.DiagonalGaussian(loc, log_scale)

    def a():
        vicourse.elbo_pathwise(model, q, x, S, generator=g).surrogate.sum().backward()

    def b():
        plain_elbo(loc, log_scale, x, S, g, c).sum().backward()

    fns = {"a": a, "b": b}
    off = validation_off()
    if off is not None:

        def a_off():
            with off():
                a()

        fns["a_off"] = a_off
    return interleaved(fns, repeats, inner)


def fit_plain(x: torch.Tensor, num_steps: int, lr: float, generator, c: Constants):
    """The plain loop of the docstring's point 4: returns the trace (num_steps + 1,)."""
    mu = torch.full(x.shape, c.prior_loc, dtype=x.dtype, requires_grad=True)
    log_sigma = torch.full(x.shape, math.log(c.prior_scale), dtype=x.dtype, requires_grad=True)
    optimizer = torch.optim.Adam([mu, log_sigma], lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, num_steps, eta_min=lr / 100)
    trace = torch.empty(num_steps + 1, dtype=x.dtype)
    for step in range(num_steps + 1):
        elbo = plain_elbo(mu, log_sigma, x, 1, generator, c)
        trace[step] = elbo.detach().mean()
        if step == num_steps:
            break
        optimizer.zero_grad()
        (-elbo.mean()).backward()
        optimizer.step()
        schedule.step()
    return trace


def time_fits(repeats: int, num_steps: int) -> dict:
    c = CONSTANTS  # the chapter's GaussianMean(2, prior_scale=1.0, noise_scale=0.5)
    model = make_model(torch.float64, c)
    data = torch.Generator().manual_seed(1)
    x = c.prior_loc + math.hypot(c.prior_scale, c.noise_scale) * torch.randn(
        50, K, dtype=torch.float64, generator=data
    )
    extra = fit_local_kwargs()
    traces = {}

    def package():
        g = torch.Generator().manual_seed(0)
        fit = vicourse.fit_local(model, x, num_steps=num_steps, lr=0.05, generator=g, **extra)
        traces["fit_local"] = fit.trace

    def plain():
        g = torch.Generator().manual_seed(0)
        trace = fit_plain(x, num_steps, 0.05, g, c)
        if not bool(torch.isfinite(trace).all()):  # the one read of the trace
            raise FloatingPointError("the plain loop's ELBO trace is not finite")
        traces["plain"] = trace

    seconds = interleaved({"fit_local": package, "plain": plain}, repeats, 1)
    last = min(100, num_steps)
    finals = {name: trace[-last:].mean().item() for name, trace in traces.items()}
    return {"seconds": seconds, "finals": finals, "last": last}


def report_timings(repeats: int, inner: int, fit_repeats: int, num_steps: int) -> dict:
    torch.set_num_threads(1)
    heading(f"4. timings (CPU, {torch.get_num_threads()} thread, torch {torch.__version__})")
    print(
        f"elbo_pathwise + backward, N={N}, K={K}, S={S}: µs per call, median of {repeats} "
        f"batches of {inner}"
    )
    results = {}
    for dtype in (torch.float32, torch.float64):
        name = str(dtype).removeprefix("torch.")
        seconds = time_elbo(dtype, repeats, inner)
        a, b = statistics.median(seconds["a"]), statistics.median(seconds["b"])
        print(f"  {name}: (a) vicourse.elbo_pathwise {spread(seconds['a'])}")
        print(f"  {name}: (b) plain torch            {spread(seconds['b'])}")
        print(f"  {name}: (a)/(b) = {a / b:.2f}x")
        results[f"ratio_{name}"] = a / b
        if "a_off" in seconds:
            off = statistics.median(seconds["a_off"])
            print(f"  {name}: (a) validation off     {spread(seconds['a_off'])}")
            print(f"  {name}: (a, validation off)/(b) = {off / b:.2f}x")
            results[f"ratio_off_{name}"] = off / b
    if validation_off() is None:
        print("no public validation switch")
    estimator = inspect.signature(vicourse.fit_local).parameters.get("estimator")
    default = "none" if estimator is None else estimator.default
    described = default if isinstance(default, str) else getattr(default, "__name__", default)
    print(f"fit_local vs the plain loop: x (50, {K}) float64, {num_steps} steps, lr 0.05, S=1")
    print(f"  estimator: the default, {described!r}; seconds per fit, median of {fit_repeats}")
    fits = time_fits(fit_repeats, num_steps)
    package, plain = (statistics.median(fits["seconds"][k]) for k in ("fit_local", "plain"))
    print(f"  fit_local:  {spread(fits['seconds']['fit_local'], 1, 3)} s")
    print(f"  plain loop: {spread(fits['seconds']['plain'], 1, 3)} s")
    print(f"  fit_local/plain = {package / plain:.2f}x")
    print(
        f"  final ELBO (mean of the trace's last {fits['last']}): fit_local "
        f"{fits['finals']['fit_local']:.4f}, plain {fits['finals']['plain']:.4f}"
    )
    results.update(fit_local=package, plain=plain, fit_ratio=package / plain)
    return results


# 5. Import order.


def resolve_from(node: ast.ImportFrom, package: list[str]) -> list[str]:
    """The module path inside vicourse that `from ... import` reads from ([] for vicourse)."""
    if node.level:
        base = package[: len(package) - (node.level - 1)]
        return base + (node.module.split(".") if node.module else [])
    parts = (node.module or "").split(".")
    return parts[1:] if parts[0] == "vicourse" else ["<outside>"]


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per module, the vicourse modules it imports at load time, and those deferred."""
    mods = modules()

    def find(parts: list[str]) -> str | None:
        name = "/".join(parts)
        if name in mods:
            return name
        init = "/".join([*parts, "__init__"])
        return init if init in mods else None

    def deferred_nodes(tree: ast.Module) -> set[int]:
        ids = set()
        for node in ast.walk(tree):
            lazy = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(node, ast.If):
                test = ast.unparse(node.test)
                lazy = test in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
            if lazy:
                ids.update(id(sub) for sub in ast.walk(node) if sub is not node)
        return ids

    load, later = {}, {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name.split("/")[:-1]
        lazy = deferred_nodes(tree)
        load[name], later[name] = set(), set()
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom):
                source = resolve_from(node, package)
                for alias in node.names:
                    targets.append(find([*source, alias.name]) or find(source))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == "vicourse":
                        targets.append(find(parts[1:]))
            found = {t for t in targets if t and t != name}
            (later if id(node) in lazy else load)[name].update(found)
        later[name] -= load[name]
    return load, later


def topological(graph: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """Kahn's algorithm, ties alphabetical: the order, and the modules left in cycles."""
    waiting = {name: set(deps) for name, deps in graph.items()}
    order = []
    while True:
        ready = sorted(name for name, deps in waiting.items() if not deps)
        if not ready:
            break
        name = ready[0]
        order.append(name)
        del waiting[name]
        for deps in waiting.values():
            deps.discard(name)
    return order, sorted(waiting)


def report_imports() -> dict:
    heading("5. import order (vicourse modules each module imports)")
    load, later = import_graph()
    for name in sorted(load):
        text = f"{name}: {', '.join(sorted(load[name])) or '-'}"
        if later[name]:
            text += f" (deferred: {', '.join(sorted(later[name]))})"
        wrapped(text, indent="")
    order, cycles = topological(load)
    wrapped("topological order: " + " → ".join(order), indent="")
    if cycles:
        wrapped("in import cycles: " + ", ".join(cycles), indent="")
    return {"order": order, "cycles": cycles}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="timing repeats (default 21)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else max(1, args.repeats)
    inner, fit_repeats, num_steps = (5, 1, 40) if args.quick else (100, max(1, repeats // 4), 800)
    # which copy is measured, in words of fixed width (a path's length depends on the checkout)
    here = package_dir() == Path(__file__).resolve().parents[1] / "vicourse"
    print(
        f"vicourse {vicourse.__version__}, " + ("this checkout's" if here else "an installed copy")
    )
    print(f"python {sys.version.split()[0]}, torch {torch.__version__}" + (" (quick)" * args.quick))
    results = {}
    results.update(report_sizes())
    results.update(report_share())
    results.update(report_calls())
    threads = torch.get_num_threads()
    try:
        results.update(report_timings(repeats, inner, fit_repeats, num_steps))
    finally:
        torch.set_num_threads(threads)
    results.update(report_imports())
    results.update(report_bodies())
    heading("summary")
    r = results
    print(
        f"modules: {r['modules']} ({r['over_300']} over 300 lines, {r['over_200']} over 200); "
        f"check share: {r['share']:.1f}% ({r['check_lines']} of {r['code_lines']} code lines)"
    )
    print(
        f"check calls: {r['elbo_pathwise']} per elbo_pathwise, {r['log_weights']} per "
        f"log_weights, {r['fit_local_step']:.2f} per fit_local step"
    )
    print(
        f"(a)/(b): {r['ratio_float32']:.2f}x float32, {r['ratio_float64']:.2f}x float64; "
        f"fit_local {r['fit_local']:.3f} s vs plain loop {r['plain']:.3f} s "
        f"({num_steps} steps): {r['fit_ratio']:.2f}x"
    )
    print(
        f"public bodies with at most two check lines: {r['lean_bodies']} of "
        f"{r['public_functions']} ({r['lean_share']:.0f}%);\n`if _checks.enabled:` blocks "
        f"{r['enabled_blocks']}, TRUSTED lines {r['trusted_lines']} (math modules)"
    )
    if "ratio_off_float32" in r:
        print(
            f"(a, validation off)/(b): {r['ratio_off_float32']:.2f}x float32, "
            f"{r['ratio_off_float64']:.2f}x float64"
        )
    return results


if __name__ == "__main__":
    main()
