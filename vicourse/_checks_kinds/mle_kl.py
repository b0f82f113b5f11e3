"""Kinds of the fitters of a model (mle.py) and of the KL divergences (kl.py)."""

from __future__ import annotations

import torch

from .. import _checks, _checks_models, _checks_values
from .._checks_spec import Kind
from .general import _with_checks, family_with_density

# Fitting a model (mle.py): its parameters, its data, EM's responsibilities.


def finite_parameters(model, name: str = "model", values: dict | None = None):
    """Every parameter of the model finite (one sync): one set to nan in place after the model
    was built is named, with where, before a fit blames its step size. `values`: the
    parameters by name as they were (a copy from before a fit), if not as they are."""
    values = values or {k: v.detach() for k, v in model.named_parameters()}
    if not values or bool(torch.stack([v.isfinite().all() for v in values.values()]).all()):
        return model
    for parameter_name, value in values.items():
        bad = ~torch.isfinite(value)
        if bool(bad.any()):
            where = bad.nonzero()[0].tolist()
            at = f" at [{', '.join(map(str, where))}]" if where else ""
            _checks.fail(
                f"{name}.{parameter_name}",
                "finite",
                f"{value[tuple(where)].item()}{at}",
                f"build the model again, or copy finite values into {name}.{parameter_name}",
                kind=_checks.FitError,
            )
    return model


def fitted_model(kind: type, fix: str) -> Kind:
    """A model of `kind` to fit: every parameter finite (finite_parameters)."""

    def check(name, value, args):
        return finite_parameters(_checks.instance(name, value, kind, fix), name)

    return Kind("model", check)


fit_data = Kind(  # data a fit trains on: the model's, in float32 or float64
    "data",
    lambda name, value, args: _checks_models.fit_precision(
        name, _checks_models.data(args["model"], value, name)
    ),
)


def responsibilities_check(name, responsibilities, args):
    """r (N, C): one distribution over the model's C labels per row of x."""
    model = args["model"]
    n, c = args["x"].shape[0], model.num_components
    fix = "pass one row per datapoint, e.g. model.posterior(x).probs"
    shape = f"(N, C) = ({n}, {c})"
    _checks.tensor("responsibilities", responsibilities, ndim=2, shape_hint=shape, fix=fix)
    if responsibilities.shape != (n, c):
        _checks.fail(
            "responsibilities", f"of shape {shape}", str(tuple(responsibilities.shape)), fix
        )
    _checks.like("responsibilities", responsibilities, "the model", model.reference())
    return _checks_values.distribution_rows("responsibilities", responsibilities)


responsibilities = Kind("data", responsibilities_check)


# KL divergences (kl.py): two distributions over the same latent, and a Monte Carlo KL's log p.


def kl_batch_shape(q_loc: torch.Tensor, p_loc: torch.Tensor, p_name: str) -> None:
    """q and p have the same K and batch shapes that broadcast."""
    if p_loc.shape[-1] != q_loc.shape[-1]:
        _checks.fail(
            p_name,
            f"a distribution over K = {q_loc.shape[-1]} dimensions, like q",
            f"one over {p_loc.shape[-1]}",
            "compare distributions of the same latent variable",
        )
    _checks.broadcast(
        p_name,
        p_loc.shape[:-1],
        q_loc.shape[:-1],
        f"of a batch shape that broadcasts with q's {tuple(q_loc.shape[:-1])}",
        "give p one row per datapoint, or a single row",
    )
    _checks.like(f"{p_name}.loc", p_loc, "q", q_loc)


def p_like_q(kind: type, fix: str, sweep_name: str = "q") -> Kind:
    """p of `kind`, over q's latent, with a batch shape that broadcasts with q's."""

    def check(name, value, args):
        _checks.instance(name, value, kind, fix)
        kl_batch_shape(args["q"].loc, value.loc, name)
        return value

    return Kind(sweep_name, check)


kl_family = family_with_density(  # a Monte Carlo KL averages log q(z) over q's draws
    "the KL averages log q over them",
    "use RelaxedCategorical(q.logits, q.temperature), or Categorical(q.logits) for the labels' KL",
    "build q with vicourse.DiagonalGaussian",
)


def log_p_check(name, value, args):
    """log_p: a callable; returned wrapped, so that what it returns is checked (shape (S, N),
    finite). The caller's function runs with the checks on, as the caller would run it."""
    if not callable(value):
        _checks.fail(
            "log_p",
            "a function z -> log p(z)",
            _checks.describe_value(value),
            "pass e.g. posterior.log_prob or lambda z: model.log_joint(x, z)",
            kind=_checks.ArgumentTypeError,
        )
    batch_ndim = len(args["q"].batch_shape)

    def checked(z):
        log_p_z = _with_checks(value, z)
        expected = z.shape[: 1 + batch_ndim]
        if not isinstance(log_p_z, torch.Tensor) or log_p_z.shape != expected:
            _checks.fail(
                "log_p",
                f"a function returning a tensor of shape (S, N) = {tuple(expected)} for z of "
                f"shape {tuple(z.shape)}",
                f"one returning {_checks.describe_value(log_p_z)}",
                "sum log p over the latent dimension K",
            )
        return _checks_values.finite("log_p(z)", log_p_z, bounded=False)

    return checked


log_p = Kind("callable", log_p_check)


def standard_error_count_check(name, value, args):
    """num_samples ≥ 2: a standard error needs two draws."""
    value = _checks.positive_int(name, value)
    if value < 2:
        _checks.fail(name, "at least 2", "1", "a standard error needs two draws")
    return value


standard_error_count = Kind("count", standard_error_count_check)
