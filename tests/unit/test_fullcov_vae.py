"""A full-covariance q in the VAE (chapter 10) comes from the same encoder and the same VAE code
as the diagonal one: GaussianEncoder(covariance="full") starts at N(0, I) like the diagonal
encoder, its KL term to the prior matches torch's, and the analytic and Monte Carlo ELBOs of a
VAE with it estimate the same number, which training raises."""

import pytest
import torch
from conftest import gen

import vicourse
from vicourse import ArgumentError, DiagonalGaussian, FullGaussian, GaussianEncoder

F64 = torch.float64


def test_the_kl_to_the_prior_matches_torch_and_the_diagonal_formula():
    g = gen(0)
    q = FullGaussian(
        torch.randn(5, 3, generator=g, dtype=F64), torch.randn(5, 3, 3, generator=g, dtype=F64)
    )
    prior = torch.distributions.MultivariateNormal(
        torch.zeros(3, dtype=F64), torch.eye(3, dtype=F64)
    )
    expected = torch.distributions.kl_divergence(q.to_torch(), prior)
    torch.testing.assert_close(vicourse.kl_full_to_standard_normal(q), expected)
    diagonal = DiagonalGaussian(q.loc, torch.randn(5, 3, generator=g, dtype=F64))
    standard = DiagonalGaussian(torch.zeros(5, 3, dtype=F64), torch.zeros(5, 3, dtype=F64))
    torch.testing.assert_close(
        vicourse.kl_full_to_standard_normal(FullGaussian.from_diagonal(diagonal)),
        vicourse.kl_diag_gaussians(diagonal, standard),
    )


def test_a_full_covariance_encoder_starts_at_the_prior():
    x = torch.randn(6, 4, generator=gen(1), dtype=F64)
    encoder = GaussianEncoder.for_data(x, 3, hidden=(5,), covariance="full")
    q = encoder(x)
    assert isinstance(q, FullGaussian) and q.loc.shape == (6, 3)
    torch.testing.assert_close(q.loc, torch.zeros(6, 3, dtype=F64))
    torch.testing.assert_close(q.scale_tril, torch.eye(3, dtype=F64).expand(6, 3, 3))


def test_a_vae_with_a_full_covariance_q_trains_and_its_two_elbos_agree():
    x = (torch.rand(40, 6, generator=gen(2), dtype=F64) < 0.4).to(F64)
    torch.manual_seed(0)
    vae = vicourse.VAE.for_data(x, latent_dim=2, hidden=(8,), covariance="full")
    before = vae.elbo(x, num_samples=200, generator=gen(3)).mean()
    vicourse.train(vae, x, epochs=40, batch_size=10, lr=1e-2, generator=gen(4), progress=False)
    with torch.no_grad():
        q = vae.encoder(x)
        assert (q.scale_tril.tril(-1).abs() > 1e-3).any()  # it uses the off-diagonal entries
        analytic = vae.elbo(x, num_samples=2000, generator=gen(5))
        mc = vae.elbo(x, num_samples=2000, kl="mc", generator=gen(6))
    assert analytic.mean() > before + 0.1  # random bits: the ELBO can gain little
    assert (analytic - mc).abs().max() < 0.1  # the same expectation, 2,000 draws each


def test_bad_covariance_names_itself():
    with pytest.raises(ArgumentError, match="covariance"):
        GaussianEncoder(3, 2, covariance="Full")
    with pytest.raises(ArgumentError, match="shared_scale"):
        GaussianEncoder(3, 2, covariance="full", shared_scale=True)
    with pytest.raises(ArgumentError, match="covariance"):
        vicourse.VAE(4, 2, covariance="cholesky")
    with pytest.raises(ArgumentError, match="q"):
        vicourse.kl_full_to_standard_normal(DiagonalGaussian(torch.zeros(2, 2), torch.zeros(2, 2)))
