"""The variational family: q(z) = N(μ, diag σ²), one (μ, log σ) row per datapoint.

    z = μ + σ ⊙ ε,  ε ~ N(0, I)
    log q(z) = Σ_k [−½ ((z_k − μ_k)/σ_k)² − log σ_k − ½ log 2π]

Shapes: loc and log_scale are (N, K) (or anything that broadcasts to it, as for
torch.distributions.Normal); draws are (S, N, K); log_prob is (S, N); entropy is (N,).
Chapter 3, "The variational approximation" (book/03_variational_approximation.ipynb).
"""

from __future__ import annotations

import torch

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .families import Family
from .numerics import HALF_LOG_2PI, normal_log_prob


class DiagonalGaussian(Family):
    """q(z) = N(loc, diag exp(log_scale)²): the notes' q_i(z) = N(μ_i, σ_i), for a batch of x_i.

    Args:
        loc: μ, shape (..., K); usually (N, K), one row per datapoint.
        log_scale: log σ, a shape that broadcasts with loc's (a shared (K,) or a scalar is fine),
            same dtype and device. Storing log σ keeps σ > 0 under gradient ascent.

    Both are broadcast to one shape, as torch.distributions.Normal does. They must be finite,
    and σ must have a finite, nonzero square in their dtype (checked here, once).

    Shapes: loc, log_scale (N, K) -> rsample (S, N, K), log_prob (S, N), entropy (N,).
    Chapter: 3, the variational approximation.
    """

    __slots__ = ("loc", "log_scale")
    has_rsample = True  # z = μ + σ ε is differentiable in μ and σ (chapter 7)

    @validated(loc=kinds.gaussian_loc, log_scale=kinds.gaussian_log_scale)
    def __init__(self, loc: torch.Tensor, log_scale: torch.Tensor):
        shape = torch.broadcast_shapes(loc.shape, log_scale.shape)
        self.loc, self.log_scale = loc.expand(shape), log_scale.expand(shape)

    @classmethod
    @validated(  # untrusted: q's constructor checks log σ (its dtype, shape and range) too
        trusted=False, loc=kinds.gaussian_loc, scale=kinds.gaussian_scale
    )
    def from_scale(cls, loc: torch.Tensor, scale: torch.Tensor) -> DiagonalGaussian:
        """Build q from σ instead of log σ (σ must be positive)."""
        return cls(loc, scale.log())

    @property
    def latent_dim(self) -> int:
        """K, the size of the last axis."""
        return self.loc.shape[-1]

    def params(self) -> dict[str, torch.Tensor]:
        """The variational parameters by name: DiagonalGaussian(**q.params()) rebuilds q."""
        return {"loc": self.loc, "log_scale": self.log_scale}

    @property
    def scale(self) -> torch.Tensor:
        """σ = exp(log σ), shape (..., K)."""
        return self.log_scale.exp()

    def __repr__(self) -> str:
        return f"DiagonalGaussian(loc={self.loc}, scale={self.scale})"

    @validated(**kinds.drawing)
    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Reparameterized draws z = μ + σ ε: gradients flow back to loc and log_scale.
        `sample` gives the same draws, with the same generator state, cut from the graph.

        Shapes: (S, ..., K).   Chapter 7 explains why this form matters.
        """
        shape = (num_samples, *self.loc.shape)
        eps = torch.randn(shape, generator=generator, device=self.loc.device, dtype=self.loc.dtype)
        return self.loc + self.scale * eps  # (S, N, K)

    @validated(z=kinds.draws_of_q)
    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z), summed over the K latent dimensions.

        Shapes: z (S, ..., K) -> (S, ...), broadcasting z's leading axes against q's.
        """
        return normal_log_prob(z, self.loc, self.log_scale)

    @validated()
    def entropy(self) -> torch.Tensor:
        """H(q) = −E_q[log q(z)] = Σ_k (½ log 2πe + log σ_k).

        Shapes: (...,).   Chapter 3: the H(q_i) term of the bound.
        """
        return (0.5 + HALF_LOG_2PI + self.log_scale).sum(-1)

    @validated()
    def to_torch(self) -> torch.distributions.Independent:
        """The same distribution as a torch.distributions object (the tests' oracle)."""
        normal = torch.distributions.Normal(self.loc, self.scale)
        return torch.distributions.Independent(normal, 1)
