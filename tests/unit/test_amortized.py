"""Amortized VI: one encoder for every x. An affine encoder can represent the conjugate model's
posterior for every x (its mean is affine in x, its variance constant), so the trained encoder
serves held-out x and leaves an amortization gap of about zero; a linear VAE reaches the pPCA
maximum likelihood."""

import pytest
import torch
from conftest import gen
from test_models import linear_model

from vicourse import (
    ArgumentError,
    GaussianEncoder,
    GaussianMean,
    LinearGaussian,
    amortization_gap,
    fit_amortized,
    fit_gradient,
    kl_diag_gaussians,
)

F64 = torch.float64


def test_an_affine_encoder_learns_the_conjugate_posterior_for_new_x_too():
    model = GaussianMean(2, 0.3, 1.0, 0.5, dtype=F64)
    _, x = model.sample(200, generator=gen(1))
    _, held_out = model.sample(50, generator=gen(2))
    encoder = GaussianEncoder.for_data(x, 2, hidden=())
    trace = fit_amortized(
        model, encoder, x, num_steps=1500, num_samples=8, lr=0.05, fit_model=False, generator=gen(3)
    )
    assert trace.shape == (1501,) and trace[-1] > trace[0]
    with torch.no_grad():
        assert kl_diag_gaussians(encoder(held_out), model.posterior(held_out)).max() < 0.01
    gap = amortization_gap(model, encoder, held_out, num_steps=300, num_samples=8, generator=gen(4))
    assert gap.gap.abs().max() < 0.01  # about zero: nothing left for per-point refinement
    torch.testing.assert_close(gap.gap, gap.refined_elbo - gap.encoder_elbo)


def test_a_linear_vae_reaches_the_ppca_maximum_likelihood():
    truth = linear_model(d=6, k=2, seed=5)
    _, x = truth.sample(500, generator=gen(6))
    model = LinearGaussian(torch.randn(6, 2, generator=gen(7), dtype=F64), noise_scale=1.0)
    encoder = GaussianEncoder.for_data(x, 2, hidden=())
    fit_amortized(model, encoder, x, num_steps=2000, num_samples=4, lr=0.05, generator=gen(8))
    with torch.no_grad():
        elbo = model.elbo_exact(encoder(x), x).mean()
        log_px = model.log_marginal(x).mean()
        fitted = LinearGaussian(truth.weight.detach().clone(), truth.bias.detach().clone(), 1.0)
    best = fit_gradient(fitted, x, num_steps=3000, lr=0.02)[-1]  # ML by gradient ascent
    assert elbo <= log_px <= best + 1e-6
    assert best - elbo < 0.02


def test_minibatches_and_errors():
    model = linear_model(d=3, k=2)
    _, x = model.sample(64, generator=gen(9))
    encoder = GaussianEncoder(3, 2, hidden=(4,)).double()
    trace = fit_amortized(model, encoder, x, num_steps=20, batch_size=16, generator=gen(10))
    assert trace.shape == (21,) and torch.isfinite(trace).all()
    with pytest.raises(ArgumentError, match="encoder must be an encoder from D = 3 to K = 2"):
        fit_amortized(model, GaussianEncoder(3, 1).double(), x)
    with pytest.raises(ArgumentError, match="hidden must be a sequence of positive layer widths"):
        GaussianEncoder(3, 2, hidden=64)
    with pytest.raises(ArgumentError, match=r"x must be of dtype torch\.float32, like the encoder"):
        GaussianEncoder(3, 2)(x)
