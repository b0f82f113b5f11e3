"""Latent variable models with exact answers, p(x) = ∫ p(x|z) p(z) dz, to check every bound against.

    GaussianMean:    z ~ N(m₀, τ² I),  x | z ~ N(z, s² I)        p(z|x) is diagonal: a q can match it.
    LinearGaussian:  z ~ N(0, I),      x | z ~ N(W z + b, s² I)  p(z|x) is correlated: a diagonal q cannot.

Shapes: x is (N, D), z is (S, N, K), log densities are (S, N), log p(x) is (N,).
Chapter 1, "Latent variable models" (book/01_latent_variable_models.ipynb); used again in 2–4.
The discrete-z model, the Gaussian mixture, is in mixture.py.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from . import _checks
from .gaussian import HALF_LOG_2PI, DiagonalGaussian


def _expected_log_normal(sq: torch.Tensor, var: torch.Tensor | float, dim: int) -> torch.Tensor:
    """E[log N(v; m, var I)] over v, given sq = E‖v − m‖² (var a scalar): −dim/2 log 2π var − sq / 2var."""
    return -dim * (HALF_LOG_2PI + 0.5 * torch.log(torch.as_tensor(var, dtype=sq.dtype, device=sq.device))) \
        - sq / (2 * var)


class LatentModel(nn.Module):
    """What every model here provides: log p(z), log p(x|z), their sum, ancestral sampling, exact log p(x).

    Shapes: log_prior(z (S, N, K)) -> (S, N); log_likelihood(x (N, D), z (S, N, K)) -> (S, N).
    Chapter: 1.
    """

    data_dim: int
    latent_dim: int

    def check_x(self, x: torch.Tensor) -> torch.Tensor:
        _checks.tensor("x", x, ndim=2, last=self.data_dim,
                       shape_hint=f"(N, {self.data_dim}) for this model (data_dim={self.data_dim})")
        _checks.same_device("x", x, "the model", self.reference())
        return x

    def check_z(self, z: torch.Tensor, n: int | None = None) -> torch.Tensor:
        return _checks.samples("z", z, n=n, k=self.latent_dim,
                               hint="draw z with q.rsample(num_samples) or model.sample_prior(num_samples, n)")

    def reference(self) -> torch.Tensor:
        """A buffer or parameter of the model: its dtype and device are the model's."""
        return next(iter([*self.parameters(), *self.buffers()]))

    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x, z) = log p(x|z) + log p(z).   Shapes: (N, D), (S, N, K) -> (S, N)."""
        return self.log_likelihood(x, z) + self.log_prior(z)

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Ancestral sampling: z ~ p(z), then x ~ p(x|z) (data, so cut from the graph).   Shapes: -> z (n, K), x (n, D)."""
        n = _checks.positive_int("n", n)
        z = self.sample_prior(1, n, generator=generator)  # (1, n, K)
        return z[0], self.sample_likelihood(z[0], generator=generator)


class GaussianMean(LatentModel):
    """z ~ N(m₀, τ² I_K), x | z ~ N(z, s² I_K): the conjugate model, D = K.

    Exact: p(x) = N(m₀, (τ² + s²) I) and p(z|x) = N((m₀/τ² + x/s²)/λ, 1/λ) with λ = 1/τ² + 1/s²,
    a diagonal Gaussian, so the variational family contains the posterior and the bound can be tight.

    Args:
        dim: K = D.
        prior_loc, prior_scale, noise_scale: m₀, τ > 0, s > 0.
        dtype, device: where the model's constants live (move it later with .to()).

    Chapter: 1 (and 2–4).
    """

    def __init__(self, dim: int = 1, prior_loc: float = 0.0, prior_scale: float = 1.0, noise_scale: float = 0.5,
                 *, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        super().__init__()
        self.data_dim = self.latent_dim = _checks.positive_int("dim", dim)
        if not isinstance(prior_loc, (int, float)) or not math.isfinite(prior_loc):
            raise ValueError(f"prior_loc must be a finite number, got {prior_loc!r}.")
        factory = dict(dtype=dtype, device=device)
        self.register_buffer("prior_loc", torch.tensor(float(prior_loc), **factory))
        self.register_buffer("prior_scale", torch.tensor(_checks.positive("prior_scale", prior_scale), **factory))
        self.register_buffer("noise_scale", torch.tensor(_checks.positive("noise_scale", noise_scale), **factory))

    def prior(self, n: int) -> DiagonalGaussian:
        """p(z) as a DiagonalGaussian with n identical rows.   Shapes: (n, K)."""
        loc = self.prior_loc.expand(_checks.positive_int("n", n), self.latent_dim)
        return DiagonalGaussian(loc, self.prior_scale.log().expand_as(loc))

    def sample_prior(self, num_samples: int, n: int, *, generator=None) -> torch.Tensor:
        """z ~ p(z).   Shapes: -> (S, n, K)."""
        return self.prior(n).sample(num_samples, generator=generator)

    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ p(x|z) = N(z, s² I).   Shapes: (..., K) -> (..., D)."""
        _checks.generator(generator, z.device)
        return z + self.noise_scale * torch.randn(z.shape, generator=generator, dtype=z.dtype, device=z.device)

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        self.check_z(z)
        return self.prior(z.shape[1]).log_prob(z)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        self.check_x(x)
        self.check_z(z, x.shape[0])
        return DiagonalGaussian(z, self.noise_scale.log().expand_as(z)).log_prob(x.unsqueeze(0))

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = log N(x; m₀, (τ² + s²) I).   Shapes: (N, D) -> (N,)."""
        self.check_x(x)
        scale = (self.prior_scale.square() + self.noise_scale.square()).sqrt()
        return DiagonalGaussian(self.prior_loc.expand_as(x), scale.log().expand_as(x)).log_prob(x)

    def posterior(self, x: torch.Tensor) -> DiagonalGaussian:
        """Exact p(z|x) = N((m₀/τ² + x/s²)/λ, 1/λ), λ = 1/τ² + 1/s².   Shapes: (N, D) -> (N, K)."""
        self.check_x(x)
        precision = self.prior_scale.pow(-2) + self.noise_scale.pow(-2)
        loc = (self.prior_loc * self.prior_scale.pow(-2) + x * self.noise_scale.pow(-2)) / precision
        return DiagonalGaussian(loc, (-0.5 * precision.log()).expand_as(loc))

    def elbo_exact(self, q: DiagonalGaussian, x: torch.Tensor) -> torch.Tensor:
        """The ELBO in closed form: E_q[log p(x|z)] + E_q[log p(z)] + H(q), no sampling.   Shapes: (N,)."""
        self.check_x(x)
        var = q.scale.square()
        expected_lik = _expected_log_normal(((x - q.loc).square() + var).sum(-1), self.noise_scale.square(), self.data_dim)
        expected_prior = _expected_log_normal(((q.loc - self.prior_loc).square() + var).sum(-1),
                                              self.prior_scale.square(), self.latent_dim)
        return expected_lik + expected_prior + q.entropy()

    def naive_relative_variance(self, x: torch.Tensor) -> torch.Tensor:
        """Var[p(x|z)] / p(x)² for z ~ p(z): the relative variance of the one-sample naive estimate of p(x).

        E[p(x|z)²] = (2s√π)^(−D) N(x; m₀, (s²/2 + τ²) I), so the ratio E[p(x|z)²]/p(x)² − 1 is closed form;
        S prior samples divide it by S.   Shapes: (N, D) -> (N,).   Chapter 2.
        """
        self.check_x(x)
        s2, t2 = self.noise_scale.square(), self.prior_scale.square()
        half = DiagonalGaussian(self.prior_loc.expand_as(x), (0.5 * (s2 / 2 + t2).log()).expand_as(x)).log_prob(x)
        log_second_moment = half - self.data_dim * torch.log(2 * self.noise_scale * math.sqrt(math.pi))
        return torch.expm1(log_second_moment - 2 * self.log_marginal(x))


class LinearGaussian(LatentModel):
    """Probabilistic PCA: z ~ N(0, I_K), x | z ~ N(W z + b, s² I_D).

    Exact: p(x) = N(b, W Wᵀ + s² I) and p(z|x) = N(Λ⁻¹ Wᵀ (x − b)/s², Λ⁻¹), Λ = I + WᵀW/s², a full covariance.
    The best diagonal q has σ_k² = 1/Λ_kk and leaves the gap ½(Σ_k log Λ_kk − log det Λ) ≥ 0.

    Args:
        weight: W, shape (D, K).   bias: b, shape (D,).   noise_scale: s > 0.
        W, b and log s are nn.Parameters, so the model can also be fitted by maximum likelihood.

    Chapter: 1 (and 4, where the gap stays open).
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None, noise_scale: float = 1.0):
        super().__init__()
        _checks.tensor("weight", weight, ndim=2, shape_hint="(D, K)")
        self.data_dim, self.latent_dim = weight.shape
        bias = torch.zeros_like(weight[:, 0]) if bias is None else bias
        _checks.tensor("bias", bias, ndim=1, last=self.data_dim, shape_hint=f"(D,) = ({self.data_dim},)")
        _checks.same_device("bias", bias, "weight", weight)
        _checks.same_dtype("bias", bias, "weight", weight)
        _checks.finite("weight", weight)
        self.weight = nn.Parameter(weight.detach().clone())
        self.bias = nn.Parameter(bias.detach().clone())
        self.log_noise = nn.Parameter(torch.tensor(_checks.positive("noise_scale", noise_scale),
                                                   dtype=weight.dtype, device=weight.device).log())

    @property
    def noise_scale(self) -> torch.Tensor:
        return self.log_noise.exp()

    def sample_prior(self, num_samples: int, n: int, *, generator=None) -> torch.Tensor:
        """z ~ N(0, I).   Shapes: -> (S, n, K)."""
        zeros = self.weight.new_zeros(_checks.positive_int("n", n), self.latent_dim)
        return DiagonalGaussian(zeros, zeros).sample(num_samples, generator=generator)

    @torch.no_grad()
    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ N(W z + b, s² I).   Shapes: (..., K) -> (..., D)."""
        _checks.generator(generator, z.device)
        mean = z @ self.weight.T + self.bias
        return mean + self.noise_scale * torch.randn(mean.shape, generator=generator, dtype=z.dtype, device=z.device)

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        self.check_z(z)
        return (-0.5 * z.square() - HALF_LOG_2PI).sum(-1)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        self.check_x(x)
        self.check_z(z, x.shape[0])
        mean = z @ self.weight.T + self.bias  # (S, N, D)
        return DiagonalGaussian(mean, self.log_noise.expand_as(mean)).log_prob(x.unsqueeze(0))

    def marginal(self) -> torch.distributions.MultivariateNormal:
        """p(x) = N(b, W Wᵀ + s² I) as a torch distribution."""
        eye = torch.eye(self.data_dim, dtype=self.weight.dtype, device=self.weight.device)
        return torch.distributions.MultivariateNormal(self.bias, self.weight @ self.weight.T + self.noise_scale.square() * eye)

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x).   Shapes: (N, D) -> (N,)."""
        return self.marginal().log_prob(self.check_x(x))

    def posterior_precision(self) -> torch.Tensor:
        """Λ = I + WᵀW / s², the same for every x.   Shapes: (K, K)."""
        eye = torch.eye(self.latent_dim, dtype=self.weight.dtype, device=self.weight.device)
        return eye + self.weight.T @ self.weight / self.noise_scale.square()

    def posterior(self, x: torch.Tensor) -> torch.distributions.MultivariateNormal:
        """Exact p(z|x) = N(Λ⁻¹ Wᵀ (x − b) / s², Λ⁻¹).   Shapes: loc (N, K), covariance (K, K)."""
        precision = self.posterior_precision()
        loc = torch.linalg.solve(precision, self.weight.T @ (self.check_x(x) - self.bias).T).T / self.noise_scale.square()
        return torch.distributions.MultivariateNormal(loc, precision_matrix=precision)

    def best_diagonal_q(self, x: torch.Tensor) -> DiagonalGaussian:
        """argmin over diagonal q of KL(q ‖ p(z|x)): loc = posterior mean, σ_k² = 1/Λ_kk.   Shapes: (N, K)."""
        loc = self.posterior(x).loc
        return DiagonalGaussian(loc, (-0.5 * self.posterior_precision().diagonal().log()).expand_as(loc))

    def mean_field_gap(self) -> torch.Tensor:
        """log p(x) − max over diagonal q of ELBO = ½(Σ_k log Λ_kk − log det Λ), the same for every x."""
        precision = self.posterior_precision()
        return 0.5 * (precision.diagonal().log().sum() - torch.linalg.slogdet(precision)[1])

    def elbo_exact(self, q: DiagonalGaussian, x: torch.Tensor) -> torch.Tensor:
        """The ELBO in closed form: E_q[log p(x|z)] + E_q[log p(z)] + H(q), no sampling.   Shapes: (N,)."""
        self.check_x(x)
        var = q.scale.square()  # (N, K)
        residual = (x - q.loc @ self.weight.T - self.bias).square().sum(-1) + var @ self.weight.square().sum(0)
        expected_lik = _expected_log_normal(residual, self.noise_scale.square(), self.data_dim)
        expected_prior = _expected_log_normal((q.loc.square() + var).sum(-1), 1.0, self.latent_dim)
        return expected_lik + expected_prior + q.entropy()
