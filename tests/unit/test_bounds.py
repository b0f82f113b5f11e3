"""Jensen's bound and the naive estimate, checked against the exact log p(x) of the conjugate
models.
"""

import math

import pytest
import torch
from conftest import gen
from test_models import linear_model, random_q

from vicourse import (
    DiagonalGaussian,
    GaussianMean,
    LatentModel,
    TractableModel,
    elbo,
    elbo_value,
    elbo_with_entropy,
    iwae,
    log_mean_exp,
    log_weights,
    monte_carlo,
    naive_log_marginal,
)

F64 = torch.float64


def test_elbo_at_the_exact_posterior_is_log_marginal_with_zero_variance():
    """q = p(z|x) makes every weight equal p(x): the bound is tight and its estimate has no
    variance.
    """
    model = GaussianMean(2, 0.5, 1.0, 0.5, dtype=F64)
    _, x = model.sample(5, generator=gen(0))
    posterior = model.posterior(x)
    log_w = log_weights(model, posterior, x, posterior.rsample(64, generator=gen(1)))
    assert log_w.shape == (64, 5)
    torch.testing.assert_close(elbo(log_w), model.log_marginal(x), rtol=0, atol=1e-12)
    assert (log_w.var(0) < 1e-20).all()


def test_iwae_lies_between_the_elbo_and_log_p_of_x_and_is_the_elbo_for_one_draw():
    """For the same draws IWAE_S ≥ ELBO (Jensen), with equality at S = 1; averaged over many
    repeats it stays below log p(x) and rises towards it with S."""
    model = GaussianMean(2, 0.5, 1.0, 0.5, dtype=F64)
    _, x = model.sample(3, generator=gen(5))
    q = random_q(3, 2)
    with torch.no_grad():
        log_w = log_weights(model, q, x, q.rsample(16, generator=gen(6)))
        torch.testing.assert_close(iwae(log_w), log_mean_exp(log_w), rtol=0, atol=0)
        assert (iwae(log_w) >= elbo(log_w)).all()
        torch.testing.assert_close(iwae(log_w[:1]), elbo(log_w[:1]), rtol=0, atol=1e-12)
        z = q.rsample(64 * 2_000, generator=gen(7))
        many = log_weights(model, q, x, z).reshape(2_000, 64, 3)
        by_s = [
            iwae(many[:, :s].transpose(0, 1).reshape(s, -1)).reshape(2_000, 3).mean(0)
            for s in (1, 8, 64)
        ]
        assert (by_s[0] < by_s[1]).all() and (by_s[1] < by_s[2]).all()
        assert (by_s[2] < model.log_marginal(x)).all()


@pytest.mark.parametrize("make", [lambda: GaussianMean(2, 0.5, 1.0, 0.5, dtype=F64), linear_model])
def test_monte_carlo_elbo_matches_closed_form_and_is_below_log_marginal(make):
    """Seeded: both estimators of the ELBO within 5 standard errors of the closed form, which is ≤
    log p(x).
    """
    model = make()
    _, x = model.sample(4, generator=gen(2))
    q = random_q(4, model.latent_dim)
    with torch.no_grad():
        exact = model.elbo_exact(q, x)
        estimate = monte_carlo(log_weights(model, q, x, q.rsample(20_000, generator=gen(3))))
        assert (exact < model.log_marginal(x)).all()
        assert ((estimate.value - exact).abs() < 5 * estimate.standard_error).all()
        z = q.sample(20_000, generator=gen(4))
        joint = monte_carlo(model.log_joint(x, z))
        seed_form = elbo_with_entropy(model, q, x, q.rsample(20_000, generator=gen(4)))
        torch.testing.assert_close(seed_form, joint.value + q.entropy())
        assert ((seed_form - exact).abs() < 5 * joint.standard_error).all()


def test_naive_estimate_is_unbiased_for_p_of_x():
    """Seeded: the mean of p̂(x)/p(x) over 4,000 repeats is within 5 standard errors of 1."""
    model = GaussianMean(1, 0.0, 1.0, 0.5, dtype=F64)
    x = torch.tensor([[0.4]], dtype=F64).expand(4000, 1)
    ratio = (naive_log_marginal(model, x, 10, generator=gen(5)) - model.log_marginal(x)).exp()
    assert abs(ratio.mean() - 1) < 5 * ratio.std() / math.sqrt(len(ratio))


def test_naive_estimate_matches_the_closed_form_variance():
    """Seeded: Var[p̂/p] with S samples is naive_relative_variance / S (5 standard errors)."""
    model = GaussianMean(2, 0.0, 1.0, 0.5, dtype=F64)
    x = torch.tensor([[0.5, -0.5]], dtype=F64).expand(20_000, 2)
    ratio = (naive_log_marginal(model, x, 8, generator=gen(6)) - model.log_marginal(x)).exp()
    sq = (ratio - 1).square()
    expected = model.naive_relative_variance(x[:1])[0] / 8
    assert abs(sq.mean() - expected) < 5 * sq.std() / math.sqrt(len(sq))


def test_elbo_value_is_exact_where_possible_and_sampled_elsewhere():
    """A model with only the generative contract gets a Monte Carlo ELBO, within 5 standard errors
    of the closed form of the same model."""
    conjugate = GaussianMean(2, 0.5, 1.0, 0.5, dtype=F64)

    class OnlyGenerative(LatentModel):
        data_dim = latent_dim = 2

        def __init__(self):
            super().__init__()
            self.inner = conjugate

        def prior(self, n):
            return self.inner.prior(n)

        def log_likelihood(self, x, z):
            return self.inner.log_likelihood(x, z)

    _, x = conjugate.sample(3, generator=gen(5))
    q = DiagonalGaussian(torch.zeros(3, 2, dtype=F64), torch.full((3, 2), -0.5, dtype=F64))
    exact = elbo_value(conjugate, q, x)
    torch.testing.assert_close(exact, conjugate.elbo_exact(q, x))
    sampled = elbo_value(OnlyGenerative(), q, x, num_samples=20_000, generator=gen(6))
    log_w = log_weights(conjugate, q, x, q.sample(20_000, generator=gen(6)))
    assert ((sampled - exact).abs() < 5 * monte_carlo(log_w).standard_error).all()
    assert not isinstance(OnlyGenerative(), TractableModel)
