"""A variational family over labels: q(z = c) = softmax(logits)_c, one row per datapoint.

    log q(z = c) = logits_c − logsumexp(logits),   H(q) = −Σ_c q_c log q_c

A draw is a label, not a differentiable function of the logits: Categorical has no rsample, and
its ELBO gradient is the score function's (chapter 7). It is the Gaussian mixture's q.
Shapes: logits (N, C); sample -> (S, N) int64; log_prob (S, N) -> (S, N); entropy (N,).
Chapter 7, "The reparameterization trick" (book/07_reparameterization.ipynb); used in 1–2.
"""

from __future__ import annotations

import torch

from . import _checks, _checks_values
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

    def __init__(self, logits: torch.Tensor):
        if _checks.enabled:
            _checks.tensor("logits", logits, fix="pass (N, C) logits, one row per datapoint")
            if logits.ndim < 1 or logits.shape[-1] == 0:
                _checks.fail(
                    "logits",
                    "of shape (..., C) with C ≥ 1 categories last",
                    str(tuple(logits.shape)),
                    "pass one logit per category",
                )
            _checks_values.finite("logits", logits)
        self.logits = logits

    @classmethod
    def from_probs(cls, probs: torch.Tensor) -> Categorical:
        """Build q from probabilities (rows that sum to 1); a zero becomes the dtype's smallest
        normal number, so that its log stays finite in float32 too."""
        if _checks.enabled:
            _checks.tensor("probs", probs)
            _checks_values.distribution_rows("probs", probs)
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

    def sample(self, num_samples: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Labels z ~ q, cut from the graph.   Shapes: -> (S, ...)."""
        num_samples = self._draw_arguments(num_samples, generator)
        probs = self.probs.detach().reshape(-1, self.num_categories)
        draws = torch.multinomial(probs, num_samples, replacement=True, generator=generator)
        return draws.T.reshape(num_samples, *self.batch_shape)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z) for labels z.   Shapes: (S, ...) -> (S, ...)."""
        if _checks.enabled:
            self._check_z(z)
        log_probs = self.logits.log_softmax(-1).expand(*z.shape, self.num_categories)
        return log_probs.gather(-1, z.unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        """H(q) = −Σ_c q_c log q_c.   Shapes: (...,)."""
        log_probs = self.logits.log_softmax(-1)
        return -(log_probs.exp() * log_probs).sum(-1)

    def _check_z(self, z) -> None:
        c = self.num_categories
        if not isinstance(z, torch.Tensor) or z.dtype != torch.long:
            _checks.fail(
                "z",
                f"an int64 tensor of labels 0..{c - 1}",
                _checks.describe_value(z),
                "draw it with q.sample(S)",
                kind=_checks.ArgumentTypeError,
            )
        try:
            shape = torch.broadcast_shapes(z.shape, self.batch_shape)
        except RuntimeError:
            shape = None
        if shape != z.shape:
            _checks.fail(
                "z",
                f"labels of shape (S, ...) = (S, {', '.join(map(str, self.batch_shape))})",
                str(tuple(z.shape)),
                "draw z with q.sample(S)",
            )
        _checks_values.label_range("z", z, c)
