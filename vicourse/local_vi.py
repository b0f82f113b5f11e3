"""Per-datapoint variational inference: one q_i per x_i, fitted by gradient ascent on L_i.

The notes' loop, for every x_i at once:

    sample z ~ q_i(z);  ∇θ L_i ≈ ∇θ log p_θ(x_i | z);  θ ← θ + α ∇θ L_i     (if fit_model)
    update q_i = N(μ_i, σ_i²) by gradient ascent on (μ_i, log σ_i)

Every x_i has its own (μ_i, log σ_i): 2·K·N variational parameters, and a new x needs a new
optimization. Chapter 6 replaces them by one encoder.

Shapes: x (N, D); q (N, K); the trace is (num_steps + 1,), the ELBO estimate averaged over
datapoints: trace[0] at the start, trace[t] after t steps.
Chapter 5, "Per-datapoint variational inference" (book/05_per_datapoint_vi.ipynb).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from . import _checks
from .contracts import Family, LatentModel
from .estimators import Estimate, elbo_estimator


class LocalFit(NamedTuple):
    """q: the fitted family, detached, one row per datapoint.
    trace: (num_steps + 1,) mean ELBO estimate, [0] at the start."""

    q: Family
    trace: torch.Tensor


def annealed_adam(parameters: list[torch.Tensor], lr: float, num_steps: int):
    """Adam whose step size falls from lr to lr/100 over num_steps (a cosine): noisy Monte Carlo
    gradients keep a constant-step optimizer jittering around the optimum; a shrinking step
    lets it settle."""
    optimizer = torch.optim.Adam(parameters, lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, num_steps, eta_min=lr / 100)
    return optimizer, schedule


def ascend(
    estimate: Callable[[], Estimate],
    parameters: list[torch.Tensor],
    *,
    lr: float,
    num_steps: int,
    like: torch.Tensor,
) -> torch.Tensor:
    """Annealed Adam up an ELBO: num_steps steps along the gradient of estimate()'s surrogate.

    Returns the trace of estimate()'s value, averaged over datapoints: (num_steps + 1,), [0] at
    the start, [t] after t steps (one estimate per step, so no extra work).   Chapters: 5, 6.
    """
    optimizer, schedule = annealed_adam(parameters, lr, num_steps)
    trace = like.new_empty(num_steps + 1)
    with _checks.values_trusted():  # the caller checked its data: no GPU sync per step
        for step in range(num_steps + 1):
            result = estimate()
            trace[step] = result.value.mean()
            if step == num_steps:
                break
            optimizer.zero_grad()
            (-result.surrogate.mean()).backward()
            optimizer.step()
            schedule.step()
    return _checks.fit_trace(trace, lr, "ELBO")


def fit_local(
    model: LatentModel,
    x: torch.Tensor,
    *,
    num_steps: int = 500,
    num_samples: int = 1,
    lr: float = 0.05,
    estimator: str = "pathwise",
    baseline=None,
    init: Family | None = None,
    fit_model: bool = False,
    generator: torch.Generator | None = None,
) -> LocalFit:
    """Fit one q_i per datapoint by Adam on the ELBO (and θ too, if fit_model), in place for θ.
    The step size falls from lr to lr/100 over the run (see annealed_adam).

    Args:
        estimator: "pathwise" (reparameterized; q must have rsample) or "score" (any q).
        baseline: for the score estimator (see estimators.score_function).
        init: the starting q, one row per datapoint; the prior p(z) by default.
        fit_model: also step θ, the model's parameters, as the notes' loop does.

    Returns:
        LocalFit(q, trace).   Chapter: 5.
    """
    _checks.instance("model", model, LatentModel, "use a vicourse model")
    n = model.check_x(x).shape[0]
    num_steps = _checks.positive_int("num_steps", num_steps)
    num_samples = _checks.positive_int("num_samples", num_samples)
    lr = _checks.positive("lr", lr)
    estimate = elbo_estimator(estimator, baseline)
    init = model.prior(n) if init is None else model.check_q(init, n)
    params = {k: v.detach().clone().requires_grad_() for k, v in init.params().items()}
    trainable = list(params.values())
    if _checks.boolean("fit_model", fit_model):
        trainable += model.trainable_parameters()

    def step():
        return estimate(model, type(init)(**params), x, num_samples, generator=generator)

    trace = ascend(step, trainable, lr=lr, num_steps=num_steps, like=x)
    return LocalFit(type(init)(**{k: v.detach() for k, v in params.items()}), trace)
