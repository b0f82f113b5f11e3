"""Training a VAE fast: the data stay on the device, one host sync per epoch, a CUDA graph on GPUs.

    for each epoch:   perm = randperm(N) on the device
        for each batch of indices b:   loss = model.loss(x[b]);  loss.backward();  Adam step
        one .item() at the end of the epoch (the training and test −ELBO together)

No DataLoader: the images are one tensor on the device, and a batch is an index_select. On CUDA
the whole step (gather, forward, backward, fused Adam) is captured once as a CUDA graph and
replayed for every batch; elsewhere it runs eagerly. A checkpoint after every epoch (state_dicts,
the epoch, the history and the random state) lets an interrupted run resume where it stopped.

Shapes: x (N, D); the history holds one −ELBO per epoch, in nats per image.
Chapter 8, "The variational autoencoder" (book/08_vae.ipynb).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import _checks, _checks_models, checkpoints
from .vae import VAE, _check_free_bits, elbo_only
from .validation import TRUSTED


@dataclass
class History:
    """Per epoch: the mean training −ELBO over its steps, the test −ELBO at its end (nats per
    image; empty without test data) and its wall time in seconds."""

    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def train(
    model: VAE,
    x_train: torch.Tensor,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    num_samples: int = 1,
    objective: str = "elbo",
    kl_warmup: int = 0,
    free_bits: float = 0.0,
    x_test: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    graph: bool | None = None,
) -> History:
    """Minimize the VAE's loss, −ELBO = reconstruction + KL, by Adam over shuffled batches.

    Args:
        epochs: passes over x_train; each has N // batch_size steps (the last partial batch
            is left out, and a new shuffle comes every epoch).
        num_samples, objective: what each step minimizes, model.loss(batch, num_samples=...,
            objective=...): "elbo" (−ELBO with num_samples draws) or "iwae" (−IWAE_k).
        kl_warmup: W > 0 weights the KL term by β = e / W in epoch e = 1, …, W and by 1 after
            (a KL warm-up, against posterior collapse: chapter 10); 0, the default, means no
            warm-up. objective="elbo" only. The reported training loss is the loss minimized,
            with that β; the held-out one is always the −ELBO.
        free_bits: λ for model.loss's free bits (objective="elbo"): each latent unit's KL
            counts as at least λ nats; 0, the default, means none.
        x_test: images to report the −ELBO on after every epoch.
        generator: the random stream for shuffling and for the draws of z (a fresh seed if
            None).
        checkpoint: a file. If it exists, training resumes from it; after every epoch it is
            rewritten. An interrupted run then repeats at most one epoch. A checkpoint records
            what defines its run (the model's layers, dtype, a fingerprint of x_train and
            x_test, and the settings that change the result); a resume that differs in any of
            them is refused, saying what differs, as is a damaged file, before any step.
        progress: a tqdm progress bar (a widget in Jupyter and Colab, text in a terminal).
        graph: capture the step as a CUDA graph; None means: on CUDA, yes. The capture first
            runs three warm-up steps on the first batch (as PyTorch's CUDA-graph recipe does),
            and the graph draws z from `generator`, registered with it (on torch before 2.5,
            from the default CUDA generator seeded from `generator`, whose state is restored
            when training ends): a run resumed from a checkpoint then matches an
            uninterrupted one in distribution, not draw for draw (it does, exactly, without
            the graph).

    Returns:
        the History of all epochs, resumed ones included.   Chapter: 8.
    """
    _checks.instance("model", model, VAE, "build one with vicourse.VAE.for_data(x, K)")
    x = _checks_models.fit_precision("x_train", _checks_models.data(model, x_train, "x_train"))
    if x_test is not None:
        _checks_models.data(model, x_test, "x_test")
    epochs = _checks.positive_int("epochs", epochs)
    n = x.shape[0]
    batch_size = _checks.positive_int("batch_size", batch_size)
    if batch_size > n:
        _checks.fail(
            "batch_size",
            f"at most the number of training images, {n}",
            str(batch_size),
            "pass a smaller batch_size",
        )
    num_samples = _checks.positive_int("num_samples", num_samples)
    lr = _checks.positive("lr", lr)
    progress = _checks.boolean("progress", progress)
    cuda = x.device.type == "cuda"
    graph = cuda if graph is None else _checks.boolean("graph", graph)
    if graph and not cuda:
        _checks.fail(
            "graph",
            "False off CUDA (a CUDA graph needs a CUDA device)",
            "True",
            "pass graph=None or False",
        )
    if generator is None:
        generator = torch.Generator(device=x.device)
        generator.seed()
    _checks.generator(generator, x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=cuda, capturable=graph)
    history = History()
    if objective not in ("elbo", "iwae"):
        _checks.fail("objective", "'elbo' or 'iwae'", repr(objective), "pass objective='elbo'")
    warmup = _warmup(kl_warmup, objective)
    settings = dict(batch_size=batch_size, num_samples=num_samples, objective=objective, lr=lr, n=n)
    if warmup:  # (absent otherwise, so that checkpoints made without one still resume)
        settings["kl_warmup"] = warmup
    if _checks.real("free_bits", free_bits) != 0:
        if objective != "elbo":
            elbo_only("free_bits", free_bits, "0")
        settings["free_bits"] = _check_free_bits(free_bits, model.encoder)
    path = None if checkpoint is None else checkpoints.path(checkpoint)
    if path is not None:
        run = checkpoints.run_record(model, x, x_test, settings)
        if path.is_file():
            checkpoints.resume(path, model, optimizer, history, generator, run, epochs)
    steps = n // batch_size
    total = x.new_zeros(())  # the epoch's summed loss, on the device
    loss = {"num_samples": num_samples, "objective": objective}
    if warmup:  # β lives on the device and is updated in place, so a CUDA graph sees it
        loss["kl_weight"] = x.new_ones(())
    if "free_bits" in settings:
        loss["free_bits"] = settings["free_bits"]
    step = _Step(model, optimizer, x, batch_size, loss, generator, total, graph)

    from tqdm.auto import trange

    bar = trange(history.epochs, epochs, disable=not progress, desc="epochs", unit="epoch")
    try:
        for epoch in bar:
            start = time.perf_counter()
            total.zero_()
            if warmup:
                loss["kl_weight"].fill_(min(1.0, (epoch + 1) / warmup))
            order = torch.randperm(n, generator=generator, device=x.device)
            with TRUSTED:  # checked above: no check, no host sync inside the epoch
                for b in range(steps):
                    step(order[b * batch_size : (b + 1) * batch_size])
                summary = [total / steps]
                if x_test is not None:
                    with torch.no_grad():
                        summary.append(_mean_loss(model, x_test, batch_size, generator))
            losses = torch.stack(summary).tolist()  # the epoch's one sync
            if not all(math.isfinite(v) for v in losses):
                _checks.fail(
                    "lr",
                    "small enough for the loss to stay finite",
                    f"lr={lr}, with which the −ELBO became {losses[0]} in epoch {epoch + 1}",
                    "try a smaller lr (or resume from the last checkpoint with one)",
                    kind=_checks.FitError,
                )
            history.train_loss.append(losses[0])
            if x_test is not None:
                history.test_loss.append(losses[1])
            history.seconds.append(time.perf_counter() - start)
            bar.set_postfix(train=f"{losses[0]:.2f}", refresh=False)
            if path is not None:
                checkpoints.save(path, model, optimizer, history, generator, run)
    finally:
        step.release()
    return history


def _warmup(kl_warmup, objective: str) -> int:
    if isinstance(kl_warmup, bool) or not isinstance(kl_warmup, int) or kl_warmup < 0:
        _checks.fail(
            "kl_warmup",
            "a number of epochs, an int ≥ 0",
            _checks.describe_value(kl_warmup),
            "pass kl_warmup=10, or 0 for none",
        )
    if kl_warmup and objective != "elbo":
        elbo_only("kl_warmup", kl_warmup, "0")
    return kl_warmup


def _mean_loss(model: VAE, x: torch.Tensor, batch_size: int, generator) -> torch.Tensor:
    """The −ELBO per image over all of x, in batches, one draw of z each (no sync)."""
    total = x.new_zeros(())
    for chunk in x.split(batch_size):
        total += model.loss(chunk, generator=generator) * chunk.shape[0]
    return total / x.shape[0]


class _Step:
    """One training step on a batch of indices: eager, or a replayed CUDA graph."""

    def __init__(self, model, optimizer, x, batch_size, loss: dict, generator, total, graph):
        self.model, self.optimizer, self.x, self.total = model, optimizer, x, total
        self.loss, self.generator = loss, generator
        self.graph, self.saved_state = None, None
        if graph:
            self.indices = torch.zeros(batch_size, dtype=torch.long, device=x.device)
            try:
                self._capture()
            except RuntimeError as error:  # an op that cannot be captured: run eagerly
                warnings.warn(
                    f"CUDA graph capture failed ({error}); training eagerly instead.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                self.release()
                self.graph = None

    def _body(self, indices: torch.Tensor, generator) -> None:
        loss = self.model.loss(self.x.index_select(0, indices), generator=generator, **self.loss)
        loss.backward()
        self.optimizer.step()
        self.total.add_(loss.detach())

    def _capture(self) -> None:
        # Three eager warm-up steps on a side stream, as PyTorch's recipe has, then the capture.
        # The graph draws z from our generator, registered with the graph (graph-safe: each
        # replay moves its offset on). Torch before 2.5 cannot register one: then the default
        # CUDA generator is seeded from ours for the capture and its state restored after
        # training (release), so nothing outside the trainer sees it move.
        self.indices.copy_(torch.arange(len(self.indices), device=self.x.device))
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), TRUSTED:
            for _ in range(3):
                self.optimizer.zero_grad(set_to_none=True)
                self._body(self.indices, self.generator)
        torch.cuda.current_stream().wait_stream(side)
        self.optimizer.zero_grad(set_to_none=True)
        self.graph = torch.cuda.CUDAGraph()
        if hasattr(self.graph, "register_generator_state"):
            self.graph.register_generator_state(self.generator)
            draws = self.generator
        else:
            self.saved_state = torch.cuda.get_rng_state(self.x.device)
            seed = torch.randint(2**62, (1,), generator=self.generator, device=self.x.device)
            torch.cuda.manual_seed(int(seed.item()))
            draws = None
        with torch.cuda.graph(self.graph), TRUSTED:
            self._body(self.indices, draws)

    def release(self) -> None:
        """Give the default CUDA generator back the state it had before the capture."""
        if self.saved_state is not None:
            torch.cuda.set_rng_state(self.saved_state, self.x.device)
            self.saved_state = None

    def __call__(self, indices: torch.Tensor) -> None:
        if self.graph is not None:
            self.indices.copy_(indices)
            self.graph.replay()
        else:
            self.optimizer.zero_grad(set_to_none=True)
            self._body(indices, self.generator)
