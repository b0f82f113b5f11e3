"""numerics.py, the ground floor: the normal log-density against torch.distributions, the
log-mean-exp against a direct sum where that is safe and against its limit where it is not,
and the Monte Carlo mean and standard error against their definitions."""

import math

import torch
from conftest import gen
from hypothesis import given, settings
from hypothesis import strategies as st

import vicourse
from vicourse.numerics import Estimate, log_mean_exp, monte_carlo, normal_log_prob

F64 = torch.float64


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(0, 10_000), st.integers(1, 4), st.floats(-3.0, 3.0))
def test_normal_log_prob_is_the_sum_of_torchs_log_densities(seed, k, log_scale):
    g = gen(seed)
    value, loc = torch.randn(2, 5, k, generator=g, dtype=F64)
    scale = torch.tensor(log_scale, dtype=F64).exp()
    expected = torch.distributions.Normal(loc, scale).log_prob(value).sum(-1)
    torch.testing.assert_close(normal_log_prob(value, loc, log_scale), expected)
    per_dim = torch.full_like(loc, log_scale)  # a tensor log σ broadcasts the same way
    torch.testing.assert_close(normal_log_prob(value, loc, per_dim), expected)


def test_log_mean_exp_is_the_log_of_the_mean_and_stays_finite_where_exp_overflows():
    log_w = torch.randn(7, 3, generator=gen(1), dtype=F64)
    torch.testing.assert_close(log_mean_exp(log_w), log_w.exp().mean(0).log())
    huge = torch.tensor([[1000.0], [1000.0 + math.log(3)]], dtype=F64)  # exp overflows
    torch.testing.assert_close(log_mean_exp(huge), torch.tensor([1000.0 + math.log(2)], dtype=F64))
    tiny = torch.full((4, 1), -2000.0)  # exp underflows to 0 in float32
    assert log_mean_exp(tiny).item() == -2000.0
    assert vicourse.log_mean_exp is log_mean_exp


def test_monte_carlo_is_the_mean_and_the_standard_error_of_the_mean():
    values = torch.randn(400, 3, generator=gen(2), dtype=F64)
    estimate = monte_carlo(values)
    assert isinstance(estimate, Estimate) and estimate.surrogate is None
    torch.testing.assert_close(estimate.value, values.mean(0))
    torch.testing.assert_close(estimate.standard_error, values.std(0) / 20)
    # the standard error is what it says: the spread of the mean over independent repeats
    means = torch.stack(
        [monte_carlo(torch.randn(400, 1, generator=gen(s))).value for s in range(300)]
    )
    assert abs(means.std().item() / 0.05 - 1) < 0.15  # 1/√400 = 0.05; 5 SE of a 300-draw std
