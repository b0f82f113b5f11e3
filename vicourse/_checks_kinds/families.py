"""Kinds of the variational families: the shared ones, DiagonalGaussian, Categorical."""

from __future__ import annotations

import torch

from .. import _checks, _checks_values
from .._checks_spec import Kind
from .general import count, generator_for, sized

# --- kinds: families ---
# The variational families' (families.py to flows.py): each parameter is judged against those
# declared before it (log_scale against loc), a method's argument against q itself (args["self"]).

unchecked = Kind("unchecked", lambda name, value, args: value)  # any value: say why where used
own_generator = generator_for("self")  # a family's draws are made where its parameters live
drawing = dict(num_samples=count, generator=own_generator)  # q.rsample's and q.sample's


def check_draws(z, loc: torch.Tensor) -> torch.Tensor:
    """z is draws of a q over K-vectors whose parameters are shaped like loc (..., K): a tensor
    (S, ..., K) of loc's dtype and device, whose leading axes broadcast with loc's, finite.
    The z check of every continuous family's log_prob."""
    k = loc.shape[-1]
    _checks.tensor("z", z, last=k, shape_hint=f"(S, ..., {k})", fix="draw z with q.rsample(S)")
    _checks.like("z", z, "q", loc)
    _checks.broadcast(
        "z",
        z.shape,
        loc.shape,
        f"of a shape that broadcasts with q's {tuple(loc.shape)}",
        "draw z with q.rsample(S), shape (S, N, K)",
    )
    return _checks_values.finite("z", z)


draws_of_q = Kind("data", lambda name, z, args: check_draws(z, args["self"].loc))


def _to_arguments_check(name, value, args):
    """q.to's *args and **kwargs, tried on an empty tensor like q's parameters; the new q's
    constructor then checks what they made (q.to runs untrusted)."""
    like = next(iter(args["self"].params().values()))
    try:
        like.new_empty(0).to(*args["args"], **args["kwargs"])
    except (TypeError, RuntimeError, ValueError) as error:
        _checks.fail(
            "args",
            "arguments of torch.Tensor.to (a dtype, a device, or both)",
            f"{args['args']!r} and {args['kwargs']!r}",
            f"torch says: {str(error).splitlines()[0]}; e.g. q.to(torch.float64)",
        )
    return value


to_arguments = Kind("unchecked", _to_arguments_check)


def diagonal_q(kind: type) -> Kind:
    """A DiagonalGaussian (`kind`, passed in: gaussian.py imports this module) with (N, K)
    parameters, one row per datapoint: what from_diagonal builds on."""

    def check(name, q, args):
        _checks.instance("q", q, kind, "pass a DiagonalGaussian")
        if q.loc.ndim != 2:
            _checks.fail(
                "q",
                "a DiagonalGaussian with (N, K) parameters",
                f"one with loc of shape {tuple(q.loc.shape)}",
                "pass one row of parameters per datapoint",
            )
        return q

    return Kind("any_q", check)


# DiagonalGaussian (gaussian.py): loc (..., K); log_scale broadcasting with it; or scale > 0.


def _loc_check(name, loc, args):
    _checks.tensor("loc", loc, fix="pass μ with the latent dimension K last")
    return _checks_values.finite("loc", loc)


def _log_scale_check(name, log_scale, args):
    loc = args["loc"]
    _checks.tensor("log_scale", log_scale)
    _checks.like("log_scale", log_scale, "loc", loc)
    shape = _checks.broadcast(
        "log_scale",
        log_scale.shape,
        loc.shape,
        f"of a shape that broadcasts with loc's {tuple(loc.shape)}",
        "give it loc's shape, or (K,) to share it across datapoints",
    )
    if len(shape) == 0 or shape[-1] == 0:
        _checks.fail(
            "loc",
            "of shape (..., K) with K ≥ 1 latent dimensions last",
            str(tuple(shape)),
            "for one latent dimension use shape (N, 1)",
        )
    return _checks_values.scale_tensor("log_scale", log_scale)


def _scale_check(name, scale, args):
    _checks.tensor("scale", scale)
    return _checks_values.positive_tensor("scale", scale)


gaussian_loc = Kind("data", _loc_check)
gaussian_log_scale = Kind("data", _log_scale_check)
gaussian_scale = Kind("data", _scale_check)

# Categorical (categorical.py): logits (..., C), or probability rows; labels z for log_prob.


def _logits_check(name, logits, args):
    _checks.tensor("logits", logits, fix="pass (N, C) logits, one row per datapoint")
    expected = "of shape (..., C) with C ≥ 1 categories last"
    empty = logits.ndim < 1 or logits.shape[-1] == 0
    return sized("logits", logits, empty, expected, "pass one logit per category")


def _probs_check(name, probs, args):
    _checks.tensor("probs", probs)
    return _checks_values.distribution_rows("probs", probs)


def _labels_check(name, z, args):
    q = args["self"]
    c = q.num_categories
    if not isinstance(z, torch.Tensor) or z.dtype != torch.long:
        _checks.fail(
            "z",
            f"an int64 tensor of labels 0..{c - 1}",
            _checks.describe_value(z),
            "draw it with q.sample(S)",
            kind=_checks.ArgumentTypeError,
        )
    try:
        shape = torch.broadcast_shapes(z.shape, q.batch_shape)
    except RuntimeError:
        shape = None
    if shape != z.shape:
        _checks.fail(
            "z",
            f"labels of shape (S, ...) = (S, {', '.join(map(str, q.batch_shape))})",
            str(tuple(z.shape)),
            "draw z with q.sample(S)",
        )
    return _checks_values.label_range("z", z, c)


categorical_logits = Kind("data", _logits_check)
categorical_probs = Kind("data", _probs_check)
labels_of_q = Kind("labels", _labels_check)
