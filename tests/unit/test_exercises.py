"""vicourse.exercises: the checks accept the master notebooks' solutions, reject wrong answers in
plain words (which input, what came, what was expected), and never accept an answer that is off;
the expected answers they compare with are what the solutions give, and the package holds no
solution."""

import json
import math
import sys
import types

import pytest
import torch
from conftest import load_tool
from hypothesis import given, settings
from hypothesis import strategies as st

import vicourse
from vicourse import ArgumentError, ArgumentTypeError, exercises
from vicourse.exercises import EXERCISES, ExerciseFailed, check, verify

EXPECTED = load_tool("expected")  # .ci/expected.py
SOLUTIONS = EXPECTED.solutions()  # run from the master notebooks' answer cells


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_the_solution_passes_its_check(name, capsys):
    assert check(name, SOLUTIONS[name]) is True
    assert capsys.readouterr().out.startswith(f"✓ {name} agrees with the reference")
    verify(name, SOLUTIONS[name])


def test_the_stored_answers_are_what_the_solutions_give(tmp_path):
    stored = json.loads(EXPECTED.STORE.read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps(EXPECTED.build()))
    assert EXPECTED.differences(stored, fresh) == []
    # a solution edited without regenerating the file is found
    book = tmp_path / "book"
    book.mkdir()
    notebook = EXPECTED.ROOT / "book" / "04_kl_identity.ipynb"
    text = notebook.read_text(encoding="utf-8").replace("mean_term - 0.5", "mean_term - 0.25")
    assert "mean_term - 0.25" in text
    (book / notebook.name).write_text(text, encoding="utf-8")
    for other in (EXPECTED.ROOT / "book").glob("[0-9][0-9]_*.ipynb"):
        if other.name != notebook.name:
            (book / other.name).write_text(other.read_text(encoding="utf-8"), encoding="utf-8")
    edited = json.loads(json.dumps(EXPECTED.build(book)))
    found = EXPECTED.differences(stored, edited)
    assert found and all(line.startswith("/exercises/kl_normal[") for line in found)


def test_the_package_holds_no_solution():
    assert EXPECTED.find_solutions() == []
    assert not hasattr(__import__("vicourse").exercises, "kl_normal")
    # the scan finds a solution wherever it is, as a function or a static method
    planted = types.ModuleType("vicourse.planted")
    planted.kl_normal = SOLUTIONS["kl_normal"]
    planted.Helpers = type("Helpers", (), {"step": staticmethod(SOLUTIONS["ascent_step"])})
    planted.Helpers.__module__ = planted.__name__
    assert EXPECTED.find_solutions([planted]) == [
        "vicourse.planted.kl_normal solves kl_normal",
        "vicourse.planted.Helpers.step solves ascent_step",
    ]


def _naive_log_marginal(x, weights, means, scales):
    density = torch.exp(-((x[:, None] - means) ** 2) / (2 * scales**2))
    return (weights * density / (scales * math.sqrt(2 * math.pi))).sum(-1).log()


def _naive_responsibilities(x, weights, means, scales):
    joint = weights * torch.exp(-((x[:, None] - means) ** 2) / (2 * scales**2)) / scales
    return joint / joint.sum(-1, keepdim=True)


def _naive_vae_loss(logits, x, mu, log_sigma):
    p = torch.sigmoid(logits)
    reconstruction = -(x * p.log() + (1 - x) * (1 - p).log()).sum(-1)
    kl = 0.5 * (mu**2 + (2 * log_sigma).exp() - 1 - 2 * log_sigma).sum(-1)
    return (reconstruction + kl).mean()


def _naive_iwae_by_k(log_w):
    k = torch.arange(1, log_w.shape[0] + 1, dtype=log_w.dtype)[:, None]
    return (log_w.exp().cumsum(0) / k).log()


def _naive_planar_layer(z, u, w, b):
    h = torch.tanh((z * w).sum(-1) + b)
    det = 1 + ((1 - h**2).unsqueeze(-1) * w * u).sum(-1)
    return z + h.unsqueeze(-1) * u, det.log()  # no absolute value


# Answers a learner might write, each wrong in one way, and the words the report must contain.
WRONG = {
    "mixture_log_marginal": (_naive_log_marginal, "is -inf"),
    "responsibilities": (_naive_responsibilities, "is nan"),
    "elbo_with_entropy": (
        lambda log_joint, mu, sigma, eps: log_joint(mu + sigma * eps).mean(0),
        "expected",
    ),
    "kl_normal": (
        lambda mu_q, sigma_q, mu_p, sigma_p: (
            torch.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2)
        ),
        "expected",
    ),
    "ascent_step": (lambda elbo, mu, log_sigma, lr: (mu, log_sigma), "value 1 of 2"),
    "affine_encoder": (
        lambda x, weight, bias: (x @ weight.T + bias).chunk(2, -1),
        "value 2 of 2",
    ),
    "shared_scale_encoder": (
        lambda x, weight, bias, log_sigma: (x @ weight.T + bias, log_sigma.exp()),
        "value 2 of 2 has shape",
    ),
    "reparameterized_sample": (
        lambda mu, sigma, eps: (mu + sigma * eps).detach(),
        "no gradient with respect to mu",
    ),
    "score_function_surrogate": (
        lambda r_values, log_q, baseline=0.0: ((r_values - baseline) * log_q).mean(),
        "gradient with respect to r_values",
    ),
    "vae_loss": (_naive_vae_loss, "is nan"),
    "iwae_by_k": (_naive_iwae_by_k, "is -inf"),
    "cholesky_sample": (  # tril taken as L itself
        lambda loc, tril, eps: loc + (tril @ eps.unsqueeze(-1)).squeeze(-1),
        "expected",
    ),
    "planar_layer": (_naive_planar_layer, "is nan"),
    "relaxed_sample": (  # exp without subtracting the largest score first
        lambda logits, gumbel, temperature: (
            ((logits + gumbel) / temperature).exp()
            / ((logits + gumbel) / temperature).exp().sum(-1, keepdim=True)
        ),
        "is nan",
    ),
}


def test_every_exercise_has_a_wrong_answer_here():
    assert set(WRONG) == set(EXERCISES)


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_wrong_answer_is_reported_with_its_input(name, capsys):
    wrong, words = WRONG[name]
    assert check(name, wrong) is False
    out = capsys.readouterr().out
    assert out.startswith(f"✗ {name} differs from the reference on input")
    assert words in out and "Hint: " in out
    for argument in EXERCISES[name].cases()[0].inputs:
        assert f"  {argument} = " in out  # every input is shown
    assert all(len(line) <= 79 for line in out.splitlines() if not line.startswith("  "))
    with pytest.raises(ExerciseFailed, match="differs from the reference") as caught:
        verify(name, wrong)
    assert isinstance(caught.value, AssertionError)


def test_a_stub_and_an_exception_are_named(capsys):
    def kl_normal(mu_q, sigma_q, mu_p, sigma_p): ...

    assert not check("kl_normal", kl_normal)
    assert "the body is still the stub" in capsys.readouterr().out

    def vae_loss(logits, x, mu, log_sigma):
        raise NotImplementedError("later")

    assert not check("vae_loss", vae_loss)
    assert "It raised NotImplementedError: later" in capsys.readouterr().out

    def affine_encoder(x, weight, bias):
        return x @ weight.T + bias  # one tensor, where two are expected

    assert not check("affine_encoder", affine_encoder)
    assert "It returned 1 value(s), expected 2" in capsys.readouterr().out


def test_bad_arguments_name_themselves():
    with pytest.raises(ArgumentError, match=r"^name must be one of \[.*got 'kl'; "):
        check("kl", SOLUTIONS["kl_normal"])
    with pytest.raises(ArgumentError, match=r"^name must be"):
        verify(None, SOLUTIONS["kl_normal"])
    with pytest.raises(ArgumentTypeError, match=r"^fn must be a function, got Tensor; "):
        check("kl_normal", torch.zeros(3))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    name=st.sampled_from(sorted(n for n, e in EXERCISES.items() if e.compare_value)),
    relative=st.floats(1e-4, 10.0),
    sign=st.sampled_from([-1.0, 1.0]),
    where=st.floats(0.0, 1.0, exclude_max=True),
    case=st.integers(0, 3),
)
def test_an_answer_that_is_off_anywhere_is_never_accepted(name, relative, sign, where, case):
    """The solution, with one entry of one output moved by a relative amount >= 1e-4 on one
    input, must fail: the check may not miss an error because of its tolerance or its cases."""
    cases = EXERCISES[name].cases()
    target = cases[case % len(cases)].inputs

    def off(**kwargs):
        out = SOLUTIONS[name](**kwargs)
        outs = list(out) if isinstance(out, tuple) else [out]
        same = all(
            not isinstance(v, torch.Tensor) or torch.equal(v.detach(), target[k])
            for k, v in kwargs.items()
        )
        if same:
            first = outs[0].detach().clone()
            i = int(where * first.numel())
            flat = first.reshape(-1)
            flat[i] = flat[i] + sign * relative * max(abs(float(flat[i])), 1.0)
            outs[0] = first
        return tuple(outs) if isinstance(out, tuple) else outs[0]

    assert check(name, off) is False


# ---------------------------------------------------------------- experiments: one number


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    expected=st.floats(-1e6, 1e6),
    tolerance=st.floats(0.0, 1e3),
    where=st.floats(-3.0, 3.0),
    as_tensor=st.booleans(),
)
def test_a_number_passes_exactly_when_it_is_within_the_tolerance(
    expected, tolerance, where, as_tensor
):
    value = expected + where * tolerance
    inside = abs(value - expected) <= tolerance
    given_value = torch.tensor(value, dtype=torch.float64) if as_tensor else value
    if inside:
        exercises.verify_number("experiment_9_9", given_value, expected, tolerance)
    else:
        with pytest.raises(ExerciseFailed, match=r"^✗ experiment_9_9 is .*a reference run"):
            exercises.verify_number("experiment_9_9", given_value, expected, tolerance)


@pytest.mark.parametrize(
    "value, words",
    [
        (..., "is still ...: run the experiment and store its number in"),
        (None, "is still ..."),
        ("0.5", "is a str, not a number"),
        (True, "is a bool, not a number"),
        (torch.ones(2), "is a tensor of shape (2,), not one number"),
        (math.nan, "is nan; a reference run gives 0.5"),
        (math.inf, "is inf"),
    ],
)
def test_what_is_not_a_number_is_named(value, words):
    with pytest.raises(ExerciseFailed) as caught:
        exercises.verify_number("experiment_1_3", value, 0.5, 0.1)
    text = str(caught.value)
    assert text.startswith("✗ experiment_1_3 ") and words in " ".join(text.split())


def test_numpy_numbers_and_one_element_tensors_are_numbers():
    import numpy as np

    exercises.verify_number("experiment_1_3", np.int64(129), 129, 0)
    exercises.verify_number("experiment_1_3", np.float32(0.5), 0.5, 1e-6)
    exercises.verify_number("experiment_1_3", torch.tensor([[0.5]]), 0.5, 0)


def test_the_graders_arguments_are_checked():
    with pytest.raises(ArgumentError, match=r"^tolerance must be a number ≥ 0, got -1"):
        exercises.verify_number("experiment_1_3", 1.0, 1.0, -1)
    with pytest.raises(ArgumentTypeError, match=r"^name must be a builtins.str, got "):
        exercises.verify_number(3, 1.0, 1.0, 0.1)
    with pytest.raises(ArgumentError, match=r"^expected must be"):
        exercises.verify_number("experiment_1_3", 1.0, math.nan, 0.1)


# ---------------------------------------------------------------- inputs the learner has not seen


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_the_stored_inputs_are_drawn_from_the_stored_seed_and_others_from_any_other(name):
    from vicourse.exercise_cases import draw, stored_seed

    stored = [case.inputs for case in EXERCISES[name].cases()]
    for seed, same in [(stored_seed(name), True), (stored_seed(name) + 1, False)]:
        drawn = draw(name, seed)
        assert [set(d) for d in drawn] == [set(s) for s in stored]
        pairs = zip(drawn, stored, strict=True)
        tensors = [(d[k], s[k]) for d, s in pairs for k in s if torch.is_tensor(s[k])]
        equal = [a.shape == b.shape and torch.equal(a, b) for a, b in tensors]
        assert all(equal) if same else not all(equal)


def test_verify_unseen_passes_a_right_answer_and_names_the_seed_of_a_wrong_one():
    solution, (wrong, _) = SOLUTIONS["kl_normal"], WRONG["kl_normal"]
    for seed in range(5):
        exercises.verify_unseen("kl_normal", solution, solution, seed=seed)
    with pytest.raises(ExerciseFailed, match=r"^✗ kl_normal differs .* input 1 of 5 \(seed 7\):"):
        exercises.verify_unseen("kl_normal", wrong, solution, seed=7)
    exercises.verify_unseen("kl_normal", solution, solution)  # a seed of the system's


def test_an_answer_that_calls_the_package_or_torch_distributions_fails_every_check():
    kl = torch.distributions.kl_divergence
    normal = torch.distributions.Normal

    def wrapper(mu_q, sigma_q, mu_p, sigma_p):
        return kl(normal(mu_q, sigma_q), normal(mu_p, sigma_p))

    def hedged(**inputs):  # calls it, then returns a right answer of its own
        try:
            vicourse.kl_diag_gaussians(None, None)
        except Exception:
            pass
        return SOLUTIONS["kl_normal"](**inputs)

    profile = sys.getprofile()
    for answer, called in [(wrapper, r"Normal\.__init__ \(of torch\.distributions\)"),
                           (hedged, r"kl_diag_gaussians \(of vicourse\)")]:  # fmt: skip
        with pytest.raises(ExerciseFailed, match=rf"It calls {called}, which would compute"):
            exercises.verify_unseen("kl_normal", answer, wrapper, seed=0)
        with pytest.raises(ExerciseFailed, match=called):
            verify("kl_normal", answer)  # the public test says so too
    assert sys.getprofile() is profile  # the watch is gone


def test_an_input_function_may_call_the_package_itself():
    # elbo_with_entropy's log_joint is the package's (a Shown input): calling it is the task
    exercises.verify_unseen(
        "elbo_with_entropy", SOLUTIONS["elbo_with_entropy"], SOLUTIONS["elbo_with_entropy"], 0
    )


def test_the_answer_is_computed_only_after_the_learners_function_has_run():
    def peek(**inputs):  # the caller's expected answer, if it were there
        import sys

        return sys._getframe(1).f_locals["expected"]().values[0]

    with pytest.raises(ExerciseFailed, match=r"It calls .* \(of vicourse\), which would"):
        exercises.verify_unseen("kl_normal", peek, SOLUTIONS["kl_normal"], seed=0)


def test_verify_unseens_arguments_name_themselves():
    solution = SOLUTIONS["kl_normal"]
    with pytest.raises(ArgumentError, match=r"^name must be one of \[.*got 'kl'; "):
        exercises.verify_unseen("kl", solution, solution)
    with pytest.raises(ArgumentTypeError, match=r"^reference must be a function with the"):
        exercises.verify_unseen("kl_normal", solution, 3)
    with pytest.raises(ArgumentTypeError, match=r"^reference must be a function that takes .*"
                       r"\(mu_q, sigma_q, mu_p, sigma_p\), got "):  # fmt: skip
        exercises.verify_unseen("kl_normal", solution, lambda a, b: a)
    with pytest.raises(ArgumentError, match=r"^seed must be an int from 0 to 2\*\*32 − 1, got -1"):
        exercises.verify_unseen("kl_normal", solution, solution, seed=-1)
    with pytest.raises(ArgumentTypeError, match=r"^seed must be an int"):
        exercises.verify_unseen("kl_normal", solution, solution, seed="1")
