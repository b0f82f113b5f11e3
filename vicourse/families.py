"""What every variational family q promises, written once: shapes, sample, rsample, params.

    batch_shape  (N,): one distribution per datapoint
    event_shape  (K,) for a continuous z, () for a label
    rsample(S)   draws that gradients flow through (if has_rsample: the trick of chapter 7)
    sample(S)    the same draws cut from the graph; log_prob(z) (S, N); entropy() (N,)

A family stores its parameters as tensors whose last axis is K (or the number of categories),
and says which by `params()`: `type(q)(**q.params())` rebuilds q, which is how `detach`, `to`
and the fitters of chapters 5 and 6 make new q's from new parameters. `DiagonalGaussian`
(gaussian.py) and `Categorical` (categorical.py) are the two families.
Chapter 3, "The variational approximation" (book/03_variational_approximation.ipynb).
"""

from __future__ import annotations

import torch

from . import _checks, _checks_values
from .validation import TRUSTED


class Family:
    """A variational distribution q for a batch of datapoints (DiagonalGaussian, Categorical).

    A subclass sets `has_rsample` and `event_ndim` (1 for a K-vector, 0 for a label) and defines
    `params`, `log_prob`, `entropy`, and `rsample` (if it has one) or `sample` (if not).
    Shapes: batch_shape (N,); event_shape (K,) or (); draws (S, N, K) or (S, N).   Chapter: 3.
    """

    __slots__ = ()
    has_rsample = False  # whether draws are a differentiable function of the parameters
    event_ndim = 1

    def params(self) -> dict[str, torch.Tensor]:
        """The parameters by name: type(q)(**q.params()) rebuilds q."""
        raise NotImplementedError

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z).   Shapes: (S, N, ...) -> (S, N)."""
        raise NotImplementedError

    def entropy(self) -> torch.Tensor:
        """H(q) = −E_q[log q(z)].   Shapes: (N,)."""
        raise NotImplementedError

    @property
    def _shape(self) -> torch.Size:
        return next(iter(self.params().values())).shape

    @property
    def batch_shape(self) -> torch.Size:
        """One distribution per row: (N,) for parameters of shape (N, K)."""
        return self._shape[:-1]

    @property
    def event_shape(self) -> torch.Size:
        """(K,) when a draw is a K-vector, () when it is one label."""
        return self._shape[-1:] if self.event_ndim else torch.Size()

    def _draw_arguments(self, num_samples: int, generator) -> int:
        """num_samples as an int, and the generator on the device the draws are made on."""
        if _checks.enabled:
            num_samples = _checks.positive_int("num_samples", num_samples)
            _checks.generator(generator, next(iter(self.params().values())).device)
        return num_samples

    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Draws that gradients flow through.   Shapes: (S, *batch_shape, *event_shape)."""
        _checks.fail(
            "q",
            "a family with rsample (a reparameterizable q)",
            f"a {type(self).__name__}, which has none",
            "use q.sample and the score-function estimator",
        )

    def sample(self, num_samples: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The draws of rsample with the same generator state, cut from the graph."""
        with torch.no_grad():  # no graph is built; detach, since a view can still require grad
            return self.rsample(num_samples, generator=generator).detach()

    def detach(self):
        """The same q, cut from the autograd graph."""
        with TRUSTED:  # the values were checked when q was made
            return type(self)(**{k: v.detach() for k, v in self.params().items()})

    def to(self, *args, **kwargs):
        """Move or cast every parameter, as torch.Tensor.to does."""
        return type(self)(**{k: v.to(*args, **kwargs) for k, v in self.params().items()})


def check_draws(z, loc: torch.Tensor) -> torch.Tensor:
    """z is draws of a q over K-vectors whose parameters are shaped like loc (..., K): a tensor
    (S, ..., K) of loc's dtype and device, whose leading axes broadcast with loc's, finite.
    The z check of every continuous family's log_prob."""
    k = loc.shape[-1]
    _checks.tensor("z", z, last=k, shape_hint=f"(S, ..., {k})", fix="draw z with q.rsample(S)")
    _checks.like("z", z, "q", loc)
    _checks.broadcast(
        "z",
        z.shape,
        loc.shape,
        f"of a shape that broadcasts with q's {tuple(loc.shape)}",
        "draw z with q.rsample(S), shape (S, N, K)",
    )
    return _checks_values.finite("z", z)
