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

from . import _checks, _checks_models, _checks_values
from .contracts import TractableModel
from .gaussian import DiagonalGaussian
from .numerics import HALF_LOG_2PI, normal_log_prob
from .validation import TRUSTED


def _expected_log_normal(sq: torch.Tensor, var: torch.Tensor | float, dim: int) -> torch.Tensor:
    """E[log N(v; m, var I)] over v, given sq = E‖v − m‖² and a scalar var:
    −(dim/2) log 2π var − sq / 2var."""
    var = torch.as_tensor(var, dtype=sq.dtype, device=sq.device)
    return -dim * (HALF_LOG_2PI + 0.5 * var.log()) - sq / (2 * var)


def _constant(name: str, value, factory: dict, *, scale: bool) -> torch.Tensor:
    """A model constant as a 0-d tensor, checked to be usable in the model's dtype."""
    if scale:
        value = _checks_values.scale_in_dtype(name, _checks.positive(name, value), factory["dtype"])
    else:
        value = _checks_values.real_in_dtype(name, _checks.real(name, value), factory["dtype"])
    return torch.tensor(value, **factory)


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
        self.data_dim = self.latent_dim = _checks.positive_int("dim", dim)
        factory = dict(dtype=_checks.dtype("dtype", dtype), device=_checks.device("device", device))
        self.register_buffer("prior_loc", _constant("prior_loc", prior_loc, factory, scale=False))
        self.register_buffer(
            "prior_scale", _constant("prior_scale", prior_scale, factory, scale=True)
        )
        self.register_buffer(
            "noise_scale", _constant("noise_scale", noise_scale, factory, scale=True)
        )

    def prior(self, n: int) -> DiagonalGaussian:
        """p(z) as a DiagonalGaussian with n identical rows.   Shapes: (n, K)."""
        if _checks.enabled:
            n = _checks.positive_int("n", n)
        with TRUSTED:
            return DiagonalGaussian(
                self.prior_loc.expand(n, self.latent_dim), self.prior_scale.log()
            )

    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ p(x|z) = N(z, s² I).   Shapes: (..., K) -> (..., D)."""
        if _checks.enabled:
            _checks_models.latent(self, z, fix="draw z with sample_prior")
            _checks.generator(generator, z.device)
        noise = torch.randn(z.shape, generator=generator, dtype=z.dtype, device=z.device)
        return z + self.noise_scale * noise

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) = log N(z; m₀, τ² I).   Shapes: (S, N, K) -> (S, N)."""
        if _checks.enabled:
            _checks_models.draws(self, z)
        return normal_log_prob(z, self.prior_loc, self.prior_scale.log())

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z) = log N(x; z, s² I).   Shapes: (N, D), (S, N, K) -> (S, N)."""
        if _checks.enabled:
            _checks_models.draws(self, z, _checks_models.data(self, x).shape[0])
        return normal_log_prob(x, z, self.noise_scale.log())

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) = log N(x; m₀, (τ² + s²) I).   Shapes: (N, D) -> (N,)."""
        variance = self.prior_scale.square() + self.noise_scale.square()
        if _checks.enabled:
            _checks_models.data(self, x)
        return normal_log_prob(x, self.prior_loc, 0.5 * variance.log())

    def posterior(self, x: torch.Tensor) -> DiagonalGaussian:
        """Exact p(z|x) = N((m₀/τ² + x/s²)/λ, 1/λ), λ = 1/τ² + 1/s².   Shapes: (N, D) -> (N, K)."""
        if _checks.enabled:
            _checks_models.data(self, x)
        prior_precision, noise_precision = self.prior_scale.pow(-2), self.noise_scale.pow(-2)
        precision = prior_precision + noise_precision
        loc = (self.prior_loc * prior_precision + x * noise_precision) / precision
        with TRUSTED:
            return DiagonalGaussian(loc, -0.5 * precision.log())

    def elbo_exact(self, q: DiagonalGaussian, x: torch.Tensor) -> torch.Tensor:
        """The ELBO in closed form: E_q[log p(x|z)] + E_q[log p(z)] + H(q), no sampling.

        Shapes: q (N, K), x (N, D) -> (N,).
        """
        if _checks.enabled:
            _check_closed_form(self, q, x)
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

    def naive_relative_variance(self, x: torch.Tensor) -> torch.Tensor:
        """Var[p(x|z)] / p(x)² for z ~ p(z): the relative variance of the naive estimate of
        p(x) from one prior draw; S draws divide it by S.

        E[p(x|z)²] = (2s√π)^(−D) N(x; m₀, (s²/2 + τ²) I), so E[p(x|z)²]/p(x)² − 1 is closed form.
        Shapes: (N, D) -> (N,).   Chapter 2.
        """
        if _checks.enabled:
            _checks_models.data(self, x)
        s2, t2 = self.noise_scale.square(), self.prior_scale.square()
        half = normal_log_prob(x, self.prior_loc, 0.5 * (s2 / 2 + t2).log())
        log_second_moment = half - self.data_dim * torch.log(
            2 * self.noise_scale * math.sqrt(math.pi)
        )
        with TRUSTED:
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

    def __init__(
        self, weight: torch.Tensor, bias: torch.Tensor | None = None, noise_scale: float = 1.0
    ):
        super().__init__()
        _checks.tensor("weight", weight, ndim=2, shape_hint="(D, K)", fix="W maps z to x: (D, K)")
        self.data_dim, self.latent_dim = weight.shape
        if 0 in weight.shape:
            _checks.fail(
                "weight",
                "of shape (D, K) with D, K ≥ 1",
                str(tuple(weight.shape)),
                "pass a nonempty matrix",
            )
        bias = torch.zeros_like(weight[:, 0]) if bias is None else bias
        d = self.data_dim
        _checks.tensor("bias", bias, ndim=1, last=d, shape_hint=f"(D,) = ({d},)")
        _checks.like("bias", bias, "weight", weight)
        _checks_values.finite("weight", weight)
        _checks_values.finite("bias", bias)
        noise_scale = _checks_values.scale_in_dtype(
            "noise_scale", _checks.positive("noise_scale", noise_scale), weight.dtype
        )
        self.weight = nn.Parameter(weight.detach().clone())
        self.bias = nn.Parameter(bias.detach().clone())
        self.log_noise = nn.Parameter(torch.tensor(math.log(noise_scale), **self._like()))

    def _like(self) -> dict:
        return dict(dtype=self.weight.dtype, device=self.weight.device)

    @property
    def noise_scale(self) -> torch.Tensor:
        """s = exp(log s), a 0-d tensor."""
        return self.log_noise.exp()

    def prior(self, n: int) -> DiagonalGaussian:
        """p(z) = N(0, I) as a DiagonalGaussian with n rows.   Shapes: (n, K)."""
        if _checks.enabled:
            n = _checks.positive_int("n", n)
        zeros = self.weight.new_zeros(n, self.latent_dim)
        with TRUSTED:
            return DiagonalGaussian(zeros, zeros)

    @torch.no_grad()
    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ N(W z + b, s² I).   Shapes: (..., K) -> (..., D)."""
        if _checks.enabled:
            _checks_models.latent(self, z, fix="draw z with sample_prior")
            _checks.generator(generator, z.device)
        mean = z @ self.weight.T + self.bias
        noise = torch.randn(mean.shape, generator=generator, dtype=z.dtype, device=z.device)
        return mean + self.noise_scale * noise

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) = log N(z; 0, I).   Shapes: (S, N, K) -> (S, N)."""
        if _checks.enabled:
            _checks_models.draws(self, z)
        return (-0.5 * z.square() - HALF_LOG_2PI).sum(-1)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z) = log N(x; W z + b, s² I).   Shapes: (N, D), (S, N, K) -> (S, N)."""
        if _checks.enabled:
            _checks_models.draws(self, z, _checks_models.data(self, x).shape[0])
        mean = z @ self.weight.T + self.bias  # (S, N, D)
        return normal_log_prob(x, mean, self.log_noise)

    def marginal(self) -> torch.distributions.MultivariateNormal:
        """p(x) = N(b, W Wᵀ + s² I) as a torch distribution."""
        eye = torch.eye(self.data_dim, **self._like())
        covariance = self.weight @ self.weight.T + self.noise_scale.square() * eye
        return torch.distributions.MultivariateNormal(self.bias, covariance)

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x).   Shapes: (N, D) -> (N,)."""
        if _checks.enabled:
            _checks_models.data(self, x)
        return self.marginal().log_prob(x)

    def posterior_precision(self) -> torch.Tensor:
        """Λ = I + WᵀW / s², the same for every x.   Shapes: (K, K)."""
        eye = torch.eye(self.latent_dim, **self._like())
        return eye + self.weight.T @ self.weight / self.noise_scale.square()

    def posterior(self, x: torch.Tensor) -> torch.distributions.MultivariateNormal:
        """Exact p(z|x) = N(Λ⁻¹ Wᵀ (x − b) / s², Λ⁻¹).   Shapes: loc (N, K), covariance (K, K)."""
        if _checks.enabled:
            _checks_models.data(self, x)
        precision = self.posterior_precision()
        projected = self.weight.T @ (x - self.bias).T  # (K, N)
        loc = torch.linalg.solve(precision, projected).T / self.noise_scale.square()
        return torch.distributions.MultivariateNormal(loc, precision_matrix=precision)

    def best_diagonal_q(self, x: torch.Tensor) -> DiagonalGaussian:
        """argmin over diagonal q of KL(q ‖ p(z|x)): the posterior mean, and σ_k² = 1/Λ_kk.

        Shapes: (N, D) -> (N, K).
        """
        loc = self.posterior(x).loc
        with TRUSTED:
            return DiagonalGaussian(loc, -0.5 * self.posterior_precision().diagonal().log())

    def mean_field_gap(self) -> torch.Tensor:
        """log p(x) − max over diagonal q of the ELBO = ½(Σ_k log Λ_kk − log det Λ), for every x."""
        precision = self.posterior_precision()
        return 0.5 * (precision.diagonal().log().sum() - torch.linalg.slogdet(precision)[1])

    def elbo_exact(self, q: DiagonalGaussian, x: torch.Tensor) -> torch.Tensor:
        """The ELBO in closed form: E_q[log p(x|z)] + E_q[log p(z)] + H(q), no sampling.

        Shapes: q (N, K), x (N, D) -> (N,).
        """
        if _checks.enabled:
            _check_closed_form(self, q, x)
        var = q.scale.square()  # (N, K)
        mean_residual = (x - q.loc @ self.weight.T - self.bias).square().sum(-1)
        residual = mean_residual + var @ self.weight.square().sum(0)
        expected_lik = _expected_log_normal(residual, self.noise_scale.square(), self.data_dim)
        expected_prior = _expected_log_normal((q.loc.square() + var).sum(-1), 1.0, self.latent_dim)
        return expected_lik + expected_prior + q.entropy()


def _check_closed_form(model, q, x) -> None:
    _checks.instance("q", q, DiagonalGaussian, "the closed form is for a diagonal Gaussian q")
    _checks_models.q(model, q, _checks_models.data(model, x).shape[0])
