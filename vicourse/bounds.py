"""Bounds on log p(x): Jensen's inequality turns log E_q[p(x, z)/q(z)] into the ELBO.

    log p(x) = log E_{z~q}[p(x|z) p(z) / q(z)]
             ≥ E_{z~q}[log p(x|z) + log p(z)] + H(q) = E_{z~q}[log w],   w = p(x, z) / q(z)

Shapes: log_w is (S, N) (samples first), every bound is (N,).
Chapter 3, "The variational approximation" (book/03_variational_approximation.ipynb); the
naive estimate of p(x) from prior samples is chapter 2's.  Next: kl.py names the gap.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from . import _checks
from .gaussian import DiagonalGaussian
from .models import LatentModel


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


def _check_model(model, x: torch.Tensor) -> torch.Tensor:
    _checks.instance("model", model, LatentModel, "use a vicourse model, e.g. GaussianMean")
    return model.check_x(x)


def log_weights(
    model: LatentModel,
    q: DiagonalGaussian,
    x: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """log w = log p(x, z) − log q(z) at z ~ q (reparameterized, so gradients reach q).

    Shapes: x (N, D), q (N, K) -> (S, N).   Chapter: 3.
    """
    n = _check_model(model, x).shape[0]
    model.check_q(q, n)
    z = q.rsample(num_samples, generator=generator)  # (S, N, K)
    return model.log_joint(x, z) - q.log_prob(z)


def elbo(log_w: torch.Tensor) -> torch.Tensor:
    """The ELBO estimate E_q[log w] ≈ (1/S) Σ_s log w_s.   Shapes: (S, N) -> (N,).   Chapter: 3."""
    _checks.tensor("log_w", log_w, ndim=2, shape_hint="(S, N)", fix="pass log_weights(...)")
    if log_w.shape[0] == 0:
        _checks.fail(
            "log_w",
            "of shape (S, N) with S ≥ 1 draws",
            str(tuple(log_w.shape)),
            "draw at least one sample",
        )
    return _checks.finite("log_w", log_w, bounded=False).mean(0)


def elbo_with_entropy(
    model: LatentModel,
    q: DiagonalGaussian,
    x: torch.Tensor,
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The notes' form: E_{z~q}[log p(x|z) + log p(z)] + H(q), with the entropy in closed form.

    Same expectation as elbo(log_weights(...)); only the −E_q[log q] term is computed exactly.
    Shapes: (N,).   Chapter: 3.
    """
    n = _check_model(model, x).shape[0]
    model.check_q(q, n)
    z = q.rsample(num_samples, generator=generator)  # (S, N, K)
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

    Computed as logsumexp_s log p(x|z_s) − log S, so that tiny likelihoods do not underflow.
    Shapes: x (N, D) -> (N,).   Chapter: 2.
    """
    _check_model(model, x)
    num_samples = _checks.positive_int("num_samples", num_samples)
    z = model.sample_prior(num_samples, x.shape[0], generator=generator)  # (S, N, K)
    return model.log_likelihood(x, z).logsumexp(0) - math.log(num_samples)
