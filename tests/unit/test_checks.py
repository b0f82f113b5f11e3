"""Bad input gets the project's error, which names the argument, what was expected, what came and
the fix; never a silent wrong answer. One test per case found by hand; the property-based sweep is
in test_checks_sweep.py."""

import math

import numpy as np
import pytest
import torch
from conftest import gen
from test_models import linear_model, random_q

import vicourse
from vicourse import (
    ArgumentError,
    ArgumentTypeError,
    DiagonalGaussian,
    FitError,
    GaussianMean,
    GaussianMixture,
    LinearGaussian,
    elbo,
    em_step,
    expected_log_joint,
    fit_em,
    fit_gradient,
    kl_diag_gaussians,
    kl_diag_to_full,
    kl_monte_carlo,
    log_weights,
    monte_carlo,
    naive_log_marginal,
    plots,
)

F64 = torch.float64


def mixture(dtype=F64):
    return GaussianMixture(
        torch.zeros(3, dtype=dtype),
        torch.tensor([[-2.0], [0.0], [2.0]], dtype=dtype),
        torch.zeros(3, 1, dtype=dtype),
    )


def raises(kind, *fragments):
    """pytest.raises for the project's error whose message holds every fragment, in order."""
    return pytest.raises(kind, match=".*".join(map(__import__("re").escape, fragments)))


# The cases listed when the sweep first ran: each returned a result with no error.


def test_q_of_the_wrong_latent_width():
    model = GaussianMean(2, dtype=F64)
    x = torch.zeros(3, 2, dtype=F64)
    with raises(
        ArgumentError,
        "q must be a distribution over z of shape (2,), like the model's latent",
        "got a DiagonalGaussian over z of shape (1,)",
        "latent_dim = 2",
    ):
        model.elbo_exact(random_q(3, 1), x)
    with raises(
        ArgumentError, "p must be a distribution over K = 1 dimensions, like q", "got one over 2"
    ):
        kl_diag_to_full(random_q(1, 1), linear_model(k=2).posterior(torch.zeros(1, 4, dtype=F64)))
    with raises(ArgumentError, "p must be a distribution over K = 2 dimensions"):
        kl_diag_gaussians(random_q(3, 2), random_q(3, 1))
    with raises(ArgumentError, "z must be of shape (..., 2)", "got (5, 3)"):
        model.sample_likelihood(torch.zeros(5, 3, dtype=F64))


@pytest.mark.parametrize("label", [-1, 3, 10])
def test_mixture_labels_out_of_range(label):
    model = mixture()
    x = torch.zeros(2, 1, dtype=F64)
    z = torch.tensor([[0, label]])
    message = ("z must be component labels in 0..2", f"got a label {label}", "count from 0")
    with raises(ArgumentError, *message):
        model.log_prior(z)
    with raises(ArgumentError, *message):
        model.log_likelihood(x, z)
    with raises(ArgumentError, *message):
        model.sample_likelihood(z)


def test_mixture_of_no_components():
    with raises(ArgumentError, "loc must be of shape (C, D) with C ≥ 1", "got (0, 1)"):
        GaussianMixture(torch.zeros(0), torch.zeros(0, 1), torch.zeros(0, 1))


def test_vector_noise_scale():
    with raises(
        ArgumentError,
        "noise_scale must be a positive finite number",
        "got a torch.float32 tensor of shape (2,)",
    ):
        LinearGaussian(torch.ones(2, 1), noise_scale=torch.tensor([0.5, 1.0]))


def test_elbo_of_no_samples():
    with raises(ArgumentError, "log_w must be of shape (S, N) with S ≥ 1 draws", "got (0, 3)"):
        elbo(torch.zeros(0, 3))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_in_values(bad):
    with raises(ArgumentError, "loc must be finite", f"got a tensor holding {bad}"):
        DiagonalGaussian(torch.tensor([[bad]]), torch.zeros(1, 1))
    with raises(ArgumentError, "log_scale must be finite"):
        DiagonalGaussian(torch.zeros(1, 1), torch.tensor([[bad]]))
    with raises(ArgumentError, "x must be finite", "remove or replace"):
        GaussianMean(1).log_marginal(torch.tensor([[bad]]))
    with raises(ArgumentError, "bias must be finite"):
        LinearGaussian(torch.ones(2, 1), torch.tensor([0.0, bad]))
    with raises(ArgumentError, "z must be finite"):
        random_q(1, 1).log_prob(torch.full((1, 1, 1), bad, dtype=F64))


@pytest.mark.parametrize("scale", [1e39, 1e20, 1e-46, 1e-20])
def test_scales_that_do_not_survive_the_model_dtype(scale):
    """Finite and positive in float64, but σ or σ² is inf or 0 in float32."""
    with raises(
        ArgumentError,
        "prior_scale must be between 3.3e-10 and 4.3e+09 in torch.float32",
        "use torch.float64",
    ):
        GaussianMean(1, prior_scale=scale, dtype=torch.float32)
    with raises(ArgumentError, "noise_scale must be between"):
        LinearGaussian(torch.ones(2, 1), noise_scale=scale)
    with raises(ArgumentError, "log_scale must be between -21.8 and 22.2 in torch.float32"):
        DiagonalGaussian(torch.zeros(1), torch.tensor([math.log(scale)]))
    GaussianMean(1, prior_scale=scale, dtype=F64)  # float64 holds it


def test_responsibilities_that_are_not_distributions():
    model = mixture()
    x = torch.zeros(2, 1, dtype=F64)
    with raises(ArgumentError, "responsibilities must be nonnegative probabilities"):
        expected_log_joint(model, x, torch.tensor([[1.5, -0.5, 0.0], [1.0, 0.0, 0.0]], dtype=F64))
    with raises(ArgumentError, "responsibilities must be rows that sum to 1", "normalize it"):
        expected_log_joint(model, x, torch.full((2, 3), 0.5, dtype=F64))
    with raises(ArgumentError, "responsibilities must be of shape (N, C) = (2, 3)", "got (1, 3)"):
        expected_log_joint(model, x, torch.full((1, 3), 1 / 3, dtype=F64))


def test_device_variable_that_cannot_serve(monkeypatch):
    monkeypatch.setenv("VICOURSE_DEVICE", "mps")
    with raises(ArgumentError, "VICOURSE_DEVICE must be a device with float64", "unset it"):
        vicourse.default_device(need_float64=True)
    monkeypatch.setenv("VICOURSE_DEVICE", "cuda:7" if torch.cuda.is_available() else "xpu")
    with raises(ArgumentError, "VICOURSE_DEVICE must be a device present on this machine"):
        vicourse.default_device()
    monkeypatch.setenv("VICOURSE_DEVICE", "meta")
    with raises(ArgumentError, "VICOURSE_DEVICE must be a device that holds values"):
        vicourse.default_device()


def test_true_is_not_a_number():
    with raises(ArgumentError, "prior_loc must be a finite number, got True (bool)"):
        GaussianMean(1, prior_loc=True)
    with raises(ArgumentError, "prior_scale must be a positive finite number, got True (bool)"):
        GaussianMean(1, prior_scale=True)
    with raises(ArgumentError, "num_steps must be a positive int, got True (bool)"):
        fit_em(mixture(), torch.zeros(3, 1, dtype=F64), num_steps=True)
    with raises(ArgumentError, "lr must be a positive finite number, got True (bool)"):
        fit_gradient(mixture(), torch.zeros(3, 1, dtype=F64), lr=True)
    with raises(ArgumentTypeError, "need_float64 must be True or False, got 1 (int)"):
        vicourse.default_device(need_float64=1)


def test_monte_carlo_kl_has_the_gradient_of_the_closed_form():
    """With reparameterized draws, d(KL estimate)/dμ is unbiased for dKL/dμ = (μ − m)/s²."""
    loc = torch.tensor([[0.7, -0.3]], dtype=F64, requires_grad=True)
    log_scale = torch.tensor([[-0.2, 0.1]], dtype=F64, requires_grad=True)
    q = DiagonalGaussian(loc, log_scale)
    p = DiagonalGaussian(torch.tensor([[-0.3, 0.2]], dtype=F64), torch.zeros(1, 2, dtype=F64))
    estimate = kl_monte_carlo(q, p.log_prob, 200_000, generator=gen(0))
    estimate.value.sum().backward()
    sampled = (loc.grad.clone(), log_scale.grad.clone())
    loc.grad = log_scale.grad = None
    kl_diag_gaussians(q, p).sum().backward()
    torch.testing.assert_close(loc.grad, torch.tensor([[1.0, -0.5]], dtype=F64))
    torch.testing.assert_close(sampled[0], loc.grad, atol=0.02, rtol=0)
    torch.testing.assert_close(sampled[1], log_scale.grad, atol=0.02, rtol=0)


# Errors that used to be raw torch errors, or named arguments the caller never passed.


def test_dtype_mismatch_names_what_the_caller_passed():
    model = GaussianMean(2, dtype=F64)
    with raises(
        ArgumentError,
        "x must be of dtype torch.float64, like the model",
        "got torch.float32",
        "x.to(torch.float64)",
    ):
        model.log_marginal(torch.zeros(3, 2))
    with raises(ArgumentError, "z must be of dtype torch.float64, like the model"):
        model.log_prior(torch.zeros(1, 3, 2))
    q32 = DiagonalGaussian(torch.zeros(3, 2), torch.zeros(3, 2))
    with raises(ArgumentError, "q.loc must be of dtype torch.float64, like the model"):
        log_weights(model, q32, torch.zeros(3, 2, dtype=F64), 4)
    with raises(ArgumentError, "z must be of dtype torch.float32, like q"):
        q32.log_prob(torch.zeros(1, 3, 2, dtype=F64))
    with raises(ArgumentError, "p.loc must be of dtype torch.float32, like q"):
        kl_diag_gaussians(q32, random_q(3, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a second device")
def test_device_mismatch_names_what_the_caller_passed():
    model = GaussianMean(1, device="cuda")
    with raises(ArgumentError, "x must be on cuda:0, where the model is", "x.to('cuda:0')"):
        model.log_marginal(torch.zeros(3, 1))
    with raises(ArgumentError, "generator must be on cuda"):
        model.sample(3, generator=gen(0))


def test_nan_in_x_for_em_blames_x():
    with raises(ArgumentError, "x must be finite", "got a tensor holding nan"):
        em_step(mixture(), torch.tensor([[0.0], [math.nan]], dtype=F64))
    with raises(ArgumentError, "x must be finite"):
        fit_em(mixture(), torch.tensor([[0.0], [math.nan]], dtype=F64))


@pytest.mark.parametrize("data", [[[0.0], [1.0]], np.zeros((2, 1))])
def test_lists_and_arrays_where_a_tensor_is_expected(data):
    with raises(ArgumentTypeError, "x must be a torch.Tensor", "torch.as_tensor(x"):
        fit_em(mixture(), data)


def test_describe_and_generators_take_device_names():
    assert vicourse.describe("cpu").endswith("device cpu")
    with raises(ArgumentError, "device must be a torch device such as 'cpu' or 'cuda'"):
        vicourse.describe("gpu please")
    missing = "cuda:7" if torch.cuda.is_available() else "cuda"
    with raises(ArgumentError, f"device must be a device present on this machine, got '{missing}'"):
        vicourse.make_generator(0, missing)


def test_size_mismatches():
    q = random_q(3, 2)
    with raises(
        ArgumentError, "z must be of a shape that broadcasts with q's (3, 2)", "got (4, 5, 2)"
    ):
        q.log_prob(torch.zeros(4, 5, 2, dtype=F64))
    with raises(
        ArgumentError, "p must be of a batch shape that broadcasts with q's (3,)", "got (4,)"
    ):
        kl_diag_gaussians(q, random_q(4, 2))
    model = linear_model(k=2)
    with raises(ArgumentError, "p must be of a batch shape that broadcasts with q's (3,)"):
        kl_diag_to_full(q, model.posterior(torch.zeros(2, 4, dtype=F64)))
    with raises(ArgumentError, "log_p must be a function returning a tensor of shape (S, N) ="):
        kl_monte_carlo(q, lambda z: z, 10)


def test_objects_of_the_wrong_type():
    model = GaussianMean(1, dtype=F64)
    x = torch.zeros(1, 1, dtype=F64)
    with raises(ArgumentTypeError, "q must be a vicourse.Family, got Normal"):
        log_weights(model, torch.distributions.Normal(0.0, 1.0), x, 4)
    with raises(ArgumentTypeError, "model must be a vicourse.LatentModel, got 'model' (str)"):
        naive_log_marginal("model", x, 4)
    with raises(ArgumentTypeError, "model must be a vicourse.GaussianMixture", "fit_gradient"):
        em_step(model, x)
    with raises(ArgumentTypeError, "p must be a torch.MultivariateNormal, got DiagonalGaussian"):
        kl_diag_to_full(random_q(1, 1), random_q(1, 1))
    with raises(ArgumentTypeError, "generator must be a torch.Generator or None, got 0 (int)"):
        random_q(1, 1).rsample(1, generator=0)
    with raises(ArgumentTypeError, "model must be a vicourse.LatentModel"):
        plots.point_q(object(), 0.0, 1.0)


def test_fits_that_cannot_go_on_say_why():
    far = GaussianMixture(
        torch.zeros(2, dtype=F64),
        torch.tensor([[0.0], [1e4]], dtype=F64),
        torch.zeros(2, 1, dtype=F64),
    )
    with raises(
        FitError,
        "model must be a mixture whose every component is responsible",
        "components [1] with none left (N_c = 0)",
        "nearer the data",
    ):
        em_step(far, torch.zeros(5, 1, dtype=F64))
    with raises(FitError, "lr must be small enough", "try a smaller lr"):
        fit_gradient(mixture(), torch.randn(50, 1, generator=gen(0), dtype=F64), lr=1e12)
    assert issubclass(FitError, FloatingPointError) and issubclass(FitError, ValueError)


def test_monte_carlo_needs_two_finite_draws():
    with raises(ArgumentError, "values must be of shape (S, ...) with S ≥ 2 draws", "got (1, 3)"):
        monte_carlo(torch.zeros(1, 3))
    with raises(ArgumentError, "values must be finite"):
        monte_carlo(torch.tensor([[0.0], [math.nan]]))
    with raises(ArgumentError, "num_samples must be at least 2"):
        kl_monte_carlo(random_q(1, 1), random_q(1, 1).log_prob, 1)
