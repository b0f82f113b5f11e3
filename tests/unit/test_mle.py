import pytest
import torch
from conftest import gen

from vicourse import (
    GaussianMixture,
    LinearGaussian,
    expected_log_joint,
    fit_em,
    fit_gradient,
)

F64 = torch.float64


def data(n=600, seed=0):
    truth = GaussianMixture(
        torch.tensor([0.0, 0.5, -0.5], dtype=F64),
        torch.tensor([[-3.0], [0.0], [2.5]], dtype=F64),
        torch.tensor([[-0.5], [0.0], [-1.0]], dtype=F64),
    )
    return truth, truth.sample(n, generator=gen(seed))[1]


def start():
    return GaussianMixture(
        torch.zeros(3, dtype=F64),
        torch.tensor([[-1.0], [0.0], [1.0]], dtype=F64),
        torch.zeros(3, 1, dtype=F64),
    )


def test_em_never_lowers_the_log_likelihood_and_finds_the_components():
    truth, x = data()
    model = start()
    with torch.no_grad():
        before = model.log_marginal(x).mean()
    trace = fit_em(model, x, num_steps=100)
    assert trace.shape == (101,) and trace[0] == before  # trace[t]: after t iterations
    assert trace[1] > trace[0]
    assert (trace.diff() >= -1e-10).all()
    order = model.loc.detach()[:, 0].argsort()
    torch.testing.assert_close(model.loc.detach()[order], truth.loc.detach(), atol=0.3, rtol=0)


def test_expected_log_joint_plus_entropy_is_log_marginal_at_the_posterior():
    """Σ_c r_ic log p(x_i, c) + H(r_i) = log p(x_i) when r_i = p(z|x_i): the E-step makes the bound
    tight.
    """
    _, x = data(50)
    model = start()
    with torch.no_grad():
        r = model.posterior(x).probs
        entropy = -(r * r.log()).sum(-1)
        torch.testing.assert_close(expected_log_joint(model, x, r) + entropy, model.log_marginal(x))


def test_gradient_ascent_raises_the_likelihood():
    _, x = data()
    trace = fit_gradient(start(), x, num_steps=150, lr=0.05)
    assert trace[-1] > trace[0] + 0.1


def test_gradient_ascent_fits_a_linear_gaussian_to_its_own_data():
    truth = LinearGaussian(
        torch.tensor([[2.0], [1.0]], dtype=F64), torch.tensor([1.0, -1.0], dtype=F64), 0.3
    )
    _, x = truth.sample(2000, generator=gen(1))
    model = LinearGaussian(torch.tensor([[0.5], [0.1]], dtype=F64), noise_scale=1.0)
    trace = fit_gradient(model, x, num_steps=400, lr=0.05)
    with torch.no_grad():
        assert abs(trace[-1] - truth.log_marginal(x).mean()) < 0.01


@pytest.mark.parametrize("fit", [fit_gradient, fit_em])
def test_both_traces_mean_the_same_thing(fit):
    """trace[t] is the mean log-likelihood after t steps: trace[0] at the start, trace[-1] at the
    fitted model, so chapter 2 can draw both fitters on one axis."""
    _, x = data(200)
    model = start()
    with torch.no_grad():
        before = model.log_marginal(x).mean()
    trace = fit(model, x, num_steps=5)
    with torch.no_grad():
        after = model.log_marginal(x).mean()
    assert trace.shape == (6,)
    assert trace[0] == before and trace[-1] == after
