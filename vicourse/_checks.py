"""Argument checks for the public functions: each names the argument, what was expected, what came,
and how to fix it. Private: every chapter's code reaches these through the public API.

The checks look only at metadata (type, shape, dtype, device), so they never force a GPU sync;
value checks (positivity, finiteness) run once, where a model or a family is built.
"""
from __future__ import annotations

import math
import numbers

import torch


def tensor(name: str, value, *, ndim: int | None = None, last: int | None = None,
           shape_hint: str = "") -> torch.Tensor:
    """A floating-point tensor with `ndim` dimensions whose last size is `last`."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor, got {type(value).__module__}.{type(value).__name__}; "
            f"convert it with torch.as_tensor({name}, dtype=torch.float64)."
        )
    if not value.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got {value.dtype}; use {name}.double() "
                         f"or {name}.float().")
    wanted = shape_hint or (f"{ndim} dimensions" if ndim is not None else "")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must have shape {wanted}, got {tuple(value.shape)}.")
    if last is not None and (value.ndim == 0 or value.shape[-1] != last):
        raise ValueError(f"{name} must have shape {wanted or f'(..., {last})'}, got {tuple(value.shape)}.")
    return value


def samples(name: str, value, *, n: int | None, k: int, hint: str) -> torch.Tensor:
    """Latent draws laid out samples first: (S, N, K); n=None accepts any N."""
    tensor(name, value)
    if value.ndim != 3 or value.shape[2] != k or (n is not None and value.shape[1] != n):
        raise ValueError(f"{name} must have shape (S, N, K) = (S, {'N' if n is None else n}, {k}), "
                         f"got {tuple(value.shape)}; {hint}.")
    return value


def same_device(name: str, value: torch.Tensor, other_name: str, other: torch.Tensor) -> None:
    if value.device != other.device:
        raise ValueError(f"{name} is on {value.device} but {other_name} is on {other.device}; "
                         f"move one of them with .to(...).")


def same_dtype(name: str, value: torch.Tensor, other_name: str, other: torch.Tensor) -> None:
    if value.dtype != other.dtype:
        raise ValueError(f"{name} has dtype {value.dtype} but {other_name} has dtype {other.dtype}; "
                         f"convert one of them with .to({other.dtype}).")


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)


def positive(name: str, value) -> float | torch.Tensor:
    """A positive finite number, or a tensor of them (checked once, at construction)."""
    if isinstance(value, torch.Tensor):
        if not bool(torch.isfinite(value).all()) or not bool((value > 0).all()):
            raise ValueError(f"{name} must be positive and finite, got {value}.")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value < math.inf):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)


def finite(name: str, value: torch.Tensor) -> torch.Tensor:
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite, got a value with nan or inf: {value}.")
    return value


def generator(value, device: torch.device) -> None:
    """A torch.Generator on the device the draws are made on (or None for torch's global one)."""
    if value is None:
        return
    if not isinstance(value, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(value).__name__}; "
                        f"make one with vicourse.make_generator(seed, device).")
    if value.device.type != device.type:
        raise ValueError(f"generator is on {value.device} but the tensors are on {device}; "
                         f"make one with vicourse.make_generator(seed, device={str(device)!r}).")


def choice(name: str, value, options: tuple[str, ...]) -> str:
    if value not in options:
        listed = " or ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be {listed}, got {value!r}.")
    return value
