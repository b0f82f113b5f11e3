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

from . import _checks, _checks_values
from .families import Family


class RelaxedCategorical(Family):
    """The Gumbel-softmax relaxation of Categorical(softmax(logits)) at temperature τ.

    Args:
        logits: (N, C) unnormalized log probabilities, finite.
        temperature: τ > 0, a number or a 0-dimensional tensor.

    Shapes: rsample (S, N, C) points of the simplex; log_prob (S, N, C) -> (S, N).
    Chapter: 11.
    """

    __slots__ = ("logits", "temperature")
    has_rsample = True
    event_ndim = 1  # a draw is a point of the simplex, a C-vector

    def __init__(self, logits: torch.Tensor, temperature):
        if _checks.enabled:
            _check_parameters(logits, temperature)
        self.logits = logits
        self.temperature = torch.as_tensor(temperature, dtype=logits.dtype, device=logits.device)

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

    def gumbel(self, num_samples: int, *, generator=None) -> torch.Tensor:
        """Standard Gumbel noise, one value per category and draw.   Shapes: (S, N, C)."""
        num_samples = self._draw_arguments(num_samples, generator)
        u = torch.rand(
            (num_samples, *self.logits.shape),
            generator=generator,
            dtype=self.logits.dtype,
            device=self.logits.device,
        )
        tiny = torch.finfo(u.dtype).tiny  # u = 0 would give an infinite g
        return -torch.log(-torch.log(u.clamp_min(tiny)))

    def relax(self, gumbel: torch.Tensor) -> torch.Tensor:
        """y = softmax((logits + g) / τ), differentiable in the logits.   (S, N, C)."""
        return torch.softmax((self.logits + gumbel) / self.temperature, dim=-1)

    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Relaxed draws y, differentiable in the logits.   Shapes: (S, N, C)."""
        return self.relax(self.gumbel(num_samples, generator=generator))

    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        """The concrete log-density of points y of the simplex.   (S, N, C) -> (S, N)."""
        if _checks.enabled:
            check_points("y", y, tuple(self.logits.shape), "pass relaxed draws, q.rsample(S)")
        c, tau = self.num_categories, self.temperature
        log_y = y.log()
        return (
            math.lgamma(c)
            + (c - 1) * tau.log()
            + (self.logits - (tau + 1) * log_y).sum(-1)
            - c * torch.logsumexp(self.logits - tau * log_y, dim=-1)
        )

    def entropy(self) -> torch.Tensor:
        _checks.fail(
            "q",
            "a family whose entropy has a closed form",
            f"a {type(self).__name__}, whose entropy has none",
            "estimate it from draws: −q.log_prob(q.sample(S)).mean(0)",
        )


class StraightThroughCategorical(RelaxedCategorical):
    """Straight-through Gumbel-softmax: each draw is the one-hot vector h of argmax y, an exact
    categorical draw, whose Jacobian in the logits is the relaxed y's: f's gradient is taken at
    h and passed back through y's Jacobian (biased, unless f is linear in the draw).

    Shapes: rsample (S, N, C) one-hot vectors.   Chapter: 11.
    """

    __slots__ = ()

    def rsample(
        self, num_samples: int, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """One-hot draws whose gradient is the relaxed draws'.   Shapes: (S, N, C)."""
        y = super().rsample(num_samples, generator=generator)
        hard = torch.nn.functional.one_hot(y.argmax(-1), self.num_categories).to(y.dtype)
        return hard + (y - y.detach())  # exactly hard: y − y.detach() is 0

    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        _checks.fail(
            "y",
            "a point inside the simplex (a straight-through draw is one-hot: it has no density)",
            "a call of StraightThroughCategorical.log_prob",
            "use Categorical(q.logits).log_prob(y.argmax(-1)) for the label's probability",
        )


def _check_parameters(logits, temperature) -> None:
    _checks.tensor(
        "logits", logits, ndim=2, shape_hint="(N, C)", fix="pass one row of logits per datapoint"
    )
    if logits.shape[-1] < 2:
        _checks.fail(
            "logits",
            "of shape (N, C) with C ≥ 2 categories",
            str(tuple(logits.shape)),
            "pass one logit per category",
        )
    _checks_values.finite("logits", logits)
    if isinstance(temperature, torch.Tensor) and temperature.numel() != 1:
        _checks.fail(
            "temperature",
            "one number τ > 0",
            f"a tensor of shape {tuple(temperature.shape)}",
            "pass temperature=0.5",
        )
    tau = _checks.positive("temperature", temperature)
    _checks_values.scale_in_dtype("temperature", tau, logits.dtype)  # 1/τ finite


def check_points(
    name: str, y, shape: tuple[int, ...], fix: str, *, closed: bool = False
) -> torch.Tensor:
    """y is (S, *shape) points of the simplex: entries > 0 (≥ 0 if closed, which admits
    one-hot vectors) whose rows sum to 1."""
    _checks.tensor(name, y, fix=fix)
    if y.ndim != 1 + len(shape) or tuple(y.shape[1:]) != tuple(shape):
        _checks.fail(
            name,
            f"points of the simplex of shape (S, {', '.join(map(str, shape))})",
            str(tuple(y.shape)),
            fix,
        )
    _checks_values.finite(name, y.detach())
    values = y.detach()
    tolerance = 1e-4 if values.dtype in (torch.float16, torch.bfloat16) else 1e-6
    outside = (values < 0) if closed else (values <= 0)
    if bool(outside.any()) or bool(((values.sum(-1) - 1).abs() > tolerance * shape[-1]).any()):
        _checks.fail(
            name,
            f"points {'of' if closed else 'inside'} the simplex ("
            f"{'entries ≥ 0' if closed else 'positive entries'}, each row summing to 1)",
            f"entries from {values.min().item():.3g} to {values.max().item():.3g}, row sums "
            f"from {values.sum(-1).min().item():.6g} to {values.sum(-1).max().item():.6g}",
            fix,
        )
    return y
