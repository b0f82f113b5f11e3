"""Figures of samples: images in a grid, the spread of two gradient estimators.

Chapters 6–8 (book/06_…ipynb to book/08_…ipynb).
"""

from __future__ import annotations

import numpy as np
import torch

from .. import _checks, _checks_values
from ._common import _axes, _numpy


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
