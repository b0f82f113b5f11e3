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

from . import _checks, _checks_values
from . import _checks_kinds as kinds
from ._checks_spec import validated
from .contracts import TractableModel
from .mixture import GaussianMixture

EM_MODEL = kinds.fitted_model(GaussianMixture, "use fit_gradient for other models")


def _mean_log_likelihood(model: TractableModel, x: torch.Tensor) -> torch.Tensor:
    return model.log_marginal(x).mean()


@validated(
    model=kinds.fitted_model(TractableModel, "use GaussianMixture or LinearGaussian"),
    x=kinds.fit_data,
    num_steps=kinds.count,
    lr=kinds.positive,
)
@torch.enable_grad()  # its own gradients, under a caller's torch.no_grad() too
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
    parameters = model.trainable_parameters()
    start = {k: v.detach().clone() for k, v in model.named_parameters()}  # θ₀, for an error
    optimizer = torch.optim.Adam(parameters, lr=lr)
    trace = x.new_empty(num_steps + 1)
    for step in range(num_steps):  # no check, no GPU sync inside the loop
        loss = -_mean_log_likelihood(model, x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        trace[step] = -loss.detach()
    with torch.no_grad():
        trace[num_steps] = _mean_log_likelihood(model, x)
    _refuse_divergence(model, trace, lr, start)  # a refusal that teaches, checked or not
    return trace


def _refuse_divergence(model, trace: torch.Tensor, lr: float, start: dict) -> None:
    """After the loop (one sync when all is well): a log-likelihood that is not finite names
    the step and blames lr, unless it was so from the start, before any step: then a
    parameter θ₀ that was not finite is to blame (unchecked calls reach this: checked ones
    were refused at the entry), and is named. Adam spreads its nan to every parameter, so
    they are judged as they were, `start`."""
    if bool(torch.isfinite(trace).all()):
        return
    if not bool(torch.isfinite(trace[0])):
        kinds.finite_parameters(model, values=start)
    _checks_values.fit_trace(trace, lr, "log-likelihood")


@validated(
    model=kinds.model(GaussianMixture, "expected_log_joint sums over C labels"),
    x=kinds.data_for(),
    responsibilities=kinds.responsibilities,
)
def expected_log_joint(
    model: GaussianMixture, x: torch.Tensor, responsibilities: torch.Tensor
) -> torch.Tensor:
    """E_{z ~ r_i}[log p_θ(x_i, z)] = Σ_c r_ic log p_θ(x_i, z=c): the expected log-likelihood.

    With r_i = p_θold(z|x_i) computed at the current θ, this is what EM's M-step maximizes.
    Shapes: x (N, D), responsibilities (N, C) -> (N,).   Chapter: 2.
    """
    return (responsibilities * model.component_log_joint(x)).sum(-1)


@torch.no_grad()
@validated(model=EM_MODEL, min_scale=kinds.scale_in("model"), x=kinds.data_for())
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
    r = model.posterior(x).probs  # (N, C), E-step
    counts = r.sum(0)  # (C,)
    if not bool((counts > 0).all()):  # a refusal that teaches, checked or not (below)
        _refuse_empty_components(model, counts)
    loc = (r.T @ x) / counts[:, None]  # (C, D)
    spread = (r[:, :, None] * (x[:, None, :] - loc).square()).sum(0)  # (N, C, D) -> (C, D)
    var = spread / counts[:, None]
    model.logits.copy_((counts / x.shape[0]).log())
    model.loc.copy_(loc)
    model.log_scale.copy_(0.5 * var.clamp_min(min_scale**2).log())
    return model


def _refuse_empty_components(model, counts: torch.Tensor) -> None:
    """A fit, not an argument, can leave a component no data: the M-step would divide by 0.
    (Counts of nan come from parameters that are not finite: those are named instead.)"""
    if not bool(torch.isfinite(counts).all()):
        kinds.finite_parameters(model)
    empty = (~(counts > 0)).nonzero()[:, 0].tolist()
    _checks.fail(
        "model",
        "a mixture whose every component is responsible for some data",
        f"components {empty} with none left (N_c = 0), so the M-step would divide by zero",
        "start EM again with their loc nearer the data",
        kind=_checks.FitError,
    )


@validated(
    model=EM_MODEL, x=kinds.data_for(), num_steps=kinds.count, min_scale=kinds.scale_in("model")
)
def fit_em(
    model: GaussianMixture, x: torch.Tensor, *, num_steps: int = 50, min_scale: float = 1e-3
) -> torch.Tensor:
    """Run `num_steps` EM iterations in place.

    Returns:
        the mean log-likelihood at the start and after each iteration, a (num_steps + 1,)
        tensor. EM never lowers it (up to rounding).

    Chapter: 2.
    """
    trace = x.new_empty(num_steps + 1)
    with torch.no_grad():
        trace[0] = _mean_log_likelihood(model, x)
        for step in range(1, num_steps + 1):
            em_step(model, x, min_scale=min_scale)
            trace[step] = _mean_log_likelihood(model, x)
    return trace
