"""Fits and their arguments, as a second read of the checks found them: each case gave a raw
exception, a silent wrong answer or blamed the wrong argument."""

import pytest
import torch
from conftest import gen

import vicourse
from vicourse import ArgumentError, FitError, GaussianEncoder

F64 = torch.float64


def data(n=6, d=3):
    return torch.randn(n, d, dtype=F64, generator=gen(0))


def test_an_encoder_is_refused_for_a_model_whose_z_is_a_label():
    zeros = torch.zeros(2, 3, dtype=F64)
    mixture = vicourse.GaussianMixture(torch.zeros(2, dtype=F64), data(2), zeros)
    with pytest.raises(ArgumentError, match=r"^model must be a model with a continuous z"):
        vicourse.amortization_gap(mixture, GaussianEncoder(3, 1).double(), data(), num_steps=1)
    with pytest.raises(ArgumentError, match=r"^model must be a model with a continuous z"):
        vicourse.fit_amortized(mixture, GaussianEncoder(3, 1).double(), data(), num_steps=1)


def test_a_per_datapoint_baseline_is_refused_with_minibatches():
    model, encoder = vicourse.GaussianMean(2, dtype=F64), GaussianEncoder(2, 2).double()
    kwargs = dict(num_steps=2, estimator=vicourse.elbo_score_function, fit_model=False)
    with pytest.raises(ArgumentError, match=r"^baseline must be a number or a one-element"):
        vicourse.fit_amortized(
            model, encoder, data(6, 2), batch_size=3, baseline=torch.zeros(6, dtype=F64), **kwargs
        )
    trace = vicourse.fit_amortized(model, encoder, data(6, 2), batch_size=3, baseline=0.5, **kwargs)
    assert torch.isfinite(trace).all()


def test_a_callers_own_estimator_is_checked_at_its_first_call():
    def estimator(model, q, x, num_samples, generator=None):
        return vicourse.elbo_pathwise(model, q, x, num_samples=0.5)  # a bad argument inside

    model = vicourse.GaussianMean(2, dtype=F64)
    with pytest.raises(ArgumentError, match=r"^num_samples must be a positive int"):
        vicourse.fit_local(model, data(6, 2), num_steps=2, estimator=estimator)


def test_a_callers_estimator_that_takes_a_baseline_gets_it():
    def estimator(model, q, x, num_samples, generator=None, baseline=None):
        return vicourse.elbo_score_function(
            model, q, x, num_samples, generator=generator, baseline=baseline
        )

    model = vicourse.GaussianMean(2, dtype=F64)
    fit = vicourse.fit_local(model, data(6, 2), num_steps=3, estimator=estimator, baseline=0.5)
    assert torch.isfinite(fit.trace).all()


def test_nan_weights_are_named_as_the_cause_in_local_and_amortized_fits():
    weight = torch.tensor([[1.0, 0.5], [0.3, -0.7], [0.2, 0.1]], dtype=F64)
    model = vicourse.LinearGaussian(weight, torch.zeros(3, dtype=F64), 0.5)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    with pytest.raises(FitError, match=r"^model must be a model whose parameters are finite"):
        vicourse.fit_local(model, data(), num_steps=3)
    encoder = GaussianEncoder(2, 2).double()
    with torch.no_grad():
        next(encoder.parameters())[0, 0] = float("nan")
    model = vicourse.GaussianMean(2, dtype=F64)
    with pytest.raises(FitError, match=r"^encoder must be an encoder whose parameters are"):
        vicourse.fit_amortized(model, encoder, data(6, 2), num_steps=3, fit_model=False)


def test_a_flows_draws_under_no_grad_have_log_q_with_its_gradient():
    q = vicourse.DiagonalGaussian(torch.zeros(2, 2, dtype=F64), torch.zeros(2, 2, dtype=F64))
    params = vicourse.PlanarFlow.from_diagonal(q, 2).params()
    flow = vicourse.PlanarFlow(**{k: v.clone().requires_grad_() for k, v in params.items()})
    with torch.no_grad():
        z = flow.rsample(3, generator=gen(1))
    log_q = flow.log_prob(z)
    assert log_q.requires_grad
    with torch.no_grad():  # a copy: by inverting the layers, the same value
        torch.testing.assert_close(log_q.detach(), flow.log_prob(z.clone()))
