"""Shared fixtures. Statistical tests are seeded and use tolerances in standard errors (5 SE unless
said), so a failure is reproducible and a false alarm has probability below 1e-6 per check.
"""

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


@pytest.fixture(params=[torch.float32, torch.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


def gen(seed, device="cpu"):
    return torch.Generator(device=torch.device(device)).manual_seed(seed)
