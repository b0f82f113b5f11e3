"""The KL divergence, the gap in the bound: L_i = log p(x_i) − KL(q_i(z) ‖ p(z|x_i)).

    KL(q ‖ p) = E_{z~q}[log q(z) − log p(z)] ≥ 0, zero only when q = p.

Shapes: every KL is (N,) for q of shape (N, K).
Chapter 4, "The KL identity" (book/04_kl_identity.ipynb).
"""
from __future__ import annotations

from typing import Callable

import torch

from . import _checks
from .bounds import MonteCarloEstimate, monte_carlo
from .gaussian import DiagonalGaussian


def kl_diag_gaussians(q: DiagonalGaussian, p: DiagonalGaussian) -> torch.Tensor:
    """KL(q ‖ p) for two diagonal Gaussians, in closed form:

        Σ_k [ ½ (μ_q − μ_p)²/σ_p² + ½ (σ_q²/σ_p² − 1) − log(σ_q/σ_p) ]

    ½ expm1(2 Δ) − Δ with Δ = log σ_q − log σ_p is the middle terms written so that they stay accurate
    when σ_q ≈ σ_p.   Shapes: (N, K), (N, K) -> (N,).   Chapter: 4.
    """
    for name, value in (("q", q), ("p", p)):
        if not isinstance(value, DiagonalGaussian):
            raise TypeError(f"{name} must be a vicourse.DiagonalGaussian, got {type(value).__name__}.")
    diff_log_scale = q.log_scale - p.log_scale
    mahalanobis = ((q.loc - p.loc) / p.scale).square()
    return (0.5 * mahalanobis + 0.5 * torch.expm1(2 * diff_log_scale) - diff_log_scale).sum(-1)


def kl_diag_to_full(q: DiagonalGaussian, p: torch.distributions.MultivariateNormal) -> torch.Tensor:
    """KL(q ‖ p) from a diagonal q to a full-covariance Gaussian p = N(m, Σ), in closed form:

        ½ [ tr(Σ⁻¹ diag σ²) + (m − μ)ᵀ Σ⁻¹ (m − μ) − K + log det Σ − Σ_k log σ_k² ]

    Shapes: q (N, K), p.loc (N, K) -> (N,).   Chapter: 4 (the linear-Gaussian model's posterior).
    """
    if not isinstance(p, torch.distributions.MultivariateNormal):
        raise TypeError(f"p must be a torch.distributions.MultivariateNormal, got {type(p).__name__}.")
    precision = p.precision_matrix  # (..., K, K)
    diff = p.loc - q.loc  # (N, K)
    trace = (precision.diagonal(dim1=-2, dim2=-1) * q.scale.square()).sum(-1)
    mahalanobis = (diff.unsqueeze(-2) @ precision @ diff.unsqueeze(-1))[..., 0, 0]
    log_det_p = 2 * p.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    return 0.5 * (trace + mahalanobis - q.loc.shape[-1] + log_det_p - 2 * q.log_scale.sum(-1))


def kl_monte_carlo(q: DiagonalGaussian, log_p: Callable[[torch.Tensor], torch.Tensor], num_samples: int, *,
                   generator: torch.Generator | None = None) -> MonteCarloEstimate:
    """KL(q ‖ p) ≈ (1/S) Σ_s [log q(z_s) − log p(z_s)], z_s ~ q, with its standard error.

    Args:
        log_p: maps z (S, N, K) to log p(z) (S, N); p need not be normalized, but then the answer is
            shifted by log of p's normalizer (for p(z|x) ∝ p(x, z) the shift is log p(x)).

    Shapes: -> value (N,), standard_error (N,).   Chapter: 4.
    """
    if not callable(log_p):
        raise TypeError(f"log_p must be a function z -> log p(z), got {type(log_p).__name__}.")
    z = q.sample(_checks.positive_int("num_samples", num_samples), generator=generator)  # (S, N, K)
    return monte_carlo(q.log_prob(z) - log_p(z))
