"""Maximum likelihood for latent variable models: climb (1/N) Σ_i log p_θ(x_i) directly, or by EM.

    direct:  θ ← θ + α ∇_θ (1/N) Σ_i log ∫ p_θ(x_i|z) p(z) dz              (needs the integral)
    EM:      θ ← argmax_θ (1/N) Σ_i E_{z ~ p(z|x_i)}[log p_θ(x_i, z)]     ("guess z, and pretend")

Shapes: x is (N, D); traces are (num_steps,) tensors of the mean log-likelihood per datapoint.
Chapter 2, "Maximum likelihood and the intractable integral" (book/02_maximum_likelihood.ipynb).
"""
from __future__ import annotations

import torch

from . import _checks
from .mixture import GaussianMixture


def fit_gradient(model, x: torch.Tensor, *, num_steps: int = 200, lr: float = 0.05) -> torch.Tensor:
    """Gradient ascent (Adam) on the exact mean log-likelihood (1/N) Σ_i log p_θ(x_i).

    Works for any model here with parameters and an exact `log_marginal` (the mixture, LinearGaussian).

    Returns:
        the mean log-likelihood before each step, a (num_steps,) tensor.

    Chapter: 2.
    """
    model.check_x(x)
    num_steps = _checks.positive_int("num_steps", num_steps)
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError("model must have trainable parameters; this one has none (GaussianMean keeps its "
                         "constants as buffers): use GaussianMixture or LinearGaussian.")
    optimizer = torch.optim.Adam(parameters, lr=_checks.positive("lr", lr))
    trace = x.new_empty(num_steps)
    for step in range(num_steps):
        loss = -model.log_marginal(x).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        trace[step] = -loss.detach()
    bad = (~torch.isfinite(trace)).nonzero()
    if len(bad):
        raise FloatingPointError(f"the log-likelihood became {trace[bad[0, 0]].item()} at step {bad[0, 0].item()} "
                                 f"(lr={lr}); try a smaller lr.")
    return trace


def expected_log_joint(model: GaussianMixture, x: torch.Tensor, responsibilities: torch.Tensor) -> torch.Tensor:
    """E_{z ~ r_i}[log p_θ(x_i, z)] = Σ_c r_ic log p_θ(x_i, z=c): the seed's expected log-likelihood.

    With r = p(z|x_i) computed at the current θ, this is the quantity EM's M-step maximizes.
    Shapes: x (N, D), responsibilities (N, C) -> (N,).   Chapter: 2.
    """
    joint = model.component_log_joint(x)
    _checks.tensor("responsibilities", responsibilities, ndim=2, last=model.num_components,
                   shape_hint=f"(N, C) = ({x.shape[0]}, {model.num_components})")
    return (responsibilities * joint).sum(-1)


@torch.no_grad()
def em_step(model: GaussianMixture, x: torch.Tensor, *, min_scale: float = 1e-3) -> GaussianMixture:
    """One EM iteration, in place: E-step r = p(z|x) at the current θ; M-step θ = argmax Σ_i E_r[log p_θ(x_i, z)].

    The M-step has a closed form for a mixture: π_c = N_c/N, μ_c = Σ_i r_ic x_i / N_c,
    σ_c² = Σ_i r_ic (x_i − μ_c)² / N_c with N_c = Σ_i r_ic. σ_c is kept ≥ min_scale so that a component
    sitting on one point cannot collapse (log p(x) would go to +∞).

    Returns:
        the same model, updated.

    Chapter: 2.
    """
    if not isinstance(model, GaussianMixture):
        raise TypeError(f"model must be a vicourse.GaussianMixture (EM's M-step here is the mixture's closed form), "
                        f"got {type(model).__name__}; use fit_gradient for other models.")
    r = model.posterior(x)  # (N, C), E-step
    counts = r.sum(0)  # (C,)
    if not bool((counts > 0).all()):
        empty = (counts <= 0).nonzero()[:, 0].tolist()
        raise FloatingPointError(f"components {empty} have no responsibility left (N_c = 0), so the M-step would "
                                 f"divide by zero; start EM again with their loc nearer the data.")
    loc = (r.T @ x) / counts[:, None]  # (C, D)
    var = (r[:, :, None] * (x[:, None, :] - loc).square()).sum(0) / counts[:, None]  # (N, C, D) -> (C, D)
    model.logits.copy_((counts / x.shape[0]).log())
    model.loc.copy_(loc)
    model.log_scale.copy_(0.5 * var.clamp_min(_checks.positive("min_scale", min_scale) ** 2).log())
    return model


def fit_em(model: GaussianMixture, x: torch.Tensor, *, num_steps: int = 50, min_scale: float = 1e-3) -> torch.Tensor:
    """Run `num_steps` EM iterations in place.

    Returns:
        the mean log-likelihood after each iteration, a (num_steps,) tensor. EM never lowers it.

    Chapter: 2.
    """
    num_steps = _checks.positive_int("num_steps", num_steps)
    trace = x.new_empty(num_steps)
    for step in range(num_steps):
        em_step(model, x, min_scale=min_scale)
        with torch.no_grad():
            trace[step] = model.log_marginal(x).mean()
    return trace
