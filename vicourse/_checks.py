"""Argument checks for the public functions. Private: chapters reach them through the public API.

Every error names the argument, what was expected, what came, and the fix, and is an
`ArgumentError` (a ValueError) or an `ArgumentTypeError` (also a TypeError), so a caller can
catch either the project's type or Python's.

Two kinds of check:

- **Metadata checks** (type, shape, dtype, device): free, so they run on every call:
  `tensor`, `samples`, `labels_shape`, `like`, `instance`, `positive_int`, `boolean`,
  `generator`, `dtype`, `device`.
- **Value checks** (finite, positive, in range, rows that sum to 1): they read the values, which
  on a GPU waits for the device (a sync). They run in constructors and in entry points (the
  functions a reader calls once per result), and are skipped inside `values_trusted()`, which the
  fitting loops enter after checking their data once: `finite`, `positive_tensor`,
  `scale_tensor`, `label_range`, `distribution_rows`. (`real`, `reals`, `interval`, `positive`,
  `scale_in_dtype` and `real_in_dtype` check Python numbers, which never sync.)
- **After a fitting loop**: `fit_trace` reads the trace once (one sync) and raises FitError if
  the fit produced nan or inf, naming the step.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers

import numpy as np
import torch

_VALUE_CHECKS = contextvars.ContextVar("vicourse_value_checks", default=True)


class ArgumentError(ValueError):
    """A bad argument: the message names it, what was expected, what came, and the fix."""


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument of the wrong type (also a TypeError)."""


class FitError(ArgumentError, FloatingPointError):
    """A fit that cannot go on with these arguments (also a FloatingPointError)."""


def fail(name: str, expected: str, got: str, fix: str, *, kind=ArgumentError):
    """Raise `kind` with the project's message: '{name} must be {expected}, got {got}; {fix}.'"""
    raise kind(f"{name} must be {expected}, got {got}; {fix}.")


@contextlib.contextmanager
def values_trusted():
    """Skip value checks inside (for loops whose inputs were checked once, before the loop)."""
    token = _VALUE_CHECKS.set(False)
    try:
        yield
    finally:
        _VALUE_CHECKS.reset(token)


def checking_values() -> bool:
    return _VALUE_CHECKS.get()


def describe_value(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)} on {value.device}"
    name = type(value).__name__
    return f"{value!r} ({name})" if isinstance(value, numbers.Number | str) else name


# Metadata checks: free, run on every call.


def tensor(
    name: str,
    value,
    *,
    ndim: int | None = None,
    last: int | None = None,
    shape_hint: str = "",
    fix: str = "check which tensor you passed, and its layout",
) -> torch.Tensor:
    """A floating-point tensor with `ndim` dimensions whose last size is `last`."""
    if not isinstance(value, torch.Tensor):
        fail(
            name,
            "a torch.Tensor",
            describe_value(value),
            f"convert it with torch.as_tensor({name}, dtype=torch.float64)",
            kind=ArgumentTypeError,
        )
    if not value.is_floating_point():
        fail(
            name,
            "a floating-point tensor",
            str(value.dtype),
            f"use {name}.double() or {name}.float()",
        )
    if value.device.type == "meta":
        fail(name, "a tensor with values", "a tensor on the meta device", "use cpu or cuda")
    wanted = shape_hint or (f"{ndim} dimensions" if ndim is not None else f"(..., {last})")
    if (ndim is not None and value.ndim != ndim) or (
        last is not None and (value.ndim == 0 or value.shape[-1] != last)
    ):
        fail(name, f"of shape {wanted}", str(tuple(value.shape)), fix)
    return value


def broadcast(name: str, shape, other, expected: str, fix: str) -> torch.Size:
    """The shape that `shape` and `other` broadcast to, or the project's error about `name`
    ('{name} must be {expected}, got {shape}; {fix}.')."""
    try:
        return torch.broadcast_shapes(shape, other)
    except RuntimeError:
        fail(name, expected, str(tuple(shape)), fix)


def samples(name: str, value, *, n: int | None, k: int, hint: str) -> torch.Tensor:
    """Latent draws laid out samples first: (S, N, K); n=None accepts any N."""
    tensor(name, value)
    if (
        value.ndim != 3
        or value.shape[0] == 0
        or value.shape[2] != k
        or (n is not None and value.shape[1] != n)
    ):
        wanted = f"(S, N, K) = (S, {'N' if n is None else n}, {k})"
        fail(name, f"of shape {wanted}", str(tuple(value.shape)), hint)
    return value


def like(name: str, value: torch.Tensor, owner: str, reference: torch.Tensor) -> torch.Tensor:
    """`value` lives where `reference` does: same device, same dtype."""
    if value.device != reference.device:
        fail(
            name,
            f"on {reference.device}, where {owner} is",
            f"a tensor on {value.device}",
            f"move it with {name}.to({str(reference.device)!r}), or move {owner}",
        )
    if value.dtype != reference.dtype:
        fail(
            name,
            f"of dtype {reference.dtype}, like {owner}",
            str(value.dtype),
            f"convert it with {name}.to({reference.dtype}), or convert {owner}",
        )
    return value


def instance(name: str, value, kind: type | tuple[type, ...], fix: str):
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(f"a {k.__module__.split('.')[0]}.{k.__name__}" for k in kinds)
        fail(name, expected, describe_value(value), fix, kind=ArgumentTypeError)
    return value


MAX_COUNT = 2**31 - 1  # torch sizes and indices beyond this need int64 everywhere


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(
            name,
            "a positive int",
            describe_value(value),
            f"pass an int such as {name}=100",
            kind=ArgumentTypeError,
        )
    if not 1 <= value <= MAX_COUNT:
        fail(
            name,
            f"a positive int of at most {MAX_COUNT:,}",
            repr(value),
            f"pass an int such as {name}=100",
        )
    return int(value)


def boolean(name: str, value) -> bool:
    if not isinstance(value, bool):
        fail(
            name,
            "True or False",
            describe_value(value),
            f"pass {name}=True or {name}=False",
            kind=ArgumentTypeError,
        )
    return value


def generator(value, device: torch.device) -> None:
    """A torch.Generator on the device the draws are made on (or None for torch's global one)."""
    if value is None:
        return
    if not isinstance(value, torch.Generator):
        fail(
            "generator",
            "a torch.Generator or None",
            describe_value(value),
            "make one with vicourse.make_generator(seed, device)",
            kind=ArgumentTypeError,
        )
    if value.device.type != device.type:
        fail(
            "generator",
            f"on {device}, where the draws are made",
            f"a generator on {value.device}",
            f"make one with vicourse.make_generator(seed, device={str(device)!r})",
        )


def dtype(name: str, value) -> torch.dtype:
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        fail(
            name,
            "a floating-point torch.dtype",
            describe_value(value),
            f"pass {name}=torch.float32 or {name}=torch.float64",
            kind=ArgumentTypeError,
        )
    return value


def device(name: str, value) -> torch.device:
    """A device torch can allocate on here: a torch.device, or a string such as 'cuda:0'."""
    if not isinstance(value, torch.device | str):
        fail(
            name,
            "a torch.device or a string such as 'cpu'",
            describe_value(value),
            f"pass {name}='cpu' or {name}='cuda'",
            kind=ArgumentTypeError,
        )
    try:
        result = torch.device(value)
    except (RuntimeError, ValueError):
        fail(
            name,
            "a torch device such as 'cpu' or 'cuda'",
            repr(value),
            "check the spelling; vicourse.default_device() picks one",
        )
    if result.type == "meta":
        fail(name, "a device that holds values", "'meta'", "use 'cpu' or 'cuda'")
    try:
        torch.empty(0, device=result)
    except (RuntimeError, AssertionError, ValueError) as error:
        fail(
            name,
            "a device present on this machine",
            repr(str(result)),
            f"torch says: {str(error).splitlines()[0]}; use 'cpu' or vicourse.default_device()",
        )
    return result


# Checks of Python numbers: no tensor is read, so no sync.


def real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        fail(name, "a finite number", describe_value(value), f"pass a float such as {name}=0.0")
    return float(value)


def positive(name: str, value) -> float:
    """A positive finite Python number (a 0-d tensor is read once: a sync)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
        fail(
            name,
            "a positive finite number",
            describe_value(value),
            f"pass a float such as {name}=1.0",
        )
    return float(value)


def limit(dtype_: torch.dtype) -> float:
    """The largest magnitude accepted for data, locations and scales in `dtype_`: the fourth
    root of its largest number (float32: 4.3e9, float64: 1.2e77), so that squares and products
    of two squares stay finite."""
    return torch.finfo(dtype_).max ** 0.25


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


def reals(name: str, value) -> list[float]:
    """A list, tuple or 1-D tensor or array of finite numbers, as a list of floats."""
    if isinstance(value, torch.Tensor | np.ndarray):
        value = value.tolist() if value.ndim == 1 else None
    if not isinstance(value, list | tuple):
        fail(
            name,
            "a list of numbers",
            describe_value(value),
            f"pass e.g. {name}=[0.0, 0.5]",
            kind=ArgumentTypeError,
        )
    return [real(f"{name}[{i}]", v) for i, v in enumerate(value)]


def interval(name: str, value) -> tuple[float, float]:
    try:
        low, high = (real(name, v) for v in value)
    except (TypeError, ValueError):
        low = high = math.nan
    if not low < high:
        fail(
            name,
            "a pair (low, high) of finite numbers with low < high",
            describe_value(value),
            f"pass e.g. {name}=(-3.0, 3.0)",
        )
    return low, high


# Value checks: read the values (a GPU sync); skipped inside values_trusted().


def finite(name: str, value: torch.Tensor, *, bounded: bool = True) -> torch.Tensor:
    """Finite, and (if `bounded`: data, locations) no larger in magnitude than `limit`."""
    if checking_values() and value.numel():
        if not bool(torch.isfinite(value).all()):
            bad = value[~torch.isfinite(value)].flatten()[0].item()
            fail(name, "finite", f"a tensor holding {bad}", f"remove or replace the {bad} values")
        worst = value.detach().abs().max().item()
        if bounded and worst > limit(value.dtype):
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
    if checking_values() and bool((value <= 0).any()):
        fail(name, "positive", f"a value {value.min().item():.3g}", f"pass {name} > 0, or its log")
    return value


def scale_tensor(name: str, log_scale: torch.Tensor) -> torch.Tensor:
    """log σ finite, with σ inside `scale_range` of its dtype."""
    finite(name, log_scale)
    if checking_values() and log_scale.numel():
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
    if (
        checking_values()
        and value.numel()
        and (bool((value < 0).any()) or bool((value >= num_components).any()))
    ):
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
    if checking_values():
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


def fit_trace(trace: torch.Tensor, lr: float, quantity: str) -> torch.Tensor:
    """After a fitting loop (one sync): a trace with nan or inf names the step and the fix."""
    bad = (~torch.isfinite(trace)).nonzero()
    if len(bad):
        step = bad[0, 0].item()
        fail(
            "lr",
            f"small enough for the {quantity} to stay finite",
            f"lr={lr}, with which it became {trace[step].item()} after {step} steps",
            "try a smaller lr",
            kind=FitError,
        )
    return trace
