"""Latent variable models with exact answers, p(x) = ∫ p(x|z) p(z) dz, to check bounds against.

    GaussianMean:    z ~ N(m₀, τ² I), x | z ~ N(z, s² I)        p(z|x) diagonal: q can match it
    LinearGaussian:  z ~ N(0, I),     x | z ~ N(W z + b, s² I)  p(z|x) correlated: q cannot

Shapes: x is (N, D), z is (S, N, K), log densities are (S, N), log p(x) is (N,).
Chapter 1, "Latent variable models" (book/01_latent_variable_models.ipynb); used again in 2–4.
The discrete-z model, the Gaussian mixture, is in mixture.py.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .contracts import TractableModel
from .gaussian import DiagonalGaussian
from .numerics import HALF_LOG_2PI, normal_log_prob

DATA = dict(x=kinds.data_for("self"))  # the data x (N, D) of a model's method
JOINT = dict(x=kinds.data_for("self"), z=kinds.draws_for("self"))  # x, and draws z for its N
CLOSED_FORM = dict(  # x, then a diagonal Gaussian q with one row per row of x
    x=kinds.data_for("self"),
    q=kinds.closed_form_q(DiagonalGaussian, "the closed form is for a diagonal Gaussian q"),
)


def _expected_log_normal(sq: torch.Tensor, var: torch.Tensor | float, dim: int) -> torch.Tensor:
    """E[log N(v; m, var I)] over v, given sq = E‖v − m‖² and a scalar var:
    −(dim/2) log 2π var − sq / 2var."""
    var = torch.as_tensor(var, dtype=sq.dtype, device=sq.device)
    return -dim * (HALF_LOG_2PI + 0.5 * var.log()) - sq / (2 * var)


class GaussianMean(TractableModel):
    """z ~ N(m₀, τ² I_K), x | z ~ N(z, s² I_K): the conjugate model, D = K.

    Exact: p(x) = N(m₀, (τ² + s²) I) and p(z|x) = N((m₀/τ² + x/s²)/λ, 1/λ), λ = 1/τ² + 1/s²,
    a diagonal Gaussian, so the variational family contains the posterior: the bound can be tight.

    Args:
        dim: K = D.
        prior_loc, prior_scale, noise_scale: m₀, τ > 0, s > 0 (numbers).
        dtype, device: where the model's constants live (move it later with .to()).

    Chapter: 1 (and 2–4).
    """

    @validated(  # the constants are judged in the model's dtype, so dtype comes first
        dim=kinds.count,
        dtype=kinds.dtype,
        device=kinds.device,
        prior_loc=kinds.real_in("dtype"),
        prior_scale=kinds.scale_in("dtype"),
        noise_scale=kinds.scale_in("dtype"),
    )
    def __init__(
        self,
        dim: int = 1,
        prior_loc: float = 0.0,
        prior_scale: float = 1.0,
        noise_scale: float = 0.5,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ):
        super().__init__()
        self.data_dim = self.latent_dim = dim
        constants = dict(prior_loc=prior_loc, prior_scale=prior_scale, noise_scale=noise_scale)
        for name, value in constants.items():  # 0-d tensors: m₀, τ, s
            self.register_buffer(name, torch.tensor(value, dtype=dtype, device=device))

    @validated(n=kinds.count)
    def prior(self, n: int) -> DiagonalGaussian:
        """p(z) as a DiagonalGaussian with n identical rows.   Shapes: (n, K)."""
        return DiagonalGaussian(self.prior_loc.expand(n, self.latent_dim), self.prior_scale.log())

    @validated(z=kinds.latent_for(), generator=kinds.generator_for("z"))
    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ p(x|z) = N(z, s² I).   Shapes: (..., K) -> (..., D)."""
        noise = torch.randn(z.shape, generator=generator, dtype=z.dtype, device=z.device)
        return z + self.noise_scale * noise

    @validated(z=kinds.draws_for("self", None))
    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) = log N(z; m₀, τ² I).   Shapes: (S, N, K) -> (S, N)."""
        return normal_log_prob(z, self.prior_loc, self.prior_scale.log())

    @validated(**JOINT)
    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z) = log N(x; z, s² I).   Shapes: (N, D), (S, N, K) -> (S, N)."""
        return normal_log_prob(x, z, self.noise_scale.log())

    @validated(**DATA)
    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = log N(x; m₀, (τ² + s²) I).   Shapes: (N, D) -> (N,)."""
        variance = self.prior_scale.square() + self.noise_scale.square()
        return normal_log_prob(x, self.prior_loc, 0.5 * variance.log())

    @validated(**DATA)
    def posterior(self, x: torch.Tensor) -> DiagonalGaussian:
        """Exact p(z|x) = N((m₀/τ² + x/s²)/λ, 1/λ), λ = 1/τ² + 1/s².   Shapes: (N, D) -> (N, K)."""
        prior_precision, noise_precision = self.prior_scale.pow(-2), self.noise_scale.pow(-2)
        precision = prior_precision + noise_precision
        loc = (self.prior_loc * prior_precision + x * noise_precision) / precision
        return DiagonalGaussian(loc, -0.5 * precision.log())

    @validated(**CLOSED_FORM)
    def elbo_exact(self, q: DiagonalGaussian, x: torch.Tensor) -> torch.Tensor:
        """The ELBO in closed form: E_q[log p(x|z)] + E_q[log p(z)] + H(q), no sampling.

        Shapes: q (N, K), x (N, D) -> (N,).
        """
        var = q.scale.square()
        expected_lik = _expected_log_normal(
            ((x - q.loc).square() + var).sum(-1), self.noise_scale.square(), self.data_dim
        )
        expected_prior = _expected_log_normal(
            ((q.loc - self.prior_loc).square() + var).sum(-1),
            self.prior_scale.square(),
            self.latent_dim,
        )
        return expected_lik + expected_prior + q.entropy()

    @validated(**DATA)
    def naive_relative_variance(self, x: torch.Tensor) -> torch.Tensor:
        """Var[p(x|z)] / p(x)² for z ~ p(z): the relative variance of the naive estimate of
        p(x) from one prior draw; S draws divide it by S.

        E[p(x|z)²] = (2s√π)^(−D) N(x; m₀, (s²/2 + τ²) I), so E[p(x|z)²]/p(x)² − 1 is closed form.
        Shapes: (N, D) -> (N,).   Chapter 2.
        """
        s2, t2 = self.noise_scale.square(), self.prior_scale.square()
        half = normal_log_prob(x, self.prior_loc, 0.5 * (s2 / 2 + t2).log())
        log_second_moment = half - self.data_dim * torch.log(
            2 * self.noise_scale * math.sqrt(math.pi)
        )
        return torch.expm1(log_second_moment - 2 * self.log_marginal(x))


class LinearGaussian(TractableModel):
    """Probabilistic PCA: z ~ N(0, I_K), x | z ~ N(W z + b, s² I_D).

    Exact: p(x) = N(b, W Wᵀ + s² I) and p(z|x) = N(Λ⁻¹ Wᵀ (x − b)/s², Λ⁻¹) with
    Λ = I + WᵀW/s², a full covariance. The best diagonal q has σ_k² = 1/Λ_kk and leaves the
    gap ½(Σ_k log Λ_kk − log det Λ) ≥ 0.

    Args:
        weight: W, shape (D, K).   bias: b, shape (D,).   noise_scale: s > 0, one number.
        W, b and log s are nn.Parameters, so the model can also be fitted by maximum likelihood.

    Chapter: 1 (and 4, where the gap stays open).
    """

    @validated(
        weight=kinds.linear_weight, bias=kinds.linear_bias, noise_scale=kinds.scale_in("weight")
    )
    def __init__(
        self, weight: torch.Tensor, bias: torch.Tensor | None = None, noise_scale: float = 1.0
    ):
        super().__init__()
        self.data_dim, self.latent_dim = weight.shape
        bias = torch.zeros_like(weight[:, 0]) if bias is None else bias
        self.weight = nn.Parameter(weight.detach().clone())
        self.bias = nn.Parameter(bias.detach().clone())
        self.log_noise = nn.Parameter(torch.tensor(math.log(noise_scale), **self._like()))

    def _like(self) -> dict:
        return dict(dtype=self.weight.dtype, device=self.weight.device)

    @property
    def noise_scale(self) -> torch.Tensor:
        """s = exp(log s), a 0-d tensor."""
        return self.log_noise.exp()

    @validated(n=kinds.count)
    def prior(self, n: int) -> DiagonalGaussian:
        """p(z) = N(0, I) as a DiagonalGaussian with n rows.   Shapes: (n, K)."""
        zeros = self.weight.new_zeros(n, self.latent_dim)
        return DiagonalGaussian(zeros, zeros)

    @torch.no_grad()
    @validated(z=kinds.latent_for(), generator=kinds.generator_for("z"))
    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ N(W z + b, s² I).   Shapes: (..., K) -> (..., D)."""
        mean = z @ self.weight.T + self.bias
        noise = torch.randn(mean.shape, generator=generator, dtype=z.dtype, device=z.device)
        return mean + self.noise_scale * noise

    @validated(z=kinds.draws_for("self", None))
    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) = log N(z; 0, I).   Shapes: (S, N, K) -> (S, N)."""
        return (-0.5 * z.square() - HALF_LOG_2PI).sum(-1)

    @validated(**JOINT)
    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z) = log N(x; W z + b, s² I).   Shapes: (N, D), (S, N, K) -> (S, N)."""
        mean = z @ self.weight.T + self.bias  # (S, N, D)
        return normal_log_prob(x, mean, self.log_noise)

    @validated()
    def marginal(self) -> torch.distributions.MultivariateNormal:
        """p(x) = N(b, W Wᵀ + s² I) as a torch distribution."""
        return torch.distributions.MultivariateNormal(self.bias, self._marginal_covariance())

    def _marginal_covariance(self) -> torch.Tensor:
        eye = torch.eye(self.data_dim, **self._like())
        return self.weight @ self.weight.T + self.noise_scale.square() * eye

    @validated(**DATA)
    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = log N(x; b, W Wᵀ + s² I), from the Cholesky factor L of the
        covariance: −½‖L⁻¹(x − b)‖² − Σ_d log L_dd − (D/2) log 2π.   Shapes: (N, D) -> (N,).

        A covariance that is not positive definite (parameters a fit sent to nan or inf) gives
        nan, which the fit reports, where torch's MultivariateNormal would raise."""
        tril, info = torch.linalg.cholesky_ex(self._marginal_covariance())
        tril = torch.where(info == 0, tril, torch.full_like(tril, math.nan))
        white = torch.linalg.solve_triangular(tril, (x - self.bias).T, upper=False)  # (D, N)
        log_det = tril.diagonal().log().sum()
        return -0.5 * white.square().sum(0) - log_det - self.data_dim * HALF_LOG_2PI

    @validated()
    def posterior_precision(self) -> torch.Tensor:
        """Λ = I + WᵀW / s², the same for every x.   Shapes: (K, K)."""
        eye = torch.eye(self.latent_dim, **self._like())
        return eye + self.weight.T @ self.weight / self.noise_scale.square()

    @validated(**DATA)
    def posterior(self, x: torch.Tensor) -> torch.distributions.MultivariateNormal:
        """Exact p(z|x) = N(Λ⁻¹ Wᵀ (x − b) / s², Λ⁻¹).   Shapes: loc (N, K), covariance (K, K)."""
        precision = self.posterior_precision()
        projected = self.weight.T @ (x - self.bias).T  # (K, N)
        loc = torch.linalg.solve(precision, projected).T / self.noise_scale.square()
        return torch.distributions.MultivariateNormal(loc, precision_matrix=precision)

    @validated(**DATA)
    def best_diagonal_q(self, x: torch.Tensor) -> DiagonalGaussian:
        """argmin over diagonal q of KL(q ‖ p(z|x)): the posterior mean, and σ_k² = 1/Λ_kk.

        Shapes: (N, D) -> (N, K).
        """
        loc = self.posterior(x).loc
        return DiagonalGaussian(loc, -0.5 * self.posterior_precision().diagonal().log())

    @validated()
    def mean_field_gap(self) -> torch.Tensor:
        """log p(x) − max over diagonal q of the ELBO = ½(Σ_k log Λ_kk − log det Λ), for every x."""
        precision = self.posterior_precision()
        return 0.5 * (precision.diagonal().log().sum() - torch.linalg.slogdet(precision)[1])

    @validated(**CLOSED_FORM)
    def elbo_exact(self, q: DiagonalGaussian, x: torch.Tensor) -> torch.Tensor:
        """The ELBO in closed form: E_q[log p(x|z)] + E_q[log p(z)] + H(q), no sampling.

        Shapes: q (N, K), x (N, D) -> (N,).
        """
        var = q.scale.square()  # (N, K)
        mean_residual = (x - q.loc @ self.weight.T - self.bias).square().sum(-1)
        residual = mean_residual + var @ self.weight.square().sum(0)
        expected_lik = _expected_log_normal(residual, self.noise_scale.square(), self.data_dim)
        expected_prior = _expected_log_normal((q.loc.square() + var).sum(-1), 1.0, self.latent_dim)
        return expected_lik + expected_prior + q.entropy()
