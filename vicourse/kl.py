"""The KL divergence, the gap in the bound: L_i = log p(x_i) − KL(q_i(z) ‖ p(z|x_i)).

    KL(q ‖ p) = E_{z~q}[log q(z) − log p(z)] ≥ 0, zero only when q = p.

Shapes: every KL is (N,) for q of shape (N, K).
Chapter 4, "The KL identity" (book/04_kl_identity.ipynb).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .families import Family
from .fullcov import FullGaussian
from .gaussian import DiagonalGaussian
from .numerics import Estimate, monte_carlo

_FIX_Q = "build q with vicourse.DiagonalGaussian(loc, log_scale)"
DIAGONAL_PAIR = dict(  # q and p, two diagonal Gaussians over the same latent
    q=kinds.instance(DiagonalGaussian, _FIX_Q, "q"),
    p=kinds.p_like_q(DiagonalGaussian, _FIX_Q),
)


@validated(**DIAGONAL_PAIR)
def kl_diag_gaussians(q: DiagonalGaussian, p: DiagonalGaussian) -> torch.Tensor:
    """KL(q ‖ p) for two diagonal Gaussians, in closed form:

        Σ_k [ ½ (μ_q,k − μ_p,k)²/σ_p,k² + ½ (σ_q,k²/σ_p,k² − 1) − log(σ_q,k/σ_p,k) ]

    ½ expm1(2 Δ) − Δ with Δ = log σ_q − log σ_p is the middle terms written so that they stay
    accurate when σ_q ≈ σ_p.   Shapes: (N, K), (N, K) (or broadcastable) -> (N,).   Chapter: 4.
    """
    return kl_diag_per_unit(q, p).sum(-1)


@validated(**DIAGONAL_PAIR)
def kl_diag_per_unit(q: DiagonalGaussian, p: DiagonalGaussian) -> torch.Tensor:
    """The terms of kl_diag_gaussians before the sum over k: one KL per latent unit, (N, K)
    (what free bits clamp, chapter 10)."""
    diff_log_scale = q.log_scale - p.log_scale
    mahalanobis = ((q.loc - p.loc) / p.scale).square()
    return 0.5 * mahalanobis + 0.5 * torch.expm1(2 * diff_log_scale) - diff_log_scale


@validated(
    q=kinds.instance(DiagonalGaussian, _FIX_Q, "q"),
    p=kinds.p_like_q(
        torch.distributions.MultivariateNormal, "e.g. LinearGaussian.posterior(x)", "mvn"
    ),
)
def kl_diag_to_full(q: DiagonalGaussian, p: torch.distributions.MultivariateNormal) -> torch.Tensor:
    """KL(q ‖ p) from a diagonal q to a full-covariance Gaussian p = N(m, Σ), in closed form:

        ½ [ tr(Σ⁻¹ diag σ²) + (m − μ)ᵀ Σ⁻¹ (m − μ) − K + log det Σ − Σ_k log σ_k² ]

    Shapes: q (N, K), p.loc (N, K) -> (N,).   Chapter: 4 (the linear-Gaussian posterior).
    """
    precision = p.precision_matrix  # (..., K, K)
    diff = p.loc - q.loc  # (N, K)
    trace = (precision.diagonal(dim1=-2, dim2=-1) * q.scale.square()).sum(-1)
    mahalanobis = (diff.unsqueeze(-2) @ precision @ diff.unsqueeze(-1))[..., 0, 0]
    log_det_p = 2 * p.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    return 0.5 * (trace + mahalanobis - q.latent_dim + log_det_p - 2 * q.log_scale.sum(-1))


@validated(
    q=kinds.kl_family,
    log_p=kinds.log_p,
    num_samples=kinds.standard_error_count,
    generator=kinds.generator_for("q"),
)
def kl_monte_carlo(
    q: Family,
    log_p: Callable[[torch.Tensor], torch.Tensor],
    num_samples: int,
    *,
    generator: torch.Generator | None = None,
) -> Estimate:
    """KL(q ‖ p) ≈ (1/S) Σ_s [log q(z_s) − log p(z_s)], z_s ~ q, with its standard error.

    For a q with rsample (a DiagonalGaussian) the draws are reparameterized, z = μ + σ ε, so the
    value's gradient with respect to q's parameters is an unbiased estimate of the KL's gradient.

    Args:
        log_p: maps z (S, N, K) to log p(z) (S, N); p need not be normalized, but then the
            answer is shifted by log of p's normalizer (for p(z|x) ∝ p(x, z): by log p(x)).

    Shapes: -> value (N,), standard_error (N,).   Chapter: 4.
    """
    draw = q.rsample if q.has_rsample else q.sample
    z = draw(num_samples, generator=generator)  # (S, N, K)
    log_p_z = log_p(z)  # its kind wraps log_p: what it returns is checked (S, N), finite
    return monte_carlo(q.log_prob(z) - log_p_z)


@validated(q=kinds.instance(FullGaussian, "build one with FullGaussian(loc, tril)", "q"))
def kl_full_to_standard_normal(q: FullGaussian) -> torch.Tensor:
    """KL(N(μ, L Lᵀ) ‖ N(0, I)) in closed form, a VAE's KL term for a full-covariance q:

        ½ [ ‖L‖²_F + ‖μ‖² − K − 2 Σ_k log L_kk ]      (tr Σ = ‖L‖²_F, log det Σ = 2 Σ log L_kk)

    Shapes: q (N, K) -> (N,).   Chapter: 10.
    """
    log_diagonal = q.tril.diagonal(dim1=-2, dim2=-1)
    trace = q.scale_tril.square().sum((-2, -1))
    return 0.5 * (trace + q.loc.square().sum(-1) - q.latent_dim - 2 * log_diagonal.sum(-1))
