"""Grades that cannot be gamed. Every autograded question of the master notebooks has a public
test (instant feedback on the stored inputs, which ship with the package) and a hidden one, in
the autograder's zip only, that the grade rests on (the question is all or nothing). The hidden
test of a code exercise draws new inputs at grading time and computes what is expected on them
there (exercises.verify_unseen), once the answer has run; an answer that calls into the package,
torch.distributions or torch.optim (which would compute it for it) fails the public and the
hidden test alike. The hidden test of an experiment computes its
reference from what the student cannot change: the chapter's set-up built again, or the
trained models on data the test loads itself, checked against what every run of the chapter
gives. Shown here without otter or a chapter's execution, with the tests as the notebooks
hold them: the solution passes at any seed; an answer that looks the stored inputs up, and a
steered experiment (the notebook's variables changed, the stored number made to match), pass
the public test and fail the hidden one; a wrapper around the package's or torch's functions
fails both. The hidden tests catch shortcuts: they are no sandbox against code that sets out to
defeat the grader in its own process (turning the watch off and on again, threads)."""

import json
import math

import nbformat
import pytest
import torch
from conftest import ROOT, functions_defined, graded_questions, load_tool

import vicourse
from vicourse import exercises
from vicourse.exercise_cases import EXERCISES, decode

EXPECTED = load_tool("expected")  # .ci/expected.py
SOLUTIONS = EXPECTED.solutions()  # run from the master notebooks' answer cells
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
HIDDEN = "# HIDDEN"  # the first line that makes otter assign keep a test out of the student's copy


def questions(nb) -> list[tuple[dict, list[str]]]:
    """(config, the sources of its test cells) for each question of a master notebook."""
    return [(config, [c.source for c in cells]) for config, cells in graded_questions(nb)]


def defined(sources: list[str]) -> dict:
    """{name: function} of the test functions that the cells define (not their calls)."""
    return functions_defined(sources, "a test cell")


def graded() -> dict[str, tuple]:
    """{what a question grades (an exercise's name, or experiment_N_M): (public, hidden)}."""
    found = {}
    for path in CHAPTERS:
        for config, sources in questions(nbformat.read(path, as_version=4)):
            if config.get("manual"):
                continue
            public = defined([s for s in sources if not s.startswith(HIDDEN)])
            hidden = defined([s for s in sources if s.startswith(HIDDEN)])
            ((name, test),) = public.items()
            found[name.removeprefix("test_")] = (test, hidden[f"{name}_unseen"])
    return found


GRADED = graded()
CODE = sorted(name for name in GRADED if not name.startswith("experiment_"))


def test_every_autograded_question_is_graded_all_or_nothing_by_one_hidden_test():
    """A public test and a hidden one per autograded question, and no points unless both pass:
    otter's all_or_nothing (otter assign keeps the HIDDEN cells out of the student's copy)."""
    assert set(CODE) == set(EXERCISES) and len(GRADED) == len(EXERCISES) + len(CHAPTERS)
    for path in CHAPTERS:
        for config, sources in questions(nbformat.read(path, as_version=4)):
            if config.get("manual"):
                assert not sources, (path.name, config["name"])
                continue
            assert config.get("all_or_nothing") is True, (path.name, config["name"])
            hidden = [s for s in sources if s.startswith(HIDDEN)]
            assert len(sources) == 2 and len(hidden) == 1, (path.name, config["name"])
            assert not sources[0].startswith(HIDDEN), "the public test comes first"


# ---------------------------------------------------------------- code exercises


@pytest.mark.parametrize("name", CODE)
def test_the_solution_passes_its_hidden_test_at_every_seed(name, monkeypatch):
    _, hidden = GRADED[name]
    for seed in range(50):
        monkeypatch.setattr(exercises, "_grading_seed", lambda seed=seed: seed)
        hidden(SOLUTIONS[name])


def same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b.detach())
    if isinstance(a, exercises.Shown):
        return a.text == b.text  # (an attribute: its __repr__ is the package's code)
    return a == b


def lookup(name: str):
    """An answer that looks its inputs up in the stored file: the stored outputs, plus a term
    worth 0 that carries the stored gradients (so it passes check() and the public test)."""
    text = (ROOT / "vicourse" / "exercise_expected.json").read_text(encoding="utf-8")
    stored = json.loads(text)["exercises"][name]
    cases = [(decode(c["inputs"]), decode(c["values"]), decode(c["gradients"])) for c in stored]

    def answer(**inputs):
        for known, values, gradients in cases:
            if set(known) == set(inputs) and all(same(known[k], inputs[k]) for k in known):
                first = torch.zeros_like(values[0]).reshape(-1)
                first[0] = 1 / 0.5  # the gradient check's weighted sum weighs entry 0 by 0.5
                first = first.reshape(values[0].shape)
                zeros = [first * (g * (inputs[k] - inputs[k].detach())).sum()
                         for k, g in gradients.items()]  # fmt: skip
                values = [sum(zeros, start=values[0]), *values[1:]]
                return values[0] if len(values) == 1 else tuple(values)
        raise KeyError("an input that is not stored")

    return answer


@pytest.mark.parametrize("name", CODE)
def test_a_lookup_answer_passes_the_public_test_and_fails_the_hidden_one(name):
    public, hidden = GRADED[name]
    answer = lookup(name)
    public(answer)  # the stored inputs: a lookup passes, gradients included
    with pytest.raises(exercises.ExerciseFailed, match=r"KeyError: 'an input that is not"):
        hidden(answer)


def mixture(weights, means, scales):
    return vicourse.GaussianMixture(weights.log(), means[:, None], scales.log()[:, None])


def diagonal(mu, sigma):
    return vicourse.DiagonalGaussian(mu[:, None], sigma.log()[:, None])


normal = torch.distributions.Normal
D = torch.distributions
# Short wrappers around functions of the package or torch that compute the whole answer, or
# most of it. Exercises not listed have none.
WRAPPERS = {
    ("mixture_log_marginal", "log_marginal"): lambda x, weights, means, scales: mixture(
        weights, means, scales
    ).log_marginal(x[:, None]),
    ("mixture_log_marginal", "MixtureSameFamily"): lambda x, weights, means, scales: (
        D.MixtureSameFamily(D.Categorical(probs=weights), normal(means, scales)).log_prob(x)
    ),
    ("mixture_log_marginal", "component_log_joint"): lambda x, weights, means, scales: (
        mixture(weights, means, scales).component_log_joint(x[:, None]).logsumexp(-1)
    ),
    ("responsibilities", "posterior"): lambda x, weights, means, scales: (
        mixture(weights, means, scales).posterior(x[:, None]).probs
    ),
    ("responsibilities", "component_log_joint"): lambda x, weights, means, scales: (
        mixture(weights, means, scales).component_log_joint(x[:, None]).softmax(-1)
    ),
    ("kl_normal", "kl_divergence"): lambda mu_q, sigma_q, mu_p, sigma_p: D.kl_divergence(
        normal(mu_q, sigma_q), normal(mu_p, sigma_p)
    ),
    ("kl_normal", "kl_diag_gaussians"): lambda mu_q, sigma_q, mu_p, sigma_p: (
        vicourse.kl_diag_gaussians(diagonal(mu_q, sigma_q), diagonal(mu_p, sigma_p))
    ),
    ("kl_normal", "_kl_multivariatenormal"): lambda mu_q, sigma_q, mu_p, sigma_p: (
        D.kl._kl_multivariatenormal_multivariatenormal(
            D.MultivariateNormal(mu_q[:, None], scale_tril=sigma_q[:, None, None]),
            D.MultivariateNormal(mu_p[:, None], scale_tril=sigma_p[:, None, None]),
        )
    ),
    ("reparameterized_sample", "AffineTransform"): lambda mu, sigma, eps: (
        D.transforms.AffineTransform(mu, sigma)(eps)
    ),
    ("iwae_by_k", "iwae"): lambda log_w: torch.stack(
        [vicourse.iwae(log_w[:k]) for k in range(1, len(log_w) + 1)]
    ),
    ("cholesky_sample", "FullGaussian"): lambda loc, tril, eps: (
        loc + torch.einsum("nij,snj->sni", vicourse.FullGaussian(loc, tril).scale_tril, eps)
    ),
    ("cholesky_sample", "LowerCholeskyTransform"): lambda loc, tril, eps: (
        loc + torch.einsum("nij,snj->sni", D.transforms.LowerCholeskyTransform()(tril), eps)
    ),
    ("planar_layer", "PlanarFlow"): lambda z, u, w, b: vicourse.PlanarFlow(
        0 * u, 0 * u, u[:, None], w[:, None], b[:, None]
    ).layer(z, 0, u_hat=u[:, None]),
    ("relaxed_sample", "RelaxedCategorical"): lambda logits, gumbel, temperature: (
        vicourse.RelaxedCategorical(logits, temperature).relax(gumbel)
    ),
}


@pytest.mark.parametrize("name, via", sorted(WRAPPERS))
def test_a_wrapper_fails_the_public_test_and_the_hidden_one(name, via):
    wrapper = WRAPPERS[name, via]
    for test in GRADED[name]:
        with pytest.raises(exercises.ExerciseFailed, match=r"would\s+compute\s+the\s+answer"):
            test(wrapper)


def test_a_wrapper_that_turns_the_watch_off_fails_too():
    def answer(mu_q, sigma_q, mu_p, sigma_p):
        import sys

        sys.setprofile(None)
        return WRAPPERS["kl_normal", "kl_divergence"](mu_q, sigma_q, mu_p, sigma_p)

    with pytest.raises(exercises.ExerciseFailed, match=r"turns off sys\.setprofile"):
        GRADED["kl_normal"][1](answer)


# ---------------------------------------------------------------- experiments


def digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    return train_test_split(digits.data, test_size=0.2, random_state=0, stratify=digits.target)


def zeroed(module):
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.zero_()
    return module


F64 = torch.float64


def steer_1_3():  # a wider likelihood: fewer points needed
    linear = vicourse.LinearGaussian(
        torch.tensor([[1.5], [0.8]], dtype=F64), torch.tensor([0.5, -0.5], dtype=F64), 3.0
    )
    return dict(linear=linear, x2=linear.sample(100, generator=vicourse.make_generator(0))[1])


def steer_3_3():  # q is the posterior: no gap at all
    model = vicourse.GaussianMean(dim=1, noise_scale=0.5).to("cpu", F64)
    x_i = torch.tensor([[1.2]], dtype=F64)
    return dict(model=model, x_i=x_i, q=model.posterior(x_i))


def steer_5_3():  # a narrower likelihood: a sharper posterior, reached in fewer steps
    conjugate = vicourse.GaussianMean(dim=2, noise_scale=0.3, dtype=F64)
    return dict(conjugate=conjugate, x_c=torch.zeros(50, 2, dtype=F64))


def steer_6_4():  # a decoder that ignores z, and an encoder that gives the prior: no gap
    train, _ = digits_split()
    x = torch.tensor(train, dtype=torch.float32)
    decoder = vicourse.LinearGaussian(torch.zeros(64, 16), x.mean(0), noise_scale=3.0)
    encoder = zeroed(vicourse.GaussianEncoder.for_data(x, 16, hidden=()))
    _, test = digits_split()
    return dict(decoder=decoder, encoder=encoder, x_test=torch.tensor(test, dtype=torch.float32))


def steer_8_3():  # an encoder that gives the prior: no KL
    try:
        data = vicourse.load_images("mnist5k")
    except vicourse.DataUnavailable as error:
        pytest.skip(f"MNIST is not available here: {error}")
    torch.manual_seed(0)
    vae = vicourse.VAE.for_data(data.x_train, latent_dim=2, hidden=(400,))
    zeroed(vae.encoder.net[-1])
    return dict(vae=vae, x_test=data.x_test)


def steer_9_3():  # as 6.4: the encoder's q is the best one, and 90% is there at once
    train, test = digits_split()
    x_lin = torch.tensor(train, dtype=F64)
    decoder = vicourse.LinearGaussian(torch.zeros(64, 16, dtype=F64), x_lin.mean(0), 3.0)
    encoder = zeroed(vicourse.GaussianEncoder.for_data(x_lin, 16, hidden=()))
    return dict(decoder=decoder, encoder=encoder, held_lin=torch.tensor(test[:50], dtype=F64))


def steer_10_4():  # z does not reach x: q is the posterior, no gap
    weight = torch.zeros(3, 2, dtype=F64)
    linear = vicourse.LinearGaussian(weight=weight, noise_scale=0.5)
    return dict(linear=linear, x_lin=torch.tensor([[1.0, 0.5, -1.0]], dtype=F64))


def steer_11_3():  # the brief's attack: f8 zeroed, so that the variance is 0
    digits = vicourse.load_images("digits")
    torch.manual_seed(0)
    model = vicourse.BernoulliMixture(torch.zeros(10), 0.1 * torch.randn(10, 64))
    encoder = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 10))
    with torch.no_grad():
        logits8 = encoder(digits.x_test[:8])
    return dict(model=model, encoder=encoder, logits8=logits8, f8=torch.zeros(8, 10))


# What each experiment's public test reads besides the number, changed so that its reference
# moves to a number the student can give without the experiment; None where it reads nothing
# the student can change (its hidden test then needs only the number, as the public one).
STEERS = {
    "experiment_1_3": steer_1_3,
    "experiment_2_3": lambda: dict(
        one_d=vicourse.GaussianMean(dim=1, noise_scale=5.0).to("cpu", F64)
    ),
    "experiment_3_3": steer_3_3,
    "experiment_4_3": None,
    "experiment_5_3": steer_5_3,
    "experiment_6_4": steer_6_4,
    "experiment_7_4": None,
    "experiment_8_3": steer_8_3,
    "experiment_9_3": steer_9_3,
    "experiment_10_4": steer_10_4,
    "experiment_11_3": steer_11_3,
}


def reference_of(test, arguments) -> tuple[float, float]:
    """The (expected, tolerance) with which a test calls verify_number on these arguments."""
    seen = []
    original = exercises.verify_number
    exercises.verify_number = lambda name, value, expected, tolerance: seen.append(
        (expected, tolerance)
    )
    try:
        test(**arguments)
    finally:
        exercises.verify_number = original
    return seen[0]


def arguments_of(test, values: dict) -> dict:
    return {k: values[k] for k in test.__code__.co_varnames[: test.__code__.co_argcount]}


@pytest.mark.parametrize("name", sorted(STEERS))
def test_a_steered_experiment_passes_the_public_test_and_fails_the_hidden_one(name):
    public, hidden = GRADED[name]
    if STEERS[name] is None:  # nothing to steer: both tests take the number alone (and 7.4's
        assert hidden.__code__.co_argcount == 1, name  # public one a generator, for its device)
        return
    steered = STEERS[name]() | {name: math.nan}
    # the stored number made to match the changed variables
    steered[name], _ = reference_of(public, arguments_of(public, steered))
    public(**arguments_of(public, steered))
    with pytest.raises(AssertionError):
        hidden(**arguments_of(hidden, steered))


# The chapter's own set-up, where building it is cheap: its hidden test gives the number that
# the public test gives on it (the trained models' experiments: the chapters' executions).
def chapter_1_3():
    weight, bias = torch.tensor([[1.5], [0.8]], dtype=F64), torch.tensor([0.5, -0.5], dtype=F64)
    linear = vicourse.LinearGaussian(weight, bias, noise_scale=0.3)
    return dict(linear=linear, x2=linear.sample(100, generator=vicourse.make_generator(0))[1])


def chapter_3_3():
    loc, scale = torch.tensor([[0.3]], dtype=F64), torch.tensor([[0.8]], dtype=F64)
    return steer_3_3() | dict(q=vicourse.DiagonalGaussian(loc, scale.log()))


def chapter_10_4():
    weight = torch.tensor([[1.0, 0.8], [0.5, 0.7], [-1.0, -0.6]], dtype=F64)
    linear = vicourse.LinearGaussian(weight=weight, noise_scale=0.5)
    return steer_10_4() | dict(linear=linear)


HONEST = {
    "experiment_1_3": chapter_1_3,
    "experiment_3_3": chapter_3_3,
    "experiment_10_4": chapter_10_4,
}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_an_honest_experiment_passes_its_hidden_test(name):
    public, hidden = GRADED[name]
    honest = HONEST[name]() | {name: math.nan}
    honest[name], _ = reference_of(public, arguments_of(public, honest))
    public(**arguments_of(public, honest))
    hidden(**arguments_of(hidden, honest))


# ---------------------------------------------------------------- the zip, end to end

LOOKUP_4_2 = """import json
from importlib import resources

import torch

text = resources.files("vicourse").joinpath("exercise_expected.json").read_text()
stored = json.loads(text)["exercises"]["kl_normal"]


def kl_normal(mu_q, sigma_q, mu_p, sigma_p):
    given = dict(mu_q=mu_q, sigma_q=sigma_q, mu_p=mu_p, sigma_p=sigma_p)
    for case in stored:
        inputs = case["inputs"]
        if all(inputs[k]["values"] == v.reshape(-1).tolist() for k, v in given.items()):
            out = case["values"][0]
            return torch.tensor(out["values"], dtype=torch.float64).reshape(out["shape"])
    return torch.zeros_like(mu_q)


answer_4_2 = kl_normal
"""


@pytest.mark.end_to_end
def test_the_zip_scores_a_lookup_answer_zero_though_its_public_test_passes(tmp_path):
    """Chapter 4 made by .ci/assign.py and graded by its zip with `otter run` in this
    environment (test_gradescope.py grades chapter 7's in Gradescope's): the lookup's
    question scores 0 of its points, its public test passing; the experiment, answered, full."""
    import subprocess
    import sys

    pytest.importorskip("otter", reason="otter-grader is not installed (requirements.txt)")
    assign = load_tool("assign")
    out = tmp_path / "coursework"
    assert assign.main(["--out", str(out), "--chapters", "04", "--no-run-tests"]) == 0
    nb = nbformat.read(out / "student" / "04_kl_identity.ipynb", as_version=4)
    (answer,) = [c for c in nb.cells if "\nanswer_4_2 = kl_normal" in c.source]
    answer.source = LOOKUP_4_2
    (number,) = [c for c in nb.cells if "experiment_4_3 = ..." in c.source]
    number.source = number.source.replace("...", repr(-0.5 * math.log(1 - 0.9**2)))
    nbformat.write(nb, tmp_path / "lookup.ipynb")
    zip_path = out / "autograder" / "04_kl_identity.zip"
    command = [sys.executable, "-m", "otter", "run", "-a", zip_path, "-o", tmp_path, "--no-logo"]
    subprocess.run([*map(str, command), str(tmp_path / "lookup.ipynb")], check=True, timeout=600)
    tests = json.loads((tmp_path / "results.json").read_text())["tests"]
    scores = {t["name"]: (t["score"], t["max_score"]) for t in tests if t.get("max_score")}
    assert scores == {"ex4_2": (0.0, 2.0), "ex4_3": (2.0, 2.0)}
    public = next(t["output"] for t in tests if t["name"] == "Public Tests")
    assert "ex4_2 results: All test cases passed!" in public


def chapter_11(monkeypatch) -> dict:
    """Chapter 11's code as it runs, on the CPU, to where §11.2 has trained its model and
    encoder and computed logits8 and f8 (its first code cells, the Colab install left out)."""
    monkeypatch.setenv("VICOURSE_DEVICE", "cpu")
    path = next(p for p in CHAPTERS if p.name.startswith("11_"))
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    setup, models, check, checked, train = cells[:5]
    setup = setup.replace("%pip install", "pass  #")  # in an `if` that is false here
    train = train.split("\nx_rows = ")[0]
    namespace = {}
    for source in (setup, models, check, checked, train):
        exec(compile(source, path.name, "exec"), namespace)
    return namespace


def test_chapter_11s_own_run_passes_and_its_f8_zeroed_fails(monkeypatch, capsys):
    """The attack on experiment 11.3 as it was: f8 zeroed and 0.0 stored, on the trained
    model, passes the public test and fails the hidden one; the run itself passes both."""
    public, hidden = GRADED["experiment_11_3"]
    ran = chapter_11(monkeypatch) | {"experiment_11_3": math.nan}
    for f8 in (ran["f8"], torch.zeros_like(ran["f8"])):
        ran["f8"] = f8
        ran["experiment_11_3"], _ = reference_of(public, arguments_of(public, ran))
        public(**arguments_of(public, ran))
        if f8.any():
            hidden(**arguments_of(hidden, ran))
        else:
            with pytest.raises(exercises.ExerciseFailed, match="experiment_11_3 is 0;"):
                hidden(**arguments_of(hidden, ran))
    capsys.readouterr()
