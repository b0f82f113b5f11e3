"""A mixture of Bernoulli images: a model with a discrete latent, small enough to enumerate.

    p(z = c) = softmax(logits)_c,    x_d | z = c ~ Bernoulli(sigmoid(image_logits_cd))
    log p(x) = logsumexp_c (log p(z = c) + log p(x | z = c))          exact: C terms

With C components, every expectation over q(z | x) is a sum of C terms, so the ELBO, log p(x)
and the exact gradient of any objective are computed by enumeration: the oracle that chapter 11
judges the discrete estimators against. log_likelihood also takes points y of the simplex, the
relaxed draws of relaxed.py: the pixel logits are then y @ image_logits, which for a one-hot y
is the labeled component's.
Shapes: x (N, D) in [0, 1]; z (S, N) labels or (S, N, C) points of the simplex; log
densities (S, N).
Chapter 11, "Discrete latent variables" (book/11_discrete_latents.ipynb).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .mixture import DATA, Mixture
from .relaxed import check_points


class BernoulliMixture(Mixture):
    """p(z = c) = softmax(logits)_c,  x_d | z = c ~ Bernoulli(sigmoid(image_logits_cd)).

    Args:
        logits: (C,) unnormalized log mixing weights.
        image_logits: (C, D) each component's pixel logits.
        Both become nn.Parameters.

    Shapes: z (S, N) labels, or (S, N, C) points of the simplex in log_likelihood.
    Chapter: 11.
    """

    data_range = (0.0, 1.0)

    @validated(image_logits=kinds.image_logits, logits=kinds.bernoulli_logits)
    def __init__(self, logits: torch.Tensor, image_logits: torch.Tensor):
        super().__init__()
        self.num_components, self.data_dim = image_logits.shape
        self.logits = nn.Parameter(logits.detach().clone())
        self.image_logits = nn.Parameter(image_logits.detach().clone())

    @validated(**DATA)
    def component_log_likelihood(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_i | z = c) for every i and c.   Shapes: (N, D) -> (N, C)."""
        return _bernoulli(x.unsqueeze(1), self.image_logits)

    @validated(**DATA)
    def component_log_joint(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_i, z = c).   Shapes: (N, D) -> (N, C)."""
        return self.component_log_likelihood(x) + self.logits.log_softmax(-1)

    @validated(x=kinds.data_for("self"), z=kinds.labels_or_points(check_points))
    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x | z) for labels z (S, N), or for points y of the simplex (S, N, C), whose
        pixel logits are y @ image_logits.   Shapes: -> (S, N)."""
        pixel_logits = self.image_logits[z] if not z.is_floating_point() else z @ self.image_logits
        return _bernoulli(x, pixel_logits)

    @torch.no_grad()
    @validated(z=kinds.any_labels, generator=kinds.generator_for("z"))
    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ p(x | z) for labels z.   Shapes: (...) -> (..., D)."""
        probs = torch.sigmoid(self.image_logits[z])
        return torch.bernoulli(probs, generator=generator)


def _bernoulli(x: torch.Tensor, pixel_logits: torch.Tensor) -> torch.Tensor:
    """Σ_d log Bernoulli(x_d; sigmoid(pixel_logits_d)), stable for any logit."""
    pixel_logits, x = torch.broadcast_tensors(pixel_logits, x)
    return -F.binary_cross_entropy_with_logits(pixel_logits, x, reduction="none").sum(-1)
