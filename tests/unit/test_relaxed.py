"""RelaxedCategorical and StraightThroughCategorical: the concrete density against torch's
RelaxedOneHotCategorical, the Gumbel-max trick (the argmax of a relaxed draw is a categorical
draw), the limit τ → 0, replay of the draws, the straight-through gradient, and the pathwise
estimator with a relaxed q; BernoulliMixture against enumeration by hand and torch's Bernoulli."""

import math

import pytest
import torch
from conftest import gen
from hypothesis import given, settings
from hypothesis import strategies as st

import vicourse
from vicourse import (
    ArgumentError,
    BernoulliMixture,
    Categorical,
    RelaxedCategorical,
    StraightThroughCategorical,
)

F64 = torch.float64


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(2, 5), st.floats(0.05, 5.0), st.integers(0, 10**6))
def test_the_density_is_torchs_concrete_density(n, c, tau, seed):
    logits = 2 * torch.randn(n, c, generator=gen(seed), dtype=F64)
    q = RelaxedCategorical(logits, tau)
    y = q.rsample(4, generator=gen(seed + 1))
    oracle = torch.distributions.RelaxedOneHotCategorical(
        torch.tensor(tau, dtype=F64), logits=logits
    )
    torch.testing.assert_close(q.log_prob(y), oracle.log_prob(y), rtol=1e-9, atol=1e-9)


def test_the_argmax_of_a_relaxed_draw_is_a_categorical_draw():
    logits = torch.tensor([[1.0, 0.0, -1.0, 0.5]], dtype=F64)
    q = RelaxedCategorical(logits, 2.0)  # any τ: the argmax does not depend on it
    labels = q.rsample(200_000, generator=gen(2)).argmax(-1)[:, 0]
    freq = torch.bincount(labels, minlength=4).to(F64) / labels.numel()
    probs = logits.softmax(-1)[0]
    se = (probs * (1 - probs) / labels.numel()).sqrt()
    assert ((freq - probs).abs() < 4 * se).all(), (freq, probs)


def test_draws_replay_and_tend_to_one_hot_as_the_temperature_falls():
    logits = torch.randn(3, 4, generator=gen(3), dtype=F64)
    noise = RelaxedCategorical(logits, 1.0).gumbel(5, generator=gen(4))
    for tau in (1.0, 0.1, 0.01):
        q = RelaxedCategorical(logits, tau)
        y = q.rsample(5, generator=gen(4))  # the same noise
        torch.testing.assert_close(y, torch.softmax((logits + noise) / tau, -1))
    hard = torch.nn.functional.one_hot((logits + noise).argmax(-1), 4).to(F64)
    assert (y - hard).abs().max() < 1e-3


def test_straight_through_draws_are_one_hot_with_the_relaxed_gradient():
    logits = torch.randn(3, 4, generator=gen(5), dtype=F64, requires_grad=True)
    weights = torch.randn(4, generator=gen(6), dtype=F64)
    hard = StraightThroughCategorical(logits, 0.5).rsample(6, generator=gen(7))
    soft = RelaxedCategorical(logits, 0.5).rsample(6, generator=gen(7))
    assert ((hard == 0) | (hard == 1)).all() and (hard.sum(-1) == 1).all()
    assert (hard.argmax(-1) == soft.argmax(-1)).all()
    (g_hard,) = torch.autograd.grad((hard * weights).sum(), logits)
    (g_soft,) = torch.autograd.grad((soft * weights).sum(), logits)
    torch.testing.assert_close(g_hard, g_soft)


def test_the_relaxed_gradient_is_biased_and_its_bias_falls_with_the_temperature():
    # J = E_q[f(z)], f linear in a one-hot z: the exact gradient is that of Σ_c q_c f_c
    f_c = torch.tensor([0.0, 2.0, -1.0], dtype=F64)
    base = torch.tensor([0.3, -0.2, 0.1], dtype=F64)
    exact = torch.autograd.functional.jacobian(lambda logits: logits.softmax(-1) @ f_c, base)
    bias = []
    for tau in (2.0, 0.5):
        logits = base.repeat(20_000, 1).requires_grad_()  # one row per trial
        q = RelaxedCategorical(logits, tau)
        estimate = vicourse.pathwise(q, lambda y: y @ f_c, 1, generator=gen(8))
        (grad,) = torch.autograd.grad(estimate.surrogate.sum(), logits)
        bias.append((grad.mean(0) - exact).norm().item())
    assert bias[0] > 0.05 and bias[1] < 0.5 * bias[0], bias


def test_bad_arguments_name_themselves():
    logits = torch.zeros(2, 3, dtype=F64)
    for kwargs, words in [
        (dict(logits=torch.zeros(2, 1, dtype=F64), temperature=1.0), "C ≥ 2"),
        (dict(logits=torch.zeros(3, dtype=F64), temperature=1.0), "logits"),
        (dict(logits=logits, temperature=0.0), "temperature"),
        (dict(logits=logits, temperature=torch.ones(2)), "temperature"),
        (dict(logits=logits.clone().fill_(math.nan), temperature=1.0), "logits"),
    ]:
        with pytest.raises(ArgumentError, match=words):
            RelaxedCategorical(**kwargs)
    q = RelaxedCategorical(logits, 1.0)
    with pytest.raises(ArgumentError, match="simplex"):
        q.log_prob(torch.full((4, 2, 3), 0.5, dtype=F64))
    with pytest.raises(ArgumentError, match="entropy"):
        q.entropy()
    with pytest.raises(ArgumentError, match="no density"):
        StraightThroughCategorical(logits, 1.0).log_prob(q.rsample(2))


def mixture(c=3, d=5, seed=9):
    g = gen(seed)
    return BernoulliMixture(
        torch.randn(c, generator=g, dtype=F64), torch.randn(c, d, generator=g, dtype=F64)
    )


def binary(n=4, d=5, seed=10):
    return (torch.rand(n, d, generator=gen(seed), dtype=F64) < 0.5).to(F64)


def test_the_mixture_is_torchs_by_enumeration():
    model, x = mixture(), binary()
    pi = model.logits.softmax(-1)
    by_hand = torch.stack(
        [
            torch.distributions.Bernoulli(logits=model.image_logits[c]).log_prob(x).sum(-1)
            + pi[c].log()
            for c in range(3)
        ],
        -1,
    )
    torch.testing.assert_close(model.log_marginal(x), by_hand.logsumexp(-1))
    torch.testing.assert_close(model.posterior(x).probs, by_hand.softmax(-1))
    # the ELBO of the posterior is log p(x); of any other q, less by the KL
    torch.testing.assert_close(model.elbo_exact(model.posterior(x), x), model.log_marginal(x))
    q = Categorical(torch.randn(4, 3, generator=gen(11), dtype=F64))
    kl = torch.distributions.kl_divergence(
        torch.distributions.Categorical(logits=q.logits),
        torch.distributions.Categorical(probs=model.posterior(x).probs),
    )
    torch.testing.assert_close(model.log_marginal(x) - model.elbo_exact(q, x), kl)


def test_a_one_hot_point_is_its_label():
    model, x = mixture(), binary()
    labels = torch.randint(0, 3, (6, 4), generator=gen(12))
    one_hot = torch.nn.functional.one_hot(labels, 3).to(F64)
    torch.testing.assert_close(model.log_likelihood(x, one_hot), model.log_likelihood(x, labels))
    with pytest.raises(ArgumentError, match="simplex"):
        model.log_likelihood(x, 2 * one_hot)
    with pytest.raises(ArgumentError, match="label"):
        model.log_likelihood(x, labels + 3)
