"""How fast vicourse.train trains a VAE, against the usual PyTorch loop, in the same run.

The model is pytorch/examples' VAE (784-400-20, ReLU, a sigmoid output, Adam with lr 1e-3, batches
of 128), trained on 60,000 generated 28×28 binary images (so the script runs offline):

  (a) the pytorch/examples loop: a Dataset that serves one PIL image per item through ToTensor, a
      DataLoader with num_workers=1 and pin_memory=True, and loss.item() after every step;
  (b) vicourse.train: the images resident on the device, a shuffled index per epoch, one sync
      per epoch, and on CUDA the whole step replayed as a CUDA graph.

It prints seconds per epoch for each, their ratio, the device, and each loop's final training
loss (nats per image), which must agree within noise. Usage:

    python benchmarks/vae_speed.py [--epochs 3] [--device cuda]

A benchmark, not a test: the figures are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset

import vicourse


def make_images(n: int, generator: torch.Generator) -> torch.Tensor:
    """n binary 28×28 images of random strokes: blurred noise, thresholded (uint8, 0 or 255)."""
    noise = torch.rand(n, 1, 14, 14, generator=generator)
    smooth = F.interpolate(F.avg_pool2d(noise, 3, 1, 1), size=(28, 28), mode="bilinear")
    return ((smooth > 0.55).to(torch.uint8) * 255).reshape(n, 28, 28)


def to_tensor(image: Image.Image) -> torch.Tensor:
    """torchvision's ToTensor for a grayscale image (used when torchvision is not installed)."""
    array = np.array(image, dtype=np.uint8, copy=True)
    return torch.from_numpy(array).float().div(255).unsqueeze(0)


class PILImages(Dataset):
    """One PIL image per item, converted on every access, as torchvision's MNIST serves them."""

    def __init__(self, images: torch.Tensor, transform):
        self.images, self.transform = images.numpy(), transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i], mode="L")), 0


class ExamplesVAE(nn.Module):
    """The model of pytorch/examples' vae/main.py: 784-400-(20, 20), 20-400-784."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x.view(-1, 784)))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def examples_loss(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
    return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def loop_a(images: torch.Tensor, device: torch.device, epochs: int) -> tuple[list[float], float]:
    try:
        from torchvision.transforms import ToTensor

        transform = ToTensor()
    except ImportError:
        transform = to_tensor
    loader = DataLoader(
        PILImages(images, transform),
        batch_size=128,
        shuffle=True,
        num_workers=1,
        pin_memory=device.type == "cuda",
    )
    torch.manual_seed(0)
    model = ExamplesVAE().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds, loss_per_image = [], 0.0
    for _ in range(epochs):
        start, total = time.perf_counter(), 0.0
        for x, _ in loader:
            x = x.to(device)
            optimizer.zero_grad()
            recon, mu, logvar = model(x)
            loss = examples_loss(recon, x, mu, logvar)
            loss.backward()
            total += loss.item()  # the examples' per-step sync
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
        loss_per_image = total / len(images)
    return seconds, loss_per_image


def loop_b(images: torch.Tensor, device: torch.device, epochs: int) -> tuple[list[float], float]:
    x = (images.reshape(len(images), -1).float() / 255).to(device)
    torch.manual_seed(0)
    vae = vicourse.VAE(784, 20, hidden=(400,), activation="relu").to(device)
    history = vicourse.train(
        vae,
        x,
        epochs=epochs,
        batch_size=128,
        lr=1e-3,
        generator=vicourse.make_generator(0, device),
        progress=False,
    )
    return history.seconds, history.train_loss[-1]


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--images", type=int, default=60_000)
    parser.add_argument("--device", default=str(vicourse.default_device()))
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    images = make_images(args.images, torch.Generator().manual_seed(0))
    print(vicourse.describe(device))
    print(f"{args.images:,} generated 28×28 binary images; {args.epochs} epochs per loop")
    a_seconds, a_loss = loop_a(images, device, args.epochs)
    b_seconds, b_loss = loop_b(images, device, args.epochs)
    # the first epoch of (b) includes the CUDA graph's capture: report the median epoch
    a_epoch, b_epoch = statistics.median(a_seconds), statistics.median(b_seconds)
    print(
        f"(a) pytorch/examples loop: {a_epoch:8.3f} s per epoch "
        f"(epochs: {', '.join(f'{s:.3f}' for s in a_seconds)})"
    )
    print(
        f"(b) vicourse.train:        {b_epoch:8.3f} s per epoch "
        f"(epochs: {', '.join(f'{s:.3f}' for s in b_seconds)})"
    )
    print(f"speed-up (a)/(b): {a_epoch / b_epoch:.1f}x on {device}")
    print(f"final training loss per image: (a) {a_loss:.2f}, (b) {b_loss:.2f}")


if __name__ == "__main__":
    main()
