"""The code exercises' expected answers, from the master notebooks' solutions.

    python .ci/expected.py            write vicourse/exercise_expected.json
    python .ci/expected.py --check    exit 1 if that file is not what the solutions give
    python .ci/expected.py --scan     exit 1 if the vicourse that Python imports holds a solution

Solutions live only in the master notebooks' answer cells (otter strips them from the student
notebooks; neither the package nor the autograder's tests carry them). This runs those cells on
seeded inputs and stores what `vicourse.exercises.check` compares with: inputs, outputs, gradients.
"""

import argparse
import contextlib
import functools
import importlib
import inspect
import io
import json
import math
import pkgutil
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "vicourse" / "exercise_expected.json"
DTYPE = torch.float64
RNG = torch.Generator()  # seeded with an exercise's name before its inputs are drawn
normal = functools.partial(torch.randn, generator=RNG, dtype=DTYPE)


def uniform(low, high, *shape):
    return low + (high - low) * torch.rand(*shape, generator=RNG, dtype=DTYPE)


def count(low, high):
    return int(torch.randint(low, high, (), generator=RNG))


def draw(name: str):
    """Exercise `name`'s inputs, the hard cases a careless answer gets wrong last. Each number
    depends on every draw from RNG before it: reordering the draws changes the file."""
    from vicourse.exercise_cases import conjugate_elbo, conjugate_log_joint

    RNG.manual_seed(sum(map(ord, name)))
    if name in ("mixture_log_marginal", "responsibilities"):
        for far in [False] * 4 + [True] * 2:
            k, n = count(1, 5), count(1, 6)
            weights, means = torch.softmax(normal(k), 0), 3 * normal(k)
            scales, x = uniform(0.3, 2.0, k), 4 * normal(n)
            if far:  # exp(log N) underflows to 0 here: the sum must be taken in log space
                x = torch.cat([x, torch.tensor([60.0, -80.0], dtype=DTYPE)])
            yield dict(x=x, weights=weights, means=means, scales=scales)
    elif name == "elbo_with_entropy":
        for _ in range(5):
            n, s = count(1, 5), float(uniform(0.3, 1.5, ()))
            log_joint = conjugate_log_joint(2 * normal(n), s)
            mu, sigma, eps = normal(n), uniform(0.05, 2.0, n), normal(count(1, 9), n)
            yield dict(log_joint=log_joint, mu=mu, sigma=sigma, eps=eps)
    elif name == "kl_normal":
        for n in (1, 3, 5, 8):
            mu_q, sigma_q = 2 * normal(n), uniform(0.05, 3.0, n)
            mu_p, sigma_p = 2 * normal(n), uniform(0.05, 3.0, n)
            yield dict(mu_q=mu_q, sigma_q=sigma_q, mu_p=mu_p, sigma_p=sigma_p)
        mu, sigma = normal(3), uniform(0.5, 2.0, 3)  # q = p
        yield dict(mu_q=mu, sigma_q=sigma, mu_p=mu.clone(), sigma_p=sigma.clone())
    elif name == "ascent_step":
        for lr in (0.1, 0.01, 0.5, 0.05):
            n, s = count(1, 6), float(uniform(0.3, 1.5, ()))
            elbo = conjugate_elbo(2 * normal(n), s)
            yield dict(elbo=elbo, mu=normal(n), log_sigma=0.5 * normal(n), lr=lr)
    elif name == "affine_encoder":
        for n, d, k in ((1, 1, 1), (4, 3, 2), (5, 6, 3), (2, 8, 4)):
            yield dict(x=normal(n, d), weight=0.5 * normal(2 * k, d), bias=normal(2 * k))
    elif name == "shared_scale_encoder":
        for n, d, k in ((1, 1, 1), (4, 3, 2), (5, 6, 3), (2, 8, 4)):
            weight, bias = 0.5 * normal(k, d), normal(k)
            yield dict(x=normal(n, d), weight=weight, bias=bias, log_sigma=normal(k))
    elif name == "reparameterized_sample":
        for s, n, k in ((1, 1, 1), (3, 2, 2), (5, 4, 3), (2, 6, 1)):
            yield dict(mu=normal(n, k), sigma=uniform(0.1, 2.0, n, k), eps=normal(s, n, k))
    elif name == "score_function_surrogate":
        for m, b in ((1, 0.0), (4, 0.0), (6, 1.5), (10, -0.7)):
            yield dict(r_values=3 * normal(m), log_q=normal(m) - 1, baseline=b)
    elif name == "vae_loss":
        for n, d, k in ((1, 4, 1), (3, 8, 2), (5, 16, 4), (2, 6, 3)):
            logits, x = 3 * normal(n, d), (uniform(0, 1, n, d) < 0.4).to(DTYPE)
            yield dict(logits=logits, x=x, mu=normal(n, k), log_sigma=0.5 * normal(n, k))
        logits = torch.tensor([[60.0, -60.0, 50.0, -50.0]], dtype=DTYPE)  # sigmoid: 1, 0, 1, 0
        x = torch.tensor([[0.0, 1.0, 1.0, 0.0]], dtype=DTYPE)  # confidently wrong: log 0 = −inf
        yield dict(logits=logits, x=x, mu=normal(1, 2), log_sigma=normal(1, 2))
    elif name == "iwae_by_k":
        yield dict(log_w=normal(1, 3))  # one draw: IWAE_1 is the log weight itself
        for s, n in ((4, 2), (7, 3), (30, 1)):
            yield dict(log_w=2 * normal(s, n) - 3)
        yield dict(log_w=normal(50, 4) - 1000)  # MNIST's scale: exp(−1000) is 0 in float64
    elif name == "cholesky_sample":  # all of tril random: its upper triangle must not count
        for s, n, k in ((1, 1, 1), (3, 2, 2), (2, 4, 3), (5, 1, 4)):
            yield dict(loc=normal(n, k), tril=normal(n, k, k), eps=normal(s, n, k))
    elif name == "planar_layer":
        for s, n, k in ((1, 1, 1), (3, 2, 2), (4, 3, 3), (2, 1, 5)):
            yield dict(z=normal(s, n, k), u=normal(n, k), w=normal(n, k), b=normal(n))
        w = normal(2, 3)  # at z = 0 and b = 0 the determinant 1 + uᵀw is −1, and log|−1| = 0
        u = -2 * w / w.square().sum(-1, keepdim=True)
        yield dict(z=torch.zeros(2, 2, 3, dtype=DTYPE), u=u, w=w, b=torch.zeros(2, dtype=DTYPE))
    elif name == "relaxed_sample":
        for s, n, c, tau in ((1, 1, 2, 1.0), (3, 2, 4, 0.5), (2, 3, 5, 2.0), (4, 1, 3, 0.1)):
            gumbel = -torch.log(-torch.log(uniform(0, 1, s, n, c)))
            yield dict(logits=normal(n, c), gumbel=gumbel, temperature=tau)
        gumbel = -torch.log(-torch.log(uniform(0, 1, 2, 2, 4)))  # τ = 0.01: exp overflows
        yield dict(logits=10 * normal(2, 4), gumbel=gumbel, temperature=0.01)
    else:
        raise SystemExit(f"no inputs are drawn here for the exercise {name}")


def solutions(book: Path = ROOT / "book") -> dict:
    """Each code exercise's solution, by the function's name, run from its master notebook."""
    found = {}
    for path in sorted(book.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])  # a string, or a list of lines
            if cell["cell_type"] == "code" and "# graded:" in source:
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
    if set(answers) != set(EXERCISES):
        raise SystemExit(f"exercises and solutions differ: {sorted(set(answers) ^ set(EXERCISES))}")
    stored = {name: [] for name in EXERCISES}
    for name, exercise in EXERCISES.items():
        for inputs in draw(name):
            fresh = {k: v.clone() if torch.is_tensor(v) else v for k, v in inputs.items()}
            wrt = [fresh[k].requires_grad_() for k in exercise.grad_wrt]
            values = _as_tuple(answers[name](**fresh))
            total = weighted_sum(values)
            grads = torch.autograd.grad(total, wrt, materialize_grads=True) if wrt else ()
            gradients = dict(zip(exercise.grad_wrt, grads, strict=True))
            stored[name].append(dict(inputs=inputs, values=values, gradients=gradients))
    about = "Written by python .ci/expected.py from the chapters' solutions; do not edit."
    return {"about": about, "exercises": encode(stored)}


def differences(stored, fresh, where: str = "", rtol: float = 1e-12) -> list[str]:
    """Where two builds differ: structure and inputs exactly, floats to a relative rtol."""
    if isinstance(stored, dict) and isinstance(fresh, dict):
        if set(stored) != set(fresh):
            return [f"{where or 'the file'}: keys {sorted(stored)} != {sorted(fresh)}"]
        return [d for k in stored for d in differences(stored[k], fresh[k], f"{where}/{k}", rtol)]
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            return [f"{where}: {len(stored)} entries, now {len(fresh)}"]
        pairs = enumerate(zip(stored, fresh, strict=True))
        return [d for i, (a, b) in pairs for d in differences(a, b, f"{where}[{i}]", rtol)][:5]
    same = stored == fresh
    if isinstance(stored, float) and isinstance(fresh, float) and "/inputs/" not in where:
        same = same or abs(stored - fresh) <= rtol * max(abs(stored), abs(fresh), 1e-300)
    return [] if same else [f"{where}: {stored!r} stored, {fresh!r} now"]


def find_solutions(modules=None) -> list[str]:
    """Every function in vicourse (or in `modules`, their classes' included) that passes a check."""
    import vicourse
    from vicourse import exercises

    if modules is None:
        names = [m.name for m in pkgutil.walk_packages(vicourse.__path__, "vicourse.")]
        modules = [vicourse] + [importlib.import_module(n) for n in names]
    functions = {}  # each function once, under the first name it is found by
    for module in modules:
        for attr, obj in vars(module).items():
            members = {attr: obj}
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                members = {f"{attr}.{k}": getattr(m, "__func__", m) for k, m in vars(obj).items()}
            for where, fn in members.items():
                if inspect.isfunction(fn):
                    functions.setdefault(fn, f"{module.__name__}.{where}")
    first = {name: exercise.cases()[0].inputs for name, exercise in exercises.EXERCISES.items()}
    found = []
    for fn, where in functions.items():
        for name, inputs in first.items():
            with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
                inspect.signature(fn).bind(**inputs)  # a function that takes these names
                if exercises.check(name, fn):  # and passes (one that raises solves nothing)
                    found.append(f"{where} solves {name}")
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
    fresh, store = json.loads(json.dumps(build())), STORE.relative_to(ROOT)
    if not args.check:
        STORE.write_text(json.dumps(fresh, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {store}: {sum(map(len, fresh['exercises'].values()))} cases")
        return 0
    stale = differences(json.loads(STORE.read_text(encoding="utf-8")), fresh)
    if stale:
        print(f"{store} is not what the solutions give:", *(f"  {d}" for d in stale), sep="\n")
        print("Run python .ci/expected.py and commit the file.")
        return 1
    print(f"{store} is what the master notebooks' solutions give.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
