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

from . import _checks, _checks_values, checkpoints
from . import _checks_kinds as kinds
from ._checks_spec import validated
from .runtime import caller_stacklevel
from .vae import VAE


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


@validated(
    model=kinds.differentiable_model(VAE, "build one with vicourse.VAE.for_data(x, K)"),
    x_train=kinds.fit_data_for("model"),
    x_test=kinds.optional(kinds.data_for("model")),
    epochs=kinds.count,
    batch_size=kinds.batch_for("x_train"),
    num_samples=kinds.count,
    lr=kinds.positive,
    progress=kinds.flag,
    graph=kinds.cuda_graph_for("x_train"),
    generator=kinds.generator_for("x_train"),
    objective=kinds.one_of(("elbo", "iwae"), "pass objective='elbo'"),
    kl_warmup=kinds.kl_warmup,
    free_bits=kinds.train_free_bits,
    checkpoint=kinds.checkpoint_path,
    change_lr=kinds.flag,
)
@torch.inference_mode(False)  # a trainer computes its own gradients, under
@torch.enable_grad()  # torch.no_grad() and torch.inference_mode() too
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
    change_lr: bool = False,
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
            x_test, and the settings that change the result) and a checksum of its contents;
            a resume that differs in any of them is refused, saying what differs, as is a
            damaged or hand-edited file, before any step.
        change_lr: True lets a resume go on with this call's lr where the checkpoint's was
            another (after a FitError, say, with a smaller one): the epochs from then on use
            it, and the checkpoint records it. False, the default, refuses a different lr.
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
    x, n, cuda = x_train, x_train.shape[0], x_train.device.type == "cuda"
    graph = cuda if graph is None else graph
    if generator is None:
        generator = torch.Generator(device=x.device)
        generator.seed()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=cuda, capturable=graph)
    history = History()
    settings = dict(batch_size=batch_size, num_samples=num_samples, objective=objective, lr=lr, n=n)
    if kl_warmup:  # (absent otherwise, so that checkpoints made without one still resume)
        settings["kl_warmup"] = kl_warmup
    if free_bits:
        settings["free_bits"] = free_bits
    path = None if checkpoint is None else Path(checkpoint)
    if path is not None:
        run = checkpoints.run_record(model, x, x_test, settings)
        if path.is_file():
            checkpoints.resume(path, model, optimizer, history, generator, run, epochs, change_lr)
    # whether each weight was finite before the first step: read only if the loss is not
    start = {name: p.detach().isfinite().all() for name, p in model.named_parameters()}
    steps = n // batch_size
    total = x.new_zeros(())  # the epoch's summed loss, on the device
    loss = {"num_samples": num_samples, "objective": objective}
    if kl_warmup:  # β lives on the device and is updated in place, so a CUDA graph sees it
        loss["kl_weight"] = x.new_ones(())
    if free_bits:
        loss["free_bits"] = free_bits
    step = _Step(model, optimizer, x, batch_size, loss, generator, total, graph)

    from tqdm.auto import trange

    bar = trange(history.epochs, epochs, disable=not progress, desc="epochs", unit="epoch")
    try:
        for epoch in bar:
            begin = time.perf_counter()
            total.zero_()
            if kl_warmup:
                loss["kl_weight"].fill_(min(1.0, (epoch + 1) / kl_warmup))
            order = torch.randperm(n, generator=generator, device=x.device)
            for b in range(steps):  # no check, no host sync inside the epoch
                step(order[b * batch_size : (b + 1) * batch_size])
            summary = [total / steps]
            if x_test is not None:
                with torch.no_grad():
                    summary.append(_mean_loss(model, x_test, batch_size, generator))
            losses = torch.stack(summary).tolist()  # the epoch's one sync
            if not all(math.isfinite(v) for v in losses):  # a refusal that teaches: a FitError
                _diverged(lr, losses[0], epoch, start)
            history.train_loss.append(losses[0])
            if x_test is not None:
                history.test_loss.append(losses[1])
            history.seconds.append(time.perf_counter() - begin)
            bar.set_postfix(train=f"{losses[0]:.2f}", refresh=False)
            if path is not None:
                checkpoints.save(path, model, optimizer, history, generator, run)
    finally:
        step.release()
    return history


def _diverged(lr: float, loss: float, epoch: int, start: dict) -> None:
    """The FitError of a run whose loss became nan or inf (its message kept out of train's
    body): a weight of the model that was not finite before the first step is named
    (fit_trace), as the cause; otherwise lr."""
    _checks_values.fit_trace(None, lr, "−ELBO", start=start)
    _checks.fail(
        "lr",
        "small enough for the loss to stay finite",
        f"lr={lr}, with which the −ELBO became {loss} in epoch {epoch + 1}",
        "try a smaller lr (or resume from the last checkpoint with one, and change_lr=True)",
        kind=_checks.FitError,
    )


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
                    stacklevel=caller_stacklevel(),
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
        with torch.cuda.stream(side):
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
        with torch.cuda.graph(self.graph):
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
