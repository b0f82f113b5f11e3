"""Checks of the arguments a model's methods take: data x, latent draws z, latent values, a q.

They read what a model declares (data_dim, latent_dim, `discrete` and num_components for a
discrete z, `data_range` for a likelihood with bounded data, the prior's family) and hold none of
its mathematics, so that contracts.py reads as the contract alone. Each takes the argument's
name, so an error names the argument the caller passed (x_test, x_samples, …).
"""

from __future__ import annotations

import torch

from . import _checks, _checks_values
from .families import Family


def data(model, x, name: str = "x") -> torch.Tensor:
    """x is (N, D) data on the model's device and dtype, finite, in the model's data_range."""
    d = model.data_dim
    _checks.tensor(
        name,
        x,
        ndim=2,
        last=d,
        shape_hint=f"(N, {d}) for this model (data_dim={d})",
        fix="one row per datapoint; a single x is x[None, :]",
    )
    if x.shape[0] == 0:
        _checks.fail(name, "at least one datapoint", "an empty (0, D) tensor", "pass data")
    like = model.reference()
    if (x.dtype, x.device) != (like.dtype, like.device):
        _checks.like(name, x, "the model", like)
    _checks_values.finite(name, x)
    if model.data_range is not None:
        low, high = model.data_range
        if bool(((x < low) | (x > high)).any()):
            _checks.fail(
                name,
                f"pixel values in [{low:g}, {high:g}] (the Bernoulli likelihood's range)",
                f"values from {x.min().item():.3g} to {x.max().item():.3g}",
                "binarize the images (a pixel is 1 where it is at least half the brightest), "
                "as vicourse.load_images does",
            )
    return x


def fit_precision(name: str, value: torch.Tensor) -> torch.Tensor:
    """Data a fit trains on: float32 or float64. In float16 and bfloat16 Adam's eps (1e-8)
    rounds to 0 or drowns, and sums over pixels lose whole nats, so a fit would stop on nan."""
    if value.dtype not in (torch.float32, torch.float64):
        _checks.fail(
            name,
            "float32 or float64 to train on (Adam's eps, 1e-8, is lost in 16-bit floats)",
            str(value.dtype),
            f"convert the model and {name} with .float()",
        )
    return value


def draws(model, z, n: int | None = None) -> torch.Tensor:
    """z is latent draws, samples first, like the model: (S, N, K), or (S, N) labels."""
    if model.discrete:
        return labels(model, z, n)
    hint = "draw z with q.rsample(num_samples) or model.sample_prior(num_samples, n)"
    _checks.samples("z", z, n=n, k=model.latent_dim, hint=hint)
    _checks.like("z", z, "the model", model.reference())
    return _checks_values.finite("z", z)


def labels(model, z, n: int | None = None, *, samples_first: bool = True) -> torch.Tensor:
    """z is int64 labels 0..C−1 on the model's device: (S, N), or any shape if not samples-first."""
    c = model.num_components
    if samples_first:
        _checks_values.labels_shape("z", z, n=n, num_components=c)
    elif not isinstance(z, torch.Tensor) or z.dtype != torch.long:
        _checks.fail(
            "z",
            "an int64 tensor of component labels",
            _checks.describe_value(z),
            "draw it with model.sample_prior(num_samples, n)",
            kind=_checks.ArgumentTypeError,
        )
    _checks.like("z", z, "the model", model.reference().new_empty(0, dtype=torch.long))
    return _checks_values.label_range("z", z, c)


def latent(model, z, fix: str = "draw z with model.sample_prior") -> torch.Tensor:
    """z is any (..., K) batch of latent values (not only samples-first), like the model."""
    k = model.latent_dim
    _checks.tensor("z", z, last=k, shape_hint=f"(..., {k})", fix=fix)
    _checks.like("z", z, "the model", model.reference())
    return _checks_values.finite("z", z)


def q(model, q, n: int) -> Family:
    """q is a Family with one distribution per datapoint, over this model's latent."""
    _checks.instance("q", q, Family, "build one with DiagonalGaussian(loc, log_scale)")
    event = () if model.discrete else (model.latent_dim,)  # the prior's event shape
    if tuple(q.event_shape) != event:
        _checks.fail(
            "q",
            f"a distribution over z of shape {event}, like the model's latent",
            f"a {type(q).__name__} over z of shape {tuple(q.event_shape)}",
            f"build q with the model's latent_dim = {model.latent_dim}",
        )
    params = q.params()
    if model.discrete:  # the number of categories, as in the prior's
        c = model.num_components
        for name, value in params.items():
            if value.shape[-1] != c:
                _checks.fail(
                    f"q.{name}",
                    f"of shape (N, {c}), like the model's prior",
                    str(tuple(value.shape)),
                    f"build q with {c} columns",
                )
    if tuple(q.batch_shape) != (n,):
        _checks.fail(
            "q",
            f"one distribution per datapoint, batch shape (N,) = ({n},)",
            f"batch shape {tuple(q.batch_shape)}",
            "expand a shared q to N rows, e.g. DiagonalGaussian(loc.expand(N, K), log_scale)",
        )
    like = model.reference()
    for name, value in params.items():  # `like` names the first that differs
        if value.is_floating_point() and (value.dtype, value.device) != (like.dtype, like.device):
            _checks.like(f"q.{name}", value, "the model", like)
    return q


def model_q_x(model, q_, x, kind: type, fix: str = "use a vicourse model") -> int:
    """The arguments of a bound or an estimator: a model of `kind`, data x for it, and a q with
    one row per datapoint. Returns N."""
    _checks.instance("model", model, kind, fix)
    n = data(model, x).shape[0]
    q(model, q_, n)
    return n
