"""Kinds of every module: Python numbers, devices, models, data, draws, q, estimators."""

from __future__ import annotations

import torch

from .. import _checks, _checks_models, _checks_values
from .. import families as _families  # a module: families.py declares its kinds from here
from .._checks_spec import Kind
from ..validation import validation_enabled


def device_of(value) -> torch.device:
    """Where an argument's draws are made: a tensor's, a family's or a model's device."""
    if isinstance(value, torch.Tensor):
        return value.device
    if isinstance(value, _families.Family):
        return next(iter(value.params().values())).device
    return value.reference().device


# Python numbers and objects.

count = Kind("count", lambda name, value, args: _checks.positive_int(name, value))
positive = Kind("positive", lambda name, value, args: _checks.positive(name, value))
real = Kind("real", lambda name, value, args: _checks.real(name, value))
flag = Kind("flag", lambda name, value, args: _checks.boolean(name, value))
dtype = Kind("dtype", lambda name, value, args: _checks.dtype(name, value))
device = Kind("device", lambda name, value, args: _checks.device(name, value))


def count_or_zero_check(name, value, args):
    return 0 if _is_zero(value) else _checks.positive_int(name, value)


def _is_zero(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value == 0


count_or_zero = Kind("count_or_zero", count_or_zero_check)


def generator_for(source: str) -> Kind:
    """A torch.Generator (or None) on the device of the argument `source`."""

    def check(name, value, args):
        _checks.generator(value, device_of(args[source]))
        return value

    return Kind("generator", check)


def instance(kind: type | tuple[type, ...], fix: str, sweep_name: str = "model") -> Kind:
    """An object of `kind` (e.g. a LatentModel), nothing more."""
    return Kind(sweep_name, lambda name, value, args: _checks.instance(name, value, kind, fix))


def model(kind: type, fix: str = "use a vicourse model") -> Kind:
    return instance(kind, fix, "model")


# Tensors, judged against a model.


def data_for(model_arg: str = "model") -> Kind:
    """Data x (N, D) for the model in argument `model_arg` (_checks_models.data)."""
    return Kind("data", lambda name, value, args: _checks_models.data(args[model_arg], value, name))


def q_for(model_arg: str = "model", x_arg: str = "x") -> Kind:
    """A q with one row per datapoint of `x_arg`, over the model's latent."""

    def check(name, value, args):
        return _checks_models.q(args[model_arg], value, args[x_arg].shape[0])

    return Kind("q", check)


def draws_for(model_arg: str = "model", x_arg: str | None = "x") -> Kind:
    """Latent draws z, samples first, for the model (and N rows of `x_arg`, if given)."""

    def check(name, value, args):
        n = None if x_arg is None else args[x_arg].shape[0]
        return _checks_models.draws(args[model_arg], value, n)

    return Kind("data", check)


def sized(name: str, value, too_small: bool, expected: str, fix: str, *, bounded=True):
    """A tensor whose shape was checked: refused as `expected` if `too_small` (a size 0, or too
    few draws), else its values checked finite (and, if bounded, within the dtype's range)."""
    if too_small:
        _checks.fail(name, expected, str(tuple(value.shape)), fix)
    return _checks_values.finite(name, value, bounded=bounded)


def log_w_check(name, value, args):
    """log w is (S, N) with S ≥ 1 draws, finite."""
    _checks.tensor("log_w", value, ndim=2, shape_hint="(S, N)", fix="pass log_weights(...)")
    expected = "of shape (S, N) with S ≥ 1 draws"
    too_few = value.shape[0] == 0
    return sized("log_w", value, too_few, expected, "draw at least one sample", bounded=False)


log_w = Kind("data", log_w_check)


def values_check(name, values, args):
    """Draws of a quantity, samples first: (S, ...) with S ≥ 2, for a standard error."""
    _checks.tensor("values", values)
    expected = "of shape (S, ...) with S ≥ 2 draws first"
    too_few = values.ndim < 1 or values.shape[0] < 2
    fix = "a standard error needs at least two draws"
    return sized("values", values, too_few, expected, fix, bounded=False)


draws_of_values = Kind("data", values_check)

# Estimators: a q to draw from, a function of the draws, a baseline.


def family(fix: str = "build one with DiagonalGaussian(loc, log_scale)") -> Kind:
    return Kind(
        "any_q", lambda name, value, args: _checks.instance(name, value, _families.Family, fix)
    )


def family_with_density(
    why: str, fix: str, build: str = "build one with DiagonalGaussian(loc, log_scale)"
) -> Kind:
    """A Family with a log density at its own draws (has_density); `why` says who weighs them
    by log q (the score function, a Monte Carlo KL)."""

    def check(name, value, args):
        _checks.instance(name, value, _families.Family, build)
        if not value.has_density:
            _checks.fail(
                name,
                f"a family with a density at its draws ({why})",
                f"a {type(value).__name__}, whose one-hot draws have none",
                fix,
            )
        return value

    return Kind("any_q", check)


scored_family = family_with_density(
    "the score function weighs them by log q",
    "use Categorical(q.logits) for the score function, or pathwise with this q",
)


def draws_count(q_arg: str = "q", *, pathwise: bool) -> Kind:
    """num_samples for draws from the q in `q_arg` (which must have rsample if pathwise)."""

    def check(name, value, args):
        value = _checks.positive_int(name, value)
        q = args[q_arg]
        if pathwise and not q.has_rsample:
            _checks.fail(
                "q",
                "a family with rsample (a reparameterizable q)",
                f"a {type(q).__name__}, which has none",
                "use the score-function estimator",
            )
        return value

    return Kind("count", check)


def callback_check(name, value, args):
    """f: a callable; returned wrapped, so that what it returns is checked too (shape (S, N),
    finite): the body then calls f as it is given, and trusted calls skip the wrapper."""
    if not callable(value):
        _checks.fail(
            "f",
            "a function z -> f(z) of shape (S, N)",
            _checks.describe_value(value),
            "pass e.g. lambda z: z.square().sum(-1)",
            kind=_checks.ArgumentTypeError,
        )
    q = args["q"]

    def checked(z):
        values = _with_checks(value, z)  # the caller's code, checked as at the call's entry
        expected = z.shape[: 1 + len(q.batch_shape)]
        if not isinstance(values, torch.Tensor) or values.shape != expected:
            _checks.fail(
                "f",
                f"a function returning shape (S, N) = {tuple(expected)}",
                f"one returning {_checks.describe_value(values)}",
                "sum over the latent dimension K inside f",
            )
        like = next(iter(q.params().values()))
        if values.dtype != like.dtype:  # an int f breaks the mean; a float32 one loses q's float64
            _checks.fail(
                "f",
                f"a function returning {like.dtype} values, like q",
                f"one returning {values.dtype}",
                f"compute f in q's dtype, e.g. return values.to({like.dtype})",
            )
        _checks_values.finite("f(z)", values, bounded=False)
        return values

    return checked


callback = Kind("callable", callback_check)


def _rows_and_like(value) -> tuple[int, torch.Tensor]:
    """N and a tensor whose dtype and device a baseline must share: x's, or q's first."""
    if isinstance(value, torch.Tensor):
        return value.shape[0], value
    like = next(iter(value.params().values()))
    return (value.batch_shape[0] if len(value.batch_shape) else 1), like


def baseline_for(rows_arg: str, count_arg: str = "num_samples") -> Kind:
    """None, a number, an (N,) tensor like the values of f, or 'leave-one-out' with S ≥ 2; N
    and the dtype from the argument `rows_arg` (x, or q)."""

    def check(name, baseline, args):
        n, like = _rows_and_like(args[rows_arg])
        num_samples = args[count_arg]
        if baseline is None:
            return baseline
        if isinstance(baseline, str):
            if baseline != "leave-one-out":
                _checks.fail(
                    "baseline",
                    "None, a number, an (N,) tensor or 'leave-one-out'",
                    repr(baseline),
                    "pass baseline='leave-one-out'",
                )
            if num_samples < 2:
                _checks.fail(
                    "num_samples",
                    "at least 2 with baseline='leave-one-out'",
                    str(num_samples),
                    "draw two or more samples",
                )
        elif isinstance(baseline, torch.Tensor):
            _checks.like("baseline", baseline, "the samples", like)
            if baseline.ndim > 1 or baseline.numel() not in (1, n):
                _checks.fail(
                    "baseline",
                    f"a number or a tensor of shape (N,) = ({n},)",
                    str(tuple(baseline.shape)),
                    "one baseline per datapoint",
                )
            _checks_values.finite("baseline", baseline.detach(), bounded=False)
        else:
            _checks.real("baseline", baseline)
        return baseline

    return Kind("baseline", check)


_CHECKED = validation_enabled(True)  # reentrant: one switch serves every caller


def _with_checks(fn, *args, **kwargs):
    """The caller's own code, fn(...), with the checks on, as they were where the call entered
    (a kind runs only then), inside the trusted body that calls it."""
    with _CHECKED:
        return fn(*args, **kwargs)
