"""Figures for the chapters: plain matplotlib, each function takes `ax=None` and returns the Axes.

Nothing here computes a result the text relies on; the chapters assert those. Tensors are moved to
the CPU here, so the models and data may live on any device.
Chapters 1–4 (book/*.ipynb).  Live versions of some figures are in widgets.py.
"""

from __future__ import annotations

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation

from . import _checks, _checks_models, _checks_values
from .bounds import elbo_value
from .contracts import LatentModel, TractableModel
from .gaussian import DiagonalGaussian
from .mixture import GaussianMixture


def _axes(ax):
    return plt.subplots(figsize=(6, 3.6))[1] if ax is None else ax


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def _like(model) -> dict:
    _checks.instance("model", model, LatentModel, "use a vicourse model, e.g. GaussianMean")
    reference = model.reference()
    return dict(dtype=reference.dtype, device=reference.device)


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


def animate_q(
    model, x: torch.Tensor, locs, log_scales, *, z_range=(-3.0, 3.0), interval: int = 250
):
    """The static-site version of widgets.explore_q: a FuncAnimation of `plot_posterior_and_q`
    over the (loc, log_scale) pairs given. Show it with IPython.display.HTML(anim.to_jshtml()).

    Chapter 3.
    """
    locs, log_scales = _checks.reals("locs", locs), _checks.reals("log_scales", log_scales)
    if len(locs) != len(log_scales) or len(locs) == 0:
        _checks.fail(
            "locs and log_scales",
            "non-empty and of equal length",
            f"{len(locs)} and {len(log_scales)}",
            "pass one log σ per μ",
        )
    qs = [
        point_q(model, loc, math.exp(log_scale))
        for loc, log_scale in zip(locs, log_scales, strict=True)
    ]
    bound_summary(model, x, qs[0])  # checks x now, not when the first frame is drawn
    _checks.interval("z_range", z_range)
    fig, ax = plt.subplots(figsize=(6, 3.6))

    def draw(frame: int):
        ax.clear()
        plot_posterior_and_q(model, x, qs[frame], z_range=z_range, ax=ax)
        return ()

    anim = animation.FuncAnimation(fig, draw, frames=len(locs), interval=interval, blit=False)
    plt.close(fig)
    return anim


# matplotlib's jshtml player draws its buttons with Font Awesome icons from a CDN: offline they
# are blank. Glyphs that common fonts have need nothing; each button keeps its title and aria-label.
_PLAYER_ICONS = {
    "fa fa-play fa-flip-horizontal": "◀",
    "fa fa-minus": "−",
    "fa fa-fast-backward": "|◀",
    "fa fa-step-backward": "◁",
    "fa fa-pause": "▮▮",
    "fa fa-play": "▶",
    "fa fa-step-forward": "▷",
    "fa fa-fast-forward": "▶|",
    "fa fa-plus": "+",
}


def animation_html(anim: animation.Animation, *, alt: str) -> str:
    """anim.to_jshtml() for any reader: no network (the player's icons are glyphs instead of
    Font Awesome from a CDN), `alt` on the frame image (what the animation shows), and a label on
    the frame slider. Show it with IPython.display.HTML.

    Chapter 3.
    """
    _checks.instance("anim", anim, animation.Animation, "pass the result of animate_q")
    if not isinstance(alt, str) or len(alt.split()) < 5:
        _checks.fail(
            "alt",
            "a sentence saying what the animation shows",
            repr(alt),
            "describe it for a reader who cannot see it, e.g. 'q moves onto the posterior'",
        )
    html = re.sub(
        r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">', "", anim.to_jshtml()
    )
    for icon, glyph in _PLAYER_ICONS.items():
        html = html.replace(f'<i class="{icon}"></i>', f'<span aria-hidden="true">{glyph}</span>')
    quoted = alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    html = re.sub(r'<img id="(_anim_img\w+)"', rf'<img id="\1" alt="{quoted}"', html, count=1)
    html = re.sub(
        r'<input id="(_anim_slider\w+)" type="range"',
        r'<input id="\1" type="range" aria-label="Animation frame"',
        html,
        count=1,
    )
    if "font-awesome" in html or '<i class="fa ' in html or 'alt="' not in html:
        raise RuntimeError("matplotlib's animation player changed: update plots.animation_html")
    return html


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


def show_images(
    images: torch.Tensor,
    *,
    shape: tuple[int, int] = (8, 8),
    ncols: int = 10,
    ax=None,
    vmax: float | None = None,
):
    """A grid of images (rows of `images` reshaped to `shape`), in gray, without ticks.

    Shapes: images (N, H·W).   Chapters 6 and 8.
    """
    if not isinstance(shape, tuple | list) or len(shape) != 2:
        _checks.fail(
            "shape",
            "a pair (height, width)",
            _checks.describe_value(shape),
            "pass e.g. shape=(8, 8)",
        )
    h, w = (_checks.positive_int("shape", v) for v in shape)
    _checks.tensor(
        "images",
        images,
        ndim=2,
        last=h * w,
        shape_hint=f"(N, {h * w})",
        fix="one flattened image per row",
    )
    if images.shape[0] == 0:
        _checks.fail("images", "at least one image", "(0, H·W)", "pass some images")
    _checks_values.finite("images", images, bounded=False)
    ncols = _checks.positive_int("ncols", ncols)
    n = images.shape[0]
    rows = -(-n // ncols)
    grid = np.full((rows * (h + 1) - 1, ncols * (w + 1) - 1), np.nan)
    for i, image in enumerate(_numpy(images).reshape(n, h, w)):
        r, c = divmod(i, ncols)
        grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = image
    ax = _axes(ax)
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=vmax if vmax is not None else np.nanmax(grid))
    ax.set(xticks=[], yticks=[])
    return ax


def plot_gradient_spread(
    samples: dict[str, torch.Tensor],
    exact: float,
    *,
    bins: int = 60,
    ax=None,
    xlabel: str = "gradient estimate",
):
    """Histograms of gradient estimates, one per estimator, and the exact gradient as a line.

    Shapes: each sample tensor (T,).   Chapter 7.
    """
    if not isinstance(samples, dict) or not samples:
        _checks.fail(
            "samples",
            "a dict {name: (T,) tensor of estimates}",
            _checks.describe_value(samples),
            "pass e.g. {'pathwise': d_mu}",
        )
    exact = _checks.real("exact", exact)
    arrays = {}
    for name, values in samples.items():
        _checks.tensor(f"samples[{name!r}]", values, ndim=1, shape_hint="(T,)")
        arrays[name] = _numpy(_checks_values.finite(f"samples[{name!r}]", values, bounded=False))
    low = min(np.quantile(a, 0.005) for a in arrays.values())
    high = max(np.quantile(a, 0.995) for a in arrays.values())
    edges = np.linspace(min(low, exact), max(high, exact), bins + 1)
    ax = _axes(ax)
    for (name, values), style in zip(arrays.items(), ("-", "--", ":", "-."), strict=False):
        ax.hist(
            values,
            bins=edges,
            density=True,
            histtype="step",
            lw=1.5,
            ls=style,
            label=f"{name}: variance {values.var():.3g}",
        )
    ax.axvline(exact, color="k", lw=1, label=f"exact {exact:.3g}")
    ax.set(xlabel=xlabel, ylabel="density")
    ax.legend(fontsize="small")
    return ax
