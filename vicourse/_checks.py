"""Argument checks for the public functions. Private: chapters reach them through the public
API; the switch that turns them off is validation.py.

Every error names the argument, what was expected, what came, and the fix, and is an
`ArgumentError` (a ValueError) or an `ArgumentTypeError` (also a TypeError), so a caller can
catch either the project's type or Python's.

Validate once, where the user's call enters: a public function declares its arguments' kinds
with `@validated` (_checks_spec.py, the kinds in _checks_kinds/), which checks them when
`enabled` is True and runs the body with the checks off. The checks live in this file (the
errors, the switch, types, shapes, dtypes, devices and Python numbers, never a tensor's
values), `_checks_values.py` (finite, positive, in range: they read values, a sync on a GPU)
and `_checks_models.py` (data, latent draws and q for a given model).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

enabled = True  # read as _checks.enabled by every public function; validation.py sets it


class ArgumentError(ValueError):
    """A bad argument: the message names it, what was expected, what came, and the fix."""


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument of the wrong type (also a TypeError)."""


class FitError(ArgumentError, FloatingPointError):
    """A fit that cannot go on with these arguments (also a FloatingPointError)."""


def fail(name: str, expected: str, got: str, fix: str, *, kind=ArgumentError):
    """Raise `kind` with the project's message: '{name} must be {expected}, got {got}; {fix}.'"""
    raise kind(f"{name} must be {expected}, got {got}; {fix}.")


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


def shaped_like(
    name: str, value: torch.Tensor, shape: tuple, reference: torch.Tensor, why: str, fix: str
) -> torch.Tensor:
    """A tensor of exactly `shape`, where `reference` lives (the parameters of a family, each
    sized by the others: `why` says by which)."""
    tensor(name, value, ndim=len(shape), shape_hint=str(shape), fix=fix)
    if tuple(value.shape) != tuple(shape):
        fail(name, f"of shape {tuple(shape)}, {why}", str(tuple(value.shape)), fix)
    return like(name, value, "loc", reference)


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
