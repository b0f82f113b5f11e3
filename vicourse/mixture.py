"""The discrete latent variable model: a Gaussian mixture, where the integral over z is a sum.

    p(x) = Σ_c p(x | z=c) p(z=c) = Σ_c π_c N(x; μ_c, diag σ_c²)
    p(z=c | x) = π_c N(x; μ_c, σ_c²) / p(x)

Shapes: x is (N, D), z is (S, N) integer labels, log p(x) is (N,), p(z|x) is (N, C).
Chapter 1, "Latent variable models" (book/01_latent_variable_models.ipynb); EM in chapter 2.
"""

from __future__ import annotations

import torch
from torch import nn

from . import _checks
from .gaussian import DiagonalGaussian, normal_log_prob
from .models import LatentModel


class GaussianMixture(LatentModel):
    """p(z = c) = softmax(logits)_c,  x | z=c ~ N(loc_c, diag exp(log_scale_c)²).

    Args:
        logits: (C,) unnormalized log mixing weights.
        loc: (C, D) component means.
        log_scale: (C, D) component log standard deviations.
        All three become nn.Parameters: fit them by gradient ascent or by EM (mle.py).

    Shapes: z is (S, N) with values in 0..C−1; log_prior/log_likelihood/log_joint -> (S, N).
    Chapter: 1 (and 2).
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

    def check_z(self, z: torch.Tensor, n: int | None = None) -> torch.Tensor:
        """z is (S, N) int64 labels in 0..C−1 (the range is a value check)."""
        c = self.num_components
        _checks.labels_shape("z", z, n=n, num_components=c)
        _checks.like("z", z, "the model", self.logits.new_empty(0, dtype=torch.long))
        return _checks.label_range("z", z, c)

    def components(self) -> DiagonalGaussian:
        """The C component densities p(x | z=c) as one DiagonalGaussian.   Shapes: (C, D)."""
        return DiagonalGaussian(self.loc, self.log_scale)

    def component_log_joint(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_i, z=c) = log π_c + log N(x_i; μ_c, σ_c²) for every i and c.

        Shapes: (N, D) -> (N, C).
        """
        x = self.check_x(x).unsqueeze(1)  # (N, 1, D) against (C, D)
        return normal_log_prob(x, self.loc, self.log_scale) + self.logits.log_softmax(-1)

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = log Σ_c p(x, z=c).   Shapes: (N, D) -> (N,)."""
        return self.component_log_joint(x).logsumexp(-1)

    def posterior(self, x: torch.Tensor) -> torch.Tensor:
        """Exact p(z=c | x_i), the responsibilities.   Shapes: (N, D) -> (N, C), rows sum to 1."""
        return self.component_log_joint(x).softmax(-1)

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log π_z.   Shapes: (S, N) -> (S, N)."""
        return self.logits.log_softmax(-1)[self.check_z(z)]

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log N(x; μ_z, σ_z²).   Shapes: (N, D), (S, N) -> (S, N)."""
        self.check_x(x)
        self.check_z(z, x.shape[0])
        return normal_log_prob(x, self.loc[z], self.log_scale[z])  # (S, N, D) -> (S, N)

    def sample_prior(self, num_samples: int, n: int, *, generator=None) -> torch.Tensor:
        """z ~ Categorical(π).   Shapes: -> (S, n) int64."""
        num_samples = _checks.positive_int("num_samples", num_samples)
        n = _checks.positive_int("n", n)
        _checks.generator(generator, self.logits.device)
        draws = torch.multinomial(
            self.weights.detach(), num_samples * n, replacement=True, generator=generator
        )
        return draws.reshape(num_samples, n)

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

    @torch.no_grad()
    def sample(self, n: int, *, generator=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Ancestral sampling: z ~ p(z), x ~ p(x|z).   Shapes: -> z (n,) labels, x (n, D)."""
        z = self.sample_prior(1, n, generator=generator)[0]
        return z, self.sample_likelihood(z, generator=generator)
