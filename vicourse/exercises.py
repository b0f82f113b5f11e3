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
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.distributions import Normal

from . import _checks

DTYPE = torch.float64
RTOL, ATOL = 1e-6, 1e-9


class ExerciseFailed(AssertionError):
    """A learner's function disagrees with the reference answer (the message says where)."""


class Shown:
    """A callable input with a readable name, so that a report can say which function it was."""

    def __init__(self, fn: Callable, text: str):
        self.fn, self.text = fn, text

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self) -> str:
        return self.text


# ---------------------------------------------------------------- the reference answers


def mixture_log_marginal(x, weights, means, scales):
    """Chapter 1. log p(x) = log Σ_k π_k N(x; μ_k, σ_k²), stably.  (N,), (K,)×3 -> (N,)."""
    log_joint = weights.log() + Normal(means, scales).log_prob(x[:, None])
    return torch.logsumexp(log_joint, dim=-1)


def responsibilities(x, weights, means, scales):
    """Chapter 2. p(z = k | x) for a 1-D mixture, stably.  (N,), (K,)×3 -> (N, K)."""
    log_joint = weights.log() + Normal(means, scales).log_prob(x[:, None])
    return torch.softmax(log_joint, dim=-1)


def elbo_with_entropy(log_joint, mu, sigma, eps):
    """Chapter 3. (1/S) Σ_s log p(x, μ + σ ε_s) + ½ log(2πe σ²).  eps (S, N) -> (N,)."""
    z = mu + sigma * eps
    return log_joint(z).mean(0) + 0.5 * torch.log(2 * math.pi * math.e * sigma**2)


def kl_normal(mu_q, sigma_q, mu_p, sigma_p):
    """Chapter 4. KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) in closed form, elementwise."""
    return torch.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5


def ascent_step(elbo, mu, log_sigma, lr):
    """Chapter 5. One step of gradient ascent on Σ_i elbo(μ, log σ)_i; returns the new pair."""
    mu = mu.detach().requires_grad_(True)
    log_sigma = log_sigma.detach().requires_grad_(True)
    grad_mu, grad_log_sigma = torch.autograd.grad(elbo(mu, log_sigma).sum(), [mu, log_sigma])
    return (mu + lr * grad_mu).detach(), (log_sigma + lr * grad_log_sigma).detach()


def affine_encoder(x, weight, bias):
    """Chapter 6. [μ, log σ] = x Wᵀ + b, split in halves; returns (μ, σ).  (N, D) -> 2 × (N, K)."""
    out = x @ weight.T + bias
    mu, log_sigma = out.chunk(2, dim=-1)
    return mu, log_sigma.exp()


def reparameterized_sample(mu, sigma, eps):
    """Chapter 7. z = μ + σ ε, differentiable in μ and σ.  (N, K)×2, (S, N, K) -> (S, N, K)."""
    return mu + sigma * eps


def score_function_surrogate(r_values, log_q, baseline=0.0):
    """Chapter 7. A scalar whose gradient is (1/M) Σ_j (r_j − b) ∇ log q(z_j).  (M,), (M,) -> ()."""
    return ((r_values - baseline).detach() * log_q).mean()


def vae_loss(logits, x, mu, log_sigma):
    """Chapter 8. −ELBO averaged over images: Bernoulli reconstruction loss + KL(q ‖ N(0, I))."""
    reconstruction = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, x, reduction="none"
    ).sum(-1)
    kl = 0.5 * (mu**2 + (2 * log_sigma).exp() - 1 - 2 * log_sigma).sum(-1)
    return (reconstruction + kl).mean()


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
