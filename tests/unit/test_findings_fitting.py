"""Findings in fit_local, gaps and gradient_snr: only q's variational parameters are fitted (not a
RelaxedCategorical's temperature); a frozen network has an empty SNR, a VAE frozen whole is
refused naming model; under torch.no_grad() the three compute their own gradients, with the same
numbers; gaps leaves no .grad on the model or the encoder, and its convergence test still warns."""

import pytest
import torch
from conftest import gen
from test_models import linear_model

import vicourse
from vicourse import ArgumentError, GaussianEncoder

F64 = torch.float64


def small_vae():
    x = (torch.rand(4, 6, generator=gen(5), dtype=F64) < 0.5).to(F64)
    torch.manual_seed(0)
    return vicourse.VAE.for_data(x, latent_dim=2, hidden=(4,)), x


def small_gaps_problem():
    model = linear_model(d=3, k=2, seed=3)
    x = model.sample(4, generator=gen(6))[1]
    torch.manual_seed(0)
    return model, GaussianEncoder(3, 2, hidden=(4,)).double(), x


def test_fit_local_keeps_the_temperature_and_fits_the_logits():
    model = vicourse.GaussianMean(3, dtype=F64)  # a latent of 3 reals: a point of the simplex
    x = torch.linspace(-1, 1, 6, dtype=F64).reshape(2, 3)
    init = vicourse.RelaxedCategorical(torch.zeros(2, 3, dtype=F64), 0.5)
    fit = vicourse.fit_local(model, x, init=init, num_steps=20, generator=gen(0))
    assert fit.q.temperature == 0.5
    assert (fit.q.logits != 0).any()


def test_a_frozen_decoder_has_no_snr_and_the_encoders_is_unchanged():
    vae, x = small_vae()
    full = vicourse.gradient_snr(vae, x, 2, num_estimates=3, generator=gen(1))
    vae.decoder.requires_grad_(False)
    frozen = vicourse.gradient_snr(vae, x, 2, num_estimates=3, generator=gen(1))
    torch.testing.assert_close(frozen.encoder, full.encoder)
    assert frozen.decoder.shape == (0,)
    vae.encoder.requires_grad_(False)
    with pytest.raises(ArgumentError, match=r"^model must be a model with parameters that"):
        vicourse.gradient_snr(vae, x, 2, num_estimates=3)


def test_under_no_grad_the_fits_compute_their_own_gradients():
    vae, xb = small_vae()
    model, encoder, x = small_gaps_problem()
    runs = {
        "snr": lambda: vicourse.gradient_snr(vae, xb, 2, num_estimates=3, generator=gen(1)),
        "fit_local": lambda: vicourse.fit_local(model, x, num_steps=3, generator=gen(2)),
        "gaps": lambda: vicourse.gaps(
            model, encoder, x, num_steps=3, elbo_samples=8, check_steps=0, generator=gen(3)
        ),
    }
    for name, run in runs.items():
        expected = run()
        with torch.no_grad():
            got = run()
        for a, b in zip(expected, got, strict=True):
            if isinstance(a, torch.Tensor):
                torch.testing.assert_close(b, a, msg=name)


def test_gaps_leaves_no_grad_and_its_convergence_test_warns_the_caller():
    model, encoder, x = small_gaps_problem()
    with pytest.warns(RuntimeWarning, match=r"num_steps=2 with lr=0\.01") as record:
        vicourse.gaps(model, encoder, x, num_steps=2, elbo_samples=8, generator=gen(4))
    assert record[0].filename == __file__  # stacklevel: the line that called gaps
    for p in [*model.trainable_parameters(), *encoder.parameters()]:
        assert p.grad is None
    vicourse.fit_local(model, x, num_steps=2, generator=gen(5))  # θ held fixed: no .grad
    assert all(p.grad is None for p in model.trainable_parameters())
