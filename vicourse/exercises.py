"""Exercises: reference answers, and checks that compare a learner's function with them.

Every chapter ends with exercises. The code exercises ask for a function with a fixed signature;
`check(name, fn)` calls it and the reference on the same random inputs (seeded, float64, CPU)
and says, in plain words, whether they agree and, where they do not, on which input, what was
expected and what came. It works anywhere: Jupyter, Colab, offline. `verify(name, fn)` runs the
same comparison and raises `ExerciseFailed` (an AssertionError) instead of printing: the graders'
tests and the book build use it, so a wrong reference solution fails the build.

    check("kl_normal", kl_normal)     # prints the verdict, returns True or False
    verify("kl_normal", kl_normal)    # raises ExerciseFailed with the same text

Chapters: the "Exercises" section of every chapter, book/01_…ipynb to book/08_…ipynb.

The reference answers are in `vicourse.exercise_answers`, the inputs and the table of exercises
in `vicourse.exercise_cases`; this module compares and reports (and re-exports both, so that
`vicourse.exercises.kl_normal` is the reference answer).
"""

from __future__ import annotations

import functools
import inspect
import textwrap
from collections.abc import Callable

import torch

from . import _checks, _checks_values
from .exercise_answers import *  # noqa: F403  (vicourse.exercises.kl_normal is the reference)
from .exercise_cases import DTYPE, EXERCISES, Exercise, Shown  # noqa: F401

RTOL, ATOL = 1e-6, 1e-9


class ExerciseFailed(AssertionError):
    """A learner's function disagrees with the reference answer (the message says where)."""


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


def _fresh(case: dict, grad_wrt: tuple[str, ...]) -> dict:
    out = {}
    for key, value in case.items():
        if isinstance(value, torch.Tensor):
            value = value.clone().requires_grad_(key in grad_wrt)
        out[key] = value
    return out


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple | list) else (value,)


def _differs(expected: torch.Tensor, got) -> str | None:
    """Why `got` is not `expected` (shape, kind or values), or None when they agree."""
    if got is None or got is Ellipsis:
        return "is None: the body is still the stub (replace the ...)"
    if not isinstance(got, torch.Tensor):
        return f"is a {type(got).__name__}, not a torch tensor"
    if got.shape != expected.shape:
        return f"has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    got = got.detach().to(DTYPE)
    if torch.allclose(got, expected.detach(), rtol=RTOL, atol=ATOL, equal_nan=False):
        return None
    bad = ~torch.isclose(got, expected.detach(), rtol=RTOL, atol=ATOL)
    where = tuple(int(i) for i in bad.nonzero()[0]) if bad.dim() else ()
    e, o = expected.detach()[where].item(), got[where].item()
    at = f" at index {where}" if where else ""
    return f"is {o:.8g}{at}, expected {e:.8g}"


def _compare_case(exercise: Exercise, fn: Callable, case: dict) -> str | None:
    """None when fn agrees with the reference on this input, else what differs."""
    mine, theirs = _fresh(case, exercise.grad_wrt), _fresh(case, exercise.grad_wrt)
    expected = _as_tuple(exercise.reference(**mine))
    try:
        got = fn(**theirs)
    except Exception as error:  # the learner's code: report whatever it raised
        return f"it raised {type(error).__name__}: {error}"
    if got is None or got is Ellipsis:
        return "its result " + _differs(expected[0], got)
    got = _as_tuple(got)
    if len(got) != len(expected):
        return f"it returned {len(got)} value(s), expected {len(expected)}"
    if exercise.compare_value:
        for i, (e, o) in enumerate(zip(expected, got, strict=True)):
            why = _differs(e, o)
            if why:
                part = f"value {i + 1} of {len(expected)}" if len(expected) > 1 else "result"
                return f"its {part} {why}"
    weights = [  # the gradient of a weighted sum sees every entry of every output
        torch.linspace(0.5, 1.5, e.numel(), dtype=DTYPE).reshape(e.shape) for e in expected
    ]
    for name in exercise.grad_wrt:
        e_grad = torch.autograd.grad(
            sum((w * e).sum() for w, e in zip(weights, expected, strict=True)),
            mine[name],
            allow_unused=True,
        )[0]
        e_grad = torch.zeros_like(mine[name]) if e_grad is None else e_grad
        if not isinstance(got[0], torch.Tensor) or not got[0].requires_grad:
            if e_grad.abs().max() > 0:
                return f"its result carries no gradient with respect to {name}"
            continue
        o_grad = torch.autograd.grad(
            sum((w * o.to(DTYPE)).sum() for w, o in zip(weights, got, strict=True)),
            theirs[name],
            allow_unused=True,
        )[0]
        o_grad = torch.zeros_like(theirs[name]) if o_grad is None else o_grad
        why = _differs(e_grad, o_grad)
        if why:
            return f"its gradient with respect to {name} is {why}"
    return None


def _report(name: str, fn) -> tuple[bool, str]:
    if not isinstance(name, str) or name not in EXERCISES:
        _checks.fail(
            "name",
            f"one of {sorted(EXERCISES)}",
            repr(name),
            "pass the exercise's name as a string, e.g. check('kl_normal', kl_normal)",
        )
    if not callable(fn):
        _checks.fail(
            "fn",
            "a function",
            type(fn).__name__,
            f"pass the function itself, e.g. check({name!r}, {name})",
            kind=_checks.ArgumentTypeError,
        )
    exercise = EXERCISES[name]
    cases = exercise.cases(torch.Generator().manual_seed(sum(map(ord, name))))
    for i, case in enumerate(cases, 1):
        why = _compare_case(exercise, fn, case)
        if why:
            inputs = "\n".join(f"  {key} = {_show(value)}" for key, value in case.items())
            text = (
                f"✗ {name} differs from the reference on input {i} of {len(cases)}:\n"
                f"{inputs}\n"
                f"{textwrap.fill(why[0].upper() + why[1:] + '.', 79)}\n"
                f"{textwrap.fill('Hint: ' + exercise.hint + '.', 79)}"
            )
            return False, text
    return True, f"✓ {name} agrees with the reference on all {len(cases)} inputs."


def check(name: str, fn: Callable) -> bool:
    """Compare fn with the reference answer of exercise `name`; print the verdict.

    Returns True when they agree on every input; otherwise prints the first input on which they
    differ (the input, what came, what was expected, and a hint) and returns False.
    """
    passed, text = _report(name, fn)
    print(text)
    return passed


def verify(name: str, fn: Callable) -> None:
    """Like check, but raise ExerciseFailed (an AssertionError) with the report on a mismatch."""
    passed, text = _report(name, fn)
    if not passed:
        raise ExerciseFailed(text)


# ---------------------------------------------------------------- the references, checked

# What each reference answer's arguments are. vicourse.exercises.NAME checks them, then calls the
# answer in vicourse.exercise_answers (which stays plain torch: it is the lesson, and check()
# compares with it directly). "tensor": a finite, nonempty float tensor; "scale": one whose
# values are positive scales σ (σ² finite and nonzero in its dtype); "weights": nonnegative,
# summing to 1; "pixels": values in [0, 1]. A digit after "/" is the number of dimensions the
# docstring's shapes give.
_ARGUMENTS = {
    "mixture_log_marginal": dict(
        x="tensor/1", weights="weights/1", means="tensor/1", scales="scale/1"
    ),
    "responsibilities": dict(x="tensor/1", weights="weights/1", means="tensor/1", scales="scale/1"),
    "elbo_with_entropy": dict(log_joint="function", mu="tensor/1", sigma="scale/1", eps="tensor/2"),
    "kl_normal": dict(mu_q="tensor", sigma_q="scale", mu_p="tensor", sigma_p="scale"),
    "ascent_step": dict(elbo="function", mu="tensor", log_sigma="tensor", lr="number"),
    "affine_encoder": dict(x="tensor/2", weight="tensor/2", bias="tensor/1"),
    "shared_scale_encoder": dict(
        x="tensor/2", weight="tensor/2", bias="tensor/1", log_sigma="tensor/1"
    ),
    "reparameterized_sample": dict(mu="tensor/2", sigma="scale/2", eps="tensor/3"),
    "score_function_surrogate": dict(r_values="tensor/1", log_q="tensor/1", baseline="number"),
    "vae_loss": dict(logits="tensor/2", x="pixels/2", mu="tensor/2", log_sigma="tensor/2"),
}


def _check_argument(name: str, value, spec: str) -> None:
    kind, _, ndim = spec.partition("/")
    if kind == "function":
        if not callable(value):
            _checks.fail(
                name,
                "a function",
                _checks.describe_value(value),
                "pass a function (a def or a lambda)",
                kind=_checks.ArgumentTypeError,
            )
        return
    if kind == "number":
        if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
            value = value.item()
        _checks.real(name, value)
        return
    _checks.tensor(name, value, ndim=int(ndim) if ndim else None, fix="see the docstring's shapes")
    if value.numel() == 0:
        _checks.fail(name, "a tensor with values", "an empty tensor", "pass at least one value")
    _checks_values.finite(name, value)
    if kind == "scale":
        low, high = _checks_values.scale_range(value.dtype)
        if bool(((value < low) | (value > high)).any()):
            _checks.fail(
                name,
                f"scales between {low:.1e} and {high:.1e} in {value.dtype}",
                f"values from {value.min().item():.3g} to {value.max().item():.3g}",
                "pass positive scales σ (not log σ), or use torch.float64",
            )
    elif kind == "weights":
        _checks_values.distribution_rows(name, value)
    elif kind == "pixels" and bool(((value < 0) | (value > 1)).any()):
        _checks.fail(name, "pixel values in [0, 1]", "values outside it", "binarize the images")


def _checked(answer: Callable, kinds: dict) -> Callable:
    """The reference answer behind the project's argument checks (see _ARGUMENTS)."""
    signature = inspect.signature(answer)

    @functools.wraps(answer)
    def reference(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            _checks.fail(
                f"{answer.__name__}'s arguments",
                f"those of {answer.__name__}{signature}",
                str(error),
                "pass them as the exercise gives them",
                kind=_checks.ArgumentTypeError,
            )
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            _check_argument(name, value, kinds[name])
        try:
            return answer(*bound.args, **bound.kwargs)
        except (RuntimeError, ValueError, IndexError) as error:  # shapes that do not fit
            shapes = ", ".join(
                f"{k} {tuple(v.shape)}"
                for k, v in bound.arguments.items()
                if isinstance(v, torch.Tensor)
            )
            _checks.fail(
                f"{answer.__name__}'s arguments",
                "of shapes that fit together (see its docstring)",
                shapes,
                f"fix the shapes (torch says: {str(error).splitlines()[0]})",
            )

    return reference


for _name, _kinds in _ARGUMENTS.items():
    globals()[_name] = _checked(globals()[_name], _kinds)
