"""Bounds on log p(x): Jensen's inequality turns log E_q[p(x, z)/q(z)] into the ELBO.

    log p(x) = log E_{z~q}[p(x|z) p(z) / q(z)]
             ≥ E_{z~q}[log p(x|z) + log p(z)] + H(q) = E_{z~q}[log w],   w = p(x, z) / q(z)

Everything here is a function of given draws z: sample them first (z = q.rsample(S)), so that
a chapter can show what is differentiated and a test can replay it. The log of the average
weight, log (1/S) Σ_s w_s, is `log_mean_exp`: chapter 2's naive estimate with the prior as q,
and the importance-weighted bound (IWAE) with any q.

One name per idea:
    elbo(log_w)             the ELBO of given log weights, (1/S) Σ_s log w_s
    iwae(log_w)             the IWAE bound of given log weights, log (1/S) Σ_s w_s ≥ elbo(log_w)
    model.elbo_exact(q, x)  a model's closed-form ELBO (a TractableModel)
    elbo_value(model, q, x) the ELBO to report: closed form where there is one, else 4,096 draws
    elbo_with_entropy       the notes' form, E_q[log p(x, z)] + H(q), H in closed form
and every estimator returns one type, Estimate (value, standard_error, surrogate).

Shapes: z is (S, N, K) (or (S, N) labels), log_w is (S, N), every bound is (N,).
Chapter 3, "The variational approximation" (book/03_variational_approximation.ipynb); the
naive estimate of p(x) from prior samples is chapter 2's.  Next: kl.py names the gap.
"""

from __future__ import annotations

import torch

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .contracts import LatentModel, TractableModel
from .families import Family
from .numerics import Estimate, log_mean_exp, monte_carlo

__all__ = [
    "Estimate",
    "elbo",
    "elbo_value",
    "elbo_with_entropy",
    "iwae",
    "log_mean_exp",
    "log_weights",
    "monte_carlo",
    "naive_log_marginal",
]


BOUND_ARGUMENTS = dict(
    model=kinds.model(LatentModel, "use a vicourse model, e.g. GaussianMean"),
    x=kinds.data_for(),
    q=kinds.q_for(),
    z=kinds.draws_for(),
)


@validated(**BOUND_ARGUMENTS)
def log_weights(model: LatentModel, q: Family, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """log w = log p(x, z) − log q(z) at the given draws z (draw them from q).

    Differentiable in everything: in q's parameters through log q(z), and through z itself when
    z = q.rsample(S) (the reparameterization of chapter 7).
    Shapes: x (N, D), q (N, K), z (S, N, K) -> (S, N).   Chapter: 3.
    """
    return model.log_joint(x, z) - q.log_prob(z)


@validated(log_w=kinds.log_w)
def elbo(log_w: torch.Tensor) -> torch.Tensor:
    """The ELBO estimate E_q[log w] ≈ (1/S) Σ_s log w_s.   Shapes: (S, N) -> (N,).   Chapter: 3."""
    return log_w.mean(0)


@validated(log_w=kinds.log_w)
def iwae(log_w: torch.Tensor) -> torch.Tensor:
    """The importance-weighted bound IWAE_S = log (1/S) Σ_s w_s of given log weights (Burda et
    al., 2016): with z_s ~ q, a lower bound on log p(x) in expectation, at least elbo(log_w) for
    the same draws (Jensen), equal to it for S = 1.   Shapes: (S, N) -> (N,).   Chapters: 3, 8.
    """
    return log_mean_exp(log_w)


@validated(**BOUND_ARGUMENTS)
def elbo_with_entropy(
    model: LatentModel, q: Family, x: torch.Tensor, z: torch.Tensor
) -> torch.Tensor:
    """The notes' form: E_{z~q}[log p(x|z) + log p(z)] + H(q), with the entropy in closed form.

    Same expectation as elbo(log_weights(...)); only the −E_q[log q] term is computed exactly.
    Shapes: z (S, N, K) -> (N,).   Chapter: 3.
    """
    return model.log_joint(x, z).mean(0) + q.entropy()


@validated(
    model=kinds.model(LatentModel, "use a vicourse model, e.g. GaussianMean"),
    x=kinds.data_for(),
    num_samples=kinds.count,
    generator=kinds.generator_for("x"),
)
def naive_log_marginal(
    model: LatentModel,
    x: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """log of the naive estimate p(x) ≈ (1/S) Σ_s p(x|z_s), z_s ~ p(z): unbiased for p(x),
    useless when p(x|z) is large only where p(z) rarely looks.

    The same code as any importance-weighted estimate, with the prior as q: then
    w = p(x, z)/p(z) = p(x|z).   Shapes: x (N, D) -> (N,).   Chapter: 2.
    """
    prior = model.prior(x.shape[0])
    z = prior.sample(num_samples, generator=generator)  # (S, N, K)
    return log_mean_exp(log_weights(model, prior, x, z))


@validated(
    model=kinds.model(LatentModel),
    num_samples=kinds.count,
    x=kinds.data_for(),
    generator=kinds.generator_for("x"),
    q=kinds.q_for(),
)
def elbo_value(
    model: LatentModel,
    q: Family,
    x: torch.Tensor,
    *,
    num_samples: int = 4096,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The ELBO of q, to report: in closed form where the model has one for this q (a
    TractableModel, q of its prior's family), else the mean of log w over num_samples draws.

    No gradient.   Shapes: (N,).   Chapters: 3, 6.
    """
    return elbo_and_variance(model, q, x, num_samples, generator)[0]


def elbo_and_variance(model, q, x, num_samples, generator):
    """elbo_value's body, unchecked, with the variance of the estimate (N,): 0 where the ELBO
    is in closed form, else the variance of the mean of num_samples log weights."""
    with torch.no_grad():
        if isinstance(model, TractableModel) and isinstance(q, type(model.prior(1))):
            value = model.elbo_exact(q, x)
            return value, torch.zeros_like(value)
        log_w = log_weights(model, q, x, q.sample(num_samples, generator=generator))
        return elbo(log_w), log_w.var(0) / num_samples
