"""Against posterior collapse (chapter 10): VAE.loss(kl_weight=β) is reconstruction + β KL, the
−ELBO at β = 1; train(kl_warmup=W) uses β = e / W in epoch e (checked by replaying its steps);
VAE.unit_activity is the variance over images of the encoder's mean, zero for a unit that
says the same for every image."""

import copy

import pytest
import torch
from conftest import gen

import vicourse
from vicourse import ArgumentError

F64 = torch.float64


def images(n=12, d=6, seed=0):
    return (torch.rand(n, d, generator=gen(seed), dtype=F64) < 0.4).to(F64)


def vae(x, k=2):
    torch.manual_seed(0)
    return vicourse.VAE.for_data(x, latent_dim=k, hidden=(5,))


def test_the_weighted_loss_is_reconstruction_plus_beta_kl():
    x = images()
    model = vae(x)
    with torch.no_grad():
        model.encoder.net[-1].bias.normal_(generator=gen(1))  # a q away from the prior
        reconstruction, kl = model.terms(x, generator=gen(2))
        half = model.loss(x, kl_weight=0.5, generator=gen(2))
        full = model.loss(x, generator=gen(2))
        elbo = model.elbo(x, generator=gen(2))
    torch.testing.assert_close(half, (reconstruction + 0.5 * kl).mean())
    assert torch.equal(full, -elbo.mean())  # β = 1: the −ELBO, to the last bit
    assert kl.mean() > 0.1


def test_train_weights_the_kl_by_epoch_over_warmup():
    x = images(n=8)
    model = vae(x)
    with torch.no_grad():  # a q away from the prior, whose KL has a gradient from the start
        model.encoder.net[-1].weight.normal_(generator=gen(6))
    replay = copy.deepcopy(model)
    vicourse.train(
        model, x, epochs=3, batch_size=8, lr=0.01, kl_warmup=2, generator=gen(3), progress=False
    )
    g = gen(3)
    optimizer = torch.optim.Adam(replay.parameters(), lr=0.01)
    for beta in [0.5, 1.0, 1.0]:  # epochs 1, 2, 3 with W = 2; one step each
        order = torch.randperm(8, generator=g)
        optimizer.zero_grad(set_to_none=True)
        weight = torch.tensor(beta, dtype=F64)
        replay.loss(x.index_select(0, order), kl_weight=weight, generator=g).backward()
        optimizer.step()
    for a, b in zip(model.parameters(), replay.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_unit_activity_is_zero_for_a_unit_that_ignores_the_image():
    x = images(n=40, d=8, seed=4)
    model = vae(x, k=3)
    assert torch.equal(model.unit_activity(x), torch.zeros(3, dtype=F64))  # untrained: q = p(z)
    with torch.no_grad():
        model.encoder.net[-1].weight[0].normal_(generator=gen(5))  # unit 0 reads the image
    activity = model.unit_activity(x)
    expected = model.encoder(x).loc.var(0)
    torch.testing.assert_close(activity, expected)
    assert activity[0] > 0.01 and (activity[1:] == 0).all()


def test_bad_weights_and_warmups_name_themselves():
    x = images()
    model = vae(x)
    for weight in [
        -0.5,
        float("nan"),
        "1",
        torch.ones(2, dtype=F64),
        torch.ones((), dtype=torch.float32),
    ]:
        with pytest.raises((ArgumentError, TypeError), match="kl_weight"):
            model.loss(x, kl_weight=weight)
    with pytest.raises(ArgumentError, match="kl_weight"):
        model.loss(x, objective="iwae", num_samples=2, kl_weight=0.5)
    for warmup, objective in [(-1, "elbo"), (2.5, "elbo"), (True, "elbo"), (3, "iwae")]:
        with pytest.raises(ArgumentError, match="kl_warmup"):
            vicourse.train(model, x, epochs=1, batch_size=4, kl_warmup=warmup, objective=objective)
    with pytest.raises(ArgumentError, match="x"):
        model.unit_activity(x[:1])


def test_free_bits_count_each_units_mean_kl_as_at_least_lambda():
    x = images()
    model = vae(x, k=3)
    with torch.no_grad():
        model.encoder.net[-1].bias.normal_(generator=gen(7))
        q = model.encoder(x)
        reconstruction, _ = model.terms(x, generator=gen(8))
        per_unit = 0.5 * (q.loc**2 + q.scale**2 - 1 - 2 * q.log_scale)
        floor = per_unit.mean(0).median().item()  # some units below it, some above
        loss = model.loss(x, free_bits=floor, generator=gen(8))
    expected = reconstruction.mean() + per_unit.mean(0).clamp_min(floor).sum()
    torch.testing.assert_close(loss, expected)
    assert (per_unit.mean(0) < floor).any() and (per_unit.mean(0) > floor).any()
    with torch.no_grad():
        assert torch.equal(
            model.loss(x, free_bits=0.0, generator=gen(8)), model.loss(x, generator=gen(8))
        )
    # a unit below λ gets no gradient from the KL: only the reconstruction moves it
    model.zero_grad()
    model.loss(x, free_bits=1e3, generator=gen(9)).backward()
    with_floor = model.encoder.net[-1].bias.grad[3:].clone()  # the log σ outputs
    model.zero_grad()
    (-model.log_likelihood(x, model.encoder(x).rsample(1, generator=gen(9))).mean()).backward()
    torch.testing.assert_close(with_floor, model.encoder.net[-1].bias.grad[3:])


def test_bad_free_bits_name_themselves():
    x = images()
    model = vae(x)
    for value in [-0.1, float("nan"), "0.5", True]:
        with pytest.raises((ArgumentError, TypeError), match="free_bits"):
            model.loss(x, free_bits=value)
    with pytest.raises(ArgumentError, match="free_bits"):
        model.loss(x, objective="iwae", num_samples=2, free_bits=0.5)
    full = vicourse.VAE.for_data(x, latent_dim=2, hidden=(5,), covariance="full")
    with pytest.raises(ArgumentError, match="free_bits"):
        full.loss(x, free_bits=0.5)
    with pytest.raises(ArgumentError, match="free_bits"):
        vicourse.train(full, x, epochs=1, batch_size=4, free_bits=0.5, progress=False)
