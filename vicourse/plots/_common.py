"""What every figure shares: the Axes to draw on, tensors as NumPy, the model's dtype and device.

Chapters 1–8 (through the figures of vicourse.plots).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import _checks
from ..contracts import LatentModel


def _axes(ax):
    return plt.subplots(figsize=(6, 3.6))[1] if ax is None else ax


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def _like(model) -> dict:
    _checks.instance("model", model, LatentModel, "use a vicourse model, e.g. GaussianMean")
    reference = model.reference()
    return dict(dtype=reference.dtype, device=reference.device)
