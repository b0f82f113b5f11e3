"""Bounds on log p(x): Jensen's inequality turns log E_q[p(x, z)/q(z)] into the ELBO.

    log p(x) = log E_{z~q}[p(x|z) p(z) / q(z)]
             ≥ E_{z~q}[log p(x|z) + log p(z)] + H(q) = E_{z~q}[log w],   w = p(x, z) / q(z)

Everything here is a function of given draws z: sample them first (z = q.rsample(S)), so that
a chapter can show what is differentiated and a test can replay it. The log of the average
weight, log (1/S) Σ_s w_s, is `log_mean_exp`: chapter 2's naive estimate with the prior as q,
and the importance-weighted bound (IWAE) with any q.

Shapes: z is (S, N, K) (or (S, N) labels), log_w is (S, N), every bound is (N,).
Chapter 3, "The variational approximation" (book/03_variational_approximation.ipynb); the
naive estimate of p(x) from prior samples is chapter 2's.  Next: kl.py names the gap.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from . import _checks
from .contracts import Family, LatentModel, TractableModel


class MonteCarloEstimate(NamedTuple):
    """A Monte Carlo average and its standard error, both (N,)."""

    value: torch.Tensor
    standard_error: torch.Tensor


def monte_carlo(values: torch.Tensor) -> MonteCarloEstimate:
    """The mean over the S draws of `values` and its standard error std/√S.

    Shapes: (S, N) -> (N,), (N,).
    """
    _checks.tensor("values", values)
    if values.ndim < 1 or values.shape[0] < 2:
        _checks.fail(
            "values",
            "of shape (S, ...) with S ≥ 2 draws first",
            str(tuple(values.shape)),
            "a standard error needs at least two draws",
        )
    _checks.finite("values", values, bounded=False)
    return MonteCarloEstimate(values.mean(0), values.std(0) / math.sqrt(values.shape[0]))


def log_weights(model: LatentModel, q: Family, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """log w = log p(x, z) − log q(z) at the given draws z (draw them from q).

    Differentiable in everything: in q's parameters through log q(z), and through z itself when
    z = q.rsample(S) (the reparameterization of chapter 7).
    Shapes: x (N, D), q (N, K), z (S, N, K) -> (S, N).   Chapter: 3.
    """
    _checks.instance("model", model, LatentModel, "use a vicourse model, e.g. GaussianMean")
    model.check_q(q, model.check_x(x).shape[0])
    return model.log_joint(x, z) - q.log_prob(z)


def elbo(log_w: torch.Tensor) -> torch.Tensor:
    """The ELBO estimate E_q[log w] ≈ (1/S) Σ_s log w_s.   Shapes: (S, N) -> (N,).   Chapter: 3."""
    return _check_log_w(log_w).mean(0)


def log_mean_exp(log_w: torch.Tensor) -> torch.Tensor:
    """log (1/S) Σ_s w_s, computed stably as logsumexp − log S.

    With z_s ~ q it estimates log p(x) with a downward bias (Jensen) that shrinks as S grows: the
    importance-weighted bound, IWAE_S ≥ ELBO. With q = p(z) it is chapter 2's naive estimate.
    Shapes: (S, N) -> (N,).   Chapter: 3.
    """
    log_w = _check_log_w(log_w)
    return log_w.logsumexp(0) - math.log(log_w.shape[0])


def elbo_with_entropy(
    model: LatentModel, q: Family, x: torch.Tensor, z: torch.Tensor
) -> torch.Tensor:
    """The notes' form: E_{z~q}[log p(x|z) + log p(z)] + H(q), with the entropy in closed form.

    Same expectation as elbo(log_weights(...)); only the −E_q[log q] term is computed exactly.
    Shapes: z (S, N, K) -> (N,).   Chapter: 3.
    """
    _checks.instance("model", model, LatentModel, "use a vicourse model, e.g. GaussianMean")
    model.check_q(q, model.check_x(x).shape[0])
    return model.log_joint(x, z).mean(0) + q.entropy()


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
    _checks.instance("model", model, LatentModel, "use a vicourse model, e.g. GaussianMean")
    prior = model.prior(model.check_x(x).shape[0])
    z = prior.sample(num_samples, generator=generator)  # (S, N, K)
    return log_mean_exp(log_weights(model, prior, x, z))


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
    _checks.instance("model", model, LatentModel, "use a vicourse model")
    num_samples = _checks.positive_int("num_samples", num_samples)
    n = model.check_x(x).shape[0]
    _checks.generator(generator, x.device)
    with torch.no_grad():
        if isinstance(model, TractableModel) and isinstance(q, type(model.prior(1))):
            return model.elbo_exact(q, x)
        model.check_q(q, n)  # before q.sample
        return elbo(log_weights(model, q, x, q.sample(num_samples, generator=generator)))


def _check_log_w(log_w: torch.Tensor) -> torch.Tensor:
    _checks.tensor("log_w", log_w, ndim=2, shape_hint="(S, N)", fix="pass log_weights(...)")
    if log_w.shape[0] == 0:
        _checks.fail(
            "log_w",
            "of shape (S, N) with S ≥ 1 draws",
            str(tuple(log_w.shape)),
            "draw at least one sample",
        )
    return _checks.finite("log_w", log_w, bounded=False)
