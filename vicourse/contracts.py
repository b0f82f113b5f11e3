"""What a model and a q promise, so that bounds, estimators and fitters work with any of them.

    LatentModel     the generative contract: p(z), p(x|z), their sum, and sampling      (chapter 1)
    TractableModel  adds the exact answers: log p(x), p(z|x), the ELBO in closed form  (chapter 1)
    Family          a q: sample, rsample (if has_rsample), log_prob, entropy           (chapter 3)

A VAE (chapter 8) is a LatentModel and nothing more: it has no exact log p(x). The models of
chapters 1–4 are TractableModels. Code that needs an exact answer asks for a TractableModel;
code that only samples and scores asks for a LatentModel.

Shapes: x is (N, D); z is (S, N, K) for a continuous latent and (S, N) labels for a discrete one;
log densities are (S, N); log p(x) and every bound are (N,).
Chapter 1, "Latent variable models", for the models; chapter 3 for the family q.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

from . import _checks


@runtime_checkable
class Family(Protocol):
    """A variational distribution q for a batch of datapoints (DiagonalGaussian, Categorical).

    batch_shape: (N,), one distribution per datapoint; event_shape: (K,) for a Gaussian, () for a
    label. has_rsample: whether rsample exists (the reparameterization trick, chapter 7).
    """

    has_rsample: bool

    @property
    def batch_shape(self) -> torch.Size: ...

    @property
    def event_shape(self) -> torch.Size: ...

    def sample(self, num_samples: int, *, generator=None) -> torch.Tensor: ...

    def log_prob(self, z: torch.Tensor) -> torch.Tensor: ...

    def entropy(self) -> torch.Tensor: ...

    def params(self) -> dict[str, torch.Tensor]: ...


class LatentModel(nn.Module):
    """The generative contract: log p(z), log p(x|z), their sum, and ancestral sampling.

    A subclass provides `data_dim`, `latent_dim`, `prior(n)` (p(z) as a Family with n rows),
    `log_likelihood(x, z)`, `sample_likelihood(z)` and, for a discrete z, `check_z`.
    Move it with .to(device), as any nn.Module.

    Shapes: log_prior(z (S, N, K)) -> (S, N); log_likelihood(x (N, D), z (S, N, K)) -> (S, N).
    Chapter: 1.
    """

    data_dim: int
    latent_dim: int

    def reference(self) -> torch.Tensor:
        """A buffer or parameter of the model: its dtype and device are the model's."""
        return next(iter([*self.parameters(), *self.buffers()]))

    def trainable_parameters(self) -> list[torch.Tensor]:
        """θ: the parameters a fit may change, or a clear error when there are none."""
        parameters = [p for p in self.parameters() if p.requires_grad]
        if not parameters:
            _checks.fail(
                "model",
                "a model with trainable parameters",
                f"a {type(self).__name__}, which keeps its constants as buffers",
                "use LinearGaussian or GaussianMixture, or do not fit the model",
            )
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

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z).   Shapes: (S, N, K) -> (S, N)."""
        return self.prior(self.check_z(z).shape[1]).log_prob(z)

    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x, z) = log p(x|z) + log p(z).   Shapes: (N, D), (S, N, K) -> (S, N)."""
        return self.log_likelihood(x, z) + self.log_prior(z)

    def sample_prior(self, num_samples: int, n: int, *, generator=None) -> torch.Tensor:
        """z ~ p(z).   Shapes: -> (S, n, K), or (S, n) labels."""
        return self.prior(n).sample(num_samples, generator=generator)

    @torch.no_grad()
    def sample(
        self, n: int, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Ancestral sampling: z ~ p(z), then x ~ p(x|z) (data, so cut from the graph).

        Shapes: -> z (n, K) or (n,) labels, x (n, D).
        """
        n = _checks.positive_int("n", n)
        z = self.sample_prior(1, n, generator=generator)[0]
        return z, self.sample_likelihood(z, generator=generator)

    # Argument checks shared by every model.

    def check_x(self, x: torch.Tensor) -> torch.Tensor:
        """x is (N, D) data on the model's device and dtype, finite (a value check)."""
        d = self.data_dim
        _checks.tensor(
            "x",
            x,
            ndim=2,
            last=d,
            shape_hint=f"(N, {d}) for this model (data_dim={d})",
            fix="one row per datapoint; a single x is x[None, :]",
        )
        if x.shape[0] == 0:
            _checks.fail("x", "at least one datapoint", "an empty (0, D) tensor", "pass data")
        _checks.like("x", x, "the model", self.reference())
        return _checks.finite("x", x)

    def check_z(self, z: torch.Tensor, n: int | None = None) -> torch.Tensor:
        """z is (S, N, K) latent draws, samples first, like the model, finite."""
        hint = "draw z with q.rsample(num_samples) or model.sample_prior(num_samples, n)"
        _checks.samples("z", z, n=n, k=self.latent_dim, hint=hint)
        _checks.like("z", z, "the model", self.reference())
        return _checks.finite("z", z)

    def check_latent(
        self, z: torch.Tensor, fix: str = "draw z with model.sample_prior"
    ) -> torch.Tensor:
        """z is any (..., K) batch of latent values (not only samples-first), like the model."""
        k = self.latent_dim
        _checks.tensor("z", z, last=k, shape_hint=f"(..., {k})", fix=fix)
        _checks.like("z", z, "the model", self.reference())
        return _checks.finite("z", z)

    def check_q(self, q: Family, n: int) -> Family:
        """q is a Family with one distribution per datapoint, over this model's latent."""
        _checks.instance("q", q, Family, "build one with DiagonalGaussian(loc, log_scale)")
        prior = self.prior(1)
        event = prior.event_shape
        if q.event_shape != event:
            _checks.fail(
                "q",
                f"a distribution over z of shape {tuple(event)}, like the model's latent",
                f"a {type(q).__name__} over z of shape {tuple(q.event_shape)}",
                f"build q with the model's latent_dim = {self.latent_dim}",
            )
        if type(q) is type(prior):  # e.g. the number of categories of a Categorical
            for name, value in prior.params().items():
                if q.params()[name].shape[-1] != value.shape[-1]:
                    _checks.fail(
                        f"q.{name}",
                        f"of shape (N, {value.shape[-1]}), like the model's prior",
                        str(tuple(q.params()[name].shape)),
                        f"build q with {value.shape[-1]} columns",
                    )
        if tuple(q.batch_shape) != (n,):
            _checks.fail(
                "q",
                f"one distribution per datapoint, batch shape (N,) = ({n},)",
                f"batch shape {tuple(q.batch_shape)}",
                "expand a shared q to N rows, e.g. DiagonalGaussian(loc.expand(N, K), log_scale)",
            )
        for name, value in q.params().items():
            if value.is_floating_point():
                _checks.like(f"q.{name}", value, "the model", self.reference())
        return q


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
