"""Exercises: checks that compare a learner's function with the expected answers.

Every chapter ends with exercises. The code exercises ask for a function with a fixed signature;
`check(name, fn)` calls it on the exercise's stored inputs (seeded, float64, CPU) and compares
what comes, and its gradients where they count, with what the solution gives; it says, in plain
words, whether they agree and, where they do not, on which input, what was expected and what
came. It works anywhere: Jupyter, Colab, offline. `verify(name, fn)` runs the same comparison and
raises `ExerciseFailed` (an AssertionError) instead of printing: the graders' tests and the book
build use it, so a wrong solution in a master notebook fails the build.

    check("kl_normal", kl_normal)     # prints the verdict, returns True or False
    verify("kl_normal", kl_normal)    # raises ExerciseFailed with the same text

The stored inputs and answers are public, so a grade cannot rest on them: the autograder's
hidden tests call `verify_unseen(name, fn, reference)`, which draws new inputs from a seed
picked at grading time and computes what is expected on them with `reference` (a function of
the package or torch, or a few lines of torch, in the hidden test) once fn has run. An answer
is written with torch's tensor operations: one that calls into vicourse, torch.distributions
or torch.optim (which would compute the answer for it) fails check, verify and verify_unseen
alike, and the report names the function. The watch is a tripwire for shortcuts, not a
sandbox: code that sets out to defeat the grader in its own process can.

Chapters: the "Exercises" section of every chapter, book/01_…ipynb to book/11_…ipynb.

The package holds no solution: the inputs and the expected outputs are stored data
(`vicourse.exercise_cases`, written by `python .ci/expected.py` from the master notebooks).
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import secrets
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from . import _checks
from . import _checks_kinds as kinds
from ._checks_spec import Kind, validated
from .exercise_cases import (
    DTYPE,
    EXERCISES,
    Case,
    Exercise,
    Shown,
    draw,
    weighted_sum,
)

RTOL, ATOL = 1e-6, 1e-9
# An answer in float32 (a learner's .float()) is held to what float32 can carry: about 100 and
# 10 of its rounding units (1.2e-7). A float64 answer is held to RTOL and ATOL.
RTOL32, ATOL32 = 100 * torch.finfo(torch.float32).eps, 10 * torch.finfo(torch.float32).eps


class ExerciseFailed(AssertionError):
    """A learner's function disagrees with the expected answers (the message says where)."""


# ---------------------------------------------------------------- comparing


def _show(value) -> str:
    """A short, one-line description of a value for a report."""
    if isinstance(value, torch.Tensor):
        flat = value.detach().reshape(-1)
        body = ", ".join(f"{v:.4g}" for v in flat[:6].tolist())
        more = ", …" if flat.numel() > 6 else ""
        if value.dim() == 0:
            return f"{value.item():.6g}"
        return f"tensor of shape {tuple(value.shape)}: [{body}{more}]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return repr(value)


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple | list) else (value,)


def _differs(expected: torch.Tensor, got, tolerance=(RTOL, ATOL)) -> str | None:
    """Why `got` is not `expected` (shape, kind or values), or None when they agree."""
    if got is None or got is Ellipsis:
        return "is None: the body is still the stub (replace the ...)"
    if not isinstance(got, torch.Tensor):
        return f"is a {type(got).__name__}, not a torch tensor"
    if got.shape != expected.shape:
        return f"has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    rtol, atol = tolerance
    got = got.detach().to("cpu", DTYPE)
    if torch.allclose(got, expected.detach(), rtol=rtol, atol=atol, equal_nan=False):
        return None
    bad = ~torch.isclose(got, expected.detach(), rtol=rtol, atol=atol)
    where = tuple(int(i) for i in bad.nonzero()[0]) if bad.dim() else ()
    e, o = expected.detach()[where].item(), got[where].item()
    at = f" at index {where}" if where else ""
    return f"is {o:.8g}{at}, expected {e:.8g}"


def _unreadable(value) -> str | None:
    """Why a returned tensor has no real values to compare (complex, meta), or None."""
    if isinstance(value, torch.Tensor) and value.is_complex():
        return f"is a complex tensor ({value.dtype}); the answer is real"
    if isinstance(value, torch.Tensor) and value.device.type == "meta":
        return "is a tensor on the meta device, which holds no values"
    return None


def _tolerance(got: tuple) -> tuple[float, float]:
    """RTOL and ATOL; RTOL32 and ATOL32 where an output is in a less precise float than float64."""
    eps = torch.finfo(DTYPE).eps
    low = any(
        isinstance(o, torch.Tensor) and o.is_floating_point() and torch.finfo(o.dtype).eps > eps
        for o in got
    )
    return (RTOL32, ATOL32) if low else (RTOL, ATOL)


def _gradient(got: tuple, wrt: str, inputs: dict) -> torch.Tensor | str:
    """d weighted_sum(got) / d inputs[wrt], or why it cannot be had."""
    try:
        grad = torch.autograd.grad(weighted_sum(got), inputs[wrt], allow_unused=True)[0]
    except RuntimeError as error:  # e.g. fn called .backward() on its result: the graph is gone
        torch_says = str(error).split(". ")[0].splitlines()[0]
        return (
            f"its gradient with respect to {wrt} cannot be computed (torch: {torch_says}); "
            "return the result without calling .backward() on it"
        )
    return torch.zeros_like(inputs[wrt]) if grad is None else grad


# An answer is written with torch's tensor operations. It may not call into these, which would
# compute the answer for it: the package, torch.distributions (kl_divergence, log_prob, entropy,
# rsample, transforms) and torch.optim (a step). Code that an input runs (a Shown function, such
# as the model's log_joint it is handed) is the input's, and may call anything.
OFF_LIMITS = {
    str(Path(module.__file__).parent) + os.sep: label
    for module, label in [
        (sys.modules[__package__], "vicourse"),
        (torch.distributions, "torch.distributions"),
        (torch.optim, "torch.optim"),
    ]
}


def _off_limits(frame) -> str | None:
    """The name of the off-limits function this frame runs (a decorated one's, for the
    wrapper that checks its arguments), or None."""
    for folder, label in OFF_LIMITS.items():
        if frame.f_code.co_filename.startswith(folder):
            fn = frame.f_locals.get("fn") if frame.f_code is _ENTRY else None
            return f"{getattr(fn, '__qualname__', frame.f_code.co_qualname)} (of {label})"
    return None


_ENTRY = validated()(lambda: None).__code__  # the code of every decorated function's wrapper


def _watcher(called: list):
    """A profiler hook (sys.setprofile) that appends to `called` the name of each off-limits
    function called outside the inputs' own code: a tripwire for shortcuts, in this thread,
    not a sandbox."""
    inside = []  # the frames of inputs' code running now

    def watch(frame, event, arg):
        if event == "call":
            if frame.f_code is Shown.__call__.__code__:
                inside.append(frame)
            elif not inside and not called and (name := _off_limits(frame)):
                called.append(name)  # the first is enough
        elif event == "return" and inside and frame is inside[-1]:
            inside.pop()

    return watch


def _compare_case(exercise: Exercise, fn: Callable, case: Case, expected=None) -> str | None:
    """None when fn agrees with the expected answer on this input, else what differs. The
    answer is case.values, or what `expected()` gives, asked for only after fn has run."""
    inputs = {
        key: value.requires_grad_(key in exercise.grad_wrt)
        if isinstance(value, torch.Tensor)
        else value
        for key, value in case.inputs.items()
    }
    error, called = None, []
    watch, previous = _watcher(called), sys.getprofile()
    sys.setprofile(watch)  # on only while fn runs (it sees no frame of the package's)
    try:
        got = fn(**inputs)
    except Exception as raised:  # the learner's code: report whatever it raised
        error = raised
    finally:
        if sys.getprofile() is not watch:
            called.append("sys.setprofile")
        sys.setprofile(previous)
    if called == ["sys.setprofile"]:
        return "it turns off sys.setprofile's hook, with which grading sees what it calls"
    if called:
        return (
            f"it calls {called[0]}, which would compute the answer for it: write it with "
            "torch's tensor operations, without vicourse, torch.distributions or torch.optim"
        )
    if error is not None:
        return f"it raised {type(error).__name__}: {error}"
    case = case if expected is None else expected()
    expected = case.values
    if got is None or got is Ellipsis:
        return "its result " + _differs(expected[0], got)
    got = _as_tuple(got)
    if len(got) != len(expected):
        return f"it returned {len(got)} value(s), expected {len(expected)}"
    tolerance = _tolerance(got)
    for i, (e, o) in enumerate(zip(expected, got, strict=True)):
        why = _unreadable(o) or (_differs(e, o, tolerance) if exercise.compare_value else None)
        if why:
            part = f"value {i + 1} of {len(expected)}" if len(expected) > 1 else "result"
            return f"its {part} {why}"
    for name in exercise.grad_wrt:
        e_grad = case.gradients[name]
        if not all(isinstance(o, torch.Tensor) and o.requires_grad for o in got):
            if e_grad.abs().max() > 0:
                return f"its result carries no gradient with respect to {name}"
            continue
        for e, o in zip(expected, got, strict=True):
            if o.shape != e.shape:  # the weights of the weighted sum need the expected shapes
                return f"its result has shape {tuple(o.shape)}, expected {tuple(e.shape)}"
        o_grad = _gradient(got, name, inputs)
        if isinstance(o_grad, str):
            return o_grad
        why = _differs(e_grad, o_grad, tolerance)
        if why:
            return f"its gradient with respect to {name} {why}"
    return None


def _report(name: str, fn, inputs=None, expected=None, drawn="") -> tuple[bool, str]:
    """The verdict on fn: on the stored cases, or on the inputs that `inputs()` draws, the
    answer to the i-th being `expected(i)`, from the seed that `drawn` names."""
    exercise = EXERCISES[name]
    if inputs is None:
        inputs = lambda: [c.inputs for c in exercise.cases()]  # noqa: E731
    cases = [Case(i, (), {}) for i in inputs()] if expected else exercise.cases()
    for i, case in enumerate(cases):
        why = _compare_case(exercise, fn, case, expected and (lambda i=i: expected(i)))
        if why:
            shown = inputs()[i]  # afresh: fn may have changed its inputs
            text = "\n".join(f"  {key} = {_show(value)}" for key, value in shown.items())
            text = (
                f"✗ {name} differs from the reference on input {i + 1} of {len(cases)}{drawn}:\n"
                f"{text}\n"
                f"{textwrap.fill(why[0].upper() + why[1:] + '.', 79)}\n"
                f"{textwrap.fill('Hint: ' + exercise.hint + '.', 79)}"
            )
            return False, text
    return True, f"✓ {name} agrees with the reference on all {len(cases)} inputs{drawn}."


# The learner's function runs as the learner's code, not the package's: trusted=False keeps the
# checks of the vicourse functions it calls on.
EXERCISE = dict(
    name=kinds.choice_of(
        EXERCISES,
        f"one of {sorted(EXERCISES)}",
        "pass the exercise's name as a string, e.g. check('kl_normal', kl_normal)",
    ),
    fn=kinds.learner_fn,
)


@validated(trusted=False, **EXERCISE)
def check(name: str, fn: Callable) -> bool:
    """Compare fn with the expected answers of exercise `name`; print the verdict.

    Returns True when they agree on every input; otherwise prints the first input on which they
    differ (the input, what came, what was expected, and a hint) and returns False.
    """
    passed, text = _report(name, fn)
    print(text)
    return passed


@validated(trusted=False, **EXERCISE)
def verify(name: str, fn: Callable) -> None:
    """Like check, but raise ExerciseFailed (an AssertionError) with the report on a mismatch."""
    passed, text = _report(name, fn)
    if not passed:
        raise ExerciseFailed(text)


def _expected(exercise: Exercise, reference: Callable, inputs: dict) -> Case:
    """What `reference` gives on `inputs` (a draw of their own, which the learner's function
    never had): its outputs, and their gradients where they count."""
    wrt = [inputs[k].requires_grad_() for k in exercise.grad_wrt]
    values = _as_tuple(reference(**inputs))
    grads = torch.autograd.grad(weighted_sum(values), wrt, materialize_grads=True) if wrt else ()
    values = tuple(v.detach().to(DTYPE) for v in values)
    return Case(inputs, values, dict(zip(exercise.grad_wrt, grads, strict=True)))


def _grading_seed() -> int:
    """A seed no one can know before grading: from the operating system's randomness."""
    return secrets.randbelow(2**32)


def _reference_check(name, value, args):
    if not callable(value):
        _checks.fail(
            name,
            "a function with the exercise's signature, whose answers are right",
            _checks.describe_value(value),
            "pass e.g. reference=lambda mu_q, sigma_q, mu_p, sigma_p: ... built from torch",
            kind=_checks.ArgumentTypeError,
        )
    wanted = list(draw(args["name"], 0)[0])
    try:
        inspect.signature(value).bind(**dict.fromkeys(wanted))
    except (TypeError, ValueError):
        _checks.fail(
            name,
            f"a function that takes the exercise's arguments by name, ({', '.join(wanted)})",
            _checks.describe_value(value),
            f"define it as def reference({', '.join(wanted)}): ...",
            kind=_checks.ArgumentTypeError,
        )
    return value


def _optional_seed_check(name, value, args):
    return None if value is None else kinds.seed(name, value, args)


@validated(
    trusted=False,
    **EXERCISE,
    reference=Kind("function", _reference_check),
    seed=Kind("unchecked", _optional_seed_check),  # None, or a seed
)
def verify_unseen(name: str, fn: Callable, reference: Callable, seed: int | None = None) -> None:
    """Like verify, on inputs the learner has never seen: the exercise's kinds of input drawn
    afresh from `seed` (a random one when None, as when grading), and what is expected on each
    computed by `reference`, a trusted function of the same signature, after fn has run on it.
    Raises ExerciseFailed, whose message names the seed.
    """
    seed = _grading_seed() if seed is None else seed
    exercise, fresh = EXERCISES[name], draw(name, seed)  # fn may change the inputs it gets

    def expected(i: int) -> Case:
        return _expected(exercise, reference, fresh[i])

    passed, text = _report(name, fn, lambda: draw(name, seed), expected, f" (seed {seed})")
    if not passed:
        raise ExerciseFailed(text)


def _number(name: str, value) -> float | str:
    """The number a learner stored in the variable `name`, or why it is not one."""
    if value is None or value is Ellipsis:
        return f"{name} is still ...: run the experiment and store its number in {name}"
    what = "tensor"
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":  # NumPy's, read as torch's
        value, what = torch.as_tensor(value), "NumPy array"
    if isinstance(value, bool) or not isinstance(value, numbers.Real | torch.Tensor):
        return f"{name} is a {type(value).__name__}, not a number"
    if isinstance(value, torch.Tensor) and value.numel() != 1:
        return f"{name} is a {what} of shape {tuple(value.shape)}, not one number"
    if isinstance(value, torch.Tensor) and value.dtype == torch.bool:
        return f"{name} is a bool {what}, not a number"
    return float(value)


@validated(
    name=kinds.variable_name,
    value=kinds.measured,
    expected=kinds.real,
    tolerance=kinds.nonnegative,
)
def verify_number(name: str, value, expected: float, tolerance: float) -> None:
    """An experiment's measured number: raise ExerciseFailed unless it is within `tolerance`.

    `expected` comes from a reference run in the grader's test, and `tolerance` from that run's
    Monte Carlo error (or 0 for a count that the experiment determines exactly). The message
    says what came and what a reference run gives. `value` may be a Python or NumPy number, or
    a tensor or NumPy array holding one.
    """
    number = _number(name, value)
    if isinstance(number, str):
        raise ExerciseFailed(textwrap.fill(f"✗ {number}.", 79))
    if math.isfinite(number) and abs(number - expected) <= tolerance:
        return
    spread = f" ± {tolerance:.2g}" if tolerance else ""
    why = f"{name} is {number:.6g}; a reference run gives {expected:.6g}{spread}"
    raise ExerciseFailed(textwrap.fill(f"✗ {why}.", 79))
