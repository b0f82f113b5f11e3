"""The two gaps, against closed forms: on the linear-Gaussian model (pPCA) log p(x) is exact,
the best diagonal q has a closed form, and so does its gap to log p(x), the mean-field gap; an
affine encoder's q has an exact ELBO. gaps() must find both gaps, they must add up to log p(x)
minus the encoder's ELBO, and on a VAE (no exact log p(x)) the IWAE_k estimate must keep the
order encoder ELBO ≤ best ELBO ≤ log p(x), up to its Monte Carlo error. iwae_curve: exact at the
posterior, a replay of IWAE_k on prefixes of one set of draws, below log p(x) on average."""

import warnings

import pytest
import torch
from conftest import gen
from test_models import linear_model

import vicourse
from vicourse import ArgumentError, GaussianEncoder, gaps
from vicourse.gaps import TOLERANCE

F64 = torch.float64


def test_on_the_linear_model_both_gaps_match_their_closed_forms():
    model = linear_model(d=5, k=2, seed=3)
    _, x = model.sample(20, generator=gen(1))
    encoder = GaussianEncoder.for_data(x, 2, hidden=()).double()  # untrained: q = N(0, I)
    found = gaps(model, encoder, x, num_steps=1500, num_samples=16, lr=0.05, generator=gen(2))
    with torch.no_grad():
        best = model.elbo_exact(model.best_diagonal_q(x), x)
        at_encoder = model.elbo_exact(encoder(x), x)
        torch.testing.assert_close(found.log_evidence, model.log_marginal(x))
        torch.testing.assert_close(found.encoder_elbo, at_encoder)
        # fit_local's noisy steps end within a few hundredths of a nat of the optimum
        assert (found.best_elbo - best).abs().max() < 0.02
        assert (found.approximation - model.mean_field_gap()).abs().max() < 0.02
        assert (found.amortization - (best - at_encoder)).abs().max() < 0.02
    total = found.log_evidence - found.encoder_elbo
    torch.testing.assert_close(found.approximation + found.amortization, total)
    assert (found.amortization >= 0).all() and (found.approximation > 0).all()


def test_on_a_vae_the_order_holds_within_monte_carlo_error():
    torch.manual_seed(0)
    x = (torch.rand(8, 6, generator=gen(3), dtype=F64) > 0.5).to(F64)
    vae = vicourse.VAE.for_data(x, latent_dim=2, hidden=(8,))
    vicourse.train(vae, x, epochs=30, batch_size=4, generator=gen(4), progress=False)
    found = gaps(
        vae, vae.encoder, x, num_steps=200, iwae_samples=2000, batch_size=3, generator=gen(5)
    )
    assert all(field.shape == (8,) for field in found[:5])
    assert found.best_q.batch_shape == (8,)
    assert (found.best_elbo >= found.encoder_elbo).all()  # the better of the two q's
    assert (found.approximation > -0.05).all()  # IWAE_2000 with q* as proposal: ≥ its ELBO
    torch.testing.assert_close(
        found.approximation + found.amortization, found.log_evidence - found.encoder_elbo
    )


def test_iwae_curve_is_exact_when_q_is_the_posterior():
    model = vicourse.GaussianMean(dim=2, noise_scale=0.5, dtype=F64)
    x = model.sample(7, generator=gen(7))[1]
    curve = vicourse.iwae_curve(model, model.posterior(x), x, [1, 3, 50], batch_size=3)
    assert curve.shape == (3, 7)
    # every weight p(x, z) / p(z | x) is p(x): each IWAE_k is log p(x), for every k
    torch.testing.assert_close(curve, model.log_marginal(x).expand(3, 7), rtol=0, atol=1e-10)


def test_iwae_curve_uses_prefixes_of_one_set_of_draws():
    model = linear_model(d=5, k=2, seed=4)
    x = model.sample(6, generator=gen(8))[1]
    q = vicourse.GaussianEncoder.for_data(x, 2, hidden=()).double()(x).detach()
    curve = vicourse.iwae_curve(model, q, x, [1, 10, 200], batch_size=6, generator=gen(9))
    log_w = vicourse.log_weights(model, q, x, q.sample(200, generator=gen(9)))
    for row, k in zip(curve, [1, 10, 200], strict=True):
        expected = torch.logsumexp(log_w[:k], 0) - torch.log(torch.tensor(k, dtype=F64))
        torch.testing.assert_close(row, expected)
    # a poor q (an untrained encoder's): the bound rises with k and stays below log p(x)
    mean = curve.mean(1)
    assert mean[0] < mean[1] < mean[2] < model.log_marginal(x).mean()


def test_bad_arguments_name_themselves():
    model = linear_model(d=3, k=2)
    x = model.sample(4, generator=gen(6))[1]
    encoder = GaussianEncoder(3, 2, hidden=()).double()
    for name, value in [
        ("iwae_samples", 0),
        ("elbo_samples", 0),
        ("batch_size", -1),
        ("num_steps", "a"),
        ("check_steps", -1),
        ("check_steps", 1.5),
    ]:
        with pytest.raises((ArgumentError, TypeError), match=name):
            gaps(model, encoder, x, **{name: value})
    q = encoder(x).detach()
    for ks, named in [([], "ks"), (100, "ks"), ([10, 0], r"ks\[1\]")]:
        with pytest.raises((ArgumentError, TypeError), match=named):
            vicourse.iwae_curve(model, q, x, ks)


def test_a_full_covariance_encoder_has_no_approximation_gap_on_the_linear_model():
    """The full-covariance family holds the linear-Gaussian posterior, so q* is the posterior:
    the approximation gap is 0 (up to the Monte Carlo error of its ELBO, which has no closed
    form for this q) and the amortization gap is the whole gap."""
    model = linear_model(d=5, k=2, seed=3)
    _, x = model.sample(6, generator=gen(10))
    encoder = GaussianEncoder.for_data(x, 2, hidden=(), covariance="full").double()
    found = gaps(model, encoder, x, num_steps=1500, num_samples=16, lr=0.05, generator=gen(11))
    assert isinstance(found.best_q, vicourse.FullGaussian)
    assert found.approximation.abs().max() < 0.02, found.approximation
    assert (found.amortization > 0.1).all()  # an untrained encoder: q = N(0, I)
    kl = torch.distributions.kl_divergence(found.best_q.to_torch(), model.posterior(x))
    assert kl.max() < 0.01, kl


def test_a_fit_that_has_converged_passes_the_convergence_test(recwarn):
    model = linear_model(d=5, k=2, seed=3)
    _, x = model.sample(20, generator=gen(12))
    encoder = GaussianEncoder.for_data(x, 2, hidden=()).double()  # untrained: q = N(0, I)
    found = gaps(model, encoder, x, num_steps=1500, num_samples=16, lr=0.05, generator=gen(13))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert found.check_gain.shape == (20,)
    # q* is within a hundredth of a nat of the best q, so further steps cannot gain more
    assert found.check_gain.mean() < TOLERANCE


def test_a_fit_stopped_early_warns_naming_num_steps_and_lr():
    """An untrained encoder and a few small steps: q* is far from the best q, its
    approximation gap far above the closed form; gaps says so, and how to fix it."""
    model = linear_model(d=5, k=2, seed=3)
    _, x = model.sample(20, generator=gen(12))
    encoder = GaussianEncoder.for_data(x, 2, hidden=()).double()
    with pytest.warns(RuntimeWarning, match=r"num_steps=20 with lr=0\.01.*larger num_steps"):
        found = gaps(model, encoder, x, num_steps=20, num_samples=16, lr=0.01, generator=gen(13))
    assert (found.approximation.mean() - model.mean_field_gap()) > 0.1
    assert found.check_gain.mean() > TOLERANCE
    # the test can be skipped: no warning, and no gain reported
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        skipped = gaps(model, encoder, x, num_steps=20, lr=0.01, check_steps=0, generator=gen(13))
    assert (skipped.check_gain == 0).all()


def test_on_a_vae_the_convergence_test_uses_the_monte_carlo_error():
    """No closed form: the gain is measured from draws, and a converged fit's gain is within
    a few Monte Carlo errors of 0, so it does not warn; an untrained encoder's q after 5
    small steps does."""
    torch.manual_seed(0)
    x = (torch.rand(8, 6, generator=gen(3), dtype=F64) > 0.5).to(F64)
    vae = vicourse.VAE.for_data(x, latent_dim=2, hidden=(8,))
    vicourse.train(vae, x, epochs=30, batch_size=4, generator=gen(4), progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gaps(vae, vae.encoder, x, num_steps=400, lr=0.05, iwae_samples=10, generator=gen(5))
    untrained = vicourse.VAE.for_data(x, latent_dim=2, hidden=(8,))
    with pytest.warns(RuntimeWarning, match=r"num_steps=5 with lr=0\.01"):
        found = gaps(
            untrained,
            untrained.encoder,
            x,
            num_steps=5,
            lr=0.01,
            iwae_samples=10,
            check_steps=200,
            generator=gen(5),
        )
    assert found.check_gain.mean() > TOLERANCE
