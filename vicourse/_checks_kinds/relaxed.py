"""Kinds of RelaxedCategorical and StraightThroughCategorical (relaxed.py)."""

from __future__ import annotations

import torch

from .. import _checks, _checks_values
from .._checks_spec import Kind

# RelaxedCategorical (relaxed.py): logits (N, C), τ > 0 such that (logits + g) / τ and log q
# stay finite in the logits' dtype; points y of the simplex; Gumbel noise g.


def gumbel_bound(dtype_: torch.dtype) -> float:
    """The largest |g| of standard Gumbel noise drawn in `dtype_`: u ≤ 1 − ε gives g ≤ −log ε
    (and u ≥ the smallest normal number, g ≥ −log(−log tiny), which is smaller)."""
    import math

    return 1 - math.log(torch.finfo(dtype_).eps)


def lowest_temperature(logits: torch.Tensor) -> float:
    """The smallest τ for these logits: log q's terms reach 8 C (|logits| + |g|)(1 + τ)/τ."""
    finfo = torch.finfo(logits.dtype)
    largest = logits.detach().abs().max().item() if logits.numel() else 0.0
    k = 8 * logits.shape[-1] * (largest + gumbel_bound(logits.dtype)) / finfo.max
    return max(finfo.tiny, k / (1 - k)) if k < 1 else float("inf")


def _relaxed_logits_check(name, logits, args):
    _checks.tensor(
        "logits", logits, ndim=2, shape_hint="(N, C)", fix="pass one row of logits per datapoint"
    )
    if logits.shape[-1] < 2:
        _checks.fail(
            "logits",
            "of shape (N, C) with C ≥ 2 categories",
            str(tuple(logits.shape)),
            "pass one logit per category",
        )
    return _checks_values.finite("logits", logits, bounded=False)  # never squared: see τ's


def _temperature_check(name, temperature, args):
    logits = args["logits"]
    if isinstance(temperature, torch.Tensor) and temperature.numel() != 1:
        _checks.fail(
            "temperature",
            "one number τ > 0",
            f"a tensor of shape {tuple(temperature.shape)}",
            "pass temperature=0.5",
        )
    if isinstance(temperature, torch.Tensor) and temperature.device.type == "meta":
        _checks.fail(
            "temperature", "a tensor with values", "a tensor on the meta device", "use cpu or cuda"
        )
    tau = _checks.positive("temperature", temperature)
    _checks_values.real_in_dtype("temperature", tau, logits.dtype)
    low = lowest_temperature(logits)
    if not tau >= low:
        _checks.fail(
            "temperature",
            f"at least {low:.1e} for these logits in {logits.dtype} (so that "
            "(logits + g) / τ and log q stay finite)",
            repr(tau),
            "raise it, rescale the logits, or use torch.float64",
        )
    return temperature


def check_points(
    name: str, y, shape: tuple[int, ...], fix: str, *, closed: bool = False
) -> torch.Tensor:
    """y is (S, *shape) points of the simplex: entries > 0 (≥ 0 if closed, which admits
    one-hot vectors) whose rows sum to 1 (to the rounding of a softmax in y's dtype)."""
    _checks.tensor(name, y, fix=fix)
    if y.ndim != 1 + len(shape) or tuple(y.shape[1:]) != tuple(shape):
        _checks.fail(
            name,
            f"points of the simplex of shape (S, {', '.join(map(str, shape))})",
            str(tuple(y.shape)),
            fix,
        )
    _checks_values.finite(name, y.detach())
    values = y.detach()
    tolerance = max(1e-6, 2 * torch.finfo(values.dtype).eps)
    outside = (values < 0) if closed else (values <= 0)
    if bool(outside.any()) or bool(((values.sum(-1) - 1).abs() > tolerance * shape[-1]).any()):
        _checks.fail(
            name,
            f"points {'of' if closed else 'inside'} the simplex ("
            f"{'entries ≥ 0' if closed else 'positive entries'}, each row summing to 1)",
            f"entries from {values.min().item():.3g} to {values.max().item():.3g}, row sums "
            f"from {values.sum(-1).min().item():.6g} to {values.sum(-1).max().item():.6g}",
            fix,
        )
    return y


def _relaxed_points_check(name, y, args):
    """Points inside the simplex; of the closed simplex for q's own last draws, whose entries
    that underflowed to 0 at a low τ keep their log in q's memory (any other y with a 0 entry
    has lost it, and its density with it)."""
    q = args["self"]
    own = q._recall(q._last, y) is not None
    fix = "pass relaxed draws, q.rsample(S)"
    check_points(name, y, tuple(q.logits.shape), fix, closed=own)
    return _checks.like(name, y, "q", q.logits)


def _gumbel_check(name, gumbel, args):
    logits = args["self"].logits
    c = logits.shape[-1]
    _checks.tensor(name, gumbel, last=c, shape_hint=f"(S, N, {c})", fix="draw it with q.gumbel(S)")
    _checks.like(name, gumbel, "q", logits)
    _checks.broadcast(
        name,
        gumbel.shape,
        logits.shape,
        f"of a shape that broadcasts with q's {tuple(logits.shape)}",
        "draw it with q.gumbel(S)",
    )
    _checks_values.finite(name, gumbel, bounded=False)
    bound = gumbel_bound(gumbel.dtype)
    largest = gumbel.detach().abs().amax().item() if gumbel.numel() else 0.0
    if largest > bound:
        _checks.fail(
            name,
            f"standard Gumbel noise, of magnitude at most {bound:.3g} in {gumbel.dtype}",
            f"a value of magnitude {largest:.3g}",
            "draw it with q.gumbel(S)",
        )
    return gumbel


relaxed_logits = Kind("data", _relaxed_logits_check)
temperature = Kind("positive", _temperature_check)
relaxed_points = Kind("data", _relaxed_points_check)
gumbel_noise = Kind("data", _gumbel_check)
