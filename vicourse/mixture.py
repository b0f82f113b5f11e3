"""The discrete latent variable model: a Gaussian mixture, where the integral over z is a sum.

    p(x) = Σ_c p(x | z=c) p(z=c) = Σ_c π_c N(x; μ_c, diag σ_c²)
    p(z=c | x) = π_c N(x; μ_c, σ_c²) / p(x)

`Mixture` holds what every finite mixture answers by a sum over its C labels (log p(x), p(z|x),
the ELBO of a Categorical q); `GaussianMixture` is the chapters' model, and chapter 11's
`BernoulliMixture` (bernoulli_mixture.py) is another. Their variational family is
`Categorical` (categorical.py): a q over the labels, with no rsample (no reparameterization for
a discrete z; chapter 7 uses the score-function estimator for it).

Shapes: x is (N, D), z is (S, N) integer labels, log p(x) is (N,), p(z|x) is (N, C).
Chapter 1, "Latent variable models" (book/01_latent_variable_models.ipynb); EM in chapter 2.
"""

from __future__ import annotations

import torch
from torch import nn

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .categorical import Categorical
from .contracts import TractableModel
from .numerics import normal_log_prob

DATA = dict(x=kinds.data_for("self"))  # the data x (N, D) of a mixture's method
JOINT = dict(x=kinds.data_for("self"), z=kinds.labels_for("self", "x"))  # x, labels z (S, N)


class Mixture(TractableModel):
    """What every finite mixture answers exactly, from log p(x, z=c) for each label c: the prior
    as a Categorical, log p(x), p(z | x) and the ELBO of a Categorical q, each a sum over the C
    labels. A subclass sets `logits` (C,) and `num_components`, and defines
    `component_log_joint(x)` (N, C) (GaussianMixture here; BernoulliMixture, chapter 11).

    Shapes: z is (S, N) labels; log p(x) (N,); p(z|x) (N, C).   Chapter: 1 (and 11).
    """

    latent_dim = 1  # one label per datapoint; z is (S, N), not (S, N, K)
    discrete = True

    @validated(n=kinds.count)
    def prior(self, n: int) -> Categorical:
        """p(z) as a Categorical with n identical rows.   Shapes: (n, C)."""
        return Categorical(self.logits.expand(n, self.num_components))

    def component_log_joint(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_i, z=c) for every i and c.   Shapes: (N, D) -> (N, C)."""
        raise NotImplementedError

    @validated(**DATA)
    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = log Σ_c p(x, z=c).   Shapes: (N, D) -> (N,)."""
        return self.component_log_joint(x).logsumexp(-1)

    @validated(**DATA)
    def posterior(self, x: torch.Tensor) -> Categorical:
        """Exact p(z | x_i), the responsibilities, as a Categorical (.probs is (N, C))."""
        return Categorical(self.component_log_joint(x).log_softmax(-1))

    @validated(
        x=kinds.data_for("self"),
        q=kinds.closed_form_q(Categorical, "the closed form sums over the labels"),
    )
    def elbo_exact(self, q: Categorical, x: torch.Tensor) -> torch.Tensor:
        """The ELBO of a Categorical q, a finite sum: Σ_c q_c (log p(x, c) − log q_c).

        Shapes: q (N, C), x (N, D) -> (N,).
        """
        return (q.probs * self.component_log_joint(x)).sum(-1) + q.entropy()

    @validated(z=kinds.labels_for("self"))
    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log π_z.   Shapes: (S, N) -> (S, N)."""
        return self.logits.log_softmax(-1)[z]

    @validated(**JOINT)
    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x, z) = log p(x | z) + log π_z, the contract's sum, for labels z.

        Shapes: (N, D), (S, N) -> (S, N)."""
        return self.log_likelihood(x, z) + self.log_prior(z)


class GaussianMixture(Mixture):
    """p(z = c) = softmax(logits)_c,  x | z=c ~ N(loc_c, diag exp(log_scale_c)²).

    Args:
        logits: (C,) unnormalized log mixing weights.
        loc: (C, D) component means.
        log_scale: (C, D) component log standard deviations.
        All three become nn.Parameters: fit them by gradient ascent or by EM (mle.py).

    Shapes: z is (S, N) with values in 0..C−1; log_prior/log_likelihood/log_joint -> (S, N).
    Chapter: 1 (and 2, 7).
    """

    @validated(  # loc first: its shape (C, D) sizes the others
        loc=kinds.mixture_loc, logits=kinds.mixture_logits, log_scale=kinds.mixture_log_scale
    )
    def __init__(self, logits: torch.Tensor, loc: torch.Tensor, log_scale: torch.Tensor):
        super().__init__()
        self.num_components, self.data_dim = loc.shape
        self.logits = nn.Parameter(logits.detach().clone())
        self.loc = nn.Parameter(loc.detach().clone())
        self.log_scale = nn.Parameter(log_scale.detach().clone())

    @property
    def weights(self) -> torch.Tensor:
        """π = softmax(logits).   Shapes: (C,)."""
        return self.logits.softmax(-1)

    @validated(num_samples=kinds.count, n=kinds.count, generator=kinds.generator_for("self"))
    def sample_prior(self, num_samples: int, n: int, *, generator=None) -> torch.Tensor:
        """z ~ Categorical(π), all S·n labels from one draw.   Shapes: -> (S, n) int64."""
        draws = torch.multinomial(
            self.weights.detach(), num_samples * n, replacement=True, generator=generator
        )
        return draws.reshape(num_samples, n)

    @validated(**DATA)
    def component_log_joint(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_i, z=c) = log π_c + log N(x_i; μ_c, σ_c²) for every i and c.

        Shapes: (N, D) -> (N, C).
        """
        x = x.unsqueeze(1)  # (N, 1, D) against (C, D)
        return normal_log_prob(x, self.loc, self.log_scale) + self.logits.log_softmax(-1)

    @validated(**JOINT)
    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log N(x; μ_z, σ_z²).   Shapes: (N, D), (S, N) -> (S, N)."""
        return normal_log_prob(x, self.loc[z], self.log_scale[z])  # (S, N, D) -> (S, N)

    @torch.no_grad()
    @validated(z=kinds.any_labels, generator=kinds.generator_for("z"))
    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ N(μ_z, σ_z²).   Shapes: z (...) labels -> (..., D)."""
        noise = torch.randn(
            (*z.shape, self.data_dim), generator=generator, dtype=self.loc.dtype, device=z.device
        )
        return self.loc[z] + self.log_scale[z].exp() * noise
