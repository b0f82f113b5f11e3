"""Value checks: finite, positive, in range. They read a tensor's values, which on a GPU makes
the host wait for the device (a sync), so they run in constructors and entry points only, never
inside the fitting loops. `limit` and `scale_range` say which magnitudes a dtype can carry: the
checks of Python numbers against a dtype (`scale_in_dtype`, `real_in_dtype`) use them too.
After a fitting loop, `fit_trace` reads the trace once and names the step that went wrong.
"""

from __future__ import annotations

import math

import torch

from ._checks import FitError, describe_value, fail


def limit(dtype_: torch.dtype) -> float:
    """The largest magnitude accepted for data, locations and scales in `dtype_`: the fourth
    root of its largest number (float32: 4.3e9, float64: 1.2e77), so that squares and products
    of two squares stay finite."""
    return torch.finfo(dtype_).max ** 0.25


_LIMITS = {t: limit(t) for t in (torch.float16, torch.bfloat16, torch.float32, torch.float64)}


def scale_range(dtype_: torch.dtype) -> tuple[float, float]:
    """Scales σ accepted in `dtype_` (float32: 3.3e-10 to 4.3e9): σ², 1/σ² and their products
    stay finite and nonzero."""
    return torch.finfo(dtype_).tiny ** 0.25, limit(dtype_)


def scale_in_dtype(name: str, value: float, dtype_: torch.dtype) -> float:
    low, high = scale_range(dtype_)
    if not low <= value <= high:
        fail(
            name,
            f"between {low:.1e} and {high:.1e} in {dtype_} (so that its square stays "
            f"finite and nonzero)",
            f"{value!r}",
            "rescale the data, or use torch.float64",
        )
    return value


def real_in_dtype(name: str, value: float, dtype_: torch.dtype) -> float:
    if abs(value) > limit(dtype_):
        fail(
            name,
            f"of magnitude at most {limit(dtype_):.1e} in {dtype_}",
            f"{value!r}",
            "rescale the data, or use torch.float64",
        )
    return value


def finite(name: str, value: torch.Tensor, *, bounded: bool = True) -> torch.Tensor:
    """Finite, and (if `bounded`: data, locations) no larger in magnitude than `limit`."""
    if value.numel():
        if not bool(torch.isfinite(value).all()):
            bad = value[~torch.isfinite(value)].flatten()[0].item()
            fail(name, "finite", f"a tensor holding {bad}", f"remove or replace the {bad} values")
        worst = value.detach().abs().max().item()
        if bounded and worst > (_LIMITS.get(value.dtype) or limit(value.dtype)):
            fail(
                name,
                f"of magnitude at most {limit(value.dtype):.1e} in {value.dtype} (so "
                f"that its squares stay finite)",
                f"a value of magnitude {worst:.3g}",
                "rescale it, or use torch.float64",
            )
    return value


def positive_tensor(name: str, value: torch.Tensor) -> torch.Tensor:
    finite(name, value)
    if bool((value <= 0).any()):
        fail(name, "positive", f"a value {value.min().item():.3g}", f"pass {name} > 0, or its log")
    return value


def scale_tensor(name: str, log_scale: torch.Tensor) -> torch.Tensor:
    """log σ finite, with σ inside `scale_range` of its dtype."""
    finite(name, log_scale)
    if log_scale.numel():
        low, high = (math.log(v) for v in scale_range(log_scale.dtype))
        smallest, largest = log_scale.detach().aminmax()
        if smallest.item() < low or largest.item() > high:
            bad = smallest.item() if smallest.item() < low else largest.item()
            fail(
                name,
                f"between {low:.1f} and {high:.1f} in {log_scale.dtype} (so that "
                f"σ = exp({name}) has a finite, nonzero square)",
                f"a value {bad:.3g}",
                "rescale the data, or use torch.float64",
            )
    return log_scale


def labels_shape(name: str, value, *, n: int | None, num_components: int) -> torch.Tensor:
    if (
        not isinstance(value, torch.Tensor)
        or value.dtype != torch.long
        or value.ndim != 2
        or (n is not None and value.shape[1] != n)
    ):
        fail(
            name,
            f"an int64 tensor of component labels 0..{num_components - 1} with shape "
            f"(S, N) = (S, {'N' if n is None else n})",
            describe_value(value),
            "draw it with model.sample_prior(num_samples, n)",
        )
    return value


def label_range(name: str, value: torch.Tensor, num_components: int) -> torch.Tensor:
    if value.numel() and (bool((value < 0).any()) or bool((value >= num_components).any())):
        bad = value[(value < 0) | (value >= num_components)].flatten()[0].item()
        fail(
            name,
            f"component labels in 0..{num_components - 1}",
            f"a label {bad}",
            "labels count from 0; draw them with model.sample_prior(num_samples, n)",
        )
    return value


def distribution_rows(name: str, value: torch.Tensor) -> torch.Tensor:
    """Rows that are probability distributions: nonnegative, summing to 1 (to rounding)."""
    finite(name, value)
    if bool((value < 0).any()):
        fail(
            name,
            "nonnegative probabilities",
            f"a value {value.min().item():.3g}",
            "pass p(z|x) rows, e.g. model.posterior(x).probs",
        )
    tolerance = 1e3 * torch.finfo(value.dtype).eps * max(value.shape[-1], 1)
    worst = (value.sum(-1) - 1).abs().max().item() if value.numel() else 0.0
    if worst > tolerance:
        fail(
            name,
            "rows that sum to 1",
            f"a row whose sum is off by {worst:.3g}",
            f"normalize it with {name} / {name}.sum(-1, keepdim=True)",
        )
    return value


def fit_trace(
    trace: torch.Tensor | None,
    lr: float,
    quantity: str,
    *,
    start: dict | None = None,
    owner: str = "model",
) -> torch.Tensor | None:
    """After a fitting loop (one sync): a trace with nan or inf names the step and the fix.

    start: {parameter name: a 0-d bool tensor, whether that parameter was finite before the
    first step} (computed then, on the device, no sync; read only here). A parameter that was
    not is named as the cause (a FitError naming `owner`) instead of lr, which no step size
    would have mended. trace=None checks `start` alone, for a caller that words its own lr
    message once the start is cleared (the trainer)."""
    bad = None if trace is None else (~torch.isfinite(trace)).nonzero()
    if start and (trace is None or len(bad)):
        finite = torch.stack(list(start.values())).tolist()  # one sync
        broken = [name for name, ok in zip(start, finite, strict=True) if not ok]
        if broken:
            fail(
                owner,
                f"{'an' if owner[0] in 'aeiou' else 'a'} {owner} whose parameters are finite "
                "before the first step",
                f"one whose {broken[0]} held nan or inf"
                + (f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""),
                "re-initialize it, or load finite weights, before fitting (lr is not the cause)",
                kind=FitError,
            )
    if bad is not None and len(bad):
        step = bad[0, 0].item()
        fail(
            "lr",
            f"small enough for the {quantity} to stay finite",
            f"lr={lr}, with which it became {trace[step].item()} after {step} steps",
            "try a smaller lr",
            kind=FitError,
        )
    return trace
