"""Kinds of the trainer (trainer.py) and its checkpoints, and of the VAE objective."""

from __future__ import annotations

import numbers

from .. import _checks
from .._checks_spec import Kind

# --- kinds: fitting ---
# trainer (train's settings; its model, x_train, lr, ... use the kinds above and below)


def batch_for(x_arg: str) -> Kind:
    """A batch size: a count of at most the N rows of the argument `x_arg`."""

    def check(name, value, args):
        value, n = _checks.positive_int(name, value), args[x_arg].shape[0]
        if value > n:
            _checks.fail(
                name,
                f"at most the number of training images, {n}",
                str(value),
                f"pass a smaller {name}",
            )
        return value

    return Kind("count", check)


def cuda_graph_for(x_arg: str) -> Kind:
    """None (yes on CUDA), or True or False, and False off CUDA (where `x_arg` is)."""

    def check(name, value, args):
        if value is not None and _checks.boolean(name, value) and args[x_arg].device.type != "cuda":
            _checks.fail(
                name,
                "False off CUDA (a CUDA graph needs a CUDA device)",
                "True",
                f"pass {name}=None or False",
            )
        return value

    return Kind("optional_flag", check)


def kl_warmup_check(name, value, args):
    """A number of epochs ≥ 0 (a numpy integer too), 0 unless args["objective"] is 'elbo'."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        _checks.fail(
            name,
            "a number of epochs, an int ≥ 0",
            _checks.describe_value(value),
            "pass kl_warmup=10, or 0 for none",
        )
    if value and args["objective"] != "elbo":
        elbo_only(name, value, "0")
    return int(value)


kl_warmup = Kind("count_or_zero", kl_warmup_check)


def train_free_bits_check(name, value, args):
    """λ ≥ 0 for train: 0, or with objective='elbo' check_free_bits for args["model"]."""
    if _checks.real(name, value) == 0:
        return 0.0
    if args["objective"] != "elbo":
        elbo_only(name, value, "0")
    return check_free_bits(value, args["model"].encoder)


train_free_bits = Kind("real", train_free_bits_check)


def checkpoint_path_check(name, value, args):
    """None, or a path a checkpoint can be read from and written to: refused now, not after an
    epoch. Returned as a pathlib.Path."""
    import os  # here, not at the table's top: only this kind reads paths
    from pathlib import Path

    from ..checkpoints import temporary  # lazily: the table imports only the check modules

    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        _checks.fail(
            "checkpoint",
            "a file path (a str or a pathlib.Path) or None",
            _checks.describe_value(value),
            "pass e.g. checkpoint='vae.pt'",
            kind=_checks.ArgumentTypeError,
        )
    file = Path(value)
    if file.is_dir():
        _checks.fail("checkpoint", "a file path", f"the folder {str(file)!r}", "name a file in it")
    try:  # the folder must hold the file and its temporary twin (save writes both)
        file.parent.mkdir(parents=True, exist_ok=True)
        temporary(file).touch()
        temporary(file).unlink()
    except OSError as error:
        _checks.fail(
            "checkpoint",
            "a path where a file can be written",
            repr(str(file)),
            f"the system says: {error.strerror or error}; pick another folder",
        )
    return file


# "unchecked" for the sweep only: every str it feeds is a fair file name; the check itself still
# refuses what is not a path, by name (test_trainer.py, test_checkpoints.py).
checkpoint_path = Kind("unchecked", checkpoint_path_check)


def check_free_bits(free_bits, encoder) -> float:
    """λ ≥ 0, and 0 unless the encoder's q is diagonal (free bits need a KL per unit)."""
    if _checks.real("free_bits", free_bits) < 0:
        _checks.fail(
            "free_bits", "a number of nats λ ≥ 0", repr(free_bits), "pass 0.1, or 0 for none"
        )
    if free_bits and (encoder.covariance != "diagonal" or encoder.flow_layers):
        _checks.fail(
            "free_bits",
            "0 for a full-covariance or flow q (free bits need a KL per latent unit)",
            repr(free_bits),
            "use a diagonal encoder, or a KL warm-up (train(kl_warmup=...))",
        )
    return float(free_bits)


def elbo_only(name: str, value, neutral: str) -> None:
    """Refuse a setting of the KL term (kl_weight, kl_warmup, free_bits) with the IWAE
    objective, which has no separate KL term; `neutral` is the value that means "none"."""
    _checks.fail(
        name,
        f"{neutral} with objective='iwae' (the IWAE bound has no separate KL term)",
        _checks.describe_value(value),
        f"pass {name}={neutral} (or leave it out), or use objective='elbo'",
    )
