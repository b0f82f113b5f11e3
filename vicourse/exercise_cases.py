"""Exercises, part 2: the inputs each exercise is tried on, and the table of exercises.

Inputs are drawn from a seeded generator in float64 on the CPU, with the hard cases a careless
answer gets wrong (a point far from every component, a confident decoder). `EXERCISES` maps each
exercise's name to its reference answer (`vicourse.exercise_answers`), its inputs, the inputs
whose gradients must match too, and a hint; `vicourse.exercises` compares and reports.

Chapters: the "Exercises" section of every chapter, book/01_…ipynb to book/08_…ipynb.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.distributions import Normal

from .exercise_answers import (
    affine_encoder,
    ascent_step,
    elbo_with_entropy,
    kl_normal,
    mixture_log_marginal,
    reparameterized_sample,
    responsibilities,
    score_function_surrogate,
    shared_scale_encoder,
    vae_loss,
)

DTYPE = torch.float64


class Shown:
    """A callable input with a readable name, so that a report can say which function it was."""

    def __init__(self, fn: Callable, text: str):
        self.fn, self.text = fn, text

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self) -> str:
        return self.text


# ---------------------------------------------------------------- random inputs


def _normal(g, *shape):
    return torch.randn(*shape, generator=g, dtype=DTYPE)


def _uniform(g, low, high, *shape):
    return low + (high - low) * torch.rand(*shape, generator=g, dtype=DTYPE)


def _mixture_inputs(g, far: bool):
    k = int(torch.randint(1, 5, (), generator=g))
    n = int(torch.randint(1, 6, (), generator=g))
    weights = torch.softmax(_normal(g, k), 0)
    means, scales = 3 * _normal(g, k), _uniform(g, 0.3, 2.0, k)
    x = 4 * _normal(g, n)
    if far:  # exp(log N) underflows to 0 here: the sum must be taken in log space
        x = torch.cat([x, torch.tensor([60.0, -80.0], dtype=DTYPE)])
    return dict(x=x, weights=weights, means=means, scales=scales)


def _conjugate_log_joint(x, s):
    """log N(z; 0, 1) + log N(x; z, s²), elementwise in z of shape (S, N)."""

    def log_joint(z):
        return Normal(0.0, 1.0).log_prob(z) + Normal(z, s).log_prob(x)

    values = ", ".join(f"{v:.3g}" for v in x.tolist())
    return Shown(log_joint, f"log N(z; 0, 1) + log N(x; z, {s:.3g}²) with x = [{values}]")


def _conjugate_elbo(x, s):
    """The conjugate model's ELBO of q = N(μ, σ²) in closed form, as a function of (μ, log σ)."""

    def elbo(mu, log_sigma):
        var = (2 * log_sigma).exp()
        return (
            -0.5 * math.log(2 * math.pi) - 0.5 * (mu**2 + var)
            - 0.5 * math.log(2 * math.pi * s**2) - ((x - mu) ** 2 + var) / (2 * s**2)
            + 0.5 * math.log(2 * math.pi * math.e) + log_sigma
        )  # fmt: skip

    values = ", ".join(f"{v:.3g}" for v in x.tolist())
    return Shown(elbo, f"the conjugate model's exact ELBO, s = {s:.3g}, x = [{values}]")


def _cases_mixture(g):
    return [_mixture_inputs(g, far=i >= 4) for i in range(6)]


def _cases_elbo(g):
    cases = []
    for _ in range(5):
        n, s = int(torch.randint(1, 5, (), generator=g)), float(_uniform(g, 0.3, 1.5, ()))
        x = 2 * _normal(g, n)
        cases.append(
            dict(
                log_joint=_conjugate_log_joint(x, s),
                mu=_normal(g, n),
                sigma=_uniform(g, 0.05, 2.0, n),
                eps=_normal(g, int(torch.randint(1, 9, (), generator=g)), n),
            )
        )
    return cases


def _cases_kl(g):
    cases = []
    for n in (1, 3, 5, 8):
        cases.append(
            dict(
                mu_q=2 * _normal(g, n),
                sigma_q=_uniform(g, 0.05, 3.0, n),
                mu_p=2 * _normal(g, n),
                sigma_p=_uniform(g, 0.05, 3.0, n),
            )
        )
    same = _normal(g, 3)
    scale = _uniform(g, 0.5, 2.0, 3)
    cases.append(dict(mu_q=same, sigma_q=scale, mu_p=same.clone(), sigma_p=scale.clone()))
    return cases


def _cases_ascent(g):
    cases = []
    for lr in (0.1, 0.01, 0.5, 0.05):
        n, s = int(torch.randint(1, 6, (), generator=g)), float(_uniform(g, 0.3, 1.5, ()))
        elbo = _conjugate_elbo(2 * _normal(g, n), s)
        cases.append(dict(elbo=elbo, mu=_normal(g, n), log_sigma=0.5 * _normal(g, n), lr=lr))
    return cases


def _cases_encoder(g):
    cases = []
    for n, d, k in ((1, 1, 1), (4, 3, 2), (5, 6, 3), (2, 8, 4)):
        cases.append(
            dict(x=_normal(g, n, d), weight=0.5 * _normal(g, 2 * k, d), bias=_normal(g, 2 * k))
        )
    return cases


def _cases_shared_scale(g):
    cases = []
    for n, d, k in ((1, 1, 1), (4, 3, 2), (5, 6, 3), (2, 8, 4)):
        weight, bias = 0.5 * _normal(g, k, d), _normal(g, k)
        cases.append(dict(x=_normal(g, n, d), weight=weight, bias=bias, log_sigma=_normal(g, k)))
    return cases


def _cases_sample(g):
    cases = []
    for s, n, k in ((1, 1, 1), (3, 2, 2), (5, 4, 3), (2, 6, 1)):
        cases.append(
            dict(mu=_normal(g, n, k), sigma=_uniform(g, 0.1, 2.0, n, k), eps=_normal(g, s, n, k))
        )
    return cases


def _cases_surrogate(g):
    cases = []
    for m, b in ((1, 0.0), (4, 0.0), (6, 1.5), (10, -0.7)):
        cases.append(dict(r_values=3 * _normal(g, m), log_q=_normal(g, m) - 1, baseline=b))
    return cases


def _cases_vae(g):
    cases = []
    for n, d, k in ((1, 4, 1), (3, 8, 2), (5, 16, 4), (2, 6, 3)):
        cases.append(
            dict(
                logits=3 * _normal(g, n, d),
                x=(torch.rand(n, d, generator=g, dtype=DTYPE) < 0.4).to(DTYPE),
                mu=_normal(g, n, k),
                log_sigma=0.5 * _normal(g, n, k),
            )
        )
    # a confident decoder: sigmoid(±60) rounds to 0 or 1, and log(0) is −inf
    logits = torch.tensor([[60.0, -60.0, 50.0, -50.0]], dtype=DTYPE)
    x = torch.tensor([[0.0, 1.0, 1.0, 0.0]], dtype=DTYPE)
    cases.append(dict(logits=logits, x=x, mu=_normal(g, 1, 2), log_sigma=_normal(g, 1, 2)))
    return cases


# ---------------------------------------------------------------- the exercises


@dataclass(frozen=True)
class Exercise:
    """One code exercise: its reference answer, its inputs, and what is compared."""

    name: str
    chapter: int
    reference: Callable
    cases: Callable[[torch.Generator], list[dict]]
    grad_wrt: tuple[str, ...] = ()  # inputs whose gradient must match too
    compare_value: bool = True  # False for a surrogate, which is judged by its gradient alone
    hint: str = ""


EXERCISES: dict[str, Exercise] = {
    e.name: e
    for e in [
        Exercise(
            "mixture_log_marginal",
            1,
            mixture_log_marginal,
            _cases_mixture,
            hint="far from every component each π_k N(x; μ_k, σ_k²) rounds to 0; "
            "add the logs with torch.logsumexp instead of exp, sum, log",
        ),
        Exercise(
            "responsibilities",
            2,
            responsibilities,
            _cases_mixture,
            hint="normalize in log space (torch.softmax of the log joint), "
            "so that 0/0 cannot happen far from every component",
        ),
        Exercise(
            "elbo_with_entropy",
            3,
            elbo_with_entropy,
            _cases_elbo,
            hint="z = μ + σ ε, average log_joint(z) over the S draws (dim 0), "
            "then add the entropy ½ log(2πe σ²)",
        ),
        Exercise(
            "kl_normal",
            4,
            kl_normal,
            _cases_kl,
            hint="log(σ_p/σ_q) + (σ_q² + (μ_q − μ_p)²) / (2σ_p²) − ½",
        ),
        Exercise(
            "ascent_step",
            5,
            ascent_step,
            _cases_ascent,
            hint="ascent adds lr × gradient; differentiate elbo(mu, log_sigma).sum() "
            "with torch.autograd.grad and return detached tensors",
        ),
        Exercise(
            "affine_encoder",
            6,
            affine_encoder,
            _cases_encoder,
            hint="the first K outputs are μ, the last K are log σ; return (μ, exp(log σ))",
        ),
        Exercise(
            "shared_scale_encoder",
            6,
            shared_scale_encoder,
            _cases_shared_scale,
            hint="μ = x Wᵀ + b; σ = exp(log σ), repeated for every row: .expand_as(μ)",
        ),
        Exercise(
            "reparameterized_sample",
            7,
            reparameterized_sample,
            _cases_sample,
            grad_wrt=("mu", "sigma"),
            hint="z = mu + sigma * eps, with no .detach() and no new random draws",
        ),
        Exercise(
            "score_function_surrogate",
            7,
            score_function_surrogate,
            _cases_surrogate,
            grad_wrt=("r_values", "log_q"),
            compare_value=False,
            hint="mean of (r − b).detach() × log q: no gradient may flow through r",
        ),
        Exercise(
            "vae_loss",
            8,
            vae_loss,
            _cases_vae,
            hint="binary_cross_entropy_with_logits summed over pixels, plus "
            "½ Σ (μ² + σ² − 1 − log σ²), averaged over the images",
        ),
    ]
}
