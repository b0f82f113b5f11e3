"""The two gradient estimators against closed forms, exact gradients and replay.

For z ~ N(μ, σ²) and f(z) = z², the single-draw estimators of ∂μ E[f] = 2μ and ∂σ E[f] = 2σ have
known variances (pathwise ∂μ: 4σ²; score ∂μ: μ⁴/σ² + 14μ² + 15σ²; pathwise ∂σ: 4μ² + 8σ²; score
∂σ: 2μ⁴/σ² + 60μ² + 74σ²; with the baseline E[f] = μ² + σ² the score ones are 8μ² + 10σ² and
40μ² + 56σ²). T independent estimates are drawn at once, one per row of a (T, 1) q.
"""

import math

import pytest
import torch
from conftest import gen

import vicourse
from vicourse import (
    ArgumentError,
    ArgumentTypeError,
    Categorical,
    DiagonalGaussian,
    GaussianMean,
    GaussianMixture,
    elbo_pathwise,
    elbo_score_function,
    pathwise,
    score_function,
)
from vicourse.estimators import gradient_samples

F64 = torch.float64
MU, SIGMA = 0.8, 0.6


def square(z):
    return z.square().sum(-1)


def gradients(estimator, trials, **options):
    """T single-draw estimates of (∂μ, ∂σ) E[z²], and their exact values."""
    loc = torch.full((trials, 1), MU, dtype=F64, requires_grad=True)
    log_scale = torch.full((trials, 1), math.log(SIGMA), dtype=F64, requires_grad=True)
    estimate = estimator(DiagonalGaussian(loc, log_scale), square, 1, generator=gen(0), **options)
    estimate.surrogate.sum().backward()
    return loc.grad[:, 0], log_scale.grad[:, 0] / SIGMA  # ∂/∂σ = ∂/∂log σ · 1/σ


def variance_within(samples, exact, sigmas=5.0):
    """The sample variance agrees with `exact` within `sigmas` standard errors of itself."""
    centred = samples - samples.mean()
    variance = centred.square().mean()
    se = ((centred**4).mean() - variance**2).sqrt() / math.sqrt(len(samples))
    return abs(variance - exact) < sigmas * se, (variance.item(), exact, se.item())


M2, S2 = MU**2, SIGMA**2
CASES = [
    ("pathwise", pathwise, {}, 4 * S2, 4 * M2 + 8 * S2),
    (
        "score",
        score_function,
        {},
        M2**2 / S2 + 14 * M2 + 15 * S2,
        2 * M2**2 / S2 + 60 * M2 + 74 * S2,
    ),
    ("score, b = E[f]", score_function, {"baseline": M2 + S2}, 8 * M2 + 10 * S2, 40 * M2 + 56 * S2),
]


@pytest.mark.parametrize(("name", "estimator", "options", "var_mu", "var_sigma"), CASES)
def test_unbiased_with_the_closed_form_variance(name, estimator, options, var_mu, var_sigma):
    d_mu, d_sigma = gradients(estimator, 400_000, **options)
    for samples, exact_mean in ((d_mu, 2 * MU), (d_sigma, 2 * SIGMA)):
        se = samples.std() / math.sqrt(len(samples))
        assert abs(samples.mean() - exact_mean) < 5 * se, (name, samples.mean(), exact_mean)
    for samples, exact in ((d_mu, var_mu), (d_sigma, var_sigma)):
        ok, report = variance_within(samples, exact)
        assert ok, (name, report)


def test_leave_one_out_baseline_stays_unbiased_and_lowers_the_variance():
    trials, draws = 20_000, 8
    loc = torch.full((trials, 1), MU, dtype=F64, requires_grad=True)
    q = DiagonalGaussian(loc, torch.full((trials, 1), math.log(SIGMA), dtype=F64))
    plain = score_function(q, square, draws, generator=gen(1))
    (plain_grad,) = torch.autograd.grad(plain.surrogate.sum(), loc)
    loo = score_function(q, square, draws, baseline="leave-one-out", generator=gen(1))
    (loo_grad,) = torch.autograd.grad(loo.surrogate.sum(), loc)
    se = loo_grad.std() / math.sqrt(trials)
    assert abs(loo_grad.mean() - 2 * MU) < 5 * se
    # close to what the exact baseline E[f] gives (8μ² + 10σ² per draw), well below no baseline
    assert loo_grad.var() < 1.25 * (8 * M2 + 10 * S2) / draws < 0.7 * plain_grad.var()


def conjugate_setup(requires_grad=True):
    model = GaussianMean(2, 0.3, 1.0, 0.5, dtype=F64)
    x = torch.tensor([[1.0, -0.5], [0.2, 0.7]], dtype=F64)
    loc = torch.tensor([[0.2, 0.1], [-0.3, 0.4]], dtype=F64, requires_grad=requires_grad)
    log_scale = torch.tensor([[-0.4, 0.1], [0.2, -0.7]], dtype=F64, requires_grad=requires_grad)
    return model, x, loc, log_scale


@pytest.mark.parametrize(
    ("estimator", "options"),
    [
        (elbo_pathwise, {}),
        (elbo_score_function, {}),
        (elbo_score_function, {"baseline": "leave-one-out"}),
    ],
)
def test_elbo_gradients_are_unbiased_for_the_closed_form_gradient(estimator, options):
    """T independent estimates (each q row repeated T times, each row its own leaf): their mean
    is within 5 standard errors of the exact gradient of the closed-form ELBO, entry by entry."""
    model, x, loc, log_scale = conjugate_setup()
    exact = torch.autograd.grad(
        model.elbo_exact(DiagonalGaussian(loc, log_scale), x).sum(), (loc, log_scale)
    )
    trials, n = 100_000, x.shape[0]
    rows = [t.detach().repeat(trials, 1).requires_grad_() for t in (loc, log_scale)]
    estimate = estimator(
        model, DiagonalGaussian(*rows), x.repeat(trials, 1), 2, generator=gen(2), **options
    )
    estimate.surrogate.sum().backward()
    for row, e in zip(rows, exact, strict=True):
        samples = row.grad.reshape(trials, n, -1)
        se = samples.std(0) / math.sqrt(trials)
        assert ((samples.mean(0) - e).abs() < 5 * se).all(), (samples.mean(0), e, se)


def test_pathwise_gradient_replays_by_hand():
    """Re-seed, redraw the same ε, and compare with ∇μ log w = ∇z log p(x, z) at z = μ + σ ε
    (log q(μ + σ ε) does not depend on μ), and ∇(log σ) log w = ∇z log p(x, z) · σ ε + 1."""
    model, x, loc, log_scale = conjugate_setup()
    estimate = elbo_pathwise(model, DiagonalGaussian(loc, log_scale), x, 3, generator=gen(4))
    estimate.surrogate.sum().backward()
    with torch.no_grad():
        eps = torch.randn((3, 2, 2), generator=gen(4), dtype=F64)
        sigma = log_scale.exp()
        z = loc + sigma * eps
        s2, t2 = model.noise_scale**2, model.prior_scale**2
        grad_z = (x - z) / s2 - (z - model.prior_loc) / t2  # ∇z log p(x, z)
        by_hand_loc = grad_z.mean(0)
        by_hand_log_scale = (grad_z * sigma * eps + 1).mean(0)
    torch.testing.assert_close(loc.grad, by_hand_loc)
    torch.testing.assert_close(log_scale.grad, by_hand_log_scale)


def test_score_function_gradient_replays_by_hand():
    """∇μ of the surrogate: (log w − b) (z − μ)/σ² from the score, minus (z − μ)/σ² from the
    −log q(z) inside log w, at the same draws."""
    model, x, loc, log_scale = conjugate_setup()
    q = DiagonalGaussian(loc, log_scale)
    estimate = elbo_score_function(model, q, x, 4, baseline=0.25, generator=gen(5))
    estimate.surrogate.sum().backward()
    with torch.no_grad():
        z = q.sample(4, generator=gen(5))
        log_w = model.log_joint(x, z) - q.log_prob(z)
        score_loc = (z - loc) / log_scale.exp() ** 2
        by_hand = (((log_w - 0.25)[..., None] - 1) * score_loc).mean(0)
    torch.testing.assert_close(loc.grad, by_hand)
    torch.testing.assert_close(estimate.value, log_w.mean(0))


def test_score_function_handles_a_discrete_latent():
    """For a Categorical q over the mixture's labels, the mean gradient matches the exact
    gradient of the ELBO (a finite sum), and pathwise refuses with a clear error."""
    mixture = GaussianMixture(
        torch.tensor([0.2, 0.0, -0.3], dtype=F64),
        torch.tensor([[-2.0], [0.0], [2.0]], dtype=F64),
        torch.full((3, 1), -0.3, dtype=F64),
    )
    x = torch.tensor([[-1.0], [0.8]], dtype=F64)
    logits = torch.tensor([[0.1, 0.5, -0.2], [0.0, 0.3, 0.4]], dtype=F64, requires_grad=True)
    (exact,) = torch.autograd.grad(mixture.elbo_exact(Categorical(logits), x).sum(), logits)
    estimate = elbo_score_function(
        mixture, Categorical(logits), x, 200_000, baseline="leave-one-out", generator=gen(6)
    )
    (sampled,) = torch.autograd.grad(estimate.surrogate.sum(), logits)
    torch.testing.assert_close(sampled, exact, atol=0.02, rtol=0)
    with pytest.raises(ArgumentError, match="q must be a family with rsample"):
        elbo_pathwise(mixture, Categorical(logits), x)


def test_estimators_are_functions_and_the_default_follows_rsample():
    gaussian = DiagonalGaussian(torch.zeros(2, 1, dtype=F64), torch.zeros(2, 1, dtype=F64))
    labels = Categorical(torch.zeros(2, 3, dtype=F64))
    assert vicourse.default_estimator(gaussian) is elbo_pathwise
    assert vicourse.default_estimator(labels) is elbo_score_function
    model, x, _, _ = conjugate_setup(requires_grad=False)
    for name in ("pathwise", "score", "reinforce"):
        with pytest.raises(ArgumentTypeError, match="pass the function itself"):
            vicourse.fit_local(model, x, estimator=name)
    with pytest.raises(ArgumentError, match="baseline must be None with estimator=elbo_pathwise"):
        vicourse.fit_local(model, x, estimator=elbo_pathwise, baseline=1.0)
    square = lambda z: z.square().sum(-1)  # noqa: E731
    for name in ("pathwise", "score", elbo_pathwise):
        with pytest.raises(ArgumentTypeError, match="pass the function itself"):
            gradient_samples(name, 1.0, 0.5, square, num_trials=4, generator=gen(0))
    d_mu, _ = gradient_samples(vicourse.score_function, 1.0, 0.5, square, 2, 4, generator=gen(0))
    assert d_mu.shape == (4,) and d_mu.dtype == F64
