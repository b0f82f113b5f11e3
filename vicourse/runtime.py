"""Where the code runs and where its randomness comes from: devices, seeded generators, smoke.

    default_device(): cuda, then mps, then cpu; VICOURSE_DEVICE=cpu (or cuda:1, mps) overrides.

Library code never picks a device itself: device and dtype follow the inputs. Only the chapters
call `default_device()`, once, at the top.   Chapter: every chapter's setup cell (book/*.ipynb).
"""

from __future__ import annotations

import os
import platform
import random
import sys
from importlib import metadata

import numpy as np
import torch

from . import _checks
from . import _checks_kinds as kinds
from ._checks_spec import validated

DEVICE_VARIABLE = "VICOURSE_DEVICE"
SMOKE_VARIABLE = "VICOURSE_SMOKE"
SEED_VARIABLE = "VICOURSE_SEED"
SEED_STRIDE = 1_000_003  # a prime: seed + stride·offset collides with no chapter's other seed


def _device_from_environment(wanted: str, need_float64: bool) -> torch.device:
    fix = "unset it, or set it to 'cpu'"
    try:
        device = torch.device(wanted)
    except (RuntimeError, ValueError):
        _checks.fail(DEVICE_VARIABLE, "a torch device such as 'cpu' or 'cuda'", repr(wanted), fix)
    if device.type == "cuda" and not torch.cuda.is_available():
        _checks.fail(
            DEVICE_VARIABLE,
            "a device torch sees here",
            f"{wanted!r}, but torch sees no CUDA device",
            fix,
        )
    if need_float64 and device.type == "mps":
        _checks.fail(
            DEVICE_VARIABLE,
            "a device with float64 (this chapter checks identities to 1e-10)",
            "'mps', which has no float64",
            fix,
        )
    try:
        return _checks.device(DEVICE_VARIABLE, device)
    except _checks.ArgumentError as error:
        raise _checks.ArgumentError(f"{error} (or {fix})") from None


@validated(need_float64=kinds.flag)
def default_device(*, need_float64: bool = False) -> torch.device:
    """The fastest device here: cuda, then mps, then cpu. Set VICOURSE_DEVICE to override.

    Args:
        need_float64: skip Apple's mps, which has no float64 (the chapters that check
            identities to 1e-10 need it).

    Returns:
        a torch.device that exists here.

    Chapter: all (setup cell).
    """
    wanted = os.environ.get(DEVICE_VARIABLE, "").strip()
    if wanted:  # an environment variable, not an argument: the helper refuses a bad one
        return _device_from_environment(wanted, need_float64)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if not need_float64 and mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@validated()
def seed_offset() -> int:
    """The run's seed offset: VICOURSE_SEED (an int ≥ 0), 0 where it is unset.

    make_generator and seed_everything shift every seed by it, so one variable runs a whole
    chapter on other draws, initial weights and batch orders (benchmarks/spread.py sets it); 0, the
    published pages' setting, keeps every seed as the chapter writes it.
    """
    wanted = os.environ.get(SEED_VARIABLE, "").strip()
    if not wanted:
        return 0
    if not wanted.isdigit():  # an environment variable, not an argument: refused here
        _checks.fail(SEED_VARIABLE, "an int ≥ 0", repr(wanted), "unset it, or set e.g. 1")
    return int(wanted)


@validated(seed=kinds.seed, device=kinds.device)
def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch.Generator on `device`, seeded with `seed`: pass it as `generator=` to samplers.

    The same seed gives different streams on different devices; compare statistics across
    devices, not values. VICOURSE_SEED=n shifts the seed (seed_offset).   Chapter: all.
    """
    generator = torch.Generator(device=device)
    generator.manual_seed(_shifted(seed))
    return generator


def _shifted(seed: int) -> int:
    return (int(seed) + SEED_STRIDE * seed_offset()) % 2**32


@validated(seed=kinds.seed, device=kinds.device)
def seed_everything(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """Seed Python's, NumPy's and torch's global generators; return make_generator(seed, device).

    Also the networks' initial weights: torch's global generator. VICOURSE_SEED=n shifts the
    seed (seed_offset).   Chapter: all (so that a chapter's figures are the same on every run).
    """
    generator = make_generator(seed, device)
    shifted = _shifted(seed)
    random.seed(shifted)
    np.random.seed(shifted)
    torch.manual_seed(shifted)
    return generator


@validated()
def smoke() -> bool:
    """True when VICOURSE_SMOKE=1: chapters then use fewer steps and samples (quick checks)."""
    return os.environ.get(SMOKE_VARIABLE, "0").strip() not in ("", "0", "false", "False")


@validated(device=kinds.optional(kinds.device), width=kinds.count)
def describe(device: torch.device | str | None = None, *, width: int = 79) -> str:
    """The versions that matter and the device the chapter will use, in lines of at most
    `width` characters (the book's code column is 79).

    Chapter: all (setup cell).
    """
    device = default_device() if device is None else torch.device(device)
    # The release, from the one place that holds it. Not importlib.metadata: an editable install's
    # metadata keeps the version it was installed with until it is reinstalled. Imported here, not
    # at the top, because vicourse/__init__.py imports this module before it sets __version__.
    from . import __version__

    parts = [f"Python {platform.python_version()}", f"torch {torch.__version__}"]
    parts.append(f"vicourse {__version__}")
    for name in ["numpy", "matplotlib", "ipywidgets"]:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += f" | {part}"
        else:
            lines.append(part)
    name = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
    lines.append(f"device {device}{name}")
    return "\n".join(lines)


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def caller_stacklevel() -> int:
    """warnings.warn's stacklevel, from the package function that calls warn, that points at
    the first frame outside the package: the learner's line, however many of the package's
    frames (a spec's entry among them) lie between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
