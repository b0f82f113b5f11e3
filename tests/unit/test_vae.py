"""vae.py: the VAE against its pieces (the loss is reconstruction plus KL from the earlier
modules) and its bounds against each other."""

import math

import torch
from conftest import digits, gen, small_vae

from vicourse import train
from vicourse.kl import kl_diag_gaussians

DIGITS = digits()


def test_the_loss_is_reconstruction_plus_kl_from_the_earlier_pieces():
    vae = small_vae()
    x = DIGITS.x_test[:7]
    reconstruction, kl = vae.terms(x, generator=gen(0))
    q = vae.encoder(x)
    z = q.rsample(1, generator=gen(0))
    logits = vae.decoder(z)[0]
    by_hand = -(
        x * torch.nn.functional.logsigmoid(logits)
        + (1 - x) * torch.nn.functional.logsigmoid(-logits)
    ).sum(-1)
    torch.testing.assert_close(reconstruction, by_hand)
    torch.testing.assert_close(kl, kl_diag_gaussians(q, vae.prior(7)))
    loss = vae.loss(x, generator=gen(0))
    torch.testing.assert_close(loss, (reconstruction + kl).mean())


def test_bounds_are_ordered_and_agree_in_expectation():
    """E[ELBO] (analytic or Monte Carlo KL) ≤ E[IWAE_10] ≤ E[IWAE_100], each mean over 360
    images, with IWAE_1 an estimate of the ELBO (same expectation)."""
    vae = small_vae()
    train(vae, DIGITS.x_train, epochs=20, batch_size=64, generator=gen(1), progress=False)
    x = DIGITS.x_test
    with torch.no_grad():
        analytic = vae.elbo(x.repeat(50, 1), generator=gen(2)).reshape(50, -1).mean(0)
        sampled = vae.elbo(x.repeat(50, 1), kl="mc", generator=gen(3)).reshape(50, -1).mean(0)
        iwae_1 = vae.iwae(x, 1, generator=gen(4))
        iwae_10, iwae_100 = vae.iwae(x, 10, generator=gen(5)), vae.iwae(x, 100, generator=gen(6))
    se = ((analytic - sampled).std() / math.sqrt(len(x))).item()
    assert abs((analytic - sampled).mean().item()) < 5 * se
    assert abs((iwae_1 - analytic).mean().item()) < 5 * (iwae_1 - analytic).std().item() / 19
    assert analytic.mean() < iwae_10.mean() < iwae_100.mean()
