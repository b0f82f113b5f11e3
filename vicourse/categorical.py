"""A variational family over labels: q(z = c) = softmax(logits)_c, one row per datapoint.

    log q(z = c) = logits_c − logsumexp(logits),   H(q) = −Σ_c q_c log q_c

A draw is a label, not a differentiable function of the logits: Categorical has no rsample, and
its ELBO gradient is the score function's (chapter 7). It is the Gaussian mixture's q.
Shapes: logits (N, C); sample -> (S, N) int64; log_prob (S, N) -> (S, N); entropy (N,).
Chapter 7, "The reparameterization trick" (book/07_reparameterization.ipynb); used in 1–2.
"""

from __future__ import annotations

import torch

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .families import Family


class Categorical(Family):
    """q(z = c) = softmax(logits)_c for each datapoint: a Family over labels 0..C−1.

    Args:
        logits: (N, C) unnormalized log probabilities, one row per datapoint.

    Shapes: sample -> (S, N) int64 labels, log_prob (S, N) -> (S, N), entropy (N,).
    Chapter: 7 (the score-function estimator for a discrete z).
    """

    __slots__ = ("logits",)
    has_rsample = False  # a discrete draw is not a differentiable function of the logits
    event_ndim = 0  # a draw is one label

    @validated(logits=kinds.categorical_logits)
    def __init__(self, logits: torch.Tensor):
        self.logits = logits

    @classmethod
    @validated(probs=kinds.categorical_probs)
    def from_probs(cls, probs: torch.Tensor) -> Categorical:
        """Build q from probabilities (rows that sum to 1); a zero becomes the dtype's smallest
        normal number, so that its log stays finite in float32 too."""
        return cls(probs.clamp_min(torch.finfo(probs.dtype).tiny).log())

    @property
    def probs(self) -> torch.Tensor:
        """q(z = c), rows that sum to 1.   Shapes: (..., C)."""
        return self.logits.softmax(-1)

    @property
    def num_categories(self) -> int:
        return self.logits.shape[-1]

    def params(self) -> dict[str, torch.Tensor]:
        """The variational parameters by name: Categorical(**q.params()) rebuilds q."""
        return {"logits": self.logits}

    def __repr__(self) -> str:
        return f"Categorical(probs={self.probs})"

    @validated(**kinds.drawing)
    def sample(self, num_samples: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Labels z ~ q, cut from the graph.   Shapes: -> (S, ...)."""
        probs = self.probs.detach().reshape(-1, self.num_categories)
        draws = torch.multinomial(probs, num_samples, replacement=True, generator=generator)
        return draws.T.reshape(num_samples, *self.batch_shape)

    @validated(z=kinds.labels_of_q)
    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z) for labels z.   Shapes: (S, ...) -> (S, ...)."""
        log_probs = self.logits.log_softmax(-1).expand(*z.shape, self.num_categories)
        return log_probs.gather(-1, z.unsqueeze(-1)).squeeze(-1)

    @validated()
    def entropy(self) -> torch.Tensor:
        """H(q) = −Σ_c q_c log q_c.   Shapes: (...,)."""
        log_probs = self.logits.log_softmax(-1)
        return -(log_probs.exp() * log_probs).sum(-1)
