"""The discrete latent variable model: a Gaussian mixture, where the integral over z is a sum.

    p(x) = Σ_c p(x | z=c) p(z=c) = Σ_c π_c N(x; μ_c, diag σ_c²)
    p(z=c | x) = π_c N(x; μ_c, σ_c²) / p(x)

Its variational family is `Categorical`: a q over the labels, with no rsample (no
reparameterization for a discrete z; chapter 7 uses the score-function estimator for it).

Shapes: x is (N, D), z is (S, N) integer labels, log p(x) is (N,), p(z|x) is (N, C).
Chapter 1, "Latent variable models" (book/01_latent_variable_models.ipynb); EM in chapter 2.
"""

from __future__ import annotations

import torch
from torch import nn

from . import _checks
from .contracts import TractableModel
from .gaussian import normal_log_prob


class Categorical:
    """q(z = c) = softmax(logits)_c for each datapoint: a Family over labels 0..C−1.

    Args:
        logits: (N, C) unnormalized log probabilities, one row per datapoint.

    Shapes: sample -> (S, N) int64 labels, log_prob (S, N) -> (S, N), entropy (N,).
    Chapter: 7 (the score-function estimator for a discrete z).
    """

    __slots__ = ("logits",)
    has_rsample = False  # a discrete draw is not a differentiable function of the logits

    def __init__(self, logits: torch.Tensor):
        _checks.tensor("logits", logits, fix="pass (N, C) logits, one row per datapoint")
        if logits.ndim < 1 or logits.shape[-1] == 0:
            _checks.fail(
                "logits",
                "of shape (..., C) with C ≥ 1 categories last",
                str(tuple(logits.shape)),
                "pass one logit per category",
            )
        self.logits = _checks.finite("logits", logits)

    @classmethod
    def from_probs(cls, probs: torch.Tensor) -> Categorical:
        """Build q from probabilities (rows that sum to 1)."""
        _checks.tensor("probs", probs)
        return cls(_checks.distribution_rows("probs", probs).clamp_min(1e-300).log())

    @property
    def probs(self) -> torch.Tensor:
        """q(z = c), rows that sum to 1.   Shapes: (..., C)."""
        return self.logits.softmax(-1)

    @property
    def batch_shape(self) -> torch.Size:
        return self.logits.shape[:-1]

    @property
    def event_shape(self) -> torch.Size:
        return torch.Size()  # a draw is one label

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
        num_samples = _checks.positive_int("num_samples", num_samples)
        _checks.generator(generator, self.logits.device)
        probs = self.probs.detach().reshape(-1, self.num_categories)
        draws = torch.multinomial(probs, num_samples, replacement=True, generator=generator)
        return draws.T.reshape(num_samples, *self.batch_shape)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z) for labels z.   Shapes: (S, ...) -> (S, ...)."""
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
        _checks.label_range("z", z, c)
        log_probs = self.logits.log_softmax(-1).expand(*z.shape, c)
        return log_probs.gather(-1, z.unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        """H(q) = −Σ_c q_c log q_c.   Shapes: (...,)."""
        log_probs = self.logits.log_softmax(-1)
        return -(log_probs.exp() * log_probs).sum(-1)

    def detach(self) -> Categorical:
        return Categorical(self.logits.detach())

    def to(self, *args, **kwargs) -> Categorical:
        return Categorical(self.logits.to(*args, **kwargs))


class GaussianMixture(TractableModel):
    """p(z = c) = softmax(logits)_c,  x | z=c ~ N(loc_c, diag exp(log_scale_c)²).

    Args:
        logits: (C,) unnormalized log mixing weights.
        loc: (C, D) component means.
        log_scale: (C, D) component log standard deviations.
        All three become nn.Parameters: fit them by gradient ascent or by EM (mle.py).

    Shapes: z is (S, N) with values in 0..C−1; log_prior/log_likelihood/log_joint -> (S, N).
    Chapter: 1 (and 2, 7).
    """

    latent_dim = 1  # one label per datapoint; z is (S, N), not (S, N, K)

    def __init__(self, logits: torch.Tensor, loc: torch.Tensor, log_scale: torch.Tensor):
        super().__init__()
        _checks.tensor("loc", loc, ndim=2, shape_hint="(C, D)", fix="one row per component")
        c, d = loc.shape
        if c == 0 or d == 0:
            _checks.fail(
                "loc",
                "of shape (C, D) with C ≥ 1 components and D ≥ 1",
                str(tuple(loc.shape)),
                "a mixture needs at least one component",
            )
        self.num_components, self.data_dim = c, d
        _checks.tensor(
            "logits", logits, ndim=1, last=c, shape_hint=f"(C,) = ({c},), one per row of loc"
        )
        _checks.tensor("log_scale", log_scale, ndim=2, shape_hint=f"(C, D) = ({c}, {d})")
        if log_scale.shape != loc.shape:
            _checks.fail(
                "log_scale",
                f"of shape (C, D) = ({c}, {d}), like loc",
                str(tuple(log_scale.shape)),
                "give every component a log σ per dimension",
            )
        for name, value in (("logits", logits), ("log_scale", log_scale)):
            _checks.like(name, value, "loc", loc)
        _checks.finite("loc", loc)
        _checks.finite("logits", logits)
        _checks.scale_tensor("log_scale", log_scale)
        self.logits = nn.Parameter(logits.detach().clone())
        self.loc = nn.Parameter(loc.detach().clone())
        self.log_scale = nn.Parameter(log_scale.detach().clone())

    @property
    def weights(self) -> torch.Tensor:
        """π = softmax(logits).   Shapes: (C,)."""
        return self.logits.softmax(-1)

    def prior(self, n: int) -> Categorical:
        """p(z) as a Categorical with n identical rows.   Shapes: (n, C)."""
        n = _checks.positive_int("n", n)
        return Categorical(self.logits.expand(n, self.num_components))

    def sample_prior(self, num_samples: int, n: int, *, generator=None) -> torch.Tensor:
        """z ~ Categorical(π), all S·n labels from one draw.   Shapes: -> (S, n) int64."""
        num_samples = _checks.positive_int("num_samples", num_samples)
        n = _checks.positive_int("n", n)
        _checks.generator(generator, self.logits.device)
        draws = torch.multinomial(
            self.weights.detach(), num_samples * n, replacement=True, generator=generator
        )
        return draws.reshape(num_samples, n)

    def check_z(self, z: torch.Tensor, n: int | None = None) -> torch.Tensor:
        """z is (S, N) int64 labels in 0..C−1 (the range is a value check)."""
        c = self.num_components
        _checks.labels_shape("z", z, n=n, num_components=c)
        _checks.like("z", z, "the model", self.logits.new_empty(0, dtype=torch.long))
        return _checks.label_range("z", z, c)

    def component_log_joint(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_i, z=c) = log π_c + log N(x_i; μ_c, σ_c²) for every i and c.

        Shapes: (N, D) -> (N, C).
        """
        x = self.check_x(x).unsqueeze(1)  # (N, 1, D) against (C, D)
        return normal_log_prob(x, self.loc, self.log_scale) + self.logits.log_softmax(-1)

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = log Σ_c p(x, z=c).   Shapes: (N, D) -> (N,)."""
        return self.component_log_joint(x).logsumexp(-1)

    def posterior(self, x: torch.Tensor) -> Categorical:
        """Exact p(z | x_i), the responsibilities, as a Categorical (.probs is (N, C))."""
        return Categorical(self.component_log_joint(x).log_softmax(-1))

    def elbo_exact(self, q: Categorical, x: torch.Tensor) -> torch.Tensor:
        """The ELBO of a Categorical q, a finite sum: Σ_c q_c (log p(x, c) − log q_c).

        Shapes: q (N, C), x (N, D) -> (N,).
        """
        _checks.instance("q", q, Categorical, "the closed form sums over the labels")
        joint = self.component_log_joint(x)
        self.check_q(q, x.shape[0])
        if q.num_categories != self.num_components:
            _checks.fail(
                "q",
                f"a Categorical over C = {self.num_components} components",
                f"one over {q.num_categories}",
                "give q one logit per component",
            )
        return (q.probs * joint).sum(-1) + q.entropy()

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log π_z.   Shapes: (S, N) -> (S, N)."""
        return self.logits.log_softmax(-1)[self.check_z(z)]

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log N(x; μ_z, σ_z²).   Shapes: (N, D), (S, N) -> (S, N)."""
        self.check_x(x)
        self.check_z(z, x.shape[0])
        return normal_log_prob(x, self.loc[z], self.log_scale[z])  # (S, N, D) -> (S, N)

    @torch.no_grad()
    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ N(μ_z, σ_z²).   Shapes: z (...) labels -> (..., D)."""
        if not isinstance(z, torch.Tensor) or z.dtype != torch.long:
            _checks.fail(
                "z",
                "an int64 tensor of component labels",
                _checks.describe_value(z),
                "draw it with model.sample_prior(num_samples, n)",
                kind=_checks.ArgumentTypeError,
            )
        _checks.like("z", z, "the model", self.logits.new_empty(0, dtype=torch.long))
        _checks.label_range("z", z, self.num_components)
        _checks.generator(generator, z.device)
        noise = torch.randn(
            (*z.shape, self.data_dim), generator=generator, dtype=self.loc.dtype, device=z.device
        )
        return self.loc[z] + self.log_scale[z].exp() * noise
