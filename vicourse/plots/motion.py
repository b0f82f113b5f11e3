"""q moving onto the posterior, as an animation that plays offline and has alt text.

Chapter 3 (book/03_variational_approximation.ipynb).
"""

from __future__ import annotations

import math
import re

import matplotlib.pyplot as plt
import torch
from matplotlib import animation

from .. import _checks
from .densities import bound_summary, plot_posterior_and_q, point_q


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
