"""vicourse: the runnable companion to the course on variational inference.

Read the modules in the order of the derivation; each imports only those above it:

    runtime.py     where code runs and where randomness comes from      (every chapter)
    validation.py  the switch for argument checks                        (every chapter)
    numerics.py    the normal log-density, Monte Carlo, log-mean-exp     (chapters 1–3)
    families.py    what a q family promises: sample from rsample, shapes (chapter 3)
    gaussian.py    the variational family q(z) = N(μ, diag σ²)           (chapter 3)
    categorical.py the variational family q(z) = Categorical(π)          (chapters 2, 7)
    relaxed.py     the Gumbel-softmax relaxation of a categorical q       (chapter 11)
    fullcov.py     a richer family: q(z) = N(μ, L Lᵀ), any covariance     (chapter 10)
    flows.py       a normalizing flow: a Gaussian through planar layers    (chapter 10)
    contracts.py   what a model promises                                 (chapter 1)
    models.py      continuous-z models with exact p(x) and p(z|x)        (chapter 1)
    mixture.py     the discrete-z model, a Gaussian mixture              (chapters 1–2, 7)
    bernoulli_mixture.py  a mixture of Bernoulli images, to enumerate      (chapter 11)
    mle.py         maximum likelihood: gradient ascent and EM            (chapter 2)
    bounds.py      Jensen's inequality, the ELBO                         (chapters 2–3)
    kl.py          the KL divergence, the gap in the bound               (chapter 4)
    estimators.py  pathwise and score-function gradients                 (chapters 5–7)
    local_vi.py    one q_i per datapoint                                 (chapter 5)
    nets.py        the networks: mlp, the encoder, the decoder           (chapters 6, 8)
    amortized.py   one encoder q_φ(z|x) for every x                      (chapter 6)
    data.py        binarized handwritten digits (and MNIST) as tensors   (chapter 8)
    vae.py         the variational autoencoder and its bounds            (chapter 8)
    trainer.py     a fast trainer: resident data, CUDA graphs, checkpoints (chapter 8)
    checkpoints.py what a checkpoint holds, and a resume that is the same run (chapter 8)
    gaps.py        where the ELBO falls short: approximation and amortization (chapter 9)
    snr.py         the gradient's signal-to-noise ratio, for the IWAE objective (chapter 10)
    plots/         matplotlib figures (import explicitly: from vicourse import plots)
    widgets.py     ipywidgets explorers (import explicitly: from vicourse import widgets)
    exercise_cases.py the exercises' inputs and expected answers (no solutions: those are
                   in the master notebooks; python .ci/expected.py stores what they give)
    exercises.py   check(name, fn): a learner's function against them (every chapter)

Conventions: samples first (z is (S, N, K), log densities (S, N), bounds (N,)); functions
return quantities to maximize; every sampler takes a keyword-only `generator=`; device and
dtype follow the inputs; bad arguments raise ArgumentError (a ValueError) or
ArgumentTypeError (also a TypeError), naming the argument, what was expected, what came, and
the fix. Public functions check their arguments once, where the call enters, and then run
the arithmetic unchecked; `vicourse.validation_enabled(False)` (a context manager) or
`vicourse.enable_validation(False)` turns the checks off for code that is known to be right.
"""

from . import exercises, runtime
from ._checks import ArgumentError, ArgumentTypeError, FitError
from .amortized import AmortizationGap, GaussianEncoder, amortization_gap, fit_amortized
from .bernoulli_mixture import BernoulliMixture
from .bounds import (
    elbo,
    elbo_value,
    elbo_with_entropy,
    iwae,
    log_mean_exp,
    log_weights,
    monte_carlo,
    naive_log_marginal,
)
from .categorical import Categorical
from .contracts import LatentModel, TractableModel
from .data import DataUnavailable, Images, load_images
from .estimators import (
    Estimate,
    default_estimator,
    elbo_pathwise,
    elbo_score_function,
    pathwise,
    score_function,
)
from .families import Family
from .flows import PlanarFlow
from .fullcov import FullGaussian
from .gaps import Gaps, gaps, iwae_curve
from .gaussian import DiagonalGaussian
from .kl import kl_diag_gaussians, kl_diag_to_full, kl_full_to_standard_normal, kl_monte_carlo
from .local_vi import LocalFit, fit_local
from .mixture import GaussianMixture
from .mle import em_step, expected_log_joint, fit_em, fit_gradient
from .models import GaussianMean, LinearGaussian
from .nets import BernoulliDecoder
from .numerics import MonteCarloEstimate  # noqa: F401  (0.2.0's name of Estimate)
from .relaxed import RelaxedCategorical, StraightThroughCategorical
from .runtime import default_device, describe, make_generator, seed_everything, smoke
from .snr import GradientSNR, gradient_snr
from .trainer import History, train
from .vae import VAE
from .validation import enable_validation, validation_enabled

# The release, in its one place: pyproject.toml reads it from here (a dynamic version), so the
# installed metadata follows; CITATION.cff, CHANGELOG.md and pyproject.toml's [tool.bumpversion]
# repeat it. Change it with bump-my-version bump --new-version X.Y.Z, which writes every copy.
__version__ = "0.2.0"

__all__ = [
    "VAE",
    "AmortizationGap",
    "ArgumentError",
    "ArgumentTypeError",
    "BernoulliDecoder",
    "BernoulliMixture",
    "Categorical",
    "DataUnavailable",
    "DiagonalGaussian",
    "Estimate",
    "Family",
    "FitError",
    "FullGaussian",
    "Gaps",
    "GaussianEncoder",
    "GaussianMean",
    "GaussianMixture",
    "GradientSNR",
    "History",
    "Images",
    "LatentModel",
    "LinearGaussian",
    "LocalFit",
    "PlanarFlow",
    "RelaxedCategorical",
    "StraightThroughCategorical",
    "TractableModel",
    "amortization_gap",
    "default_device",
    "default_estimator",
    "describe",
    "elbo",
    "elbo_pathwise",
    "elbo_score_function",
    "elbo_value",
    "elbo_with_entropy",
    "em_step",
    "enable_validation",
    "exercises",
    "expected_log_joint",
    "fit_amortized",
    "fit_em",
    "fit_gradient",
    "fit_local",
    "gaps",
    "gradient_snr",
    "iwae",
    "iwae_curve",
    "kl_diag_gaussians",
    "kl_diag_to_full",
    "kl_full_to_standard_normal",
    "kl_monte_carlo",
    "load_images",
    "log_mean_exp",
    "log_weights",
    "make_generator",
    "monte_carlo",
    "naive_log_marginal",
    "pathwise",
    "runtime",
    "score_function",
    "seed_everything",
    "smoke",
    "train",
    "validation_enabled",
]
