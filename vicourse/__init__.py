"""vicourse: the runnable companion to the course on variational inference.

Read the modules in the order of the derivation:

    runtime.py   where code runs and where randomness comes from        (every chapter)
    models.py    latent variable models with exact p(x) and p(z|x)      (chapter 1)
    mixture.py   the discrete-z model: a Gaussian mixture               (chapters 1–2)
    mle.py       maximum likelihood: gradient ascent and EM             (chapter 2)
    gaussian.py  the variational family q(z) = N(μ, diag σ²)            (chapter 3)
    bounds.py    Jensen's inequality, the ELBO, the naive estimate      (chapters 2–3)
    kl.py        the KL divergence, the gap in the bound                (chapter 4)
    plots.py     matplotlib figures (import explicitly: from vicourse import plots)
    widgets.py   ipywidgets explorers (import explicitly: from vicourse import widgets)

Conventions: samples first (z is (S, N, K), log densities (S, N), bounds (N,)); functions
return quantities to maximize; every sampler takes a keyword-only `generator=`; device and
dtype follow the inputs; bad arguments raise ArgumentError (a ValueError) or
ArgumentTypeError (also a TypeError), naming the argument, what was expected, what came, and
the fix.
"""

from . import runtime
from ._checks import ArgumentError, ArgumentTypeError, FitError
from .bounds import (
    MonteCarloEstimate,
    elbo,
    elbo_with_entropy,
    log_weights,
    monte_carlo,
    naive_log_marginal,
)
from .gaussian import DiagonalGaussian
from .kl import kl_diag_gaussians, kl_diag_to_full, kl_monte_carlo
from .mixture import GaussianMixture
from .mle import em_step, expected_log_joint, fit_em, fit_gradient
from .models import GaussianMean, LatentModel, LinearGaussian
from .runtime import default_device, describe, make_generator, seed_everything, smoke

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "DiagonalGaussian",
    "FitError",
    "GaussianMean",
    "GaussianMixture",
    "LatentModel",
    "LinearGaussian",
    "MonteCarloEstimate",
    "default_device",
    "describe",
    "elbo",
    "elbo_with_entropy",
    "em_step",
    "expected_log_joint",
    "fit_em",
    "fit_gradient",
    "kl_diag_gaussians",
    "kl_diag_to_full",
    "kl_monte_carlo",
    "log_weights",
    "make_generator",
    "monte_carlo",
    "naive_log_marginal",
    "runtime",
    "seed_everything",
    "smoke",
]
