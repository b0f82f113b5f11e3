"""Kinds of local VI (local_vi.py), the gaps (gaps.py) and the SNR (snr.py)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence

import torch

from .. import _checks, _checks_models
from .._checks_spec import Kind
from .general import _with_checks, baseline_for, count_or_zero_check, draws_count

# local VI, gaps, SNR


def fit_data_for(model_arg: str = "model", encoder_arg: str | None = None) -> Kind:
    """Data x a fit trains on: data_for the model, in float32 or float64 (fit_precision), and
    where the encoder in `encoder_arg` is, if one is named."""

    def check(name, value, args):
        _checks_models.fit_precision(name, _checks_models.data(args[model_arg], value, name))
        if encoder_arg is not None:
            _checks.like(name, value, "the encoder", args[encoder_arg].input_loc)
        return value

    return Kind("data", check)


def encoder_for(kind: type, model_arg: str = "model") -> Kind:
    """An encoder (a `kind`, GaussianEncoder, passed in by its module) from the model's D to K."""

    def check(name, value, args):
        _checks.instance(name, value, kind, "build one with GaussianEncoder(D, K)")
        model_ = args[model_arg]
        if model_.discrete:  # an encoder's q is a DiagonalGaussian: a continuous z
            _checks.fail(
                "model",
                "a model with a continuous z, for an encoder's Gaussian q",
                f"a {type(model_).__name__}, whose z is a label",
                "fit a discrete z per datapoint with fit_local, or use a model with a Gaussian z",
            )
        if value.latent_dim != model_.latent_dim or value.data_dim != model_.data_dim:
            _checks.fail(
                "encoder",
                f"an encoder from D = {model_.data_dim} to K = {model_.latent_dim}, like the model",
                f"one from {value.data_dim} to {value.latent_dim}",
                "build it with GaussianEncoder(model.data_dim, model.latent_dim)",
            )
        return value

    return Kind("encoder", check)


def check_estimator(estimator) -> None:
    """An ELBO estimator (a function like elbo_pathwise), or None for the default."""
    if estimator is not None and (isinstance(estimator, str) or not callable(estimator)):
        _checks.fail(
            "estimator",
            "an ELBO estimator such as vicourse.elbo_pathwise or vicourse.elbo_score_function",
            _checks.describe_value(estimator),
            "pass the function itself, e.g. estimator=vicourse.elbo_score_function",
            kind=_checks.ArgumentTypeError,
        )


def check_baseline_taken(estimator, baseline) -> None:
    """A baseline only for an estimator that takes one (the score function's)."""
    from ..estimators import elbo_pathwise  # lazily: estimators imports this module

    try:
        takes = "baseline" in inspect.signature(estimator).parameters
    except (TypeError, ValueError):  # a callable without a signature: let it decide
        takes = True
    if baseline is not None and (estimator is elbo_pathwise or not takes):
        _checks.fail(
            "baseline",
            f"None with estimator={getattr(estimator, '__name__', estimator)}",
            repr(baseline),
            "a baseline is for the score function: pass estimator=vicourse.elbo_score_function",
        )


def estimator_check(name, value, args):
    """An ELBO estimator; one of the caller's own is returned wrapped, so that its first call
    (and the package's functions it calls then) runs with the checks on, as the call entered."""
    from ..estimators import elbo_pathwise, elbo_score_function  # lazily, as below

    check_estimator(value)
    if value is None or value is elbo_pathwise or value is elbo_score_function:
        return value
    first = [True]

    @functools.wraps(value)  # its signature too: check_baseline_taken reads it
    def checked(*args, **kwargs):
        if not first[0]:
            return value(*args, **kwargs)
        first[0] = False
        return _with_checks(value, *args, **kwargs)

    return checked


estimator = Kind("estimator_fn", estimator_check)


def fitted_q_for(estimator_arg: str = "estimator", model_arg: str = "model", x_arg: str = "x"):
    """The q a fit starts from: None (the model's prior) or a q for the model and x (q_for);
    with estimator=elbo_pathwise, one with rsample (a discrete model's prior has none)."""

    def check(name, value, args):
        from ..estimators import elbo_pathwise  # lazily: estimators imports this module

        n = args[x_arg].shape[0]
        start = args[model_arg].prior(n) if value is None else value
        if value is not None:
            _checks_models.q(args[model_arg], value, n)
        if args[estimator_arg] is elbo_pathwise:  # draws_count's message: q must have rsample
            draws_count(pathwise=True)("num_samples", 1, {"q": start})
        return value

    return Kind("optional_q", check)


def estimator_baseline(q_arg: str | None = "init", x_arg: str = "x") -> Kind:
    """A fit's baseline: None, or one for an estimator that takes it (check_baseline_taken), as
    baseline_for(x) wants it. The estimator is the argument `estimator`, or the default: for
    the q in `q_arg` (None there: the model's prior), or elbo_pathwise where q_arg is None (an
    encoder's q)."""
    rows = baseline_for(x_arg)

    def check(name, value, args):
        from ..estimators import default_estimator, elbo_pathwise  # lazily, as above

        chosen = args["estimator"]
        if chosen is None and q_arg is None:
            chosen = elbo_pathwise
        elif chosen is None:
            start = args[q_arg]
            start = args["model"].prior(args[x_arg].shape[0]) if start is None else start
            chosen = default_estimator(start)
        check_baseline_taken(chosen, value)
        batch, n = args.get("batch_size"), args[x_arg].shape[0]
        if isinstance(value, torch.Tensor) and value.numel() > 1 and batch and batch < n:
            _checks.fail(  # a minibatch's rows are drawn anew each step: no row to match
                "baseline",
                f"a number or a one-element tensor with batch_size={batch} < N={n}",
                f"a tensor of shape {tuple(value.shape)}",
                "pass one number for every datapoint, or 'leave-one-out'",
            )
        return rows(name, value, args)

    return Kind("baseline", check)


def count_zero_or_default_check(name, value, args):
    """A count, 0 (none), or None (the function's default)."""
    return None if value is None else count_or_zero_check(name, value, args)


count_zero_or_default = Kind("count_or_zero", count_zero_or_default_check)


def sample_counts_check(name, ks, args):
    """ks as a non-empty list of positive ints."""
    if isinstance(ks, int | torch.Tensor) or not isinstance(ks, Sequence) or len(ks) == 0:
        _checks.fail(
            "ks",
            "a non-empty list of sample counts k",
            _checks.describe_value(ks),
            "pass a list such as ks=[1, 10, 100, 1000]",
        )
    return [_checks.positive_int(f"ks[{i}]", k) for i, k in enumerate(ks)]


sample_counts = Kind("counts", sample_counts_check)


def estimate_count_check(name, value, args):
    """A count of at least 2: the estimates a standard deviation is taken of."""
    value = _checks.positive_int(name, value)
    if value < 2:
        _checks.fail(
            "num_estimates", "at least 2 (a standard deviation needs two)", "1", "pass 100"
        )
    return value


estimate_count = Kind("count", estimate_count_check)


def differentiable_model(kind: type, fix: str) -> Kind:
    """A `kind` (a VAE) with at least one parameter that requires a gradient."""

    def check(name, value, args):
        _checks.instance(name, value, kind, fix)
        if not any(p.requires_grad for p in value.parameters()):
            _checks.fail(
                name,
                "a model with parameters that require gradients",
                "one whose parameters are all frozen (requires_grad=False)",
                "unfreeze them, e.g. model.requires_grad_(True)",
            )
        return value

    return Kind("vae_model", check)
