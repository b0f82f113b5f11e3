"""Kinds of the exercises, the runtime, the data and the validation switch."""

from __future__ import annotations

import numbers

import torch

from .. import _checks
from .._checks_spec import Kind

# --- kinds: exercises ---


def choice_of(options, expected: str, fix: str) -> Kind:
    """A name among `options` (an exercise, a data set), described as `expected` in the message."""

    def check(name, value, args):
        if not isinstance(value, str) or value not in options:
            _checks.fail(name, expected, repr(value), fix)
        return value

    return Kind("choice", check)


def seed_check(name, value, args):
    """A seed for torch.Generator.manual_seed: an int from 0 to 2**32 − 1."""

    expected, fix = "an int from 0 to 2**32 − 1", "pass e.g. seed=0"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _checks.fail(
            name, expected, _checks.describe_value(value), fix, kind=_checks.ArgumentTypeError
        )
    if not 0 <= value < 2**32:
        _checks.fail(name, expected, repr(value), fix)
    return int(value)


seed = Kind("seed", seed_check)


def folder_check(name, value, args):
    """A folder: a str or a path (any string names one, so the sweep's malformations, a string
    among them, do not apply: "unchecked" for the sweep; the type is still checked)."""
    import os

    if not isinstance(value, str | os.PathLike):
        _checks.fail(
            name,
            "a folder, as a str or a pathlib.Path",
            _checks.describe_value(value),
            f"pass e.g. {name}='~/.cache/vicourse'",
            kind=_checks.ArgumentTypeError,
        )
    return value


folder = Kind("unchecked", folder_check)


def learner_fn_check(name, value, args):
    """The learner's function for the exercise in args["name"]: any callable is a fair answer
    (the verdict judges what it returns)."""
    if not callable(value):
        exercise = args["name"]
        _checks.fail(
            name,
            "a function",
            type(value).__name__,
            f"pass the function itself, e.g. check({exercise!r}, {exercise})",
            kind=_checks.ArgumentTypeError,
        )
    return value


learner_fn = Kind("learner_fn", learner_fn_check)
# Any str names a variable: "unchecked" for the sweep (whose malformations include a string).
variable_name = Kind(
    "unchecked",
    lambda name, value, args: _checks.instance(
        name, value, str, "pass the variable's name, e.g. 'experiment_1_3'"
    ),
)


def measured_check(name, value, args):
    """An experiment's number, as the learner stored it: any value gets a verdict
    (ExerciseFailed says what is wrong with it), so "unchecked" for the sweep; only a tensor or
    array with no real number to read (complex, or on the meta device) is refused here."""
    import numpy as np

    complex_array = isinstance(value, np.ndarray) and np.iscomplexobj(value)
    if complex_array or (
        isinstance(value, torch.Tensor) and (value.is_complex() or value.device.type == "meta")
    ):
        _checks.fail(
            name,
            "a real number, or a tensor or array holding one",
            _checks.describe_value(value),
            "store the real number the experiment measures, computed on cpu or cuda",
        )
    return value


measured = Kind("unchecked", measured_check)


def nonnegative_check(name, value, args):
    """A finite number ≥ 0 (a tolerance)."""
    number = _checks.real(name, value)
    if number < 0:
        _checks.fail(name, "a number ≥ 0", f"{value!r}", f"pass a {name} ≥ 0")
    return number


nonnegative = Kind("real", nonnegative_check)
