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

        @functools.wraps(fn)
        def entry(*args, **kwargs):
            if not _checks.enabled:
                return fn(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = bound.arguments
            for name, kind in specs.items():
                arguments[name] = kind(name, arguments[name], arguments)
            if not trusted:
                return fn(*bound.args, **bound.kwargs)
            _checks.enabled = False  # validation.TRUSTED's effect, without the import cycle
            try:
                return fn(*bound.args, **bound.kwargs)
            finally:
                _checks.enabled = True

        entry.__specs__ = dict(specs)
        entry.__wrapped__ = fn
        return entry

    return wrap


def specs_of(fn) -> dict[str, Kind] | None:
    """The declared kinds of a public callable (a class: of its constructor), or None."""
    target = fn.__init__ if isinstance(fn, type) else fn
    return getattr(target, "__specs__", None)
