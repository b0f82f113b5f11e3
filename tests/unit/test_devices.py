"""Device and dtype follow the inputs: every public function, float32 and float64, on every device
present.
"""

import importlib
import pkgutil

import torch
from conftest import gen

import vicourse
from vicourse import (
    DiagonalGaussian,
    GaussianEncoder,
    GaussianMean,
    GaussianMixture,
    LinearGaussian,
    amortization_gap,
    elbo,
    elbo_pathwise,
    elbo_score_function,
    elbo_with_entropy,
    fit_amortized,
    fit_local,
    kl_diag_gaussians,
    kl_diag_to_full,
    kl_monte_carlo,
    log_weights,
    naive_log_marginal,
)


def same(t, dtype, device):
    assert t.dtype == dtype and t.device.type == device.type, (t.dtype, t.device)


def test_models_bounds_and_kl_keep_dtype_and_device(device, dtype):
    g = gen(0, device)
    conjugate = GaussianMean(2, 0.1, 1.0, 0.5, dtype=dtype, device=device)
    linear = LinearGaussian(
        torch.randn(3, 2, generator=gen(1), dtype=dtype).to(device), noise_scale=0.5
    )
    mixture = GaussianMixture(
        torch.zeros(2, dtype=dtype),
        torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=dtype),
        torch.zeros(2, 2, dtype=dtype),
    ).to(device)
    for model in (conjugate, linear, mixture):
        _z, x = model.sample(4, generator=g)
        same(x, dtype, device)
        same(model.log_marginal(x), dtype, device)
    for model in (conjugate, linear):
        _, x = model.sample(4, generator=g)
        q = DiagonalGaussian(
            torch.zeros(4, 2, dtype=dtype, device=device),
            torch.zeros(4, 2, dtype=dtype, device=device),
        )
        for value in (
            elbo(log_weights(model, q, x, q.rsample(3, generator=g))),
            elbo_with_entropy(model, q, x, q.rsample(3, generator=g)),
            naive_log_marginal(model, x, 3, generator=g),
            model.elbo_exact(q, x),
            kl_monte_carlo(q, q.log_prob, 3, generator=g).value,
        ):
            assert value.shape == (4,)
            same(value, dtype, device)
    same(conjugate.naive_relative_variance(x[:, :2]), dtype, device)
    same(kl_diag_gaussians(q, conjugate.posterior(x[:, :2])), dtype, device)
    with torch.no_grad():
        same(kl_diag_to_full(q, linear.posterior(linear.sample(4, generator=g)[1])), dtype, device)
        same(linear.mean_field_gap(), dtype, device)


def test_every_module_names_its_chapter_and_every_public_callable_is_documented():
    for info in pkgutil.iter_modules(vicourse.__path__):
        module = importlib.import_module(f"vicourse.{info.name}")
        if not info.name.startswith("_"):
            assert "Chapter" in module.__doc__, info.name
    for name in vicourse.__all__:
        assert getattr(vicourse, name).__doc__, name


def test_estimators_and_fitters_keep_dtype_and_device(device, dtype):
    g = gen(0, device)
    model = GaussianMean(2, 0.1, 1.0, 0.5, dtype=dtype, device=device)
    _, x = model.sample(6, generator=g)
    q = DiagonalGaussian(
        torch.zeros(6, 2, dtype=dtype, device=device), torch.zeros(6, 2, dtype=dtype, device=device)
    )
    for estimate in (elbo_pathwise, elbo_score_function):
        result = estimate(model, q, x, 3, generator=g)
        same(result.value, dtype, device)
        same(result.surrogate, dtype, device)
    fit = fit_local(model, x, num_steps=2, generator=g)
    same(fit.trace, dtype, device)
    same(fit.q.loc, dtype, device)
    encoder = GaussianEncoder.for_data(x, 2, hidden=(4,))
    same(encoder(x).loc, dtype, device)
    same(fit_amortized(model, encoder, x, num_steps=2, fit_model=False, generator=g), dtype, device)
    same(amortization_gap(model, encoder, x, num_steps=2, generator=g).gap, dtype, device)
    mixture = GaussianMixture(
        torch.zeros(2, dtype=dtype),
        torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=dtype),
        torch.zeros(2, 2, dtype=dtype),
    ).to(device)
    labels = fit_local(mixture, x, num_steps=2, estimator=vicourse.elbo_score_function, generator=g)
    same(labels.q.probs, dtype, device)


def test_one_way_to_move_anything_is_to():
    """Every model, the encoder and every q move with .to(device, dtype), as any nn.Module does,
    and work where they land."""
    target = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = torch.zeros(3, 2, dtype=torch.float64, device=target)
    models = [
        GaussianMean(2),
        LinearGaussian(torch.ones(2, 2)),
        GaussianMixture(torch.zeros(2), torch.zeros(2, 2), torch.zeros(2, 2)),
    ]
    for model in models:
        moved = model.to(target, torch.float64)
        same(moved.log_marginal(x), torch.float64, target)
    encoder = GaussianEncoder(2, 2).to(target, torch.float64)
    q = encoder(x)
    same(q.loc, torch.float64, target)
    same(q.to(torch.float32).loc, torch.float32, target)
