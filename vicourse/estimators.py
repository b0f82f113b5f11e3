"""Gradient estimators: two ways to differentiate an expectation J(φ) = E_{z~q_φ}[f(z)] in φ.

    pathwise (reparameterization), z = μ_φ + σ_φ ε with ε ~ N(0, I):
        ∇_φ J = E_ε[∇_φ f(μ_φ + σ_φ ε)]
    score function (REINFORCE), for any constant b:
        ∇_φ J = E_{z~q_φ}[(f(z) − b) ∇_φ log q_φ(z)]          since E_q[∇_φ log q_φ] = 0

Each returns an Estimate (numerics.py): the value, detached, per datapoint, and a surrogate whose
gradient is the estimate: estimate.surrogate.sum().backward(). The ELBO is the case f(z) = log w =
log p_θ(x, z) − log q_φ(z): `elbo_pathwise` and `elbo_score_function` take the same arguments,
so the fitters of chapters 5 and 6 take either as a function: fit_local(model, x,
estimator=vicourse.elbo_score_function); without one they pick by q.has_rsample, as pyro does.

Shapes: q (N, K) or (N,) labels; f maps z (S, N, K) to (S, N); value and surrogate are (N,).
Chapter 7, "The reparameterization trick" (book/07_reparameterization.ipynb); used in 5 and 6.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from . import _checks
from . import _checks_kinds as kinds
from ._checks_spec import validated
from .bounds import log_weights
from .contracts import LatentModel
from .families import Family
from .gaussian import DiagonalGaussian
from .numerics import Estimate


@validated(
    q=kinds.family(),
    f=kinds.callback,
    num_samples=kinds.draws_count(pathwise=True),
    generator=kinds.generator_for("q"),
)
def pathwise(q: Family, f: Callable, num_samples: int = 1, *, generator=None) -> Estimate:
    """The reparameterization (pathwise) estimator: draw z = q.rsample(S), differentiate f(z).

    Needs a q with rsample: a DiagonalGaussian, the richer families of chapter 10, or the
    relaxed categoricals of chapter 11 (the Gumbel-softmax and straight-through estimators are
    this function with a RelaxedCategorical or StraightThroughCategorical q); not a
    Categorical.   Chapter: 7 (and 10, 11).
    """
    values = f(q.rsample(num_samples, generator=generator))  # (S, N)
    return Estimate(values.detach().mean(0), surrogate=values.mean(0))


@validated(
    q=kinds.scored_family,
    f=kinds.callback,
    num_samples=kinds.draws_count(pathwise=False),
    generator=kinds.generator_for("q"),
    baseline=kinds.baseline_for("q"),
)
def score_function(
    q: Family, f: Callable, num_samples: int = 1, *, baseline=None, generator=None
) -> Estimate:
    """The score-function estimator: z = q.sample(S) (no gradient through z), and the surrogate
    f(z) + (f(z) − b) log q(z), whose gradient in φ is (f(z) − b) ∇_φ log q(z) (plus ∇_φ f when
    f itself depends on φ, as log w does; that part has mean zero for the ELBO).

    Args:
        baseline: b. None (b = 0); a number or an (N,) tensor (a constant, e.g. E[f]); or
            "leave-one-out": for draw s, the mean of f over the other S − 1 draws (needs S ≥ 2).
            Any b independent of z_s leaves the estimator unbiased and can lower its variance;
            a learned b_ψ(x), trained to predict f (NVIL, chapter 11), is an (N,) tensor too.

    Works for any q, discrete ones included.   Chapter: 7.
    """
    z = q.sample(num_samples, generator=generator)
    values = f(z)  # (S, N)
    b = _baseline(baseline, values.detach())
    surrogate = values + (values.detach() - b) * q.log_prob(z)
    return Estimate(values.detach().mean(0), surrogate=surrogate.mean(0))


ELBO_ARGUMENTS = dict(model=kinds.model(LatentModel), x=kinds.data_for(), q=kinds.q_for())


@validated(
    **ELBO_ARGUMENTS,
    num_samples=kinds.draws_count(pathwise=True),
    generator=kinds.generator_for("q"),
)
def elbo_pathwise(
    model: LatentModel, q: Family, x: torch.Tensor, num_samples: int = 1, *, generator=None
) -> Estimate:
    """The ELBO and its pathwise gradient: z = q.rsample(S), f(z) = log p(x, z) − log q(z).

    The surrogate's gradient reaches θ through log p_θ(x, z) (the notes' ∇θ log p_θ(x_i|z)) and
    φ through z and log q_φ.   Shapes: -> value, surrogate (N,).   Chapter: 5, 7.
    """
    return pathwise(q, lambda z: log_weights(model, q, x, z), num_samples, generator=generator)


@validated(
    **ELBO_ARGUMENTS,
    num_samples=kinds.draws_count(pathwise=False),
    generator=kinds.generator_for("q"),
    baseline=kinds.baseline_for("x"),
)
def elbo_score_function(
    model: LatentModel,
    q: Family,
    x: torch.Tensor,
    num_samples: int = 1,
    *,
    baseline=None,
    generator=None,
) -> Estimate:
    """The ELBO and its score-function gradient: z = q.sample(S), f(z) = log w, no gradient
    through z. Works for discrete z (the mixture's labels).   Chapter: 5, 7."""
    return score_function(
        q,
        lambda z: log_weights(model, q, x, z),
        num_samples,
        baseline=baseline,
        generator=generator,
    )


@validated(q=kinds.family())
def default_estimator(q: Family) -> Callable[..., Estimate]:
    """The estimator for a q: pathwise where it has rsample, else the score function."""
    return elbo_pathwise if q.has_rsample else elbo_score_function


def _baseline(baseline, values: torch.Tensor) -> torch.Tensor | float:
    """b for each draw: 0, a constant, or the leave-one-out mean of the other draws' values."""
    if baseline is None:
        return 0.0
    if isinstance(baseline, str):  # "leave-one-out"
        s = values.shape[0]
        return (values.sum(0, keepdim=True) - values) / (s - 1)
    if isinstance(baseline, torch.Tensor):
        return baseline.detach()
    return float(baseline)


def _estimator_check(name, estimator, args):
    if estimator is not pathwise and estimator is not score_function:
        _checks.fail(
            "estimator",
            "the function vicourse.pathwise or vicourse.score_function",
            _checks.describe_value(estimator),
            "pass the function itself, e.g. estimator=vicourse.score_function",
            kind=_checks.ArgumentTypeError,
        )
    return estimator


def _pathwise_baseline_check(name, baseline, args):
    """None with the pathwise estimator; else the score function's own spec checks it."""
    if args["estimator"] is pathwise and baseline is not None:
        _checks.fail(
            "baseline",
            "None with estimator=pathwise",
            repr(baseline),
            "a baseline is for the score function: pass estimator=score_function",
        )
    return baseline


@validated(  # f, num_samples, generator, a baseline's value: by the estimator's own spec
    trusted=False,
    estimator=kinds.Kind("estimator_fn", _estimator_check),
    loc=kinds.real,
    scale=kinds.positive,
    num_trials=kinds.count,
    baseline=kinds.Kind("baseline", _pathwise_baseline_check),
)
@torch.enable_grad()  # its own gradients, under a caller's torch.no_grad() too
def gradient_samples(
    estimator: Callable[..., Estimate],
    loc: float,
    scale: float,
    f: Callable,
    num_samples: int = 1,
    num_trials: int = 10_000,
    *,
    baseline=None,
    generator=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """num_trials independent estimates of (∂J/∂μ, ∂J/∂σ), J = E_{z~N(μ, σ²)}[f(z)], each from
    num_samples draws: one row of a (T, 1) q per trial, so one backward pass gives all of them.

    Args:
        estimator: the function itself, pathwise or score_function.
        loc, scale: μ and σ > 0 (float64).
        f: maps z (S, T, 1) to (S, T).

    Returns:
        two (T,) float64 tensors.   Chapter: 7 (and widgets.explore_gradients).
    """
    device = generator.device if isinstance(generator, torch.Generator) else "cpu"
    mu = torch.full((num_trials, 1), loc, dtype=torch.float64, device=device, requires_grad=True)
    log_sigma = torch.full_like(mu, math.log(scale)).requires_grad_()  # in float64 throughout
    q = DiagonalGaussian(mu, log_sigma)
    options = {} if baseline is None else {"baseline": baseline}
    estimate = estimator(q, f, num_samples, generator=generator, **options)
    d_mu, d_log_sigma = torch.autograd.grad(estimate.surrogate.sum(), (mu, log_sigma))
    return d_mu[:, 0].detach(), d_log_sigma[:, 0].detach() / scale  # ∂/∂σ = ∂/∂log σ / σ
