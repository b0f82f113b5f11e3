"""FullGaussian, q(z) = N(μ, L Lᵀ): against torch.distributions.MultivariateNormal (log_prob,
entropy, KL), by replay of its draws, as the diagonal q where L is diagonal, and in fit_local,
where it reaches the linear-Gaussian model's correlated posterior that no diagonal q reaches."""

import pytest
import torch
from conftest import gen
from hypothesis import given, settings
from hypothesis import strategies as st

import vicourse
from vicourse import ArgumentError, DiagonalGaussian, FullGaussian

F64 = torch.float64


def random_q(n=4, k=3, seed=0):
    g = gen(seed)
    return FullGaussian(
        torch.randn(n, k, generator=g, dtype=F64), torch.randn(n, k, k, generator=g, dtype=F64)
    )


def test_log_prob_and_entropy_match_torch():
    q = random_q()
    z = q.sample(6, generator=gen(1))
    oracle = q.to_torch()
    torch.testing.assert_close(q.log_prob(z), oracle.log_prob(z), rtol=0, atol=1e-12)
    torch.testing.assert_close(q.entropy(), oracle.entropy(), rtol=0, atol=1e-12)
    upper = torch.triu(torch.ones(3, 3, dtype=torch.bool), 1)
    assert (q.scale_tril[:, upper] == 0).all() and (q.scale_tril.diagonal(0, 1, 2) > 0).all()
    torch.testing.assert_close(q.covariance, oracle.covariance_matrix)


def test_draws_are_loc_plus_l_times_the_standard_normal_draws():
    q = random_q(n=2, k=4, seed=2)
    z = q.rsample(5, generator=gen(3))
    eps = torch.randn(5, 2, 4, generator=gen(3), dtype=F64)
    torch.testing.assert_close(z, q.loc + (q.scale_tril @ eps.unsqueeze(-1)).squeeze(-1))


def test_gradients_reach_loc_and_the_off_diagonal_entries():
    loc = torch.zeros(2, 3, dtype=F64, requires_grad=True)
    tril = torch.zeros(2, 3, 3, dtype=F64, requires_grad=True)
    z = FullGaussian(loc, tril).rsample(4, generator=gen(4))
    d_loc, d_tril = torch.autograd.grad(z.square().sum(), [loc, tril])
    assert d_loc.abs().sum() > 0 and d_tril.tril(-1).abs().sum() > 0
    assert (d_tril.triu(1) == 0).all()  # the upper triangle is not used


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(0, 10**6))
def test_a_diagonal_l_is_the_diagonal_q(n, k, seed):
    g = gen(seed)
    diagonal = DiagonalGaussian(
        torch.randn(n, k, generator=g, dtype=F64), torch.randn(n, k, generator=g, dtype=F64)
    )
    full = FullGaussian.from_diagonal(diagonal)
    z = diagonal.sample(3, generator=g)
    torch.testing.assert_close(full.log_prob(z), diagonal.log_prob(z), rtol=0, atol=1e-10)
    torch.testing.assert_close(full.entropy(), diagonal.entropy(), rtol=0, atol=1e-12)
    again = FullGaussian.from_scale_tril(full.loc, full.scale_tril)
    torch.testing.assert_close(again.tril, full.tril)


def test_fit_local_reaches_a_correlated_posterior_that_no_diagonal_q_reaches():
    weight = torch.tensor([[1.0, 0.8], [0.5, 0.7], [-1.0, -0.6]], dtype=F64)
    model = vicourse.LinearGaussian(weight=weight, noise_scale=0.5)
    x = torch.tensor([[1.0, 0.5, -1.0], [0.2, -0.3, 0.4]], dtype=F64)
    posterior = model.posterior(x)
    start = FullGaussian.from_diagonal(model.prior(2))
    full = vicourse.fit_local(
        model, x, init=start, num_steps=1500, num_samples=16, lr=0.05, generator=gen(5)
    )
    kl = torch.distributions.kl_divergence(full.q.to_torch(), posterior)
    assert kl.max() < 0.005, kl
    assert model.mean_field_gap() > 0.5  # what the diagonal family cannot get below


def test_bad_parameters_name_themselves():
    loc = torch.zeros(3, 2, dtype=F64)
    for tril, words in [
        (torch.zeros(3, 2, dtype=F64), "tril"),
        (torch.zeros(3, 2, 3, dtype=F64), r"\(3, 2, 2\)"),
        (torch.zeros(3, 2, 2), "float64"),
        (torch.full((3, 2, 2), float("nan"), dtype=F64), "tril"),
        (torch.diag_embed(torch.full((3, 2), 1e4, dtype=F64)), "diagonal"),
    ]:
        with pytest.raises(ArgumentError, match=words):
            FullGaussian(loc, tril)
    with pytest.raises(ArgumentError, match="loc"):
        FullGaussian(torch.zeros(3, dtype=F64), torch.zeros(3, 3, 3, dtype=F64))
    covariance = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=F64).repeat(3, 1, 1)
    with pytest.raises(ArgumentError, match="cholesky"):
        FullGaussian.from_scale_tril(loc, covariance)  # a covariance, not its Cholesky factor
    q = FullGaussian(loc, torch.zeros(3, 2, 2, dtype=F64))
    with pytest.raises(ArgumentError, match="z"):
        q.log_prob(torch.zeros(4, 3, 5, dtype=F64))
