"""A categorical q made reparameterizable by relaxing it: the Gumbel-softmax (concrete) family.

    g_c = −log(−log U_c),  U_c ~ Uniform(0, 1)                      Gumbel noise
    argmax_c (logits_c + g_c)  is a draw of Categorical(softmax(logits))   the Gumbel-max trick
    y = softmax((logits + g) / τ)                                   the relaxed draw, τ > 0

y lies inside the simplex and is a differentiable function of the logits: the pathwise
estimator of chapter 7 applies, to a function f that accepts points of the simplex as well as
one-hot vectors. As τ → 0, y tends to the one-hot vector of the Gumbel-max draw, and the
gradient's bias falls while its variance grows (Jang et al., 2017; Maddison et al., 2017). The
density of y, the concrete distribution, is

    log q(y) = log (C − 1)! + (C − 1) log τ + Σ_c (logits_c − (τ + 1) log y_c)
               − C logsumexp_c(logits_c − τ log y_c).

It is computed from log y: for q's own draws, the sampler's log-softmax, remembered with them
(as flows.py remembers its draws' log q), since at a low τ an entry of y underflows to 0 while
its log is finite; for any other y, the log of y, an entry 0 counted as the smallest normal
number of its dtype.

StraightThroughCategorical's draws are the one-hot vectors h of argmax y, exact categorical
draws; the backward pass uses the relaxed draw's Jacobian with f's gradient taken at the
discrete draw, J_y(logits)ᵀ ∇f(h), where the relaxation's is J_y(logits)ᵀ ∇f(y). The two agree
only for an f linear in the draw, and both are biased (straight-through: Bengio, Léonard and
Courville, 2013).
Shapes: logits (N, C); rsample (S, N, C); log_prob (S, N, C) -> (S, N).
Chapter 11, "Discrete latent variables" (book/11_discrete_latents.ipynb).
"""

from __future__ import annotations

import math

import torch

from . import _checks
from . import _checks_kinds as kinds
from ._checks_kinds import check_points  # noqa: F401  (bernoulli_mixture imports it from here)
from ._checks_spec import validated
from .families import Family


class RelaxedCategorical(Family):
    """The Gumbel-softmax relaxation of Categorical(softmax(logits)) at temperature τ.

    Args:
        logits: (N, C) unnormalized log probabilities, finite.
        temperature: τ > 0, a number or a 0-dimensional tensor, at most the dtype's limit and
            large enough that (logits + g) / τ and log q stay finite (checked here).

    Shapes: rsample (S, N, C) points of the simplex; log_prob (S, N, C) -> (S, N).
    Chapter: 11.
    """

    __slots__ = ("_last", "logits", "temperature")
    has_rsample = True
    fixed = ("temperature",)  # τ is the relaxation's setting, not a variational parameter
    event_ndim = 1  # a draw is a point of the simplex, a C-vector

    @validated(logits=kinds.relaxed_logits, temperature=kinds.temperature)
    def __init__(self, logits: torch.Tensor, temperature):
        self.logits = logits
        self.temperature = torch.as_tensor(temperature, dtype=logits.dtype, device=logits.device)
        self._last = None  # the last draws y with their log y (Family._remember)

    def params(self) -> dict[str, torch.Tensor]:
        """The parameters by name: type(q)(**q.params()) rebuilds q."""
        return {"logits": self.logits, "temperature": self.temperature}

    @property
    def num_categories(self) -> int:
        return self.logits.shape[-1]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(probs={self.logits.softmax(-1)}, "
            f"temperature={self.temperature.item():.3g})"
        )

    @validated(**kinds.drawing)
    def gumbel(self, num_samples: int, *, generator=None) -> torch.Tensor:
        """Standard Gumbel noise, one value per category and draw.   Shapes: (S, N, C)."""
        u = torch.rand(
            (num_samples, *self.logits.shape),
            generator=generator,
            dtype=self.logits.dtype,
            device=self.logits.device,
        )
        tiny = torch.finfo(u.dtype).tiny  # u = 0 would give an infinite g
        return -torch.log(-torch.log(u.clamp_min(tiny)))

    @validated(gumbel=kinds.gumbel_noise)
    def relax(self, gumbel: torch.Tensor) -> torch.Tensor:
        """y = softmax((logits + g) / τ), differentiable in the logits.   (S, N, C)."""
        return torch.softmax((self.logits + gumbel) / self.temperature, dim=-1)

    def _draw(self, num_samples: int, generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Relaxed draws y and their log y, a log-softmax: at a low τ an entry of y may
        underflow to 0, while its log stays finite (and log_prob uses it)."""
        noise = self.gumbel(num_samples, generator=generator)
        log_y = torch.log_softmax((self.logits + noise) / self.temperature, dim=-1)
        return log_y.exp(), log_y

    @validated(**kinds.drawing)
    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Relaxed draws y, differentiable in the logits (log_prob of them is computed from their
        remembered log y).   Shapes: (S, N, C)."""
        y, log_y = self._draw(num_samples, generator)
        self._last = self._remember(y, log_y)
        return y

    @validated(**kinds.drawing)
    def sample(self, num_samples: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The draws of rsample with the same generator state, cut from the graph (their log y
        is remembered too).   Shapes: (S, N, C)."""
        with torch.no_grad():
            y, log_y = self._draw(num_samples, generator)
        self._last = self._remember(y, log_y)
        return y

    @validated(y=kinds.relaxed_points)
    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        """The concrete log-density of points y of the simplex.   (S, N, C) -> (S, N).

        It is computed from log y: the remembered one for q's last draws (that very tensor,
        unchanged since), whose entries may have underflowed to 0, else y's own, whose entries
        must be positive (with validation off, a 0 counts as the dtype's smallest normal)."""
        log_y = self._recall(self._last, y)
        if log_y is None:
            log_y = y.clamp_min(torch.finfo(y.dtype).tiny).log()
        c, tau = self.num_categories, self.temperature
        return (
            math.lgamma(c)
            + (c - 1) * tau.log()
            + (self.logits - (tau + 1) * log_y).sum(-1)
            - c * torch.logsumexp(self.logits - tau * log_y, dim=-1)
        )

    @validated()
    def entropy(self) -> torch.Tensor:
        _no_entropy(self)  # a refusal that teaches: the message is in the helper


class StraightThroughCategorical(RelaxedCategorical):
    """Straight-through Gumbel-softmax: each draw is the one-hot vector h of argmax y, an exact
    categorical draw, whose Jacobian in the logits is the relaxed y's: f's gradient is taken at
    h and passed back through y's Jacobian (biased, unless f is linear in the draw).

    Shapes: rsample (S, N, C) one-hot vectors.   Chapter: 11.
    """

    __slots__ = ()
    has_density = False  # a one-hot draw is a vertex of the simplex: no density there

    @validated(**kinds.drawing)
    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """One-hot draws whose gradient is the relaxed draws'.   Shapes: (S, N, C)."""
        y = super().rsample(num_samples, generator=generator)
        hard = torch.nn.functional.one_hot(y.argmax(-1), self.num_categories).to(y.dtype)
        return hard + (y - y.detach())  # exactly hard: y − y.detach() is 0

    sample = Family.sample  # the one-hot draws of rsample cut from the graph, not relaxed ones

    @validated(y=kinds.unchecked)  # any y is refused alike: a one-hot draw has no density
    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        _no_density()  # a refusal that teaches: the message is in the helper


def _no_entropy(q: RelaxedCategorical):
    _checks.fail(
        "q",
        "a family whose entropy has a closed form",
        f"a {type(q).__name__}, whose entropy has none",
        "estimate it from draws: −q.log_prob(q.sample(S)).mean(0)",
    )


def _no_density():
    _checks.fail(
        "y",
        "a point inside the simplex (a straight-through draw is one-hot: it has no density)",
        "a call of StraightThroughCategorical.log_prob",
        "use Categorical(q.logits).log_prob(y.argmax(-1)) for the label's probability",
    )
