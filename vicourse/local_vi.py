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

from . import _checks_kinds as kinds
from . import _checks_values
from ._checks_spec import validated
from .contracts import LatentModel
from .estimators import Estimate, default_estimator
from .families import Family


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
    watch: tuple = (),
) -> torch.Tensor:
    """Annealed Adam up an ELBO: num_steps steps along the gradient of estimate()'s surrogate.

    Returns the trace of estimate()'s value, averaged over datapoints: (num_steps + 1,), [0] at
    the start, [t] after t steps (one estimate per step, so no extra work).   Chapters: 5, 6.

    Called from the trusted bodies of the fitters, whose arguments were checked where the call
    entered: no step checks anything (no check, no GPU sync per step). A fit computes its own
    gradients, under torch.no_grad() too; only `parameters` get a .grad (not, say, the model's
    when it is held fixed). watch: (name, module) pairs, e.g. ("model", model), whose parameters,
    if they were not finite before the first step, are named as the cause of a fit that
    diverged, instead of lr (their finiteness is recorded on the device, no sync).
    """
    start = {owner: _finite_flags(module) for owner, module in watch}
    optimizer, schedule = annealed_adam(parameters, lr, num_steps)
    trace = like.new_empty(num_steps + 1)
    with torch.enable_grad():
        for step in range(num_steps + 1):
            result = estimate()
            trace[step] = result.value.mean()
            if step == num_steps:
                break
            optimizer.zero_grad()
            (-result.surrogate.mean()).backward(inputs=parameters)
            optimizer.step()
            schedule.step()
    if not bool(torch.isfinite(trace).all()):  # a refusal that teaches: what diverged, and why
        for owner, flags in start.items():
            _checks_values.fit_trace(None, lr, "ELBO", start=flags, owner=owner)
        _checks_values.fit_trace(trace, lr, "ELBO")
    return trace


def _finite_flags(module) -> dict[str, torch.Tensor]:
    return {name: p.detach().isfinite().all() for name, p in module.named_parameters()}


@validated(
    model=kinds.model(LatentModel),
    x=kinds.fit_data_for(),
    num_steps=kinds.count,
    num_samples=kinds.count,
    lr=kinds.positive,
    estimator=kinds.estimator,
    init=kinds.fitted_q_for(),
    fit_model=kinds.flag,
    baseline=kinds.estimator_baseline(),
    generator=kinds.generator_for("x"),
)
def fit_local(
    model: LatentModel,
    x: torch.Tensor,
    *,
    num_steps: int = 500,
    num_samples: int = 1,
    lr: float = 0.05,
    estimator: Callable[..., Estimate] | None = None,
    baseline=None,
    init: Family | None = None,
    fit_model: bool = False,
    generator: torch.Generator | None = None,
) -> LocalFit:
    """Fit one q_i per datapoint by Adam on the ELBO (and θ too, if fit_model), in place for θ.
    The step size falls from lr to lr/100 over the run (see annealed_adam).

    Args:
        estimator: an ELBO estimator, vicourse.elbo_pathwise (reparameterized; q must have
            rsample) or vicourse.elbo_score_function (any q); by default the first where q has
            rsample, else the second.
        baseline: for the score estimator (see estimators.score_function).
        init: the starting q, one row per datapoint; the prior p(z) by default. Only its
            variational parameters are fitted: a temperature τ stays as given (q.fixed).
        fit_model: also step θ, the model's parameters, as the notes' loop does.

    Returns:
        LocalFit(q, trace).   Chapter: 5.
    """
    init = model.prior(x.shape[0]) if init is None else init
    estimate = estimator or default_estimator(init)
    options = {} if baseline is None else {"baseline": baseline}
    params = {
        k: v.detach().clone().requires_grad_(k not in init.fixed) for k, v in init.params().items()
    }
    trainable = [v for k, v in params.items() if k not in init.fixed]
    if fit_model:
        trainable += model.trainable_parameters()

    def step():
        q = type(init)(**params)
        return estimate(model, q, x, num_samples, generator=generator, **options)

    trace = ascend(step, trainable, lr=lr, num_steps=num_steps, like=x, watch=(("model", model),))
    return LocalFit(type(init)(**{k: v.detach() for k, v in params.items()}), trace)
