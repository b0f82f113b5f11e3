"""Checkpoints of a training run: written after every epoch, read to resume where it stopped.

A checkpoint holds the model's and the optimizer's state_dicts, the history, the random state,
and the record of what defines its run: the model's layers and dtype, a fingerprint (SHA-256)
of the training and test images, and the settings that change the result. A resume is the same
run or it is refused, saying what differs; a file that is not a checkpoint is refused by name,
before the first step.
Chapter 8, "The variational autoencoder" (book/08_vae.ipynb); trainer.py uses it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict
from pathlib import Path

import torch

from . import _checks


def _temporary(file: Path) -> Path:
    """The file save() writes first and then renames over the checkpoint."""
    return file.with_suffix(file.suffix + ".tmp")


def path(checkpoint) -> Path:
    """A path a checkpoint can be read from and written to: refused now, not after an epoch."""
    if not isinstance(checkpoint, str | os.PathLike):
        _checks.fail(
            "checkpoint",
            "a file path (a str or a pathlib.Path) or None",
            _checks.describe_value(checkpoint),
            "pass e.g. checkpoint='vae.pt'",
            kind=_checks.ArgumentTypeError,
        )
    file = Path(checkpoint)
    if file.is_dir():
        _checks.fail("checkpoint", "a file path", f"the folder {str(file)!r}", "name a file in it")
    try:  # the folder must hold the file and its temporary twin (save writes both)
        file.parent.mkdir(parents=True, exist_ok=True)
        _temporary(file).touch()
        _temporary(file).unlink()
    except OSError as error:
        _checks.fail(
            "checkpoint",
            "a path where a file can be written",
            repr(str(file)),
            f"the system says: {error.strerror or error}; pick another folder",
        )
    return file


def fingerprint(x: torch.Tensor | None) -> str | None:
    """SHA-256 of a tensor's shape, dtype and bytes (one copy to the host, once per call)."""
    if x is None:
        return None
    raw = x.detach().contiguous().cpu().view(torch.uint8).numpy()
    digest = hashlib.sha256(f"{tuple(x.shape)} {x.dtype}".encode())
    digest.update(raw.tobytes())
    return digest.hexdigest()


def run_record(model, x: torch.Tensor, x_test: torch.Tensor | None, settings: dict) -> dict:
    """What defines a run: a resume must match it entry for entry."""
    return {
        "model": str(model),
        "dtype": str(model.reference().dtype),
        "x_train": fingerprint(x),
        "x_test": fingerprint(x_test),
        **settings,
    }


def save(path: Path, model, optimizer, history, generator, run: dict) -> None:
    """Write the checkpoint atomically: a crash while saving leaves the previous one intact."""
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "history": asdict(history),
        "generator": generator.get_state(),
        "run": run,
    }
    torch.save(state, _temporary(path))
    os.replace(_temporary(path), path)


FIELDS = {"model", "optimizer", "history", "generator", "run"}


def resume(path: Path, model, optimizer, history, generator, run: dict, epochs) -> None:
    """Load a checkpoint of this very run, or refuse it, saying why, before any step."""
    try:
        state = torch.load(path, map_location=model.reference().device, weights_only=True)
    except Exception as error:  # unpickling, zip, I/O, torch: any of them means "not a checkpoint"
        state = error
    if not isinstance(state, dict) or not FIELDS <= set(state):
        why = "other contents"
        if isinstance(state, Exception):  # its first line, or its type for an empty message
            why = (str(state).splitlines() or [type(state).__name__])[0]
        _checks.fail(
            "checkpoint",
            "a file written by vicourse.train",
            f"{str(path)!r}, which torch cannot read as one ({why[:200]})",
            "delete it to start afresh, or pass another path",
        )
    saved = state["run"]
    differ = [k for k in run if saved.get(k) != run[k]]
    if differ:
        shown = ", ".join(
            k
            if k in ("model", "x_train", "x_test")
            else f"{k} ({saved.get(k)!r} there, {run[k]!r} here)"
            for k in differ
        )
        _checks.fail(
            "checkpoint",
            "a checkpoint made with the same run: model, data and settings",
            f"one whose {shown} {'differs' if len(differ) == 1 else 'differ'}",
            "pass the same ones to resume, or another checkpoint path to start afresh",
        )
    done = len(state["history"]["train_loss"])
    if epochs < done:
        _checks.fail(
            "epochs",
            f"at least the {done} epochs the checkpoint holds",
            str(epochs),
            f"pass epochs={done} or more to resume, or another checkpoint path",
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    for name, values in state["history"].items():
        getattr(history, name).extend(values)
    generator.set_state(state["generator"].to("cpu"))
