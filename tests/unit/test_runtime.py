import re

import pytest
import torch

import vicourse
from vicourse import runtime


def test_default_device_prefers_cuda_then_cpu(monkeypatch):
    monkeypatch.delenv("VICOURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if (
        expected == "cpu"
        and getattr(torch.backends, "mps", None)
        and torch.backends.mps.is_available()
    ):
        expected = "mps"
    assert vicourse.default_device().type == expected


def test_default_device_environment_override(monkeypatch):
    monkeypatch.setenv("VICOURSE_DEVICE", "cpu")
    assert vicourse.default_device() == torch.device("cpu")


def test_default_device_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("VICOURSE_DEVICE", "gpu-please")
    with pytest.raises(
        ValueError,
        match=r"VICOURSE_DEVICE must be a torch device such as 'cpu' .* got 'gpu-please'; unset it",
    ):
        vicourse.default_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_default_device_rejects_missing_cuda(monkeypatch):
    monkeypatch.setenv("VICOURSE_DEVICE", "cuda")
    with pytest.raises(
        ValueError, match="got 'cuda', but torch sees no CUDA device; unset it, or set it to 'cpu'"
    ):
        vicourse.default_device()


def test_make_generator_replays(device):
    a = torch.randn(5, generator=vicourse.make_generator(3, device), device=device)
    b = torch.randn(5, generator=vicourse.make_generator(3, device), device=device)
    c = torch.randn(5, generator=vicourse.make_generator(4, device), device=device)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)
    assert vicourse.make_generator(0, device).device.type == device.type


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, 2**32])
def test_make_generator_rejects_bad_seed(seed):
    with pytest.raises(
        ValueError, match=re.escape(f"seed must be an int from 0 to 2**32 − 1, got {seed!r}")
    ):
        vicourse.make_generator(seed)


def test_seed_everything_seeds_global_torch():
    vicourse.seed_everything(7)
    a = torch.rand(3)
    vicourse.seed_everything(7)
    torch.testing.assert_close(a, torch.rand(3))


def test_seed_offset_shifts_every_seed_and_zero_keeps_them(monkeypatch):
    monkeypatch.delenv("VICOURSE_SEED", raising=False)
    plain = torch.rand(4, generator=vicourse.make_generator(3))
    monkeypatch.setenv("VICOURSE_SEED", "0")
    assert torch.equal(torch.rand(4, generator=vicourse.make_generator(3)), plain)
    monkeypatch.setenv("VICOURSE_SEED", "2")
    assert runtime.seed_offset() == 2
    shifted = torch.rand(4, generator=vicourse.make_generator(3))
    assert not torch.equal(shifted, plain)
    # the shift is seed + stride · offset: the same stream as the unshifted seed it names
    expected = torch.rand(4, generator=torch.Generator().manual_seed(3 + 2 * runtime.SEED_STRIDE))
    assert torch.equal(shifted, expected)
    vicourse.seed_everything(3)  # the networks' weights follow it too
    weights = torch.rand(4)
    torch.manual_seed(3 + 2 * runtime.SEED_STRIDE)
    assert torch.equal(weights, torch.rand(4))


@pytest.mark.parametrize("value", ["-1", "one", "1.5"])
def test_seed_offset_rejects_nonsense(monkeypatch, value):
    monkeypatch.setenv("VICOURSE_SEED", value)
    with pytest.raises(vicourse.ArgumentError, match=r"VICOURSE_SEED.*int ≥ 0.*unset it"):
        vicourse.make_generator(0)


def test_smoke_switch(monkeypatch):
    monkeypatch.delenv("VICOURSE_SMOKE", raising=False)
    assert not runtime.smoke()
    monkeypatch.setenv("VICOURSE_SMOKE", "1")
    assert runtime.smoke()
    monkeypatch.setenv("VICOURSE_SMOKE", "0")
    assert not runtime.smoke()


def test_describe_names_versions_and_device():
    text = vicourse.describe(torch.device("cpu"))
    assert f"torch {torch.__version__}" in text and text.endswith("\ndevice cpu")
    assert "vicourse" in text and "ipywidgets" in text
    assert max(map(len, text.splitlines())) <= 79  # fits the book's code column
    assert max(map(len, vicourse.describe("cpu", width=40).splitlines())) <= 40
