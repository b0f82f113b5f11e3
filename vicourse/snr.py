"""How noisy a gradient is: its signal-to-noise ratio, |E[g]| / sd[g], per parameter.

Burda et al.'s IWAE_k objective is a tighter bound for larger k, but Rainforth et al. (2018)
showed that the gradient the encoder gets from it becomes noisier relative to its size, its
SNR falling like 1/√k, while the decoder's rises like √k. gradient_snr measures both: it
draws independent estimates of the gradient of the mean IWAE_k of a batch, and for each
parameter divides the absolute mean of the estimates by their standard deviation.

Shapes: x (N, D); the result holds one SNR per parameter of each network.
Chapter 10, "Richer posteriors and tighter bounds" (book/10_richer_posteriors.ipynb).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from . import _checks, _checks_models
from .vae import VAE
from .validation import TRUSTED

__all__ = ["GradientSNR", "gradient_snr"]


class GradientSNR(NamedTuple):
    """|mean| / standard deviation of the gradient estimates, one entry per parameter (a
    parameter whose estimates never vary, such as one no draw reaches, is left out)."""

    encoder: torch.Tensor
    decoder: torch.Tensor


def gradient_snr(
    model: VAE,
    x: torch.Tensor,
    num_samples: int,
    *,
    num_estimates: int = 100,
    generator: torch.Generator | None = None,
) -> GradientSNR:
    """The SNR of the gradient of the IWAE_k objective (k = num_samples; k = 1 is the ELBO's,
    with its Monte Carlo KL) of the batch x, for the encoder's parameters and the decoder's,
    from num_estimates independent estimates. The model is not changed.

    Returns: GradientSNR(encoder (P_φ,), decoder (P_θ,)).   Chapter: 10.
    """
    if _checks.enabled:
        _checks.instance("model", model, VAE, "build one with vicourse.VAE.for_data(x, K)")
        _checks_models.data(model, x)
        num_samples = _checks.positive_int("num_samples", num_samples)
        num_estimates = _checks.positive_int("num_estimates", num_estimates)
        if num_estimates < 2:
            _checks.fail(
                "num_estimates", "at least 2 (a standard deviation needs two)", "1", "pass 100"
            )
        _checks.generator(generator, x.device)
    groups = [list(model.encoder.parameters()), list(model.decoder.parameters())]
    estimates: list[list[torch.Tensor]] = [[], []]
    with TRUSTED:
        for _ in range(num_estimates):
            loss = model.loss(x, num_samples=num_samples, objective="iwae", generator=generator)
            grads = torch.autograd.grad(-loss, groups[0] + groups[1])  # of the bound itself
            cut = len(groups[0])
            for part, chosen in zip(estimates, (grads[:cut], grads[cut:]), strict=True):
                part.append(torch.cat([g.reshape(-1) for g in chosen]))
    return GradientSNR(*(_snr(torch.stack(part)) for part in estimates))


def _snr(estimates: torch.Tensor) -> torch.Tensor:
    """(M, P) estimates -> (P',) |mean| / sd, for the parameters whose estimates vary."""
    spread = estimates.std(0)
    varies = spread > 0
    return estimates.mean(0)[varies].abs() / spread[varies]
