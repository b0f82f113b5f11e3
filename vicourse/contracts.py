"""What a model promises, so that bounds, estimators and fitters work with any of them.

    LatentModel     the generative contract: p(z), p(x|z), their sum, and sampling      (chapter 1)
    TractableModel  adds the exact answers: log p(x), p(z|x), the ELBO in closed form  (chapter 1)

What a q promises is `families.Family` (chapter 3). A VAE (chapter 8) is a LatentModel and
nothing more: it has no exact log p(x). The models of chapters 1–4 are TractableModels. Code that
needs an exact answer asks for a TractableModel; code that only samples and scores asks for a
LatentModel. The checks of a model's arguments are in _checks_models.py, not here.

Shapes: x is (N, D); z is (S, N, K) for a continuous latent and (S, N) labels for a discrete one;
log densities are (S, N); log p(x) and every bound are (N,).
Chapter 1, "Latent variable models", for the models; chapter 3 for the family q.
"""

from __future__ import annotations

import torch
from torch import nn

from . import _checks
from . import _checks_kinds as kinds
from ._checks_spec import validated
from .families import Family


class LatentModel(nn.Module):
    """The generative contract: log p(z), log p(x|z), their sum, and ancestral sampling.

    A subclass provides `data_dim`, `latent_dim`, `prior(n)` (p(z) as a Family with n rows),
    `log_likelihood(x, z)` and `sample_likelihood(z)`; a discrete z sets `discrete = True` and
    `num_components`; a likelihood for bounded data sets `data_range`.
    Move it with .to(device), as any nn.Module.

    Shapes: log_prior(z (S, N, K)) -> (S, N); log_likelihood(x (N, D), z (S, N, K)) -> (S, N).
    Chapter: 1.
    """

    data_dim: int
    latent_dim: int
    discrete = False  # z is a label 0..num_components − 1, not a K-vector
    data_range: tuple[float, float] | None = None  # e.g. (0, 1) for a Bernoulli likelihood

    def reference(self) -> torch.Tensor:
        """A buffer or parameter of the model: its dtype and device are the model's."""
        return next(iter([*self.parameters(), *self.buffers()]))

    @validated()
    def trainable_parameters(self) -> list[torch.Tensor]:
        """θ: the parameters a fit may change, or a clear error when there are none."""
        parameters = [p for p in self.parameters() if p.requires_grad]
        if not parameters:  # a refusal that teaches, checked or not: its message is below
            _no_parameters(self)
        return parameters

    # The contract. Subclasses implement these.

    def prior(self, n: int) -> Family:
        """p(z) as a q-like object with n identical rows (a q for the naive estimate)."""
        raise NotImplementedError

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z).   Shapes: (N, D), (S, N, K) -> (S, N)."""
        raise NotImplementedError

    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ p(x|z).   Shapes: (..., K) -> (..., D)."""
        raise NotImplementedError

    # Built on the contract.

    @validated(z=kinds.draws_for("self", None))
    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z).   Shapes: (S, N, K) -> (S, N)."""
        return self.prior(z.shape[1]).log_prob(z)

    @validated(x=kinds.data_for("self"), z=kinds.draws_for("self"))
    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x, z) = log p(x|z) + log p(z).   Shapes: (N, D), (S, N, K) -> (S, N)."""
        return self.log_likelihood(x, z) + self.log_prior(z)

    @validated(num_samples=kinds.count, n=kinds.count, generator=kinds.generator_for("self"))
    def sample_prior(self, num_samples: int, n: int, *, generator=None) -> torch.Tensor:
        """z ~ p(z).   Shapes: -> (S, n, K), or (S, n) labels."""
        return self.prior(n).sample(num_samples, generator=generator)

    @torch.no_grad()
    @validated(n=kinds.count, generator=kinds.generator_for("self"))
    def sample(
        self, n: int, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Ancestral sampling: z ~ p(z), then x ~ p(x|z) (data, so cut from the graph).

        Shapes: -> z (n, K) or (n,) labels, x (n, D).
        """
        z = self.sample_prior(1, n, generator=generator)[0]
        return z, self.sample_likelihood(z, generator=generator)


class TractableModel(LatentModel):
    """A LatentModel with exact answers: log p(x), p(z|x) and the ELBO of a q in closed form.

    These are what let chapters 1–7 check every estimate against the truth.   Chapter: 1.
    """

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x).   Shapes: (N, D) -> (N,)."""
        raise NotImplementedError

    def posterior(self, x: torch.Tensor):
        """Exact p(z|x), one row per datapoint."""
        raise NotImplementedError

    def elbo_exact(self, q: Family, x: torch.Tensor) -> torch.Tensor:
        """E_q[log p(x|z)] + E_q[log p(z)] + H(q) in closed form.   Shapes: (N,)."""
        raise NotImplementedError


def _no_parameters(model: LatentModel) -> None:
    """trainable_parameters' refusal: a model that keeps its constants as buffers has no θ."""
    _checks.fail(
        "model",
        "a model with trainable parameters",
        f"a {type(model).__name__}, which keeps its constants as buffers",
        "use LinearGaussian or GaussianMixture, or do not fit the model",
    )
