"""Per-datapoint VI against closed forms: the exact posterior where the family holds it, the best
diagonal q where it does not, and maximum likelihood for θ (probabilistic PCA, checked against
scikit-learn's PCA.score)."""

import math

import pytest
import torch
from conftest import gen
from sklearn.decomposition import PCA
from test_models import linear_model

from vicourse import (
    Categorical,
    DiagonalGaussian,
    FitError,
    GaussianMean,
    GaussianMixture,
    LinearGaussian,
    elbo_pathwise,
    elbo_score_function,
    fit_local,
    kl_diag_gaussians,
)

F64 = torch.float64


def test_each_q_reaches_the_exact_posterior_of_the_conjugate_model():
    model = GaussianMean(2, 0.3, 1.0, 0.5, dtype=F64)
    _, x = model.sample(40, generator=gen(0))
    fit = fit_local(model, x, num_steps=800, num_samples=8, lr=0.05, generator=gen(1))
    assert kl_diag_gaussians(fit.q, model.posterior(x)).max() < 0.01
    assert fit.trace.shape == (801,) and fit.trace[-1] > fit.trace[0] + 1


def test_each_q_reaches_the_best_diagonal_q_of_the_linear_model():
    model = linear_model(d=3, k=2)
    _, x = model.sample(30, generator=gen(2))
    fit = fit_local(model, x, num_steps=1500, num_samples=16, lr=0.03, generator=gen(3))
    with torch.no_grad():
        best = model.best_diagonal_q(x)
        shortfall = model.elbo_exact(best, x) - model.elbo_exact(fit.q, x)
    assert (shortfall >= -1e-9).all() and shortfall.max() < 0.01
    torch.testing.assert_close(fit.q.loc, best.loc, atol=0.05, rtol=0)


def test_fitting_theta_too_reaches_the_ppca_maximum_likelihood():
    """The notes' loop with θ: the log-likelihood reaches the pPCA maximum (scikit-learn's
    PCA.score, corrected for its N − 1 in the variance), within 0.002 nats per point."""
    truth = linear_model(d=5, k=2, seed=4)
    _, x = truth.sample(400, generator=gen(5))
    n, d = x.shape
    best = PCA(n_components=2, svd_solver="full").fit(x.numpy()).score(x.numpy())
    best += d / 2 * (math.log(n / (n - 1)) - 1 / n)  # sklearn divides by N − 1
    model = LinearGaussian(0.1 * torch.randn(5, 2, generator=gen(6), dtype=F64), noise_scale=1.0)
    fit_local(model, x, num_steps=2000, num_samples=8, lr=0.05, fit_model=True, generator=gen(7))
    with torch.no_grad():
        reached = model.log_marginal(x).mean().item()
    assert reached <= best + 1e-9 and best - reached < 0.002


def test_the_score_estimator_fits_the_mixture_posterior():
    mixture = GaussianMixture(
        torch.zeros(3, dtype=F64),
        torch.tensor([[-2.0], [0.0], [2.0]], dtype=F64),
        torch.full((3, 1), -0.3, dtype=F64),
    )
    x = torch.tensor([[-1.2], [0.9], [2.4]], dtype=F64)
    fit = fit_local(
        mixture,
        x,
        num_steps=800,
        num_samples=16,
        lr=0.1,
        estimator=elbo_score_function,
        baseline="leave-one-out",
        generator=gen(8),
    )
    assert isinstance(fit.q, Categorical)
    torch.testing.assert_close(fit.q.probs, mixture.posterior(x).probs, atol=0.03, rtol=0)


def test_trace_starts_at_the_initial_q_and_a_diverging_fit_says_why():
    model = GaussianMean(1, dtype=F64)
    x = torch.tensor([[0.5], [1.5]], dtype=F64)
    init = DiagonalGaussian(torch.zeros(2, 1, dtype=F64), torch.zeros(2, 1, dtype=F64))
    fit = fit_local(model, x, num_steps=3, num_samples=4, init=init, generator=gen(9))
    first = elbo_pathwise(model, init, x, 4, generator=gen(9)).value.mean()
    assert fit.trace[0] == first  # replay: the same draws give the same first estimate
    with pytest.raises(FitError, match="lr must be small enough for the ELBO to stay finite"):
        fit_local(
            LinearGaussian(torch.ones(2, 1, dtype=F64)),
            x.repeat(1, 2) * 1e3,
            lr=1e6,
            num_steps=50,
            fit_model=True,
            generator=gen(10),
        )
