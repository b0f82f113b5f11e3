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

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .vae import VAE

__all__ = ["GradientSNR", "gradient_snr"]


class GradientSNR(NamedTuple):
    """|mean| / standard deviation of the gradient estimates, one entry per parameter (a
    parameter whose estimates never vary, such as one no draw reaches, is left out, and so is
    a frozen one, with requires_grad=False)."""

    encoder: torch.Tensor
    decoder: torch.Tensor


@validated(
    model=kinds.differentiable_model(VAE, "build one with vicourse.VAE.for_data(x, K)"),
    x=kinds.data_for(),
    num_samples=kinds.count,
    num_estimates=kinds.estimate_count,
    generator=kinds.generator_for("x"),
)
def gradient_snr(
    model: VAE,
    x: torch.Tensor,
    num_samples: int,
    *,
    num_estimates: int = 100,
    generator: torch.Generator | None = None,
) -> GradientSNR:
    """The SNR of the gradient of the IWAE_k objective (k = num_samples; k = 1 is the ELBO's,
    with its Monte Carlo KL) of the batch x, for the encoder's parameters and the decoder's
    (those that require a gradient: a frozen network's SNR is empty), from num_estimates
    independent estimates. The model is not changed (no .grad is set).

    Returns: GradientSNR(encoder (P_φ,), decoder (P_θ,)).   Chapter: 10.
    """
    groups = [
        [p for p in net.parameters() if p.requires_grad] for net in (model.encoder, model.decoder)
    ]
    cut = len(groups[0])
    estimates: list[list[torch.Tensor]] = [[], []]
    with torch.enable_grad():  # an SNR is of gradients: under torch.no_grad() too
        for _ in range(num_estimates):
            loss = model.loss(x, num_samples=num_samples, objective="iwae", generator=generator)
            grads = torch.autograd.grad(-loss, groups[0] + groups[1])  # of the bound itself
            for part, chosen in zip(estimates, (grads[:cut], grads[cut:]), strict=True):
                flat = [g.reshape(-1) for g in chosen]  # none where a network is frozen
                part.append(torch.cat([*flat, loss.new_zeros(0)]))
    return GradientSNR(*(_snr(torch.stack(part)) for part in estimates))


def _snr(estimates: torch.Tensor) -> torch.Tensor:
    """(M, P) estimates -> (P',) |mean| / sd, for the parameters whose estimates vary."""
    if estimates.shape[1] == 0:  # a frozen network (torch's std of nothing warns)
        return estimates[0]
    spread = estimates.std(0)
    varies = spread > 0
    return estimates.mean(0)[varies].abs() / spread[varies]
