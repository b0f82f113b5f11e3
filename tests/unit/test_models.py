"""The continuous-z models against torch.distributions and against Bayes' rule, in float64."""

import math

import pytest
import torch
from conftest import gen
from torch.distributions import MultivariateNormal, Normal

from vicourse import DiagonalGaussian, GaussianMean, LinearGaussian

F64 = torch.float64


def linear_model(device="cpu", d=4, k=2, seed=0, dtype=F64):
    g = gen(seed)
    w = torch.randn(d, k, generator=g, dtype=dtype).to(device)
    b = torch.randn(d, generator=g, dtype=dtype).to(device)
    return LinearGaussian(w, b, noise_scale=0.7)


def random_q(n, k, seed=3, dtype=F64, device="cpu"):
    g = gen(seed)
    return DiagonalGaussian(
        torch.randn(n, k, generator=g, dtype=dtype).to(device),
        (0.4 * torch.randn(n, k, generator=g, dtype=dtype)).to(device),
    )


def test_gaussian_mean_marginal_matches_torch(device):
    model = GaussianMean(
        3, prior_loc=0.5, prior_scale=1.5, noise_scale=0.4, dtype=F64, device=device
    )
    _, x = model.sample(6, generator=gen(0, device))
    oracle = Normal(torch.tensor(0.5, dtype=F64, device=device), math.sqrt(1.5**2 + 0.4**2))
    torch.testing.assert_close(model.log_marginal(x), oracle.log_prob(x).sum(-1))


@pytest.mark.parametrize("make", [lambda: GaussianMean(2, 0.3, 1.2, 0.6, dtype=F64), linear_model])
def test_bayes_rule_log_joint_minus_marginal_is_posterior(make):
    """p(z|x) = p(x, z) / p(x) at arbitrary z: checks log_prior, log_likelihood, log_marginal and
    posterior together.
    """
    model = make()
    _, x = model.sample(5, generator=gen(1))
    z = 2 * torch.randn(7, 5, model.latent_dim, generator=gen(2), dtype=F64)
    posterior = model.posterior(x)
    with torch.no_grad():
        torch.testing.assert_close(
            model.log_joint(x, z) - model.log_marginal(x), posterior.log_prob(z)
        )


def test_linear_gaussian_marginal_matches_its_definition():
    model = linear_model()
    _, x = model.sample(8, generator=gen(4))
    w, b, s = model.weight.detach(), model.bias.detach(), 0.7
    oracle = MultivariateNormal(b, w @ w.T + s**2 * torch.eye(4, dtype=F64))
    with torch.no_grad():
        torch.testing.assert_close(model.log_marginal(x), oracle.log_prob(x))


def test_linear_gaussian_samples_have_the_marginal_covariance():
    """Seeded: the sample covariance of 20,000 draws is within 5 standard errors of W Wᵀ + s² I,
    entry by entry.
    """
    model = linear_model()
    _, x = model.sample(20_000, generator=gen(5))
    cov = model.marginal().covariance_matrix.detach()
    centered = x - x.mean(0)
    products = centered[:, :, None] * centered[:, None, :]
    se = products.std(0) / math.sqrt(len(x))
    assert ((products.mean(0) - cov).abs() < 5 * se).all()


def test_elbo_exact_is_log_marginal_minus_kl_for_the_conjugate_model():
    """Chapter 4's identity in closed form: L(q) = log p(x) − KL(q ‖ p(z|x)), for any diagonal q."""
    model = GaussianMean(2, -0.3, 0.8, 0.5, dtype=F64)
    _, x = model.sample(6, generator=gen(6))
    q = random_q(6, 2)
    kl = torch.distributions.kl_divergence(q.to_torch(), model.posterior(x).to_torch())
    torch.testing.assert_close(
        model.elbo_exact(q, x), model.log_marginal(x) - kl, rtol=0, atol=1e-10
    )
    torch.testing.assert_close(
        model.elbo_exact(model.posterior(x), x), model.log_marginal(x), rtol=0, atol=1e-10
    )


def test_elbo_exact_is_log_marginal_minus_kl_for_the_linear_model():
    model = linear_model()
    _, x = model.sample(6, generator=gen(7))
    q = random_q(6, 2)
    kl = torch.distributions.kl_divergence(
        MultivariateNormal(q.loc, torch.diag_embed(q.scale.square())), model.posterior(x)
    )
    with torch.no_grad():
        torch.testing.assert_close(
            model.elbo_exact(q, x), model.log_marginal(x) - kl, rtol=0, atol=1e-10
        )


def test_mean_field_gap_is_the_best_diagonal_gap_and_positive():
    """Two similar columns of W correlate z₁ and z₂ given x, so a diagonal q must leave a gap."""
    model = LinearGaussian(
        torch.tensor([[1.0, 0.8], [0.5, 0.7], [-1.0, -0.6]], dtype=F64), noise_scale=0.5
    )
    _, x = model.sample(5, generator=gen(8))
    with torch.no_grad():
        best = model.best_diagonal_q(x)
        gap = model.log_marginal(x) - model.elbo_exact(best, x)
        torch.testing.assert_close(gap, model.mean_field_gap().expand(5), rtol=0, atol=1e-10)
        assert model.mean_field_gap() > 0.1
        for shift in (1e-2, -1e-2):  # any move of μ or log σ lowers the ELBO
            for moved in (
                DiagonalGaussian(best.loc + shift, best.log_scale),
                DiagonalGaussian(best.loc, best.log_scale + shift),
            ):
                assert (model.elbo_exact(moved, x) < model.elbo_exact(best, x)).all()


def test_naive_relative_variance_matches_simulation():
    """Seeded: the empirical variance of p(x|z)/p(x), z ~ p(z), within 5 standard errors of the
    closed form.
    """
    model = GaussianMean(1, 0.0, 1.0, 0.8, dtype=F64)
    x = torch.tensor([[0.3], [1.5]], dtype=F64)
    z = model.sample_prior(400_000, 2, generator=gen(9))
    ratio = (model.log_likelihood(x, z) - model.log_marginal(x)).exp()  # (S, N), mean 1
    centered_sq = (ratio - 1).square()
    se = centered_sq.std(0) / math.sqrt(len(ratio))
    assert ((centered_sq.mean(0) - model.naive_relative_variance(x)).abs() < 5 * se).all()
