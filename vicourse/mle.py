"""Maximum likelihood for latent variable models: climb (1/N) Σ_i log p_θ(x_i), directly or by EM.

    direct:  θ ← θ + α ∇_θ (1/N) Σ_i log ∫ p_θ(x_i|z) p(z) dz        (needs the integral)
    EM:      θ ← argmax_θ (1/N) Σ_i E_{z ~ p_θold(z|x_i)}[log p_θ(x_i, z)], repeated
                                                                  ("guess z, and pretend")

Shapes: x is (N, D). Both fitters return a trace of num_steps + 1 values of the mean
log-likelihood per datapoint: trace[0] at the start, trace[t] after t steps (or iterations).
Chapter 2, "Maximum likelihood and the intractable integral" (book/02_maximum_likelihood.ipynb).
"""

from __future__ import annotations

import torch

from . import _checks, _checks_models, _checks_values
from .contracts import TractableModel
from .mixture import GaussianMixture
from .validation import TRUSTED


def _mean_log_likelihood(model: TractableModel, x: torch.Tensor) -> torch.Tensor:
    return model.log_marginal(x).mean()


def fit_gradient(
    model: TractableModel, x: torch.Tensor, *, num_steps: int = 200, lr: float = 0.05
) -> torch.Tensor:
    """Gradient ascent (Adam) on the exact mean log-likelihood (1/N) Σ_i log p_θ(x_i), in place.

    Works for any model here with trainable parameters and an exact `log_marginal` (the
    mixture, LinearGaussian).

    Returns:
        the mean log-likelihood at the start and after each step, a (num_steps + 1,) tensor.

    Chapter: 2.
    """
    if _checks.enabled:
        _checks.instance("model", model, TractableModel, "use GaussianMixture or LinearGaussian")
        _checks_models.fit_precision("x", _checks_models.data(model, x))
        num_steps = _checks.positive_int("num_steps", num_steps)
        lr = _checks.positive("lr", lr)
    parameters = model.trainable_parameters()
    optimizer = torch.optim.Adam(parameters, lr=lr)
    trace = x.new_empty(num_steps + 1)
    with TRUSTED:  # x was checked above: no check, no GPU sync inside the loop
        for step in range(num_steps):
            loss = -_mean_log_likelihood(model, x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            trace[step] = -loss.detach()
        with torch.no_grad():
            trace[num_steps] = _mean_log_likelihood(model, x)
    _checks_values.fit_trace(trace, lr, "log-likelihood")
    return trace


def expected_log_joint(
    model: GaussianMixture, x: torch.Tensor, responsibilities: torch.Tensor
) -> torch.Tensor:
    """E_{z ~ r_i}[log p_θ(x_i, z)] = Σ_c r_ic log p_θ(x_i, z=c): the expected log-likelihood.

    With r_i = p_θold(z|x_i) computed at the current θ, this is what EM's M-step maximizes.
    Shapes: x (N, D), responsibilities (N, C) -> (N,).   Chapter: 2.
    """
    if _checks.enabled:
        _check_responsibilities(model, x, responsibilities)
    with TRUSTED:
        joint = model.component_log_joint(x)
    return (responsibilities * joint).sum(-1)


def _check_responsibilities(model, x, responsibilities) -> None:
    _checks.instance("model", model, GaussianMixture, "expected_log_joint sums over C labels")
    n, c = _checks_models.data(model, x).shape[0], model.num_components
    _checks.tensor(
        "responsibilities",
        responsibilities,
        ndim=2,
        shape_hint=f"(N, C) = ({n}, {c})",
        fix="pass one row per datapoint, e.g. model.posterior(x).probs",
    )
    if responsibilities.shape != (n, c):
        _checks.fail(
            "responsibilities",
            f"of shape (N, C) = ({n}, {c})",
            str(tuple(responsibilities.shape)),
            "pass one row per datapoint, e.g. model.posterior(x).probs",
        )
    _checks.like("responsibilities", responsibilities, "the model", model.reference())
    _checks_values.distribution_rows("responsibilities", responsibilities)


@torch.no_grad()
def em_step(model: GaussianMixture, x: torch.Tensor, *, min_scale: float = 1e-3) -> GaussianMixture:
    """One EM iteration, in place: the E-step r = p_θold(z|x); the M-step
    θ = argmax_θ Σ_i E_r[log p_θ(x_i, z)].

    The M-step has a closed form for a mixture: π_c = N_c/N, μ_c = Σ_i r_ic x_i / N_c,
    σ_c² = Σ_i r_ic (x_i − μ_c)² / N_c with N_c = Σ_i r_ic. σ_c is kept ≥ min_scale so that a
    component sitting on one point cannot collapse (log p(x) would go to +∞).

    Returns:
        the same model, updated.

    Chapter: 2.
    """
    if _checks.enabled:
        _checks.instance("model", model, GaussianMixture, "use fit_gradient for other models")
        min_scale = _checks_values.scale_in_dtype(
            "min_scale", _checks.positive("min_scale", min_scale), model.loc.dtype
        )
        _checks_models.data(model, x)
    with TRUSTED:
        r = model.posterior(x).probs  # (N, C), E-step
    counts = r.sum(0)  # (C,)
    if not bool((counts > 0).all()):  # always checked: a fit, not an argument, can cause it
        empty = (counts <= 0).nonzero()[:, 0].tolist()
        _checks.fail(
            "model",
            "a mixture whose every component is responsible for some data",
            f"components {empty} with none left (N_c = 0), so the M-step would divide by zero",
            "start EM again with their loc nearer the data",
            kind=_checks.FitError,
        )
    loc = (r.T @ x) / counts[:, None]  # (C, D)
    spread = (r[:, :, None] * (x[:, None, :] - loc).square()).sum(0)  # (N, C, D) -> (C, D)
    var = spread / counts[:, None]
    model.logits.copy_((counts / x.shape[0]).log())
    model.loc.copy_(loc)
    model.log_scale.copy_(0.5 * var.clamp_min(min_scale**2).log())
    return model


def fit_em(
    model: GaussianMixture, x: torch.Tensor, *, num_steps: int = 50, min_scale: float = 1e-3
) -> torch.Tensor:
    """Run `num_steps` EM iterations in place.

    Returns:
        the mean log-likelihood at the start and after each iteration, a (num_steps + 1,)
        tensor. EM never lowers it (up to rounding).

    Chapter: 2.
    """
    if _checks.enabled:
        _checks.instance("model", model, GaussianMixture, "use fit_gradient for other models")
        _checks_models.data(model, x)
        num_steps = _checks.positive_int("num_steps", num_steps)
        min_scale = _checks_values.scale_in_dtype(
            "min_scale", _checks.positive("min_scale", min_scale), model.loc.dtype
        )
    trace = x.new_empty(num_steps + 1)
    with TRUSTED:  # x was checked above
        with torch.no_grad():
            trace[0] = _mean_log_likelihood(model, x)
        for step in range(1, num_steps + 1):
            em_step(model, x, min_scale=min_scale)
            with torch.no_grad():
                trace[step] = _mean_log_likelihood(model, x)
    return trace
