"""The variational family: q(z) = N(μ, diag σ²), one (μ, log σ) row per datapoint.

    z = μ + σ ⊙ ε,  ε ~ N(0, I)
    log q(z) = Σ_k [−½ ((z_k − μ_k)/σ_k)² − log σ_k − ½ log 2π]

Shapes: loc and log_scale are (N, K) (or anything that broadcasts to it, as for
torch.distributions.Normal); draws are (S, N, K); log_prob is (S, N); entropy is (N,).
Chapter 3, "The variational approximation" (book/03_variational_approximation.ipynb).
"""

from __future__ import annotations

import math

import torch

from . import _checks

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def normal_log_prob(
    value: torch.Tensor, loc: torch.Tensor, log_scale: torch.Tensor | float
) -> torch.Tensor:
    """Σ_k log N(value_k; loc_k, σ_k²) with σ = exp(log_scale), broadcasting; no checks.

    For code inside the package whose arguments were checked already.   Shapes: (..., K) -> (...).
    """
    log_scale = torch.as_tensor(log_scale, dtype=loc.dtype, device=loc.device)
    eps = (value - loc) / log_scale.exp()
    return (-0.5 * eps.square() - log_scale - HALF_LOG_2PI).sum(-1)


class DiagonalGaussian:
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

    def __init__(self, loc: torch.Tensor, log_scale: torch.Tensor):
        _checks.tensor("loc", loc, fix="pass μ with the latent dimension K last")
        _checks.tensor("log_scale", log_scale)
        _checks.like("log_scale", log_scale, "loc", loc)
        shape = _checks.broadcast(
            "log_scale",
            log_scale.shape,
            loc.shape,
            f"of a shape that broadcasts with loc's {tuple(loc.shape)}",
            "give it loc's shape, or (K,) to share it across datapoints",
        )
        loc, log_scale = loc.expand(shape), log_scale.expand(shape)
        if loc.ndim == 0 or loc.shape[-1] == 0:
            _checks.fail(
                "loc",
                "of shape (..., K) with K ≥ 1 latent dimensions last",
                str(tuple(loc.shape)),
                "for one latent dimension use shape (N, 1)",
            )
        self.loc = _checks.finite("loc", loc)
        self.log_scale = _checks.scale_tensor("log_scale", log_scale)

    @classmethod
    def from_scale(cls, loc: torch.Tensor, scale: torch.Tensor) -> DiagonalGaussian:
        """Build q from σ instead of log σ (σ must be positive)."""
        _checks.tensor("scale", scale)
        return cls(loc, _checks.positive_tensor("scale", scale).log())

    @property
    def latent_dim(self) -> int:
        """K, the size of the last axis."""
        return self.loc.shape[-1]

    @property
    def batch_shape(self) -> torch.Size:
        """One distribution per row: (N,) for loc of shape (N, K)."""
        return self.loc.shape[:-1]

    @property
    def event_shape(self) -> torch.Size:
        """(K,): each draw is a K-vector."""
        return self.loc.shape[-1:]

    def params(self) -> dict[str, torch.Tensor]:
        """The variational parameters by name: DiagonalGaussian(**q.params()) rebuilds q."""
        return {"loc": self.loc, "log_scale": self.log_scale}

    @property
    def scale(self) -> torch.Tensor:
        """σ = exp(log σ), shape (..., K)."""
        return self.log_scale.exp()

    def __repr__(self) -> str:
        return f"DiagonalGaussian(loc={self.loc}, scale={self.scale})"

    def _noise(self, num_samples: int, generator: torch.Generator | None) -> torch.Tensor:
        num_samples = _checks.positive_int("num_samples", num_samples)
        _checks.generator(generator, self.loc.device)
        return torch.randn(
            (num_samples, *self.loc.shape),
            generator=generator,
            device=self.loc.device,
            dtype=self.loc.dtype,
        )

    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
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

        Shapes: z (S, ..., K) -> (S, ...), broadcasting z's leading axes against q's.
        """
        k = self.latent_dim
        _checks.tensor("z", z, last=k, shape_hint=f"(S, ..., {k})", fix="draw z with q.rsample(S)")
        _checks.like("z", z, "q", self.loc)
        _checks.broadcast(
            "z",
            z.shape,
            self.loc.shape,
            f"of a shape that broadcasts with q's {tuple(self.loc.shape)}",
            "draw z with q.rsample(S), shape (S, N, K)",
        )
        return normal_log_prob(_checks.finite("z", z), self.loc, self.log_scale)

    def entropy(self) -> torch.Tensor:
        """H(q) = −E_q[log q(z)] = Σ_k (½ log 2πe + log σ_k).

        Shapes: (...,).   Chapter 3: the H(q_i) term of the bound.
        """
        return (0.5 + HALF_LOG_2PI + self.log_scale).sum(-1)

    def detach(self) -> DiagonalGaussian:
        """The same q, cut from the autograd graph."""
        return DiagonalGaussian(self.loc.detach(), self.log_scale.detach())

    def to(self, *args, **kwargs) -> DiagonalGaussian:
        """Move or cast both tensors, as torch.Tensor.to does."""
        return DiagonalGaussian(self.loc.to(*args, **kwargs), self.log_scale.to(*args, **kwargs))

    def to_torch(self) -> torch.distributions.Independent:
        """The same distribution as a torch.distributions object (the tests' oracle)."""
        normal = torch.distributions.Normal(self.loc, self.scale)
        return torch.distributions.Independent(normal, 1)
