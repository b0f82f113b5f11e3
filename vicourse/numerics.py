"""The ground floor: the normal log-density and the Monte Carlo averages every chapter uses.

    log N(v; m, σ²) = −½ ((v − m)/σ)² − log σ − ½ log 2π        (summed over the last axis)
    log (1/S) Σ_s w_s = logsumexp_s(log w_s) − log S            (stable for tiny or huge w)
    mean ± std/√S                                                (a Monte Carlo estimate)

Nothing here knows about models or q: they are built on these.
Shapes: values (S, N) -> (N,).   Chapters 1–3 (book/01_…ipynb to book/03_…ipynb).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from . import _checks_kinds as kinds
from ._checks_spec import validated

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def normal_log_prob(
    value: torch.Tensor, loc: torch.Tensor, log_scale: torch.Tensor | float
) -> torch.Tensor:
    """Σ_k log N(value_k; loc_k, σ_k²) with σ = exp(log_scale), broadcasting; no checks.

    For code inside the package whose arguments were checked already.   Shapes: (..., K) -> (...).
    """
    log_scale = torch.as_tensor(log_scale, dtype=loc.dtype, device=loc.device)
    eps = (value - loc) / log_scale.exp()
    return (-0.5 * eps.square() - log_scale - HALF_LOG_2PI).sum(-1)


class Estimate(NamedTuple):
    """A Monte Carlo estimate per datapoint, the one result type of the package's estimators.

    value: the estimate (N,); from a gradient estimator, detached.
    standard_error: its standard error std/√S (N,), where it was computed (monte_carlo,
        kl_monte_carlo); else None.
    surrogate: (N,), from a gradient estimator (elbo_pathwise, ...): differentiate it, its
        gradient is the gradient estimate; else None.
    """

    value: torch.Tensor
    standard_error: torch.Tensor | None = None
    surrogate: torch.Tensor | None = None


MonteCarloEstimate = Estimate  # 0.2.0's name for the result of monte_carlo


@validated(values=kinds.draws_of_values)
def monte_carlo(values: torch.Tensor) -> Estimate:
    """The mean over the S draws of `values` and its standard error std/√S.

    Shapes: (S, N) -> (N,), (N,).   Chapter: 4.
    """
    return Estimate(values.mean(0), values.std(0) / math.sqrt(values.shape[0]))


@validated(log_w=kinds.log_w)
def log_mean_exp(log_w: torch.Tensor) -> torch.Tensor:
    """log (1/S) Σ_s w_s, computed stably as logsumexp − log S.

    With z_s ~ q it estimates log p(x) with a downward bias (Jensen) that shrinks as S grows: the
    importance-weighted bound, IWAE_S ≥ ELBO. With q = p(z) it is chapter 2's naive estimate.
    Shapes: (S, N) -> (N,).   Chapter: 3.
    """
    return log_w.logsumexp(0) - math.log(log_w.shape[0])
