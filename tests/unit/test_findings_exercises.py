"""Findings in the exercise checks: a complex answer, a bool tensor, a result on the meta device
and a result on which the learner called .backward() each get a verdict (never a raw torch
error, never a pass); a complex or meta tensor stored as an experiment's number is refused
naming `value`; a 0-d NumPy array is a number, and an answer computed in float32 passes within
what float32 can carry (but not when it is off)."""

import numpy as np
import pytest
import torch
from test_exercises import SOLUTIONS

from vicourse import ArgumentError, ArgumentTypeError, load_images
from vicourse.exercises import EXERCISES, ExerciseFailed, verify, verify_number

MESSAGE = r"^value must be a real number, or a tensor or array holding one, got .+; .+\.$"


def report(name, fn) -> str:
    """verify's report for fn, on one line (textwrap may break it anywhere)."""
    with pytest.raises(ExerciseFailed) as caught:
        verify(name, fn)
    return " ".join(str(caught.value).split())


@pytest.mark.parametrize(
    "name", ["relaxed_sample", "iwae_by_k", "planar_layer", "score_function_surrogate"]
)
def test_a_complex_answer_fails(name):
    def plus_3j(**inputs):
        out = SOLUTIONS[name](**inputs)
        return tuple(o + 3j for o in out) if isinstance(out, tuple) else out + 3j

    assert "is a complex tensor (torch.complex128); the answer is real." in report(name, plus_3j)


@pytest.mark.parametrize("value", [torch.tensor(True), np.array(True)])
def test_a_bool_tensor_is_not_a_number(value):
    with pytest.raises(
        ExerciseFailed, match=r"^✗ e is a bool (tensor|NumPy array), not a number\.$"
    ):
        verify_number("e", value, 1.0, 0)


@pytest.mark.parametrize("name", ["cholesky_sample", "relaxed_sample", "kl_normal"])
def test_a_meta_result_and_a_called_backward_get_the_verdict(name):
    def on_meta(**inputs):
        return SOLUTIONS[name](**inputs).to("meta")

    def backward(**inputs):
        out = SOLUTIONS[name](**inputs)
        if out.requires_grad:
            out.sum().backward()
        return out

    assert "Its result is a tensor on the meta device, which holds no values." in report(
        name, on_meta
    )
    if EXERCISES[name].grad_wrt:  # kl_normal's inputs carry no gradient: its backward raises
        text = report(name, backward)
        assert "cannot be computed (torch: Trying to backward through the graph" in text
        assert "return the result without calling .backward() on it." in text


@pytest.mark.parametrize(
    "value",
    [
        torch.tensor(0.5 + 0j),
        torch.tensor(0.5 + 1j),
        torch.tensor(0.5, device="meta"),
        np.array(0.5 + 0j),
    ],
)
def test_a_complex_or_meta_number_is_refused_naming_value(value):
    with pytest.raises(ArgumentError, match=MESSAGE):
        verify_number("experiment_1_3", value, 0.5, 0.1)


def test_a_numpy_array_holding_one_number_is_a_number():
    verify_number("experiment_1_3", np.array(0.5), 0.5, 0)
    verify_number("experiment_1_3", np.array([[3]]), 3, 0)
    with pytest.raises(ExerciseFailed, match=r"is a NumPy array of shape \(2,\), not one number"):
        verify_number("experiment_1_3", np.array([0.5, 0.5]), 0.5, 0)


def _float32(v):
    return v.float() if isinstance(v, torch.Tensor) else v


@pytest.mark.parametrize("where", ["inside", "at the end"])
@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_an_answer_computed_in_float32_passes(name, where):
    def answer(**inputs):
        if where == "inside":
            return SOLUTIONS[name](**{k: _float32(v) for k, v in inputs.items()})
        out = SOLUTIONS[name](**inputs)
        return tuple(map(_float32, out)) if isinstance(out, tuple) else _float32(out)

    verify(name, answer)


def test_a_float32_answer_that_is_off_still_fails():
    def off(logits, gumbel, temperature):
        out = SOLUTIONS["relaxed_sample"](logits.float(), gumbel.float(), temperature)
        return out + 1e-4 * (out - out.detach() + 1)  # off by 1e-4; the same gradient

    assert "Its result is" in report("relaxed_sample", off)

    def gradient_off(logits, gumbel, temperature):
        out = SOLUTIONS["relaxed_sample"](logits.float(), gumbel.float(), temperature)
        return out + 1e-3 * (logits - logits.detach()).float()  # the value, another gradient

    text = report("relaxed_sample", gradient_off)
    assert "Its gradient with respect to logits is " in text and " is is " not in text


def test_load_images_names_a_root_that_is_no_folder():
    with pytest.raises(ArgumentTypeError, match=r"^root must be a folder, as a str or a pathlib"):
        load_images("digits", root=3)
