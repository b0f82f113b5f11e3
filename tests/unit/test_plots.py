"""Every figure function returns an Axes, accepts ax=, and refuses bad input clearly."""

import matplotlib.pyplot as plt
import pytest
import torch
from conftest import gen
from matplotlib import animation
from matplotlib.axes import Axes

from vicourse import DiagonalGaussian, GaussianMean, GaussianMixture, LinearGaussian, plots

F64 = torch.float64


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_marginal_plots(device):
    mixture = GaussianMixture(
        torch.zeros(2, dtype=F64),
        torch.tensor([[-1.0], [1.0]], dtype=F64),
        torch.zeros(2, 1, dtype=F64),
    ).to(device)
    _, x = mixture.sample(200, generator=gen(0, device))
    ax = plots.plot_marginal_1d(mixture, x)
    assert isinstance(ax, Axes) and len(ax.lines) == 3  # p(x) and one line per component
    linear = LinearGaussian(torch.tensor([[1.0], [0.5]], dtype=F64, device=device))
    _, x2 = linear.sample(100, generator=gen(1, device))
    _fig, ax = plt.subplots()
    assert plots.plot_marginal_2d(linear, x2, ax=ax) is ax


def test_posterior_panel_and_animation():
    model = GaussianMean(1, dtype=F64)
    x = torch.tensor([[0.5]], dtype=F64)
    q = model.posterior(x)
    ax = plots.plot_posterior_and_q(model, x, q)
    assert "gap = 0.000" in ax.get_title() or "gap = -0.000" in ax.get_title()
    anim = plots.animate_q(model, x, [0.0, 0.4], [0.0, -0.5])
    assert isinstance(anim, animation.FuncAnimation)
    assert "<img" in anim.to_jshtml()
    # the same player, with no request to a CDN, alt text on the frame and a labelled slider
    html = plots.animation_html(anim, alt='q moves onto "the posterior" & stays')
    assert "<img" in html and "http" not in html.split("<script")[0]
    assert "font-awesome" not in html and 'aria-label="Play"' in html and "▶" in html
    assert 'alt="q moves onto &quot;the posterior&quot; &amp; stays"' in html
    assert 'type="range" aria-label="Animation frame"' in html
    with pytest.raises(ValueError, match=r"^alt must be a sentence"):
        plots.animation_html(anim, alt="")
    with pytest.raises(ValueError, match=r"x must be one datapoint, shape \(1, D\)"):
        plots.plot_posterior_and_q(model, torch.zeros(2, 1, dtype=F64), q)
    with pytest.raises(
        ValueError, match=r"locs and log_scales must be non-empty and of equal length, got 2 and 1"
    ):
        plots.animate_q(model, x, [0.0, 1.0], [0.0])


def test_bound_summary_reports_the_exact_gap():
    model = GaussianMean(1, dtype=F64)
    x = torch.tensor([[0.5]], dtype=F64)
    q = DiagonalGaussian(torch.tensor([[0.1]], dtype=F64), torch.tensor([[-0.3]], dtype=F64))
    summary = plots.bound_summary(model, x, q)
    gap = (model.log_marginal(x) - model.elbo_exact(q, x)).item()
    assert summary["gap"] > 0 and abs(summary["gap"] - gap) < 1e-12


def test_landscape_and_ellipses():
    locs, log_scales = torch.linspace(-1, 1, 5), torch.linspace(-1, 0, 4)
    ax = plots.plot_landscape(locs, log_scales, torch.randn(5, 4), label="ELBO", marker=(0.0, -0.5))
    assert ax.get_title() == "ELBO"
    with pytest.raises(
        ValueError, match=r"values must be of shape \(L, M\) = \(5, 4\), got \(4, 5\)"
    ):
        plots.plot_landscape(locs, log_scales, torch.randn(4, 5))
    linear = LinearGaussian(torch.tensor([[1.0, 0.8], [0.5, 0.7]], dtype=F64))
    x = torch.tensor([[0.3, -0.2]], dtype=F64)
    with torch.no_grad():
        ax = plots.plot_gaussians_2d(linear.posterior(x), linear.best_diagonal_q(x))
    assert len(ax.lines) == 4


def test_trace():
    ax = plots.plot_trace(torch.arange(5.0), label="EM")
    assert len(ax.lines) == 1 and ax.get_legend() is not None
