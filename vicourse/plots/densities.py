"""Figures of densities: p(x), p(z | x) against q(z), a fit's trace, the bound's summary.

Chapters 1–3 (book/01_…ipynb to book/03_…ipynb).
"""

from __future__ import annotations

import numpy as np
import torch

from .. import _checks, _checks_models, _checks_values
from ..bounds import elbo_value
from ..contracts import TractableModel
from ..gaussian import DiagonalGaussian
from ..mixture import GaussianMixture
from ._common import _axes, _like, _numpy


def point_q(model, loc: float, scale: float) -> DiagonalGaussian:
    """q(z) = N(loc, scale²) for one datapoint of a 1-D latent, on the model's dtype and device.

    Shapes: (1, 1).
    """
    like = _like(model)
    loc = _checks_values.real_in_dtype("loc", _checks.real("loc", loc), like["dtype"])
    scale = _checks_values.scale_in_dtype("scale", _checks.positive("scale", scale), like["dtype"])
    return DiagonalGaussian.from_scale(
        torch.tensor([[loc]], **like), torch.tensor([[scale]], **like)
    )


def plot_marginal_1d(model, x_samples: torch.Tensor, *, bins: int = 60, ax=None):
    """Histogram of samples x ~ p(x) against the exact density p(x); a mixture also shows its
    terms π_c N(x; μ_c, σ_c²).

    Shapes: x_samples (N, 1).   Chapter 1.
    """
    like = _like(model)
    _checks_models.data(model, x_samples)
    ax = _axes(ax)
    data = _numpy(x_samples[:, 0])
    ax.hist(data, bins=bins, density=True, color="0.8", label=f"{len(data)} samples")
    span = data.max() - data.min()
    grid = torch.linspace(data.min() - 0.1 * span, data.max() + 0.1 * span, 400, **like)[:, None]
    with torch.no_grad():
        ax.plot(
            _numpy(grid[:, 0]),
            _numpy(model.log_marginal(grid).exp()),
            "k",
            lw=2,
            label="exact p(x)",
        )
        if isinstance(model, GaussianMixture):
            terms = model.component_log_joint(grid).exp()  # (G, C)
            for c in range(model.num_components):
                ax.plot(_numpy(grid[:, 0]), _numpy(terms[:, c]), "--", label=f"π_{c} p(x | z={c})")
    ax.set(xlabel="x", ylabel="density")
    ax.legend(fontsize="small")
    return ax


def plot_marginal_2d(model, x_samples: torch.Tensor, *, ax=None, levels: int = 8):
    """Scatter of samples x ~ p(x) in 2-D over contours of the exact density p(x).

    Shapes: x_samples (N, 2).   Chapter 1.
    """
    like = _like(model)
    _checks_models.data(model, x_samples)
    ax = _axes(ax)
    data = _numpy(x_samples)
    lo, hi = data.min(0) - 0.5, data.max(0) + 0.5
    g0, g1 = torch.meshgrid(
        torch.linspace(lo[0], hi[0], 120, **like),
        torch.linspace(lo[1], hi[1], 120, **like),
        indexing="ij",
    )
    with torch.no_grad():
        density = (
            model.log_marginal(torch.stack([g0.reshape(-1), g1.reshape(-1)], -1))
            .exp()
            .reshape(g0.shape)
        )
    ax.scatter(data[:, 0], data[:, 1], s=4, alpha=0.4, color="C0", label=f"{len(data)} samples")
    ax.contour(_numpy(g0), _numpy(g1), _numpy(density), levels=levels, colors="k", linewidths=1)
    ax.set(xlabel="x₁", ylabel="x₂", aspect="equal")
    ax.legend(fontsize="small", loc="upper left")
    return ax


def plot_trace(trace: torch.Tensor, *, label: str | None = None, ax=None, **style):
    """A curve over iterations: trace[t] is the value after t iterations (trace[0] at the start,
    as the fitters in mle.py return it).   Shapes: (T + 1,).   Chapter 2."""
    _checks.tensor("trace", trace, ndim=1, shape_hint="(T + 1,)", fix="pass what fit_em returns")
    _checks_values.finite("trace", trace, bounded=False)
    ax = _axes(ax)
    ax.plot(np.arange(len(trace)), _numpy(trace), label=label, **style)
    ax.set(xlabel="iteration", ylabel="mean log-likelihood per datapoint")
    if label:
        ax.legend(fontsize="small")
    return ax


def bound_summary(model, x: torch.Tensor, q: DiagonalGaussian) -> dict[str, float]:
    """log p(x), the ELBO (closed form where the model has one, else 4,096 draws with a fixed
    seed) and their gap, for one datapoint x of shape (1, D) of a TractableModel."""
    _checks.instance("model", model, TractableModel, "log p(x) must be exact: GaussianMean")
    if _checks_models.data(model, x).shape[0] != 1:
        _checks.fail("x", "one datapoint, shape (1, D)", str(tuple(x.shape)), "pass x[:1]")
    generator = torch.Generator(device=x.device).manual_seed(0)
    with torch.no_grad():
        log_px = float(model.log_marginal(x)[0])
        bound = float(elbo_value(model, q, x, generator=generator)[0])
    return {"log p(x)": log_px, "ELBO": bound, "gap": log_px - bound}


def plot_posterior_and_q(
    model,
    x: torch.Tensor,
    q: DiagonalGaussian,
    *,
    z_range=(-3.0, 3.0),
    ax=None,
    summary: dict[str, float] | None = None,
):
    """For one datapoint and a 1-D latent: the exact posterior p(z|x) = p(x, z)/p(x) and q(z),
    with log p(x), the ELBO and the gap in the title (pass `summary` if you have it already).

    Shapes: x (1, D), q (1, 1).   Chapter 3.
    """
    like = _like(model)
    if model.latent_dim != 1:
        _checks.fail(
            "model",
            "a model with a 1-D latent",
            f"latent_dim={model.latent_dim}",
            "this figure draws densities over one z",
        )
    summary = bound_summary(model, x, q) if summary is None else summary
    low, high = _checks.interval("z_range", z_range)
    grid = torch.linspace(low, high, 400, **like)[:, None, None]  # (G, 1, 1): points as samples
    ax = _axes(ax)
    with torch.no_grad():
        posterior = (model.log_joint(x, grid) - summary["log p(x)"]).exp()[:, 0]
        density_q = q.log_prob(grid).exp()[:, 0]
    z = _numpy(grid[:, 0, 0])
    ax.plot(z, _numpy(posterior), "k", lw=2, label="p(z | x)")
    ax.fill_between(z, _numpy(density_q), color="C1", alpha=0.35, label="q(z)")
    ax.set(
        xlabel="z",
        ylabel="density",
        ylim=(0, 1.15 * max(_numpy(posterior).max(), _numpy(density_q).max())),
        title="log p(x) = {log p(x):.3f}   ELBO = {ELBO:.3f}   gap = {gap:.3f}".format(**summary),
    )
    ax.legend(fontsize="small", loc="upper right")
    return ax
