"""Checkpoints of a training run: written after every epoch, read to resume where it stopped.

A checkpoint holds the model's and the optimizer's state_dicts, the history, the random state,
and the record of what defines its run: the model's layers and dtype, a fingerprint (SHA-256)
of the training and test images, and the settings that change the result. A resume is the same
run or it is refused, saying what differs (every setting recorded on either side; lr may change
when the caller says so, change_lr=True). A SHA-256 checksum over every entry, in a fixed order,
is stored with them and verified on resume. A file that is not a checkpoint, a damaged one and
one edited by hand are refused by name, saying what is wrong in it, before the first step.
Chapter 8, "The variational autoencoder" (book/08_vae.ipynb); trainer.py uses it.
"""

from __future__ import annotations

import hashlib
import numbers
import os
from dataclasses import asdict
from pathlib import Path

import torch

from . import _checks


def temporary(file: Path) -> Path:
    """The file save() writes first and then renames over the checkpoint."""
    return file.with_suffix(file.suffix + ".tmp")


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
    state["checksum"] = checksum(state)
    partial = temporary(path)
    torch.save(state, partial)
    os.replace(partial, path)


def checksum(state: dict) -> str:
    """SHA-256 over every entry of a checkpoint but its checksum, in a fixed order: each
    tensor's place, dtype, shape and bytes, each other value's place and repr."""
    digest = hashlib.sha256()

    def add(place: str, value) -> None:
        digest.update(place.encode())
        if isinstance(value, torch.Tensor):
            digest.update(f" {value.dtype} {tuple(value.shape)} ".encode())
            digest.update(value.detach().reshape(-1).cpu().view(torch.uint8).numpy().tobytes())
        elif isinstance(value, dict):
            for key in sorted(value, key=repr):
                add(f"{place}[{key!r}]", value[key])
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                add(f"{place}[{i}]", item)
        else:
            digest.update(f" {value!r};".encode())

    for name in sorted(set(state) - {"checksum"}):
        add(name, state[name])
    return digest.hexdigest()


FIELDS = {"model", "optimizer", "history", "generator", "run"}
# Settings recorded only when set (checkpoints made without them still resume): absent means this.
UNSET = {"kl_warmup": 0, "free_bits": 0.0}


def _refuse(path: Path, why: str) -> None:
    _checks.fail(
        "checkpoint",
        "a file written by vicourse.train",
        f"{str(path)!r}, {why}",
        "delete it to start afresh, or pass another path",
    )


def resume(path: Path, model, optimizer, history, generator, run: dict, epochs, change_lr=False):
    """Load a checkpoint of this very run, or refuse it, saying why, before any step (a refusal
    leaves the model as it was). change_lr: the checkpoint's lr may differ from run's, which
    then replaces it in the optimizer (and in the next checkpoint's record)."""
    try:
        state = torch.load(path, map_location=model.reference().device, weights_only=True)
    except Exception as error:  # unpickling, zip, I/O, torch: any of them means "not a checkpoint"
        state = error
    if not isinstance(state, dict) or not FIELDS <= set(state):
        why = "other contents"
        if isinstance(state, Exception):  # its first line, or its type for an empty message
            why = (str(state).splitlines() or [type(state).__name__])[0]
        _refuse(path, f"which torch cannot read as one ({why[:200]})")
    wrong = _malformed(state, generator)
    if wrong:
        _refuse(path, wrong)
    _same_run(state["run"], run, change_lr)
    wrong = _weights_misfit(state, model, optimizer)
    if wrong:
        _refuse(path, wrong)
    if "checksum" in state and state["checksum"] != checksum(state):  # (older ones have none)
        _refuse(
            path, "whose contents do not match their checksum (the file is damaged or was edited)"
        )
    _enough_epochs(len(state["history"]["train_loss"]), epochs)  # a refusal naming epochs
    for group in optimizer.param_groups:  # loaded above; this call's lr (the same unless change_lr)
        group["lr"] = run["lr"]
    model.load_state_dict(state["model"])
    for name, values in state["history"].items():
        getattr(history, name).extend(values)
    generator.set_state(state["generator"].to("cpu"))


def _enough_epochs(done: int, epochs: int) -> None:
    if epochs < done:
        _checks.fail(
            "epochs",
            f"at least the {done} epochs the checkpoint holds",
            str(epochs),
            f"pass epochs={done} or more to resume, or another checkpoint path",
        )


HISTORY = ("train_loss", "test_loss", "seconds")  # History's fields, one number per epoch


def _a(value) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


def _malformed(state: dict, generator) -> str | None:
    """What is wrong in the form of a checkpoint's entries (one edited by hand), or None."""
    for name in ("run", "model"):
        if not isinstance(state[name], dict):
            return f"whose {name} entry is {_a(state[name])}, not a dict"
    saved = state["optimizer"]
    if not isinstance(saved, dict) or not isinstance(saved.get("state"), dict):
        return f"whose optimizer entry is {_a(saved)} without the optimizer's state_dict"
    history = state["history"]
    if not isinstance(history, dict):
        return f"whose history is {_a(history)}, not a dict of lists ({', '.join(HISTORY)})"
    for key in [*HISTORY, *(k for k in history if k not in HISTORY)]:
        values = history.get(key)
        if key not in HISTORY or not isinstance(values, list):
            return f"whose history's {key!r} is {_a(values)}, not a list of numbers"
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
            return f"whose history's {key!r} holds something other than numbers"
    epochs, tested = len(history["train_loss"]), len(history["test_loss"])
    if len(history["seconds"]) != epochs or tested not in (0, epochs):
        return f"whose history's lists differ in length ({epochs}, {tested} and " + (
            f"{len(history['seconds'])} epochs)"
        )
    random = state["generator"]
    like = generator.get_state()
    if not isinstance(random, torch.Tensor) or (random.dtype, random.shape) != (
        like.dtype,
        like.shape,
    ):
        return f"whose generator entry is {_a(random)}, not the state of a {generator.device} one"
    return None


def _same(a, b) -> bool:
    """Numbers by value (lr=1 is lr=1.0), anything else by its repr (a digest, a name, None)."""
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (a, b)):
        return float(a) == float(b)
    return repr(a) == repr(b)


def _same_run(saved: dict, run: dict, change_lr: bool) -> None:
    """Refuse a checkpoint of another run, naming each setting that differs: each one recorded
    on either side (an unset optional one as its UNSET value), lr too unless change_lr."""
    keys = [*run, *(k for k in saved if k not in run)]
    pairs = {k: (saved.get(k, UNSET.get(k)), run.get(k, UNSET.get(k))) for k in keys}
    differ = [
        k
        for k, (there, here) in pairs.items()
        if not _same(there, here) and not (k == "lr" and change_lr)
    ]
    if differ:
        shown = ", ".join(
            k
            if k in ("model", "x_train", "x_test")
            else f"{k} ({pairs[k][0]!r} there, {pairs[k][1]!r} here)"
            for k in differ
        )
        lr = " (or change_lr=True to resume with this lr)" if "lr" in differ else ""
        _checks.fail(
            "checkpoint",
            "a checkpoint made with the same run: model, data and settings",
            f"one whose {shown} {'differs' if len(differ) == 1 else 'differ'}",
            f"pass the same ones to resume{lr}, or another checkpoint path to start afresh",
        )


def _weights_misfit(state: dict, model, optimizer) -> str | None:
    """What in the checkpoint's weights does not fit the model, or None: the model's tensors by
    name and shape, and the optimizer's state, which it loads into `optimizer` (a new one; the
    model is loaded only once everything has been checked)."""
    saved, own = state["model"], model.state_dict()
    for key in [*own, *saved]:
        if key not in saved or key not in own:
            return f"whose model weights {'lack' if key in own else 'have an unknown'} {key!r}"
        if not isinstance(saved[key], torch.Tensor) or saved[key].shape != own[key].shape:
            return (
                f"whose model weight {key!r} is {_checks.describe_value(saved[key])}, not of "
                f"shape {tuple(own[key].shape)}"
            )
    try:
        optimizer.load_state_dict(state["optimizer"])
    except (AttributeError, IndexError, KeyError, RuntimeError, TypeError, ValueError) as error:
        why = (str(error).splitlines() or [type(error).__name__])[0]
        return f"whose optimizer state does not fit the model ({why[:200]})"
    for parameter, moments in optimizer.state.items():
        for key, value in moments.items():
            if isinstance(value, torch.Tensor) and value.ndim and value.shape != parameter.shape:
                return (
                    f"whose optimizer state {key!r} has shape {tuple(value.shape)}, not the "
                    f"parameter's {tuple(parameter.shape)}"
                )
    return None
