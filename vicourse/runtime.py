"""Where the code runs and where its randomness comes from: device choice, seeded generators, smoke mode.

    default_device(): cuda, then mps, then cpu; VICOURSE_DEVICE=cpu (or cuda, cuda:1, mps) overrides.

Library code never picks a device itself: device and dtype follow the inputs. Only the chapters
call `default_device()`, once, at the top.   Chapter: every chapter's setup cell (book/*.ipynb).
"""
from __future__ import annotations

import os
import platform
import random
from importlib import metadata

import numpy as np
import torch


DEVICE_VARIABLE = "VICOURSE_DEVICE"
SMOKE_VARIABLE = "VICOURSE_SMOKE"


def default_device(*, need_float64: bool = False) -> torch.device:
    """The fastest device here: cuda, then mps, then cpu. Set VICOURSE_DEVICE to override.

    Args:
        need_float64: skip Apple's mps, which has no float64 (the chapters that check identities to
            1e-10 need it).

    Returns:
        a torch.device.

    Chapter: all (setup cell).
    """
    wanted = os.environ.get(DEVICE_VARIABLE, "").strip()
    if wanted:
        try:
            device = torch.device(wanted)
        except RuntimeError as error:
            raise ValueError(f"{DEVICE_VARIABLE} must name a torch device such as 'cpu' or 'cuda', "
                             f"got {wanted!r}; unset it or fix its value.") from error
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{DEVICE_VARIABLE} asks for {wanted!r} but torch sees no CUDA device here; "
                             f"unset it or set it to 'cpu'.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if not need_float64 and getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch.Generator on `device`, seeded with `seed`: pass it as `generator=` to every sampler.

    The same seed gives different streams on different devices; compare statistics across devices,
    not values.   Chapter: all.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    generator = torch.Generator(device=torch.device(device))
    generator.manual_seed(seed)
    return generator


def seed_everything(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """Seed Python's, NumPy's and torch's global generators, and return `make_generator(seed, device)`.

    Chapter: all (so that a chapter's figures are the same on every run).
    """
    generator = make_generator(seed, device)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return generator


def smoke() -> bool:
    """True when VICOURSE_SMOKE=1: chapters then use fewer steps and samples (for quick CI checks)."""
    return os.environ.get(SMOKE_VARIABLE, "0").strip() not in ("", "0", "false", "False")


def describe(device: torch.device | None = None) -> str:
    """One line with the versions that matter and the device the chapter will use."""
    parts = [f"Python {platform.python_version()}", f"torch {torch.__version__}"]  # torch's own, e.g. 2.11.0+cu130
    for name in ["vicourse", "numpy", "matplotlib", "ipywidgets"]:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    device = default_device() if device is None else device
    if device.type == "cuda":
        parts.append(f"device cuda ({torch.cuda.get_device_name(device)})")
    else:
        parts.append(f"device {device.type}")
    return " | ".join(parts)
