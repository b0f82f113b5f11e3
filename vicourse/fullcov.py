"""A richer family: q(z) = N(μ, L Lᵀ), a full covariance, one (μ, L) per datapoint.

    z = μ + L ε,  ε ~ N(0, I)            L lower triangular with a positive diagonal (Cholesky)
    log q(z) = −½ ‖L⁻¹(z − μ)‖² − Σ_k log L_kk − (K/2) log 2π
    H(q) = (K/2) log 2πe + Σ_k log L_kk

The parameters are unconstrained, so that gradient ascent may step them anywhere: loc (N, K),
and tril (N, K, K), whose strictly lower triangle is L's and whose diagonal holds log L_kk (its
upper triangle is not used). The diagonal q of gaussian.py is the case of a diagonal tril:
FullGaussian.from_diagonal(q) is the same distribution. Everything that takes a Family takes
this one: fit_local, the estimators, the bounds.

Shapes: loc (N, K), tril (N, K, K) -> rsample (S, N, K), log_prob (S, N), entropy (N,).
Chapter 10, "Richer posteriors" (book/10_richer_posteriors.ipynb).
"""

from __future__ import annotations

import torch

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .families import Family
from .gaussian import DiagonalGaussian
from .numerics import HALF_LOG_2PI


class FullGaussian(Family):
    """q(z) = N(loc, L Lᵀ) with L from `tril` (see the module): a Gaussian with any covariance.

    Args:
        loc: μ, shape (N, K), float32 or float64 (log q solves a triangular system).
        tril: (N, K, K), same dtype and device: below the diagonal, L's entries; on it, log L_kk.
            Finite; exp of its diagonal must have a finite, nonzero square, and L⁻¹ entries no
            larger than 1/σ may have for a diagonal q (checked here), so that log q is finite.

    Shapes: loc (N, K), tril (N, K, K) -> rsample (S, N, K), log_prob (S, N), entropy (N,).
    Chapter: 10, richer posteriors.
    """

    __slots__ = ("loc", "tril")
    has_rsample = True  # z = μ + L ε is differentiable in μ and L (chapter 7)

    @validated(loc=kinds.full_loc, tril=kinds.full_tril)
    def __init__(self, loc: torch.Tensor, tril: torch.Tensor):
        self.loc, self.tril = loc, tril

    @classmethod
    @validated(  # untrusted: the constructor checks q's dtype (no float16) too
        trusted=False, q=kinds.diagonal_q(DiagonalGaussian)
    )
    def from_diagonal(cls, q: DiagonalGaussian) -> FullGaussian:
        """The same distribution as a diagonal q: L = diag σ. A starting point for fit_local."""
        return cls(q.loc, torch.diag_embed(q.log_scale))

    @classmethod
    @validated(  # untrusted: the constructor checks the tril made from scale_tril too
        trusted=False, loc=kinds.full_loc, scale_tril=kinds.full_scale_tril
    )
    def from_scale_tril(cls, loc: torch.Tensor, scale_tril: torch.Tensor) -> FullGaussian:
        """Build q from L itself (lower triangular, positive diagonal)."""
        return cls(loc, scale_tril.tril(-1) + torch.diag_embed(_diagonal(scale_tril).log()))

    @property
    def latent_dim(self) -> int:
        """K, the size of the last axis of loc."""
        return self.loc.shape[-1]

    def params(self) -> dict[str, torch.Tensor]:
        """The variational parameters by name: FullGaussian(**q.params()) rebuilds q."""
        return {"loc": self.loc, "tril": self.tril}

    @property
    def scale_tril(self) -> torch.Tensor:
        """L, lower triangular with a positive diagonal, shape (N, K, K): Σ = L Lᵀ."""
        return self.tril.tril(-1) + torch.diag_embed(_diagonal(self.tril).exp())

    @property
    def covariance(self) -> torch.Tensor:
        """Σ = L Lᵀ, shape (N, K, K)."""
        scale = self.scale_tril
        return scale @ scale.transpose(-1, -2)

    def __repr__(self) -> str:
        return f"FullGaussian(loc={self.loc}, scale_tril={self.scale_tril})"

    @validated(**kinds.drawing)
    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Reparameterized draws z = μ + L ε: gradients flow back to loc and tril.

        Shapes: (S, N, K).
        """
        shape = (num_samples, *self.loc.shape)
        eps = torch.randn(shape, generator=generator, device=self.loc.device, dtype=self.loc.dtype)
        return self.loc + torch.einsum("...ij,s...j->s...i", self.scale_tril, eps)

    @validated(z=kinds.draws_of_q)
    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z) = −½ ‖L⁻¹(z − μ)‖² − Σ_k log L_kk − (K/2) log 2π.

        Shapes: z (S, N, K) -> (S, N).
        """
        diff = (z - self.loc).unsqueeze(-1)  # (S, N, K, 1)
        scale = self.scale_tril.expand(*diff.shape[:-2], *self.scale_tril.shape[-2:])
        white = torch.linalg.solve_triangular(scale, diff, upper=False).squeeze(-1)
        return (
            -0.5 * white.square().sum(-1)
            - _diagonal(self.tril).sum(-1)
            - self.latent_dim * HALF_LOG_2PI
        )

    @validated()
    def entropy(self) -> torch.Tensor:
        """H(q) = Σ_k (½ log 2πe + log L_kk).   Shapes: (N,)."""
        return (0.5 + HALF_LOG_2PI + _diagonal(self.tril)).sum(-1)

    @validated()
    def to_torch(self) -> torch.distributions.MultivariateNormal:
        """The same distribution as a torch.distributions object (the tests' oracle)."""
        return torch.distributions.MultivariateNormal(self.loc, scale_tril=self.scale_tril)


def _diagonal(matrix: torch.Tensor) -> torch.Tensor:
    return matrix.diagonal(dim1=-2, dim2=-1)
