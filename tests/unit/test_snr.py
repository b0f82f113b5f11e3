"""gradient_snr: a replay of its estimates, and Rainforth et al.'s result on a trained VAE: as k
grows, the encoder's gradient SNR falls and the decoder's rises."""

import pytest
import torch
from conftest import digits, gen

import vicourse
from vicourse import ArgumentError

F64 = torch.float64


def test_it_is_the_mean_over_the_sd_of_independent_gradient_estimates():
    x = (torch.rand(10, 6, generator=gen(0), dtype=F64) < 0.5).to(F64)
    torch.manual_seed(0)
    vae = vicourse.VAE.for_data(x, latent_dim=2, hidden=(4,))
    with torch.no_grad():
        vae.encoder.net[-1].weight.normal_(generator=gen(1))
    snr = vicourse.gradient_snr(vae, x, 3, num_estimates=20, generator=gen(2))
    g, rows = gen(2), []
    for _ in range(20):
        loss = vae.loss(x, num_samples=3, objective="iwae", generator=g)
        grads = torch.autograd.grad(-loss, list(vae.encoder.parameters()))
        rows.append(torch.cat([grad.reshape(-1) for grad in grads]))
    rows = torch.stack(rows)
    varies = rows.std(0) > 0
    expected = rows.mean(0)[varies].abs() / rows.std(0)[varies]
    torch.testing.assert_close(snr.encoder, expected)
    assert snr.decoder.numel() == sum(p.numel() for p in vae.decoder.parameters())


def test_more_importance_samples_help_the_decoder_and_hurt_the_encoder():
    x = digits().x_train
    torch.manual_seed(0)
    vae = vicourse.VAE.for_data(x, latent_dim=2, hidden=(64,))
    vicourse.train(vae, x, epochs=30, batch_size=64, generator=gen(3), progress=False)
    few, many = (
        vicourse.gradient_snr(vae, x[:64], k, num_estimates=100, generator=gen(4)) for k in (1, 64)
    )
    assert many.encoder.mean() < 0.7 * few.encoder.mean()
    assert many.decoder.mean() > 3 * few.decoder.mean()


def test_bad_arguments_name_themselves():
    x = (torch.rand(4, 6, generator=gen(5), dtype=F64) < 0.5).to(F64)
    vae = vicourse.VAE.for_data(x, latent_dim=2, hidden=(4,))
    for name, value in [("num_samples", 0), ("num_estimates", 1), ("num_estimates", 2.5)]:
        with pytest.raises(ArgumentError, match=name):
            vicourse.gradient_snr(vae, x, **{"num_samples": 2, name: value})
    with pytest.raises(ArgumentError, match="model"):
        vicourse.gradient_snr(vicourse.GaussianMean(dim=2), x, 2)
