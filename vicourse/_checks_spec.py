"""Arguments declared as data: `@validated(name=kind, ...)` on a public function or method.

    @validated(model=kinds.model(LatentModel), x=kinds.data_for("model"), q=kinds.q_for("model"))
    def log_weights(model, q, x, z):
        return model.log_joint(x, z) - q.log_prob(z)

When validation is on (`_checks.enabled`, which validation.py switches), a call binds its
arguments, checks each declared one in the order declared (a kind sees the arguments checked
before it, so `q_for("model")` knows the model and N), puts back what the check returns (an
`np.int64` count becomes an int) and runs the body with validation off, so the public functions
the body calls check nothing again. When validation is off, the body runs at once. The body
itself holds no checks.

A `Kind` is a name (the kind of bad values the test sweep feeds it: "count", "data", "q", ...;
tests/unit/test_checks_sweep.py reads `fn.__specs__`) and a check `(name, value, args) -> value`
built from the functions of _checks*.py, whose messages are the package's one table of them.
"""

from __future__ import annotations

import functools
import inspect

from . import _checks


class Kind:
    """One kind of argument: how it is checked, and (by `name`) what the sweep feeds it."""

    __slots__ = ("check", "name")

    def __init__(self, name: str, check):
        self.name = name
        self.check = check  # (argument name, value, the arguments bound so far) -> value

    def __call__(self, name: str, value, args: dict):
        return self.check(name, value, args)

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"


def optional(kind: Kind) -> Kind:
    """`kind`, or None (then nothing is checked)."""

    def check(name, value, args):
        return None if value is None else kind(name, value, args)

    return Kind(f"optional_{kind.name}", check)


def validated(*, trusted: bool = True, **specs: Kind):
    """Declare each checked argument's kind; the decorated body runs trusted (see the module).

    trusted=False: the body runs with validation as it was, for a function that passes its
    other arguments on to public functions, whose own specs check them there."""

    def wrap(fn):
        signature = inspect.signature(fn)
        unknown = set(specs) - set(signature.parameters)
        if unknown:  # a spec that names no argument is a bug in the package, found at import
            raise TypeError(f"{fn.__qualname__} has no argument {sorted(unknown)}")
        bind = _binder(signature)
        checks = tuple((name, kind.check) for name, kind in specs.items())

        @functools.wraps(fn)
        def entry(*args, **kwargs):
            if not _checks.enabled:
                return fn(*args, **kwargs)
            arguments, call = bind(args, kwargs)
            for name, check in checks:
                arguments[name] = check(name, arguments[name], arguments)
            if not trusted:
                return call(fn, arguments)
            _checks.enabled = False  # the body runs trusted; they were on at entry, as after
            try:
                return call(fn, arguments)
            finally:
                _checks.enabled = True

        entry.__specs__ = dict(specs)
        return entry

    return wrap


def _binder(signature: inspect.Signature):
    """(args, kwargs) -> ({name: value} for every parameter, defaults filled in; a function
    that calls fn with them): by hand where every parameter can be passed by name (a few times
    faster than Signature.bind), else by Signature.bind (whose TypeError for a call that fits
    no signature is Python's own)."""
    params = signature.parameters.values()
    by_name = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params)
    positional = tuple(p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD)
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    names = frozenset(signature.parameters)

    def bind(args, kwargs):
        if by_name and len(args) <= len(positional):
            arguments = {**defaults, **dict(zip(positional, args, strict=False))}
            if not any(name in kwargs for name in positional[: len(args)]):
                arguments.update(kwargs)
                if arguments.keys() == names:  # else a name unknown or missing: bind says which
                    return arguments, _by_name
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return bound.arguments, lambda fn, arguments: fn(*bound.args, **bound.kwargs)

    return bind


def _by_name(fn, arguments: dict):
    return fn(**arguments)


def specs_of(fn) -> dict[str, Kind] | None:
    """The declared kinds of a public callable (a class: of its constructor), or None."""
    target = fn.__init__ if isinstance(fn, type) else fn
    return getattr(target, "__specs__", None)
