"""Where the ELBO falls short, per datapoint: the approximation gap and the amortization gap.

    log p(x) − ELBO(q_φ(z|x)) = [log p(x) − ELBO(q*)] + [ELBO(q*) − ELBO(q_φ(z|x))]
                              =  approximation gap    +  amortization gap

(Cremer, Li and Duvenaud, 2018). q* is the best q of the encoder's family for that x alone,
found by chapter 5's fit_local started at the encoder's q (the better of the two, as in
amortized.amortization_gap). log p(x) is exact where the model has it (a TractableModel, whose
approximation gap for the linear-Gaussian model is models.LinearGaussian.mean_field_gap); else
it is estimated by the importance-weighted bound IWAE_k with q* as the proposal, a lower bound
that rises to log p(x) as k grows, so there the approximation gap is estimated from below.

Shapes: x (N, D); every field of Gaps is (N,), in nats.
Chapter 9, "Where the ELBO falls short" (part three).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from . import _checks
from .amortized import _check_encoder, refine
from .bounds import iwae, log_weights
from .contracts import LatentModel, TractableModel
from .gaussian import DiagonalGaussian
from .validation import TRUSTED

__all__ = ["Gaps", "gaps"]


class Gaps(NamedTuple):
    """Per datapoint (N,): log p(x) (exact, or IWAE_k), the best q's ELBO, the encoder's ELBO,
    and the two gaps between them, which add up to log p(x) − the encoder's ELBO."""

    log_evidence: torch.Tensor
    best_elbo: torch.Tensor
    encoder_elbo: torch.Tensor
    approximation: torch.Tensor
    amortization: torch.Tensor


def gaps(
    model: LatentModel,
    encoder,
    x: torch.Tensor,
    *,
    num_steps: int = 500,
    num_samples: int = 8,
    lr: float = 0.01,
    iwae_samples: int = 5000,
    batch_size: int = 10,
    generator: torch.Generator | None = None,
) -> Gaps:
    """Split log p(x) − ELBO(q_φ(z|x)) into the approximation gap and the amortization gap.

    Args:
        model, encoder, x: as for amortization_gap (a VAE's encoder is vae.encoder).
        num_steps, num_samples, lr: fit_local's, for q* (started at the encoder's q).
        iwae_samples: k of the IWAE_k estimate of log p(x), where the model has no exact one.
        batch_size: how many x at a time for IWAE_k (each draws k values of z).

    Returns: Gaps.   Chapter: 9.
    """
    if _checks.enabled:
        _check_encoder(model, encoder, x)
        iwae_samples = _checks.positive_int("iwae_samples", iwae_samples)
        batch_size = _checks.positive_int("batch_size", batch_size)
    best, before, after = refine(model, encoder, x, num_steps, num_samples, lr, generator)
    with torch.no_grad(), TRUSTED:
        if isinstance(model, TractableModel):
            log_evidence = model.log_marginal(x)
        else:
            parts = []
            for start in range(0, x.shape[0], batch_size):
                rows = slice(start, start + batch_size)
                q = DiagonalGaussian(best.loc[rows], best.log_scale[rows])
                z = q.sample(iwae_samples, generator=generator)
                parts.append(iwae(log_weights(model, q, x[rows], z)))
            log_evidence = torch.cat(parts)
    return Gaps(log_evidence, after, before, log_evidence - after, after - before)
