"""Figures over q's parameters and in two dimensions: the ELBO landscape, Gaussians as ellipses.

Chapter 4 (book/04_kl_identity.ipynb).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch

from .. import _checks, _checks_values
from ..gaussian import DiagonalGaussian
from ._common import _axes, _numpy


def plot_landscape(
    locs: torch.Tensor,
    log_scales: torch.Tensor,
    values: torch.Tensor,
    *,
    ax=None,
    label: str = "",
    levels: int = 20,
    marker: tuple[float, float] | None = None,
):
    """Filled contours of a quantity over q's parameters (μ, log σ) for a 1-D latent.

    Shapes: locs (L,), log_scales (M,), values (L, M).   `marker`: a star at (μ, log σ).
    Chapter 4.
    """
    _checks_values.finite("locs", _checks.tensor("locs", locs, ndim=1, shape_hint="(L,)"))
    _checks_values.finite(
        "log_scales", _checks.tensor("log_scales", log_scales, ndim=1, shape_hint="(M,)")
    )
    wanted = (len(locs), len(log_scales))
    _checks.tensor("values", values, ndim=2, shape_hint=f"(L, M) = {wanted}")
    if values.shape != wanted:
        _checks.fail(
            "values",
            f"of shape (L, M) = {wanted}",
            str(tuple(values.shape)),
            "values[l, m] belongs to (locs[l], log_scales[m])",
        )
    _checks_values.finite("values", values, bounded=False)
    ax = _axes(ax)
    filled = ax.contourf(
        _numpy(locs), _numpy(log_scales), _numpy(values).T, levels=levels, cmap="viridis"
    )
    plt.colorbar(filled, ax=ax, label=label)
    if marker is not None:
        ax.plot(*marker, "r*", ms=14, label="exact posterior")
        ax.legend(fontsize="small", loc="upper right")
    ax.set(xlabel="μ", ylabel="log σ", title=label)
    return ax


def plot_gaussians_2d(
    posterior: torch.distributions.MultivariateNormal,
    q: DiagonalGaussian,
    *,
    ax=None,
    label: str = "q(z)",
    color: str = "C1",
):
    """One- and two-standard-deviation ellipses of a 2-D posterior (black, solid and dotted, thick)
    and of a diagonal q (`color`, dashed and dash-dotted, named `label` in the legend).

    Shapes: loc (1, 2).   Chapter 4.
    """
    _checks.instance(
        "posterior",
        posterior,
        torch.distributions.MultivariateNormal,
        "pass LinearGaussian.posterior(x)",
    )
    _checks.instance("q", q, DiagonalGaussian, "pass a DiagonalGaussian")
    for name, loc in (("posterior", posterior.loc), ("q", q.loc)):
        if loc.reshape(-1, loc.shape[-1]).shape != (1, 2):
            _checks.fail(
                name,
                "one datapoint's distribution over 2 latent dimensions",
                f"loc of shape {tuple(loc.shape)}",
                "this figure draws ellipses in 2-D",
            )
    ax = _axes(ax)
    angles = torch.linspace(0, 2 * math.pi, 200, dtype=torch.float64)
    circle = torch.stack([angles.cos(), angles.sin()], -1)  # (A, 2)
    # told apart by line style and width as well as colour (grayscale, colour-blind readers)
    shapes = [
        (
            posterior.loc[0],
            posterior.scale_tril.reshape(-1, 2, 2)[0],
            "k",
            "p(z | x)",
            ("-", ":"),
            2,
        ),
        (q.loc[0], torch.diag(q.scale[0]), color, label, ("--", "-."), 1.5),
    ]
    for loc, tril, color, label, styles, width in shapes:
        loc, tril = loc.detach().cpu().double(), tril.detach().cpu().double()
        for radius, style in zip((1, 2), styles, strict=True):
            ellipse = loc + radius * circle @ tril.T
            ax.plot(
                _numpy(ellipse[:, 0]),
                _numpy(ellipse[:, 1]),
                style,
                color=color,
                lw=width,
                label=f"{label}, {radius} sd",
            )
    ax.set(xlabel="z₁", ylabel="z₂", aspect="equal")
    ax.legend(fontsize="small")
    return ax
