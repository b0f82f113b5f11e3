"""Exercises, part 2: the table of exercises, the inputs each is tried on, the answers expected.

The package holds no solution. `exercise_expected.json`, beside this file, stores each code
exercise's inputs (drawn from a seeded generator in float64, with the hard cases a careless answer
gets wrong: a point far from every component, a confident decoder) and, on each, the solution's
outputs and the gradients that must match. `python .ci/expected.py` writes it from the solutions
in the master notebooks (book/NN_*.ipynb), which only the repository and the autograder's tests
see; `vicourse.exercises` compares a learner's function with what it stores.

`draw(name, seed)` draws an exercise's inputs: the stored ones from `stored_seed(name)`, and the
autograder's hidden tests' from a seed picked when grading, which no stored file can answer.

An input that is itself a function (a log joint, an ELBO) is stored as the model it comes from,
and rebuilt here as a `Shown`, which a report can name.

Chapters: the "Exercises" section of every chapter, book/01_…ipynb to book/08_…ipynb.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import torch
from torch.distributions import Normal

DTYPE = torch.float64
STORE = "exercise_expected.json"


class Shown:
    """A callable input with a readable name, so that a report can say which function it was."""

    def __init__(self, fn: Callable, text: str, spec: dict):
        self.fn, self.text, self.spec = fn, text, spec

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self) -> str:
        return self.text


def conjugate_log_joint(x: torch.Tensor, s: float) -> Shown:
    """log N(z; 0, 1) + log N(x; z, s²), elementwise in z of shape (S, N)."""

    def log_joint(z):
        return Normal(0.0, 1.0).log_prob(z) + Normal(z, s).log_prob(x)

    values = ", ".join(f"{v:.3g}" for v in x.tolist())
    text = f"log N(z; 0, 1) + log N(x; z, {s:.3g}²) with x = [{values}]"
    return Shown(log_joint, text, dict(function="conjugate_log_joint", x=x, s=s))


def conjugate_elbo(x: torch.Tensor, s: float) -> Shown:
    """The conjugate model's ELBO of q = N(μ, σ²) in closed form, as a function of (μ, log σ)."""

    def elbo(mu, log_sigma):
        var = (2 * log_sigma).exp()
        return (
            -0.5 * math.log(2 * math.pi) - 0.5 * (mu**2 + var)
            - 0.5 * math.log(2 * math.pi * s**2) - ((x - mu) ** 2 + var) / (2 * s**2)
            + 0.5 * math.log(2 * math.pi * math.e) + log_sigma
        )  # fmt: skip

    values = ", ".join(f"{v:.3g}" for v in x.tolist())
    text = f"the conjugate model's exact ELBO, s = {s:.3g}, x = [{values}]"
    return Shown(elbo, text, dict(function="conjugate_elbo", x=x, s=s))


FUNCTIONS = {"conjugate_log_joint": conjugate_log_joint, "conjugate_elbo": conjugate_elbo}


# ---------------------------------------------------------------- inputs, drawn from a seed


def draw(name: str, seed: int) -> list[dict]:
    """Exercise `name`'s inputs drawn from `seed`, the hard cases a careless answer gets wrong
    last: the stored ones are drawn with seed = stored_seed(name), and a grader draws unseen
    ones from any other seed. Each number depends on every draw before it: reordering the
    draws changes the stored file."""
    rng = torch.Generator().manual_seed(seed)
    normal = functools.partial(torch.randn, generator=rng, dtype=DTYPE)

    def uniform(low, high, *shape):
        return low + (high - low) * torch.rand(*shape, generator=rng, dtype=DTYPE)

    def count(low, high):
        return int(torch.randint(low, high, (), generator=rng))

    return list(_inputs(name, normal, uniform, count))


def stored_seed(name: str) -> int:
    """The seed of the inputs stored in exercise_expected.json: the sum of the name's letters."""
    return sum(map(ord, name))


def _inputs(name, normal, uniform, count):
    if name in ("mixture_log_marginal", "responsibilities"):
        for far in [False] * 4 + [True] * 2:
            k, n = count(1, 5), count(1, 6)
            weights, means = torch.softmax(normal(k), 0), 3 * normal(k)
            scales, x = uniform(0.3, 2.0, k), 4 * normal(n)
            if far:  # exp(log N) underflows to 0 here: the sum must be taken in log space
                x = torch.cat([x, torch.tensor([60.0, -80.0], dtype=DTYPE)])
            yield dict(x=x, weights=weights, means=means, scales=scales)
    elif name == "elbo_with_entropy":
        for _ in range(5):
            n, s = count(1, 5), float(uniform(0.3, 1.5, ()))
            log_joint = conjugate_log_joint(2 * normal(n), s)
            mu, sigma, eps = normal(n), uniform(0.05, 2.0, n), normal(count(1, 9), n)
            yield dict(log_joint=log_joint, mu=mu, sigma=sigma, eps=eps)
    elif name == "kl_normal":
        for n in (1, 3, 5, 8):
            mu_q, sigma_q = 2 * normal(n), uniform(0.05, 3.0, n)
            mu_p, sigma_p = 2 * normal(n), uniform(0.05, 3.0, n)
            yield dict(mu_q=mu_q, sigma_q=sigma_q, mu_p=mu_p, sigma_p=sigma_p)
        mu, sigma = normal(3), uniform(0.5, 2.0, 3)  # q = p
        yield dict(mu_q=mu, sigma_q=sigma, mu_p=mu.clone(), sigma_p=sigma.clone())
    elif name == "ascent_step":
        for lr in (0.1, 0.01, 0.5, 0.05):
            n, s = count(1, 6), float(uniform(0.3, 1.5, ()))
            elbo = conjugate_elbo(2 * normal(n), s)
            yield dict(elbo=elbo, mu=normal(n), log_sigma=0.5 * normal(n), lr=lr)
    elif name == "affine_encoder":
        for n, d, k in ((1, 1, 1), (4, 3, 2), (5, 6, 3), (2, 8, 4)):
            yield dict(x=normal(n, d), weight=0.5 * normal(2 * k, d), bias=normal(2 * k))
    elif name == "shared_scale_encoder":
        for n, d, k in ((1, 1, 1), (4, 3, 2), (5, 6, 3), (2, 8, 4)):
            weight, bias = 0.5 * normal(k, d), normal(k)
            yield dict(x=normal(n, d), weight=weight, bias=bias, log_sigma=normal(k))
    elif name == "reparameterized_sample":
        for s, n, k in ((1, 1, 1), (3, 2, 2), (5, 4, 3), (2, 6, 1)):
            yield dict(mu=normal(n, k), sigma=uniform(0.1, 2.0, n, k), eps=normal(s, n, k))
    elif name == "score_function_surrogate":
        for m, b in ((1, 0.0), (4, 0.0), (6, 1.5), (10, -0.7)):
            yield dict(r_values=3 * normal(m), log_q=normal(m) - 1, baseline=b)
    elif name == "vae_loss":
        for n, d, k in ((1, 4, 1), (3, 8, 2), (5, 16, 4), (2, 6, 3)):
            logits, x = 3 * normal(n, d), (uniform(0, 1, n, d) < 0.4).to(DTYPE)
            yield dict(logits=logits, x=x, mu=normal(n, k), log_sigma=0.5 * normal(n, k))
        logits = torch.tensor([[60.0, -60.0, 50.0, -50.0]], dtype=DTYPE)  # sigmoid: 1, 0, 1, 0
        x = torch.tensor([[0.0, 1.0, 1.0, 0.0]], dtype=DTYPE)  # confidently wrong: log 0 = −inf
        yield dict(logits=logits, x=x, mu=normal(1, 2), log_sigma=normal(1, 2))
    elif name == "iwae_by_k":
        yield dict(log_w=normal(1, 3))  # one draw: IWAE_1 is the log weight itself
        for s, n in ((4, 2), (7, 3), (30, 1)):
            yield dict(log_w=2 * normal(s, n) - 3)
        yield dict(log_w=normal(50, 4) - 1000)  # MNIST's scale: exp(−1000) is 0 in float64
    elif name == "cholesky_sample":  # all of tril random: its upper triangle must not count
        for s, n, k in ((1, 1, 1), (3, 2, 2), (2, 4, 3), (5, 1, 4)):
            yield dict(loc=normal(n, k), tril=normal(n, k, k), eps=normal(s, n, k))
    elif name == "planar_layer":
        for s, n, k in ((1, 1, 1), (3, 2, 2), (4, 3, 3), (2, 1, 5)):
            yield dict(z=normal(s, n, k), u=normal(n, k), w=normal(n, k), b=normal(n))
        w = normal(2, 3)  # at z = 0 and b = 0 the determinant 1 + uᵀw is −1, and log|−1| = 0
        u = -2 * w / w.square().sum(-1, keepdim=True)
        yield dict(z=torch.zeros(2, 2, 3, dtype=DTYPE), u=u, w=w, b=torch.zeros(2, dtype=DTYPE))
    elif name == "relaxed_sample":
        for s, n, c, tau in ((1, 1, 2, 1.0), (3, 2, 4, 0.5), (2, 3, 5, 2.0), (4, 1, 3, 0.1)):
            gumbel = -torch.log(-torch.log(uniform(0, 1, s, n, c)))
            yield dict(logits=normal(n, c), gumbel=gumbel, temperature=tau)
        gumbel = -torch.log(-torch.log(uniform(0, 1, 2, 2, 4)))  # τ = 0.01: exp overflows
        yield dict(logits=10 * normal(2, 4), gumbel=gumbel, temperature=0.01)
    else:
        raise KeyError(f"no inputs are drawn for the exercise {name!r}")


# ---------------------------------------------------------------- stored values, as JSON


def encode(value):
    """A tensor, a Shown input or a number as JSON (float64 values are kept exactly)."""
    if isinstance(value, torch.Tensor):
        flat = value.detach().to(DTYPE).reshape(-1).tolist()
        return dict(shape=list(value.shape), values=flat)
    if isinstance(value, Shown):
        return {key: encode(v) for key, v in value.spec.items()}
    if isinstance(value, dict):
        return {key: encode(v) for key, v in value.items()}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    return value


def decode(value):
    """The inverse of `encode`: fresh tensors and functions each time."""
    if isinstance(value, dict) and "function" in value:
        args = {key: decode(v) for key, v in value.items() if key != "function"}
        return FUNCTIONS[value["function"]](**args)
    if isinstance(value, dict) and set(value) == {"shape", "values"}:
        return torch.tensor(value["values"], dtype=DTYPE).reshape(value["shape"])
    if isinstance(value, dict):
        return {key: decode(v) for key, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def weighted_sum(outputs) -> torch.Tensor:
    """Σ_i Σ w_i ⊙ output_i with w_i = linspace(0.5, 1.5): its gradient sees every entry."""
    total = 0
    for out in outputs:
        w = torch.linspace(0.5, 1.5, out.numel(), dtype=DTYPE).reshape(out.shape)
        total = total + (w * out.to(DTYPE)).sum()
    return total


@functools.cache
def _stored() -> dict:
    return json.loads(resources.files("vicourse").joinpath(STORE).read_text("utf-8"))


# ---------------------------------------------------------------- the exercises


@dataclass(frozen=True)
class Case:
    """One input of an exercise and what the solution gives on it."""

    inputs: dict  # argument name -> tensor, number or Shown function (fresh on every read)
    values: tuple[torch.Tensor, ...]  # the solution's outputs
    gradients: dict[str, torch.Tensor]  # d Σ_i Σ w_i ⊙ output_i / d input, w = linspace(0.5, 1.5)


@dataclass(frozen=True)
class Exercise:
    """One code exercise: what is compared, and a hint for a learner whose answer differs."""

    name: str
    chapter: int
    grad_wrt: tuple[str, ...] = ()  # inputs whose gradient must match too
    compare_value: bool = True  # False for a surrogate, which is judged by its gradient alone
    hint: str = ""

    def cases(self) -> list[Case]:
        """The stored inputs and expected outputs, decoded afresh."""
        return [
            Case(decode(c["inputs"]), tuple(decode(c["values"])), decode(c["gradients"]))
            for c in _stored()["exercises"][self.name]
        ]


EXERCISES: dict[str, Exercise] = {
    e.name: e
    for e in [
        Exercise(
            "mixture_log_marginal",
            1,
            hint="far from every component each π_k N(x; μ_k, σ_k²) rounds to 0; "
            "add the logs with torch.logsumexp instead of exp, sum, log",
        ),
        Exercise(
            "responsibilities",
            2,
            hint="normalize in log space (torch.softmax of the log joint), "
            "so that 0/0 cannot happen far from every component",
        ),
        Exercise(
            "elbo_with_entropy",
            3,
            hint="z = μ + σ ε, average log_joint(z) over the S draws (dim 0), "
            "then add the entropy ½ log(2πe σ²)",
        ),
        Exercise(
            "kl_normal",
            4,
            hint="log(σ_p/σ_q) + (σ_q² + (μ_q − μ_p)²) / (2σ_p²) − ½",
        ),
        Exercise(
            "ascent_step",
            5,
            hint="ascent adds lr × gradient; differentiate elbo(mu, log_sigma).sum() "
            "with torch.autograd.grad and return detached tensors",
        ),
        Exercise(
            "affine_encoder",
            6,
            hint="the first K outputs are μ, the last K are log σ; return (μ, exp(log σ))",
        ),
        Exercise(
            "shared_scale_encoder",
            6,
            hint="μ = x Wᵀ + b; σ = exp(log σ), repeated for every row: .expand_as(μ)",
        ),
        Exercise(
            "reparameterized_sample",
            7,
            grad_wrt=("mu", "sigma"),
            hint="z = mu + sigma * eps, with no .detach() and no new random draws",
        ),
        Exercise(
            "score_function_surrogate",
            7,
            grad_wrt=("r_values", "log_q"),
            compare_value=False,
            hint="mean of (r − b).detach() × log q: no gradient may flow through r",
        ),
        Exercise(
            "vae_loss",
            8,
            hint="binary_cross_entropy_with_logits summed over pixels, plus "
            "½ Σ (μ² + σ² − 1 − log σ²), averaged over the images",
        ),
        Exercise(
            "iwae_by_k",
            9,
            hint="a running log-sum-exp down the draws (torch.logcumsumexp over dim 0), "
            "minus log k for row k − 1: never exp of a log weight near −1000",
        ),
        Exercise(
            "cholesky_sample",
            10,
            grad_wrt=("loc", "tril"),
            hint="L = tril.tril(-1) plus a diagonal of exp(tril's diagonal) (torch.diag_embed); "
            "z = loc + L ε for each draw: (L @ eps.unsqueeze(-1)).squeeze(-1)",
        ),
        Exercise(
            "planar_layer",
            10,
            hint="h = tanh(Σ_k z w + b), ψ = (1 − h²) w; return z + h u and "
            "log |1 + Σ_k ψ u|: the absolute value, since the determinant may be negative",
        ),
        Exercise(
            "relaxed_sample",
            11,
            grad_wrt=("logits",),
            hint="subtract each row's largest score before exp (or use torch.softmax): "
            "(logits + gumbel) / τ reaches the thousands at τ = 0.01, and exp overflows",
        ),
    ]
}
