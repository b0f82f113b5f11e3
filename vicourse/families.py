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

from . import _checks
from ._checks_spec import Kind, validated


def _kind(sweep_name: str, attribute: str) -> Kind:
    """The kind `attribute` of _checks_kinds, looked up when a call is checked: _checks_kinds
    imports this module (through _checks_models) before it defines its kinds."""

    def check(name, value, args):
        from . import _checks_kinds

        return getattr(_checks_kinds, attribute)(name, value, args)

    return Kind(sweep_name, check)


DRAWING = dict(num_samples=_kind("count", "count"), generator=_kind("generator", "own_generator"))


def _version(tensor: torch.Tensor) -> int | None:
    """The version counter, which each in-place change of a tensor raises (None for an inference
    tensor, which keeps none)."""
    try:
        return tensor._version
    except RuntimeError:
        return None


class Family:
    """A variational distribution q for a batch of datapoints (DiagonalGaussian, Categorical).

    A subclass sets `has_rsample` and `event_ndim` (1 for a K-vector, 0 for a label) and defines
    `params`, `log_prob`, `entropy`, and `rsample` (if it has one) or `sample` (if not).
    Shapes: batch_shape (N,); event_shape (K,) or (); draws (S, N, K) or (S, N).   Chapter: 3.
    """

    __slots__ = ()
    has_rsample = False  # whether draws are a differentiable function of the parameters
    has_density = True  # whether log_prob holds at the family's own draws (the score function's)
    fixed: tuple[str, ...] = ()  # parameters a fit keeps as given (a relaxed q's temperature)
    event_ndim = 1

    def params(self) -> dict[str, torch.Tensor]:
        """The parameters by name: type(q)(**q.params()) rebuilds q."""
        raise NotImplementedError

    @validated(z=_kind("unchecked", "unchecked"))  # each family's own log_prob checks its z
    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z).   Shapes: (S, N, ...) -> (S, N)."""
        raise NotImplementedError

    @validated()
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

    @validated(**DRAWING)
    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Draws that gradients flow through.   Shapes: (S, *batch_shape, *event_shape)."""
        _no_rsample(self)  # a refusal that teaches: the message is in the helper

    @validated(**DRAWING)
    def sample(self, num_samples: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The draws of rsample with the same generator state, cut from the graph."""
        with torch.no_grad():  # no graph is built; detach, since a view can still require grad
            return self.rsample(num_samples, generator=generator).detach()

    @validated()
    def detach(self):
        """The same q, cut from the autograd graph."""
        return type(self)(**{k: v.detach() for k, v in self.params().items()})

    @validated(  # untrusted: the new q's constructor checks the parameters they make
        trusted=False,
        args=_kind("unchecked", "to_arguments"),
        kwargs=_kind("unchecked", "unchecked"),  # tried with args, by to_arguments
    )
    def to(self, *args, **kwargs):
        """Move or cast every parameter, as torch.Tensor.to does."""
        return type(self)(**{k: v.to(*args, **kwargs) for k, v in self.params().items()})

    def _remember(self, z: torch.Tensor, value) -> tuple:
        """A memo of `value` (log q(z), or what computes it) for the draws z: it holds for that
        very tensor only while neither z nor a parameter has been changed in place."""
        versions = tuple((p, _version(p)) for p in self.params().values())
        return z, _version(z), versions, value

    def _recall(self, memo: tuple | None, z: torch.Tensor):
        """The value remembered for z by `_remember`, or None: for another tensor, for z or a
        parameter changed in place since (their version counters moved), or for other
        parameters."""
        if memo is None or memo[0] is not z or memo[1] is None or _version(z) != memo[1]:
            return None
        now = tuple(self.params().values())
        if len(now) != len(memo[2]):
            return None
        for p, (then, version) in zip(now, memo[2], strict=True):
            if p is not then or version is None or _version(p) != version:
                return None
        return memo[3]


def _no_rsample(q: Family):
    _checks.fail(
        "q",
        "a family with rsample (a reparameterizable q)",
        f"a {type(q).__name__}, which has none",
        "use q.sample and the score-function estimator",
    )
