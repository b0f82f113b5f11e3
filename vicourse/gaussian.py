"""The variational family: q(z) = N(μ, diag σ²), one (μ, log σ) row per datapoint.

    z = μ + σ ⊙ ε,  ε ~ N(0, I)        log q(z) = Σ_k [−½ ((z_k − μ_k)/σ_k)² − log σ_k − ½ log 2π]

Shapes: loc and log_scale are (N, K); draws are (S, N, K); log_prob is (S, N); entropy is (N,).
Chapter 3, "The variational approximation" (book/03_variational_approximation.ipynb).
"""
from __future__ import annotations

import math

import torch

from . import _checks

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class DiagonalGaussian:
    """q(z) = N(loc, diag exp(log_scale)²): the seed's q_i(z) = N(μ_i, σ_i), for a batch of datapoints.

    Args:
        loc: μ, shape (..., K); usually (N, K), one row per datapoint.
        log_scale: log σ, same shape, dtype and device as loc. Storing log σ keeps σ > 0 under
            gradient ascent without constraints.

    Shapes: loc, log_scale (N, K) -> rsample (S, N, K), log_prob (S, N), entropy (N,).
    Chapter: 3, the variational approximation.
    """

    __slots__ = ("loc", "log_scale")

    def __init__(self, loc: torch.Tensor, log_scale: torch.Tensor):
        _checks.tensor("loc", loc)
        _checks.tensor("log_scale", log_scale)
        if loc.shape != log_scale.shape:
            raise ValueError(f"log_scale must have the shape of loc, {tuple(loc.shape)}, got "
                             f"{tuple(log_scale.shape)}; broadcast it with log_scale.expand_as(loc).")
        _checks.same_dtype("log_scale", log_scale, "loc", loc)
        _checks.same_device("log_scale", log_scale, "loc", loc)
        self.loc = loc
        self.log_scale = log_scale

    @classmethod
    def from_scale(cls, loc: torch.Tensor, scale: torch.Tensor) -> "DiagonalGaussian":
        """Build q from σ instead of log σ (σ must be positive)."""
        _checks.tensor("scale", scale)
        _checks.positive("scale", scale.detach())
        return cls(loc, scale.log())

    @property
    def scale(self) -> torch.Tensor:
        """σ = exp(log σ), shape (..., K)."""
        return self.log_scale.exp()

    def __repr__(self) -> str:
        return f"DiagonalGaussian(loc={self.loc}, scale={self.scale})"

    def _noise(self, num_samples: int, generator: torch.Generator | None) -> torch.Tensor:
        num_samples = _checks.positive_int("num_samples", num_samples)
        _checks.generator(generator, self.loc.device)
        return torch.randn((num_samples, *self.loc.shape), generator=generator,
                           device=self.loc.device, dtype=self.loc.dtype)

    def rsample(self, num_samples: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Reparameterized draws z = μ + σ ε: gradients flow back to loc and log_scale.

        Shapes: (S, ..., K).   Chapter 7 explains why this form matters.
        """
        return self.loc + self.scale * self._noise(num_samples, generator)  # (S, N, K)

    def sample(self, num_samples: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The same draws as `rsample` with the same generator state, but cut from the graph.

        Shapes: (S, ..., K).
        """
        with torch.no_grad():
            return self.rsample(num_samples, generator=generator)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z), summed over the K latent dimensions.

        Shapes: z (S, ..., K) -> (S, ...).
        """
        _checks.tensor("z", z, last=self.loc.shape[-1], shape_hint=f"(S, ..., {self.loc.shape[-1]})")
        _checks.same_device("z", z, "q", self.loc)
        eps = (z - self.loc) / self.scale
        return (-0.5 * eps.square() - self.log_scale - HALF_LOG_2PI).sum(-1)

    def entropy(self) -> torch.Tensor:
        """H(q) = −E_q[log q(z)] = Σ_k (½ log 2πe + log σ_k).

        Shapes: (...,).   Chapter 3: the H(q_i) term of the bound.
        """
        return (0.5 + HALF_LOG_2PI + self.log_scale).sum(-1)

    def detach(self) -> "DiagonalGaussian":
        """The same q, cut from the autograd graph."""
        return DiagonalGaussian(self.loc.detach(), self.log_scale.detach())

    def to(self, *args, **kwargs) -> "DiagonalGaussian":
        """Move or cast both tensors, as torch.Tensor.to does."""
        return DiagonalGaussian(self.loc.to(*args, **kwargs), self.log_scale.to(*args, **kwargs))

    def to_torch(self) -> torch.distributions.Independent:
        """The same distribution as a torch.distributions object (a bridge to the library, and the tests' oracle)."""
        return torch.distributions.Independent(torch.distributions.Normal(self.loc, self.scale), 1)
