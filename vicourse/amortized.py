"""Amortized variational inference: one encoder q_φ(z|x) = N(μ_φ(x), diag σ_φ(x)²) for every x.

The notes' second loop, trained jointly with the model p_θ(x|z):

    sample z ~ q_φ(z|x_i);  θ ← θ + α ∇θ L_i;  φ ← φ + α ∇φ L_i

One set of φ serves every x, held-out ones included. What it costs is the amortization gap
(Cremer et al. 2018): how much ELBO a q refined for each x on its own would add.

Shapes: x (N, D) -> q (N, K); traces are (num_steps + 1,) mean ELBO estimates, [0] at the start.
Chapter 6, "Amortized variational inference" (book/06_amortized_vi.ipynb).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from . import _checks_kinds as kinds
from ._checks_spec import optional, validated
from .bounds import elbo_value
from .contracts import LatentModel
from .estimators import Estimate, elbo_pathwise
from .local_vi import ascend, fit_local
from .nets import GaussianEncoder, mlp, standardization

__all__ = [
    "AmortizationGap",
    "GaussianEncoder",
    "amortization_gap",
    "fit_amortized",
    "mlp",
    "standardization",
]

ENCODER_ARGUMENTS = dict(  # a model, an encoder from its D to its K, and data x for both
    model=kinds.model(LatentModel),
    encoder=kinds.encoder_for(GaussianEncoder),
    x=kinds.fit_data_for(encoder_arg="encoder"),
)
REFINE_ARGUMENTS = dict(
    num_steps=kinds.count,
    num_samples=kinds.count,
    lr=kinds.positive,
    generator=kinds.generator_for("x"),
)


@validated(
    **ENCODER_ARGUMENTS,
    num_steps=kinds.count,
    num_samples=kinds.count,
    batch_size=optional(kinds.count),
    lr=kinds.positive,
    estimator=kinds.estimator,
    baseline=kinds.estimator_baseline(None),  # None: the encoder's q, elbo_pathwise's
    generator=kinds.generator_for("x"),
    fit_model=kinds.flag,
)
def fit_amortized(
    model: LatentModel,
    encoder: GaussianEncoder,
    x: torch.Tensor,
    *,
    num_steps: int = 1000,
    batch_size: int | None = None,
    num_samples: int = 1,
    lr: float = 0.01,
    estimator: Callable[..., Estimate] | None = None,
    baseline=None,
    fit_model: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Adam on the mean ELBO over φ (and θ, if fit_model), in place, with minibatches drawn at
    random (batch_size=None: all of x every step); the step size falls from lr to lr/100.
    estimator and baseline as for fit_local (the encoder's q has rsample: pathwise by default).
    A fit computes its own gradients: under torch.no_grad() too.

    Returns:
        the mean ELBO estimate on each step's batch, (num_steps + 1,): [0] at the start.

    Chapter: 6.
    """
    n = x.shape[0]
    batch = n if batch_size is None else min(batch_size, n)
    estimate = estimator or elbo_pathwise  # the encoder's q has rsample
    options = {} if baseline is None else {"baseline": baseline}
    trainable = list(encoder.parameters())
    if fit_model:
        trainable += model.trainable_parameters()

    def step():
        if batch < n:
            x_batch = x[torch.randint(n, (batch,), generator=generator, device=x.device)]
        else:
            x_batch = x
        return estimate(
            model, encoder(x_batch), x_batch, num_samples, generator=generator, **options
        )

    with torch.enable_grad():  # under a caller's torch.no_grad() too
        watch = (("model", model), ("encoder", encoder))  # named, not lr, if they held nan
        return ascend(step, trainable, lr=lr, num_steps=num_steps, like=x, watch=watch)


class AmortizationGap(NamedTuple):
    """Per datapoint (N,): the encoder's ELBO, the ELBO after refining its q for each x alone,
    and their difference, the amortization gap."""

    encoder_elbo: torch.Tensor
    refined_elbo: torch.Tensor
    gap: torch.Tensor


@validated(**ENCODER_ARGUMENTS, **REFINE_ARGUMENTS)
def amortization_gap(
    model: LatentModel,
    encoder: GaussianEncoder,
    x: torch.Tensor,
    *,
    num_steps: int = 500,
    num_samples: int = 8,
    lr: float = 0.01,
    generator: torch.Generator | None = None,
) -> AmortizationGap:
    """Start fit_local at the encoder's q for each x (θ fixed) and measure what it adds.

    The refined q of each datapoint is the better of the encoder's and fit_local's (noisy steps
    can end a little below a start that was already optimal), so the gap is never negative.
    The ELBOs are exact where the model has a closed form (see bounds.elbo_value), else
    estimated from 4,096 draws. Works under torch.no_grad() too.   Chapter: 6.
    """
    _, before, after = refine(model, encoder, x, num_steps, num_samples, lr, generator)
    return AmortizationGap(before, after, after - before)


@validated(**ENCODER_ARGUMENTS, **REFINE_ARGUMENTS, elbo_samples=kinds.count)
def refine(model, encoder, x, num_steps, num_samples, lr, generator, *, elbo_samples=4096):
    """fit_local from the encoder's q, for each x alone; per x, the better of the two q's, the
    encoder's ELBO and that q's ELBO (elbo_value, from elbo_samples draws where it has no closed
    form). The fit computes its own gradients, under a caller's torch.no_grad() too."""
    with torch.no_grad():
        start = encoder(x)
    with torch.enable_grad():
        fit = fit_local(
            model,
            x,
            init=start,
            num_steps=num_steps,
            num_samples=num_samples,
            lr=lr,
            generator=generator,
        )
    refined = fit.q
    before = elbo_value(model, start, x, num_samples=elbo_samples, generator=generator)
    refined_elbo = elbo_value(model, refined, x, num_samples=elbo_samples, generator=generator)
    better = refined_elbo > before
    with torch.no_grad():  # any family: its parameters, row by row
        best = type(start)(
            **{
                name: torch.where(better.reshape(-1, *[1] * (old.ndim - 1)), new, old)
                for (name, old), new in zip(
                    start.params().items(), refined.params().values(), strict=True
                )
            }
        )
    return best, before, torch.maximum(refined_elbo, before)
