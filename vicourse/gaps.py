"""Where the ELBO falls short, per datapoint: the approximation gap and the amortization gap.

    log p(x) − ELBO(q_φ(z|x)) = [log p(x) − ELBO(q*)] + [ELBO(q*) − ELBO(q_φ(z|x))]
                              =  approximation gap    +  amortization gap

(Cremer, Li and Duvenaud, 2018). q* is the best q of the encoder's family for that x alone,
found by chapter 5's fit_local started at the encoder's q (the better of the two, as in
amortized.amortization_gap). log p(x) is exact where the model has it (a TractableModel, whose
approximation gap for the linear-Gaussian model is models.LinearGaussian.mean_field_gap); else
it is estimated by the importance-weighted bound IWAE_k with q* as the proposal, a lower bound
that rises to log p(x) as k grows, so there the approximation gap is estimated from below.
iwae_curve shows IWAE_k for several k from one set of draws; a curve still rising says the
estimate has not arrived, a flat one does not prove that it has (heavy-tailed weights).

q* is only as good as its fit. gaps tests it: a second, shorter fit_local from q* (check_steps
steps, the same lr) must not raise the ELBO by more than 0.01 nats per x on average, or by more
than three times the Monte Carlo error of that gain. If it does, the fit had not converged, the
amortization gap is too small and the approximation gap too large by at least that gain, and
gaps warns (a RuntimeWarning) naming num_steps and lr. The gain is returned (Gaps.check_gain).

Shapes: x (N, D); the gaps and ELBOs of Gaps are (N,), in nats; iwae_curve is (len(ks), N).
Chapter 9, "Where the ELBO falls short" (part three).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import torch

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .amortized import refine
from .bounds import elbo_and_variance, iwae, log_weights
from .contracts import LatentModel, TractableModel
from .families import Family
from .local_vi import fit_local
from .nets import GaussianEncoder
from .runtime import caller_stacklevel

__all__ = ["Gaps", "gaps", "iwae_curve"]


class Gaps(NamedTuple):
    """Per datapoint (N,): log p(x) (exact, or IWAE_k), the best q's ELBO, the encoder's ELBO,
    and the two gaps between them, which add up to log p(x) − the encoder's ELBO; q*, the
    best q found for each x (one row per x), the proposal of the IWAE_k estimate; and
    check_gain (N,), the ELBO that check_steps further steps from q* gained (zeros where the
    test was skipped): near 0 when the fit of q* had converged."""

    log_evidence: torch.Tensor
    best_elbo: torch.Tensor
    encoder_elbo: torch.Tensor
    approximation: torch.Tensor
    amortization: torch.Tensor
    best_q: Family
    check_gain: torch.Tensor


TOLERANCE = 0.01  # nats per x: the convergence test's smallest gain that counts


@validated(
    model=kinds.model(LatentModel),
    encoder=kinds.encoder_for(GaussianEncoder),
    x=kinds.fit_data_for(encoder_arg="encoder"),
    num_steps=kinds.count,
    num_samples=kinds.count,
    lr=kinds.positive,
    elbo_samples=kinds.count,
    iwae_samples=kinds.count,
    batch_size=kinds.count,
    check_steps=kinds.count_zero_or_default,
    generator=kinds.generator_for("x"),
)
def gaps(
    model: LatentModel,
    encoder,
    x: torch.Tensor,
    *,
    num_steps: int = 500,
    num_samples: int = 8,
    lr: float = 0.01,
    elbo_samples: int = 4096,
    iwae_samples: int = 5000,
    batch_size: int = 10,
    check_steps: int | None = None,
    generator: torch.Generator | None = None,
) -> Gaps:
    """Split log p(x) − ELBO(q_φ(z|x)) into the approximation gap and the amortization gap.

    Args:
        model, encoder, x: as for amortization_gap (a VAE's encoder is vae.encoder).
        num_steps, num_samples, lr: fit_local's, for q* (started at the encoder's q).
        elbo_samples: draws per x for the two ELBOs, where they have no closed form.
        iwae_samples: k of the IWAE_k estimate of log p(x), where the model has no exact one.
        batch_size: how many x at a time for IWAE_k (each draws k values of z).
        check_steps: the length of the convergence test, a second fit_local from q* at the
            same lr (num_steps // 5 by default; 0 skips the test). Warns (RuntimeWarning) if
            it raises the mean ELBO by more than TOLERANCE (0.01 nats) and by more than three
            Monte Carlo errors: then num_steps or lr was too small for q*.

    Works under torch.no_grad() too (the fits compute their own gradients), and sets no .grad
    on the model or the encoder.

    Returns: Gaps.   Chapter: 9.
    """
    best, before, after = refine(
        model, encoder, x, num_steps, num_samples, lr, generator, elbo_samples=elbo_samples
    )
    if check_steps is None:
        check_steps = max(num_steps // 5, 1)
    if check_steps:
        check_gain = _convergence_test(
            model, best, x, num_steps, num_samples, lr, elbo_samples, check_steps, generator
        )
    else:
        check_gain = torch.zeros_like(after)
    with torch.no_grad():
        if isinstance(model, TractableModel):
            log_evidence = model.log_marginal(x)
        else:
            log_evidence = _iwae_curve(model, best, x, [iwae_samples], batch_size, generator)[0]
    return Gaps(log_evidence, after, before, log_evidence - after, after - before, best, check_gain)


def _convergence_test(
    model, best, x, num_steps, num_samples, lr, elbo_samples, check_steps, generator
) -> torch.Tensor:
    """check_steps more steps of fit_local from q*; warns if they raise the mean ELBO by more
    than TOLERANCE and three Monte Carlo errors. Returns the gain per x (N,)."""
    further = fit_local(
        model,
        x,
        init=best,
        num_steps=check_steps,
        num_samples=num_samples,
        lr=lr,
        generator=generator,
    ).q
    old, old_var = elbo_and_variance(model, best, x, elbo_samples, generator)
    new, new_var = elbo_and_variance(model, further, x, elbo_samples, generator)
    gain = new - old
    mean = gain.mean().item()
    error = math.sqrt((old_var + new_var).sum().item()) / x.shape[0]
    if mean > max(TOLERANCE, 3 * error):
        warnings.warn(
            f"num_steps must be enough for the fit of the best q to converge, got "
            f"num_steps={num_steps} with lr={lr}, after which {check_steps} more steps "
            f"raised the ELBO by {mean:.3g} nats per x on average (Monte Carlo error "
            f"{error:.2g}; {gain.max().item():.3g} on one x): the amortization gaps are too "
            f"small and the approximation gaps too large by at least that much; pass a "
            f"larger num_steps (e.g. num_steps={4 * num_steps}) or a larger lr.",
            RuntimeWarning,
            stacklevel=caller_stacklevel(),  # the learner's line that called gaps
        )
    return gain


@validated(
    model=kinds.model(LatentModel),
    x=kinds.data_for(),
    q=kinds.q_for(),
    ks=kinds.sample_counts,
    batch_size=kinds.count,
    generator=kinds.generator_for("x"),
)
def iwae_curve(
    model: LatentModel,
    q: Family,
    x: torch.Tensor,
    ks: Sequence[int],
    *,
    batch_size: int = 10,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """IWAE_k of the proposal q for each k in ks, per datapoint: how the estimate of log p(x)
    converges as k grows. Every k uses the first k of the same max(ks) draws of each x, so the
    rows differ only by the draws added; batch_size x at a time (each draws max(ks) values of z).
    No gradient.

    Returns: (len(ks), N).   Chapter: 9.
    """
    with torch.no_grad():
        return _iwae_curve(model, q, x, ks, batch_size, generator)


def _iwae_curve(model, q, x, ks, batch_size, generator) -> torch.Tensor:
    parts = []
    for start in range(0, x.shape[0], batch_size):
        rows = slice(start, start + batch_size)
        part = type(q)(**{name: value[rows] for name, value in q.params().items()})
        log_w = log_weights(model, part, x[rows], part.sample(max(ks), generator=generator))
        parts.append(torch.stack([iwae(log_w[:k]) for k in ks]))
    return torch.cat(parts, dim=1)
