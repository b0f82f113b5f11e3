"""Kinds of the models (contracts, models, mixture, bernoulli_mixture)."""

from __future__ import annotations

import torch

from .. import _checks, _checks_models, _checks_values
from .._checks_spec import Kind, optional
from .general import sized

# --- kinds: models ---
# The models' arguments (contracts, models, mixture, bernoulli_mixture; "self" is the model a
# method belongs to), their fitters (mle) and the KL divergences (kl).


def _dtype_of(value) -> torch.dtype:
    """The dtype a number is judged in: a dtype itself, a tensor's, or a model's."""
    if isinstance(value, torch.dtype):
        return value
    return value.dtype if isinstance(value, torch.Tensor) else value.reference().dtype


def real_in(source: str) -> Kind:
    """A finite number that the dtype of the argument `source` can carry (a model constant)."""

    def check(name, value, args):
        value = _checks.real(name, value)
        return _checks_values.real_in_dtype(name, value, _dtype_of(args[source]))

    return Kind("real", check)


def scale_in(source: str) -> Kind:
    """A scale σ > 0 whose square stays finite and nonzero in the dtype of `source`."""

    def check(name, value, args):
        value = _checks.positive(name, value)
        return _checks_values.scale_in_dtype(name, value, _dtype_of(args[source]))

    return Kind("positive", check)


def latent_for(model_arg: str = "self") -> Kind:
    """Any (..., K) batch of latent values of the model (what sample_likelihood takes)."""
    return Kind(
        "data",
        lambda name, value, args: _checks_models.latent(
            args[model_arg], value, fix="draw z with sample_prior"
        ),
    )


def labels_for(model_arg: str = "self", x_arg: str | None = None) -> Kind:
    """Labels z of a mixture: (S, N) samples first (N rows of `x_arg`, if given)."""

    def check(name, value, args):
        n = None if x_arg is None else args[x_arg].shape[0]
        return _checks_models.labels(args[model_arg], value, n)

    return Kind("labels", check)


any_labels = Kind(  # labels of any shape, not samples first (what sample_likelihood takes)
    "labels",
    lambda name, value, args: _checks_models.labels(args["self"], value, samples_first=False),
)


def closed_form_q(family_: type, fix: str) -> Kind:
    """A q of the family whose ELBO the model has in closed form, one row per row of x."""

    def check(name, value, args):
        _checks.instance("q", value, family_, fix)
        return _checks_models.q(args["self"], value, args["x"].shape[0])

    return Kind("q", check)


def labels_or_points(check_points) -> Kind:
    """BernoulliMixture's z: labels (S, N), or relaxed draws (S, N, C), points of the simplex
    (check_points: relaxed.py's check, passed in)."""

    def check(name, z, args):
        model, n = args["self"], args["x"].shape[0]
        if isinstance(z, torch.Tensor) and z.is_floating_point():
            fix = "pass q.rsample(S) of a RelaxedCategorical, or labels (S, N)"
            check_points("z", z, (n, model.num_components), fix, closed=True)
            return _checks.like("z", z, "the model", model.reference())
        return _checks_models.labels(model, z, n)

    return Kind("labels", check)


def linear_weight_check(name, weight, args):
    _checks.tensor("weight", weight, ndim=2, shape_hint="(D, K)", fix="W maps z to x: (D, K)")
    expected = "of shape (D, K) with D, K ≥ 1"
    return sized("weight", weight, 0 in weight.shape, expected, "pass a nonempty matrix")


def linear_bias_check(name, bias, args):
    weight = args["weight"]
    d = weight.shape[0]
    _checks.tensor("bias", bias, ndim=1, last=d, shape_hint=f"(D,) = ({d},)")
    _checks.like("bias", bias, "weight", weight)
    return _checks_values.finite("bias", bias)


linear_weight = Kind("data", linear_weight_check)
linear_bias = optional(Kind("data", linear_bias_check))


def mixture_loc_check(name, loc, args):
    _checks.tensor("loc", loc, ndim=2, shape_hint="(C, D)", fix="one row per component")
    expected = "of shape (C, D) with C ≥ 1 components and D ≥ 1"
    fix = "a mixture needs at least one component"
    return sized("loc", loc, 0 in loc.shape, expected, fix)


def mixture_logits_check(name, logits, args):
    loc = args["loc"]
    c = loc.shape[0]
    _checks.tensor(
        "logits", logits, ndim=1, last=c, shape_hint=f"(C,) = ({c},), one per row of loc"
    )
    _checks.like("logits", logits, "loc", loc)
    return _checks_values.finite("logits", logits)


def mixture_log_scale_check(name, log_scale, args):
    loc = args["loc"]
    c, d = loc.shape
    _checks.tensor("log_scale", log_scale, ndim=2, shape_hint=f"(C, D) = ({c}, {d})")
    if log_scale.shape != loc.shape:
        _checks.fail(
            "log_scale",
            f"of shape (C, D) = ({c}, {d}), like loc",
            str(tuple(log_scale.shape)),
            "give every component a log σ per dimension",
        )
    _checks.like("log_scale", log_scale, "loc", loc)
    return _checks_values.scale_tensor("log_scale", log_scale)


mixture_loc = Kind("data", mixture_loc_check)
mixture_logits = Kind("data", mixture_logits_check)
mixture_log_scale = Kind("data", mixture_log_scale_check)


def image_logits_check(name, image_logits, args):
    _checks.tensor("image_logits", image_logits, ndim=2, shape_hint="(C, D)")
    no_pixels = image_logits.shape[1] == 0
    expected, fix = "of shape (C, D) with D ≥ 1 pixels", "give each component one logit per pixel"
    return sized("image_logits", image_logits, no_pixels, expected, fix)


def bernoulli_logits_check(name, logits, args):
    image_logits = args["image_logits"]
    c = image_logits.shape[0]
    _checks.tensor("logits", logits, ndim=1, shape_hint=f"(C,) = ({c},), like image_logits")
    if logits.shape[0] != c or c < 2:
        _checks.fail(
            "logits",
            f"of shape (C,) with C ≥ 2, one per row of image_logits ({c})",
            str(tuple(logits.shape)),
            "pass one mixing logit per component",
        )
    _checks.like("logits", logits, "image_logits", image_logits)
    return _checks_values.finite("logits", logits)


image_logits = Kind("data", image_logits_check)
bernoulli_logits = Kind("data", bernoulli_logits_check)
