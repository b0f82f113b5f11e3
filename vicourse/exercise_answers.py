"""Exercises, part 1: the reference answers, one function per code exercise.

Each is the plain torch a learner is asked to write, with the signature the exercise gives:
`vicourse.exercises.check(name, fn)` compares a learner's function with the one here on the
inputs of `vicourse.exercise_cases`. The answers are the lesson, so they hold no argument checks.

Chapters: the "Exercises" section of every chapter, book/01_…ipynb to book/08_…ipynb.
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Normal

__all__ = [
    "affine_encoder",
    "ascent_step",
    "elbo_with_entropy",
    "kl_normal",
    "mixture_log_marginal",
    "reparameterized_sample",
    "responsibilities",
    "score_function_surrogate",
    "shared_scale_encoder",
    "vae_loss",
]


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


def shared_scale_encoder(x, weight, bias, log_sigma):
    """Chapter 6. μ = x Wᵀ + b and one σ = exp(log σ) for every row; returns (μ, σ), (N, K) each."""
    mu = x @ weight.T + bias
    return mu, log_sigma.exp().expand_as(mu)


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
