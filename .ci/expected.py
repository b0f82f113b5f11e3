"""The code exercises' expected answers, from the master notebooks' solutions.

    python .ci/expected.py            write vicourse/exercise_expected.json
    python .ci/expected.py --check    exit 1 if that file is not what the solutions give
    python .ci/expected.py --scan     exit 1 if the vicourse that Python imports holds a solution

Solutions live only in the master notebooks' answer cells (otter strips them from the student
notebooks; neither the package nor the autograder's tests carry them). This runs those cells on
seeded inputs (vicourse.exercise_cases.draw) and stores what `vicourse.exercises.check` compares
with: inputs, outputs, gradients.
"""

import argparse
import contextlib
import importlib
import inspect
import io
import json
import math
import pkgutil
import sys
import unittest.mock
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "vicourse" / "exercise_expected.json"


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
    from vicourse.exercise_cases import EXERCISES, draw, encode, stored_seed, weighted_sum
    from vicourse.exercises import _as_tuple  # what check() does with an answer's result

    answers = solutions(book)
    if set(answers) != set(EXERCISES):
        raise SystemExit(f"exercises and solutions differ: {sorted(set(answers) ^ set(EXERCISES))}")
    stored = {name: [] for name in EXERCISES}
    for name, exercise in EXERCISES.items():
        for inputs in draw(name, stored_seed(name)):
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
    # the package's functions are off limits to an answer; here they are what is looked at
    with unittest.mock.patch.dict(exercises.OFF_LIMITS, clear=True):
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
