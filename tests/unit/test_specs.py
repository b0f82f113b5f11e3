"""Every public callable declares its arguments as data (`@validated`, vicourse/_checks_spec.py),
and the sweep of bad inputs (test_checks_sweep.py) reads those declarations: a new public function
cannot be added without a spec, and its spec decides which bad values it is fed."""

import ast
import inspect
import textwrap

import pytest

import vicourse
from vicourse._checks_spec import specs_of

# Not callables that take arguments from a learner: errors, result records (NamedTuples and
# dataclasses made by the package), modules listed below member by member.
RECORDS = {
    "ArgumentError",
    "ArgumentTypeError",
    "FitError",
    "DataUnavailable",
    "Estimate",
    "LocalFit",
    "Gaps",
    "AmortizationGap",
    "GradientSNR",
    "History",
    "Images",
}
MODULES = {"exercises": vicourse.exercises, "runtime": vicourse.runtime}


def abstract(fn) -> bool:
    """A method a subclass implements: its body only raises NotImplementedError."""
    body = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0].body
    body = [b for b in body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
    return len(body) == 1 and "NotImplementedError" in ast.unparse(body[0])


def defined_here(obj) -> bool:
    return getattr(obj, "__module__", "").startswith("vicourse")


def public_callables():
    """(name, function) for every public function, constructor and public method reachable
    from vicourse.__all__ (methods inherited from torch are not the package's)."""
    seen = set()
    for name in vicourse.__all__:
        obj = getattr(vicourse, name)
        if name in RECORDS:
            continue
        if name in MODULES:
            for member, fn in vars(obj).items():
                if (
                    not member.startswith("_")
                    and inspect.isfunction(fn)
                    and fn.__module__ == obj.__name__
                ):
                    yield f"{name}.{member}", fn
            continue
        if not isinstance(obj, type):
            yield name, obj
            continue
        for klass in obj.__mro__:
            if not defined_here(klass):
                continue
            for attr, member in vars(klass).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(member, property) or not callable(
                    getattr(member, "__func__", member)
                ):
                    continue
                key = f"{klass.__name__}.{attr}"
                if key not in seen:
                    seen.add(key)
                    yield key, getattr(member, "__func__", member)


CALLABLES = dict(public_callables())


def test_the_enumeration_finds_the_api():
    assert {"elbo_pathwise", "DiagonalGaussian.__init__", "VAE.loss", "exercises.verify"} <= set(
        CALLABLES
    )


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_every_public_callable_declares_every_argument(name):
    fn = CALLABLES[name]
    wanted = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if not wanted or abstract(fn):
        return  # nothing to declare; an abstract method is declared where it is implemented
    specs = specs_of(fn)
    assert specs is not None, f"{name} has no @validated spec"
    missing = [p.name for p in wanted if p.name not in specs]
    assert not missing, f"{name}: no kind declared for {missing}"
