import torch
from conftest import gen
from test_models import linear_model, random_q
from torch.distributions import MultivariateNormal, kl_divergence

from vicourse import (
    DiagonalGaussian,
    GaussianMean,
    kl_diag_gaussians,
    kl_diag_to_full,
    kl_monte_carlo,
)

F64 = torch.float64


def test_closed_form_matches_torch(device):
    q, p = random_q(5, 3, seed=1).to(device), random_q(5, 3, seed=2).to(device)
    torch.testing.assert_close(kl_diag_gaussians(q, p), kl_divergence(q.to_torch(), p.to_torch()))


def test_kl_is_zero_only_for_equal_arguments_and_otherwise_positive():
    q, p = random_q(5, 3, seed=1), random_q(5, 3, seed=2)
    torch.testing.assert_close(kl_diag_gaussians(q, q), torch.zeros(5, dtype=F64), rtol=0, atol=0)
    assert (kl_diag_gaussians(q, p) > 0).all()
    tiny = DiagonalGaussian(
        q.loc, q.log_scale + 1e-9
    )  # the expm1 form keeps tiny differences accurate
    torch.testing.assert_close(
        kl_diag_gaussians(tiny, q), torch.full((5,), 3e-18, dtype=F64), rtol=1e-6, atol=0
    )


def test_diag_to_full_matches_torch():
    model = linear_model()
    _, x = model.sample(4, generator=gen(0))
    q = random_q(4, 2)
    with torch.no_grad():
        posterior = model.posterior(x)
        oracle = kl_divergence(
            MultivariateNormal(q.loc, torch.diag_embed(q.scale.square())), posterior
        )
        torch.testing.assert_close(kl_diag_to_full(q, posterior), oracle)


def test_monte_carlo_kl_within_standard_errors_of_closed_form():
    q, p = random_q(4, 2, seed=5), random_q(4, 2, seed=6)
    estimate = kl_monte_carlo(q, p.log_prob, 50_000, generator=gen(7))
    exact = kl_diag_gaussians(q, p)
    assert ((estimate.value - exact).abs() < 5 * estimate.standard_error).all()


def test_monte_carlo_kl_to_an_unnormalized_posterior_is_shifted_by_log_marginal():
    """E_q[log q − log p(x, z)] = KL(q ‖ p(z|x)) − log p(x) = −ELBO: the chapter 4 identity,
    sampled.
    """
    model = GaussianMean(1, 0.0, 1.0, 0.5, dtype=F64)
    x = torch.tensor([[0.8], [-1.2]], dtype=F64)
    q = random_q(2, 1, seed=8)
    estimate = kl_monte_carlo(q, lambda z: model.log_joint(x, z), 50_000, generator=gen(9))
    shifted = kl_diag_gaussians(q, model.posterior(x)) - model.log_marginal(x)
    assert ((estimate.value - shifted).abs() < 5 * estimate.standard_error).all()
