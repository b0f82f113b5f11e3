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

from . import _checks, _checks_values
from .families import Family, check_draws
from .gaussian import DiagonalGaussian
from .numerics import HALF_LOG_2PI


class FullGaussian(Family):
    """q(z) = N(loc, L Lᵀ) with L from `tril` (see the module): a Gaussian with any covariance.

    Args:
        loc: μ, shape (N, K).
        tril: (N, K, K), same dtype and device: below the diagonal, L's entries; on it, log L_kk.
            Finite, and exp of its diagonal must have a finite, nonzero square (checked here).

    Shapes: loc (N, K), tril (N, K, K) -> rsample (S, N, K), log_prob (S, N), entropy (N,).
    Chapter: 10, richer posteriors.
    """

    __slots__ = ("loc", "tril")
    has_rsample = True  # z = μ + L ε is differentiable in μ and L (chapter 7)

    def __init__(self, loc: torch.Tensor, tril: torch.Tensor):
        if _checks.enabled:
            _check_parameters(loc, tril)
            _checks_values.finite("loc", loc)
            _checks_values.finite("tril", tril)
            _checks_values.scale_tensor("tril's diagonal", _diagonal(tril))
        self.loc, self.tril = loc, tril

    @classmethod
    def from_diagonal(cls, q: DiagonalGaussian) -> FullGaussian:
        """The same distribution as a diagonal q: L = diag σ. A starting point for fit_local."""
        _checks.instance("q", q, DiagonalGaussian, "pass a DiagonalGaussian")
        return cls(q.loc, torch.diag_embed(q.log_scale))

    @classmethod
    def from_scale_tril(cls, loc: torch.Tensor, scale_tril: torch.Tensor) -> FullGaussian:
        """Build q from L itself (lower triangular, positive diagonal)."""
        if _checks.enabled:
            _check_parameters(loc, scale_tril, "scale_tril")
            if bool((scale_tril.triu(1) != 0).any()):
                _checks.fail(
                    "scale_tril",
                    "lower triangular (zeros above the diagonal), a Cholesky factor L",
                    "a matrix with entries above its diagonal",
                    "pass torch.linalg.cholesky(covariance), not the covariance itself",
                )
            _checks_values.positive_tensor("scale_tril's diagonal", _diagonal(scale_tril))
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

    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Reparameterized draws z = μ + L ε: gradients flow back to loc and tril.

        Shapes: (S, N, K).
        """
        num_samples = self._draw_arguments(num_samples, generator)
        shape = (num_samples, *self.loc.shape)
        eps = torch.randn(shape, generator=generator, device=self.loc.device, dtype=self.loc.dtype)
        return self.loc + torch.einsum("...ij,s...j->s...i", self.scale_tril, eps)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z) = −½ ‖L⁻¹(z − μ)‖² − Σ_k log L_kk − (K/2) log 2π.

        Shapes: z (S, N, K) -> (S, N).
        """
        if _checks.enabled:
            check_draws(z, self.loc)
        diff = (z - self.loc).unsqueeze(-1)  # (S, N, K, 1)
        scale = self.scale_tril.expand(*diff.shape[:-2], *self.scale_tril.shape[-2:])
        white = torch.linalg.solve_triangular(scale, diff, upper=False).squeeze(-1)
        return (
            -0.5 * white.square().sum(-1)
            - _diagonal(self.tril).sum(-1)
            - self.latent_dim * HALF_LOG_2PI
        )

    def entropy(self) -> torch.Tensor:
        """H(q) = Σ_k (½ log 2πe + log L_kk).   Shapes: (N,)."""
        return (0.5 + HALF_LOG_2PI + _diagonal(self.tril)).sum(-1)

    def to_torch(self) -> torch.distributions.MultivariateNormal:
        """The same distribution as a torch.distributions object (the tests' oracle)."""
        return torch.distributions.MultivariateNormal(self.loc, scale_tril=self.scale_tril)


def _diagonal(matrix: torch.Tensor) -> torch.Tensor:
    return matrix.diagonal(dim1=-2, dim2=-1)


def _check_parameters(loc, tril, name: str = "tril") -> None:
    _checks.tensor("loc", loc, ndim=2, shape_hint="(N, K)", fix="pass μ with one row per x")
    n, k = loc.shape
    if k == 0:
        _checks.fail("loc", "of shape (N, K) with K ≥ 1", str(tuple(loc.shape)), "use K ≥ 1")
    _checks.shaped_like(
        name,
        tril,
        (n, k, k),
        loc,
        "one K × K matrix per row of loc (N, K)",
        "pass one K × K matrix per row of loc (FullGaussian.from_diagonal makes one)",
    )
