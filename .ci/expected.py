"""The code exercises' expected answers, from the master notebooks' solutions.

    python .ci/expected.py            write vicourse/exercise_expected.json
    python .ci/expected.py --check    exit 1 if that file is not what the solutions give
    python .ci/expected.py --scan     exit 1 if the vicourse that Python imports holds a solution

The solution of each code exercise lives once, in its master notebook's answer cell (the code
cell ending `answer_N_M = <function>  # graded: ...`), between otter's BEGIN and END SOLUTION
markers: `otter assign` strips it from the student notebook, and neither the package nor the
autograder's tests carry it. This script runs each answer cell, draws the exercise's inputs from a
generator seeded with the exercise's name (float64, CPU, with the hard cases a careless answer
gets wrong), and stores the inputs, the solution's outputs and the gradients that must match in
vicourse/exercise_expected.json, which `vicourse.exercises.check` and `verify` compare with.

--check regenerates and compares (inputs exactly, outputs to 1e-12), so a solution edited without
rerunning this script fails the tests and the release. --scan imports vicourse as installed and
tries every function in it on every exercise: a function that passes `check` is a solution that
ships with the package, and the release refuses it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import json
import math
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "vicourse" / "exercise_expected.json"
DTYPE = torch.float64

# ---------------------------------------------------------------- random inputs


def conjugate_log_joint(x, s):
    from vicourse.exercise_cases import conjugate_log_joint

    return conjugate_log_joint(x, s)


def conjugate_elbo(x, s):
    from vicourse.exercise_cases import conjugate_elbo

    return conjugate_elbo(x, s)


def _normal(g, *shape):
    return torch.randn(*shape, generator=g, dtype=DTYPE)


def _uniform(g, low, high, *shape):
    return low + (high - low) * torch.rand(*shape, generator=g, dtype=DTYPE)


def _mixture_inputs(g, far: bool):
    k = int(torch.randint(1, 5, (), generator=g))
    n = int(torch.randint(1, 6, (), generator=g))
    weights = torch.softmax(_normal(g, k), 0)
    means, scales = 3 * _normal(g, k), _uniform(g, 0.3, 2.0, k)
    x = 4 * _normal(g, n)
    if far:  # exp(log N) underflows to 0 here: the sum must be taken in log space
        x = torch.cat([x, torch.tensor([60.0, -80.0], dtype=DTYPE)])
    return dict(x=x, weights=weights, means=means, scales=scales)


def _cases_mixture(g):
    return [_mixture_inputs(g, far=i >= 4) for i in range(6)]


def _cases_elbo(g):
    cases = []
    for _ in range(5):
        n, s = int(torch.randint(1, 5, (), generator=g)), float(_uniform(g, 0.3, 1.5, ()))
        x = 2 * _normal(g, n)
        cases.append(
            dict(
                log_joint=conjugate_log_joint(x, s),
                mu=_normal(g, n),
                sigma=_uniform(g, 0.05, 2.0, n),
                eps=_normal(g, int(torch.randint(1, 9, (), generator=g)), n),
            )
        )
    return cases


def _cases_kl(g):
    cases = []
    for n in (1, 3, 5, 8):
        cases.append(
            dict(
                mu_q=2 * _normal(g, n),
                sigma_q=_uniform(g, 0.05, 3.0, n),
                mu_p=2 * _normal(g, n),
                sigma_p=_uniform(g, 0.05, 3.0, n),
            )
        )
    same = _normal(g, 3)
    scale = _uniform(g, 0.5, 2.0, 3)
    cases.append(dict(mu_q=same, sigma_q=scale, mu_p=same.clone(), sigma_p=scale.clone()))
    return cases


def _cases_ascent(g):
    cases = []
    for lr in (0.1, 0.01, 0.5, 0.05):
        n, s = int(torch.randint(1, 6, (), generator=g)), float(_uniform(g, 0.3, 1.5, ()))
        elbo = conjugate_elbo(2 * _normal(g, n), s)
        cases.append(dict(elbo=elbo, mu=_normal(g, n), log_sigma=0.5 * _normal(g, n), lr=lr))
    return cases


def _cases_encoder(g):
    cases = []
    for n, d, k in ((1, 1, 1), (4, 3, 2), (5, 6, 3), (2, 8, 4)):
        cases.append(
            dict(x=_normal(g, n, d), weight=0.5 * _normal(g, 2 * k, d), bias=_normal(g, 2 * k))
        )
    return cases


def _cases_shared_scale(g):
    cases = []
    for n, d, k in ((1, 1, 1), (4, 3, 2), (5, 6, 3), (2, 8, 4)):
        weight, bias = 0.5 * _normal(g, k, d), _normal(g, k)
        cases.append(dict(x=_normal(g, n, d), weight=weight, bias=bias, log_sigma=_normal(g, k)))
    return cases


def _cases_sample(g):
    cases = []
    for s, n, k in ((1, 1, 1), (3, 2, 2), (5, 4, 3), (2, 6, 1)):
        cases.append(
            dict(mu=_normal(g, n, k), sigma=_uniform(g, 0.1, 2.0, n, k), eps=_normal(g, s, n, k))
        )
    return cases


def _cases_surrogate(g):
    cases = []
    for m, b in ((1, 0.0), (4, 0.0), (6, 1.5), (10, -0.7)):
        cases.append(dict(r_values=3 * _normal(g, m), log_q=_normal(g, m) - 1, baseline=b))
    return cases


def _cases_vae(g):
    cases = []
    for n, d, k in ((1, 4, 1), (3, 8, 2), (5, 16, 4), (2, 6, 3)):
        cases.append(
            dict(
                logits=3 * _normal(g, n, d),
                x=(torch.rand(n, d, generator=g, dtype=DTYPE) < 0.4).to(DTYPE),
                mu=_normal(g, n, k),
                log_sigma=0.5 * _normal(g, n, k),
            )
        )
    # a confident decoder: sigmoid(±60) rounds to 0 or 1, and log(0) is −inf
    logits = torch.tensor([[60.0, -60.0, 50.0, -50.0]], dtype=DTYPE)
    x = torch.tensor([[0.0, 1.0, 1.0, 0.0]], dtype=DTYPE)
    cases.append(dict(logits=logits, x=x, mu=_normal(g, 1, 2), log_sigma=_normal(g, 1, 2)))
    return cases


def _cases_iwae_by_k(g):
    cases = [dict(log_w=_normal(g, 1, 3))]  # one draw: IWAE_1 is the log weight itself
    for s, n in ((4, 2), (7, 3), (30, 1)):
        cases.append(dict(log_w=2 * _normal(g, s, n) - 3))
    # MNIST's scale: exp(−1000) is 0 in float64, so the mean must be taken in log space
    cases.append(dict(log_w=_normal(g, 50, 4) - 1000))
    return cases


def _cases_cholesky(g):
    cases = []
    for s, n, k in ((1, 1, 1), (3, 2, 2), (2, 4, 3), (5, 1, 4)):
        # every entry of tril random: those above the diagonal must play no part
        cases.append(dict(loc=_normal(g, n, k), tril=_normal(g, n, k, k), eps=_normal(g, s, n, k)))
    return cases


def _cases_planar(g):
    cases = []
    for s, n, k in ((1, 1, 1), (3, 2, 2), (4, 3, 3), (2, 1, 5)):
        cases.append(
            dict(z=_normal(g, s, n, k), u=_normal(g, n, k), w=_normal(g, n, k), b=_normal(g, n))
        )
    # a negative determinant: at z = 0 with b = 0 it is 1 + uᵀw = −1, and log|−1| = 0
    w = _normal(g, 2, 3)
    u = -2 * w / w.square().sum(-1, keepdim=True)
    cases.append(dict(z=torch.zeros(2, 2, 3, dtype=DTYPE), u=u, w=w, b=torch.zeros(2, dtype=DTYPE)))
    return cases


def _cases_relaxed(g):
    cases = []
    for s, n, c, tau in ((1, 1, 2, 1.0), (3, 2, 4, 0.5), (2, 3, 5, 2.0), (4, 1, 3, 0.1)):
        gumbel = -torch.log(-torch.log(torch.rand(s, n, c, generator=g, dtype=DTYPE)))
        cases.append(dict(logits=_normal(g, n, c), gumbel=gumbel, temperature=tau))
    # τ = 0.01: scores in the thousands, where exp overflows float64
    gumbel = -torch.log(-torch.log(torch.rand(2, 2, 4, generator=g, dtype=DTYPE)))
    cases.append(dict(logits=10 * _normal(g, 2, 4), gumbel=gumbel, temperature=0.01))
    return cases


GENERATORS = {
    "mixture_log_marginal": _cases_mixture,
    "responsibilities": _cases_mixture,
    "elbo_with_entropy": _cases_elbo,
    "kl_normal": _cases_kl,
    "ascent_step": _cases_ascent,
    "affine_encoder": _cases_encoder,
    "shared_scale_encoder": _cases_shared_scale,
    "reparameterized_sample": _cases_sample,
    "score_function_surrogate": _cases_surrogate,
    "vae_loss": _cases_vae,
    "iwae_by_k": _cases_iwae_by_k,
    "cholesky_sample": _cases_cholesky,
    "planar_layer": _cases_planar,
    "relaxed_sample": _cases_relaxed,
}


# ---------------------------------------------------------------- the solutions


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def solutions(book: Path = ROOT / "book") -> dict[str, Callable]:
    """Each code exercise's solution, by the function's name, run from its master notebook."""
    found = {}
    for path in sorted(book.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = _source(cell)
            if cell["cell_type"] != "code" or "# graded:" not in source:
                continue
            namespace = {"torch": torch, "math": math}
            exec(compile(source, f"{path.name}, answer cell", "exec"), namespace)
            answer = next(v for k, v in namespace.items() if k.startswith("answer_"))
            found[answer.__name__] = answer
    return found


def build(book: Path = ROOT / "book") -> dict:
    """What vicourse/exercise_expected.json holds: for every exercise, its inputs and answers."""
    from vicourse.exercise_cases import EXERCISES, encode, weighted_sum
    from vicourse.exercises import _as_tuple  # what check() does with an answer's result

    answers = solutions(book)
    if set(answers) != set(EXERCISES) or set(GENERATORS) != set(EXERCISES):
        raise SystemExit(
            f"the exercises ({sorted(EXERCISES)}), the notebooks' solutions ({sorted(answers)}) "
            f"and the inputs here ({sorted(GENERATORS)}) must name the same functions"
        )
    stored = {}
    for name, exercise in EXERCISES.items():
        records = []
        for inputs in GENERATORS[name](torch.Generator().manual_seed(sum(map(ord, name)))):
            fresh = {
                k: v.clone().requires_grad_(k in exercise.grad_wrt)
                if isinstance(v, torch.Tensor)
                else v
                for k, v in inputs.items()
            }
            values = _as_tuple(answers[name](**fresh))
            gradients = {}
            for argument in exercise.grad_wrt:
                grad = torch.autograd.grad(
                    weighted_sum(values), fresh[argument], allow_unused=True, retain_graph=True
                )[0]
                gradients[argument] = torch.zeros_like(fresh[argument]) if grad is None else grad
            values = [v.detach() for v in values]
            records.append(
                dict(inputs=encode(inputs), values=encode(values), gradients=encode(gradients))
            )
        stored[name] = records
    return {
        "about": "Written by python .ci/expected.py from the chapters' solutions; do not edit.",
        "exercises": stored,
    }


def differences(stored, fresh, where: str = "", rtol: float = 1e-12) -> list[str]:
    """Where two builds differ: structure and inputs exactly, floats to a relative rtol."""
    if isinstance(stored, dict) and isinstance(fresh, dict):
        if set(stored) != set(fresh):
            return [f"{where or 'the file'}: keys {sorted(stored)} != {sorted(fresh)}"]
        return [d for k in stored for d in differences(stored[k], fresh[k], f"{where}/{k}", rtol)]
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            return [f"{where}: {len(stored)} entries, now {len(fresh)}"]
        found = []
        for i, (a, b) in enumerate(zip(stored, fresh, strict=True)):
            found += differences(a, b, f"{where}[{i}]", rtol)
        return found[:5]
    if isinstance(stored, float) and isinstance(fresh, float):
        tolerance = 0.0 if "/inputs/" in where else rtol * max(abs(stored), abs(fresh), 1e-300)
        same = stored == fresh or abs(stored - fresh) <= tolerance
        return [] if same else [f"{where}: {stored!r} stored, {fresh!r} now"]
    return [] if stored == fresh else [f"{where}: {stored!r} stored, {fresh!r} now"]


# ---------------------------------------------------------------- no solution in the package


def _functions(module) -> list[tuple[str, Callable]]:
    """The module's functions, and those of the classes it defines (static methods included)."""
    found = []
    for attr, obj in vars(module).items():
        if inspect.isfunction(obj):
            found.append((attr, obj))
        elif inspect.isclass(obj) and obj.__module__ == module.__name__:
            for key, member in vars(obj).items():
                member = getattr(member, "__func__", member)
                if inspect.isfunction(member):
                    found.append((f"{attr}.{key}", member))
    return found


def find_solutions(modules=None) -> list[str]:
    """Every function in vicourse (or in `modules`) that passes an exercise's check."""
    import vicourse
    from vicourse import exercises

    if modules is None:
        names = [m.name for m in pkgutil.walk_packages(vicourse.__path__, "vicourse.")]
        modules = [vicourse] + [importlib.import_module(n) for n in names]
    found, seen = [], set()
    for module in modules:
        for attr, fn in _functions(module):
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            for name, exercise in exercises.EXERCISES.items():
                try:
                    inspect.signature(fn).bind(**exercise.cases()[0].inputs)
                except (TypeError, ValueError):
                    continue
                with contextlib.redirect_stdout(io.StringIO()):
                    try:
                        passed = exercises.check(name, fn)
                    except Exception:  # a function that takes these names but not these values
                        passed = False
                if passed:
                    found.append(f"{module.__name__}.{attr} solves {name}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare, do not write")
    mode.add_argument("--scan", action="store_true", help="look for solutions in vicourse")
    args = parser.parse_args(argv)
    if args.scan:  # the vicourse that is installed, not the checkout
        import vicourse

        found = find_solutions()
        print(f"vicourse {vicourse.__version__} at {Path(vicourse.__file__).parent}:")
        print("\n".join(f"  {line}" for line in found) or "  no function in it solves an exercise")
        return 1 if found else 0
    sys.path.insert(0, str(ROOT))
    fresh = json.loads(json.dumps(build()))
    if args.check:
        stored = json.loads(STORE.read_text(encoding="utf-8"))
        stale = differences(stored, fresh)
        if stale:
            print(f"{STORE.relative_to(ROOT)} is not what the solutions give:")
            print("\n".join(f"  {line}" for line in stale))
            print("Run python .ci/expected.py and commit the file.")
            return 1
        print(f"{STORE.relative_to(ROOT)} is what the master notebooks' solutions give.")
        return 0
    STORE.write_text(json.dumps(fresh, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {STORE.relative_to(ROOT)}: {sum(map(len, fresh['exercises'].values()))} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
