"""Findings in networks and the VAE, each with its test: a flow VAE's unit activity is the
variance of q's own mean; a tensor kl_weight is checked like a number; a VAE whose decoder has
another dtype is named; flow_layers takes a numpy integer; the amortized fits work under
torch.no_grad()."""

import numpy as np
import pytest
import torch
from conftest import gen
from test_models import linear_model

import vicourse
from vicourse import ArgumentError, GaussianEncoder, amortization_gap, fit_amortized

F64 = torch.float64


def images(n=12, d=6, seed=0):
    return (torch.rand(n, d, generator=gen(seed), dtype=F64) < 0.4).to(F64)


def vae(x, k=2, **options):
    torch.manual_seed(0)
    return vicourse.VAE.for_data(x, latent_dim=k, hidden=(5,), **options)


def test_a_flow_vaes_unit_activity_is_the_variance_over_x_of_qs_own_mean():
    x = images(n=30)
    model = vae(x, flow_layers=2)
    with torch.no_grad():  # a flow that bends, differently for each x
        model.encoder.net[-1].weight.normal_(std=0.5, generator=gen(1))
        model.encoder.net[-1].bias.normal_(std=0.5, generator=gen(2))
        q = model.encoder(x)
        by_monte_carlo = q.sample(40_000, generator=gen(3)).mean(0).var(0)
    activity = model.unit_activity(x)
    torch.testing.assert_close(activity, by_monte_carlo, rtol=0.05, atol=0.003)
    assert not torch.allclose(q.loc.var(0), by_monte_carlo, rtol=0.1)  # not the base's mean
    assert torch.equal(model.unit_activity(x), activity)  # a fixed seed by default
    other = model.unit_activity(x, num_samples=4000, generator=gen(4))
    torch.testing.assert_close(other, by_monte_carlo, rtol=0.05, atol=0.003)


def test_a_tensor_kl_weight_is_checked_like_a_number():
    x = images()
    model = vae(x)
    for bad in [-1.0, float("nan"), float("inf")]:
        with pytest.raises(ArgumentError, match=r"^kl_weight must be"):
            model.loss(x, kl_weight=torch.tensor(bad, dtype=F64))
    with torch.no_grad():
        as_tensor = model.loss(x, kl_weight=torch.tensor(0.5, dtype=F64), generator=gen(1))
        as_float = model.loss(x, kl_weight=0.5, generator=gen(1))
    assert torch.equal(as_tensor, as_float)


def test_a_vae_whose_decoder_has_another_dtype_is_named():
    x = images().float()
    model = vae(x)
    model.decoder.double()
    message = r"^vae\.decoder must be of dtype torch\.float32, like the encoder, got torch\.float64"
    for call in [
        lambda: model.elbo(x),
        lambda: model.loss(x),
        lambda: model.iwae(x, 2),
        lambda: model.unit_activity(x),
        lambda: model.mean_image(torch.zeros(2, 2)),
    ]:
        with pytest.raises(ArgumentError, match=message):
            call()


def test_flow_layers_takes_a_numpy_integer():
    encoder = GaussianEncoder(3, 2, flow_layers=np.int64(2))
    assert encoder.flow_layers == 2 and type(encoder.flow_layers) is int
    assert GaussianEncoder(3, 2, flow_layers=np.int64(0)).flow_layers == 0
    model = vae(images(), flow_layers=np.int64(1))
    assert model.encoder.flow_layers == 1
    assert torch.isfinite(model.elbo(images())).all()
    for bad in [np.int64(-1), 1.0, True]:
        with pytest.raises(ArgumentError, match=r"^flow_layers must be"):
            GaussianEncoder(3, 2, flow_layers=bad)


def test_the_amortized_fits_work_under_no_grad():
    model = linear_model(d=3, k=2)
    _, x = model.sample(16, generator=gen(9))
    encoder = GaussianEncoder(3, 2, hidden=(4,)).double()
    start = [p.detach().clone() for p in encoder.parameters()]
    with torch.no_grad():
        trace = fit_amortized(model, encoder, x, num_steps=5, fit_model=False, generator=gen(1))
        gap = amortization_gap(model, encoder, x, num_steps=5, generator=gen(2))
    assert trace.shape == (6,) and torch.isfinite(trace).all()
    assert any(not torch.equal(a, b) for a, b in zip(start, encoder.parameters(), strict=True))
    assert torch.isfinite(gap.gap).all() and (gap.gap >= 0).all()
