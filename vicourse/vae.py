"""The variational autoencoder: a neural p_θ(x|z), an encoder q_φ(z|x), and the loss to minimize.

    p(z) = N(0, I),   p_θ(x|z) = Π_d Bernoulli(x_d; σ(f_θ(z))_d),   q_φ(z|x) = N(μ_φ(x), σ_φ(x)²)
    −L = −E_q[log p_θ(x|z)] + KL(q_φ(z|x) ‖ p(z))   (reconstruction loss + KL loss)

Everything is the earlier chapters' pieces: the networks are nets.py's, the KL is
kl.kl_diag_gaussians, the Monte Carlo ELBO is estimators.elbo_pathwise, and the
importance-weighted bound is bounds.iwae of bounds.log_weights. A VAE is a LatentModel,
not a TractableModel: it has no exact log p(x), only bounds on it.

Shapes: x is (N, D) with values in [0, 1]; z is (S, N, K); bounds are (N,), in nats per image.
Chapter 8, "The variational autoencoder" (book/08_vae.ipynb).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from . import _checks_kinds as kinds
from ._checks_spec import validated
from .bounds import iwae, log_weights
from .contracts import LatentModel
from .estimators import elbo_pathwise
from .flows import PlanarFlow
from .fullcov import FullGaussian
from .gaussian import DiagonalGaussian
from .kl import kl_diag_gaussians, kl_diag_per_unit, kl_full_to_standard_normal
from .nets import INPUT, LAYERS, NETWORK, BernoulliDecoder, GaussianEncoder, standardization

__all__ = ["VAE", "BernoulliDecoder"]
DRAWS = dict(x=kinds.vae_data, num_samples=kinds.count, generator=kinds.generator_for("x"))


class VAE(LatentModel):
    """A latent-variable model with a neural Bernoulli likelihood, and its encoder.

    Args:
        data_dim, latent_dim: D (pixels) and K.
        hidden: the hidden widths of both networks (the decoder mirrors the encoder).
        activation: "relu" (as in pytorch/examples' VAE) or "tanh".
        input_loc, input_scale: what the encoder standardizes its input by (see
            GaussianEncoder); VAE.for_data sets them from the training images.
        covariance: the encoder's q, "diagonal" (chapter 8) or "full" (chapter 10).
        flow_layers: L > 0 makes the encoder's q a PlanarFlow with L layers (chapter 10).

    Methods: loss (−ELBO, the quantity to minimize), elbo, terms (reconstruction and KL), iwae
    (the importance-weighted bound on log p(x)), and the LatentModel contract.
    Chapter: 8.
    """

    data_range = (0.0, 1.0)  # a Bernoulli likelihood's data are pixel values in [0, 1]

    @validated(**NETWORK, covariance=kinds.covariance, flow_layers=kinds.flow_layers, **INPUT)
    def __init__(
        self,
        data_dim: int,
        latent_dim: int,
        hidden: Sequence[int] = (400,),
        *,
        activation: str = "relu",
        input_loc: torch.Tensor | None = None,
        input_scale: torch.Tensor | None = None,
        covariance: str = "diagonal",
        flow_layers: int = 0,
    ):
        super().__init__()
        self.data_dim, self.latent_dim = data_dim, latent_dim
        self.encoder = GaussianEncoder(
            data_dim,
            latent_dim,
            hidden,
            activation=activation,
            input_loc=input_loc,
            input_scale=input_scale,
            covariance=covariance,
            flow_layers=flow_layers,
        )
        self.decoder = BernoulliDecoder(latent_dim, data_dim, tuple(reversed(hidden)), activation)
        self.to(self.encoder.input_loc.dtype)

    @classmethod
    @validated(
        x=kinds.images_to_standardize,
        **LAYERS,
        covariance=kinds.covariance,
        flow_layers=kinds.flow_layers,
    )
    def for_data(
        cls,
        x: torch.Tensor,
        latent_dim: int,
        hidden: Sequence[int] = (400,),
        activation: str = "relu",
        *,
        covariance: str = "diagonal",
        flow_layers: int = 0,
    ) -> VAE:
        """A VAE for images like x, on x's device and dtype, its encoder standardizing by x."""
        loc, scale = standardization(x)
        vae = cls(
            x.shape[1],
            latent_dim,
            hidden,
            activation=activation,
            input_loc=loc,
            input_scale=scale,
            covariance=covariance,
            flow_layers=flow_layers,
        )
        return vae.to(x.device)

    # The LatentModel contract.

    @validated(n=kinds.count)
    def prior(self, n: int) -> DiagonalGaussian:
        """p(z) = N(0, I) with n rows.   Shapes: (n, K)."""
        zeros = self.encoder.input_loc.new_zeros(n, self.latent_dim)
        return DiagonalGaussian(zeros, zeros)

    @validated(x=kinds.vae_data, z=kinds.draws_for("self"))
    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p_θ(x|z) = Σ_d [x_d log σ(f_d) + (1 − x_d) log(1 − σ(f_d))], f = f_θ(z).

        Shapes: (N, D), (S, N, K) -> (S, N).
        """
        logits = self.decoder(z)  # (S, N, D)
        return -F.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none"
        ).sum(-1)

    @torch.no_grad()
    @validated(z=kinds.vae_latent("draw z from the prior"), generator=kinds.generator_for("z"))
    def sample_likelihood(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ p_θ(x|z), binary pixels.   Shapes: (..., K) -> (..., D)."""
        probs = torch.sigmoid(self.decoder(z))
        return torch.bernoulli(probs, generator=generator)

    @torch.no_grad()
    @validated(z=kinds.vae_latent("pass latent codes"))
    def mean_image(self, z: torch.Tensor) -> torch.Tensor:
        """E_θ[x | z] = σ(f_θ(z)), what the decoder draws for z.   Shapes: (..., K) -> (..., D)."""
        return torch.sigmoid(self.decoder(z))

    # The bounds.

    @validated(**DRAWS)
    def terms(self, x: torch.Tensor, *, num_samples: int = 1, generator=None):
        """The two terms of −L: the reconstruction loss −E_q[log p_θ(x|z)] (Monte Carlo, with
        reparameterized draws) and KL(q_φ(z|x) ‖ p(z)) (closed form; for a flow, which has none,
        the Monte Carlo mean of log q(z) − log p(z) over the same draws).   Shapes: (N,), (N,)."""
        q, z, reconstruction = self._draw(x, num_samples, generator)
        if isinstance(q, FullGaussian):
            return reconstruction, kl_full_to_standard_normal(q)
        if isinstance(q, PlanarFlow):
            prior = self.prior(x.shape[0])
            return reconstruction, (q.log_prob(z) - prior.log_prob(z)).mean(0)
        return reconstruction, kl_diag_gaussians(q, self.prior(x.shape[0]))

    def _draw(self, x, num_samples, generator):
        """q_φ(z|x), reparameterized draws z from it, and the reconstruction loss at them
        (the callers' arguments, checked)."""
        q = self.encoder(x)
        z = q.rsample(num_samples, generator=generator)
        return q, z, -self.log_likelihood(x, z).mean(0)

    @validated(**DRAWS, kl=kinds.one_of(("analytic", "mc"), "pass kl='analytic'"))
    def elbo(
        self, x: torch.Tensor, *, num_samples: int = 1, kl: str = "analytic", generator=None
    ) -> torch.Tensor:
        """The ELBO per image: with the KL in closed form ("analytic"), or everything by Monte
        Carlo, E_q[log p(x, z) − log q(z)] ("mc"): the same expectation, estimates of different
        variance.   Shapes: (N,)."""
        if kl == "mc":
            q = self.encoder(x)
            return elbo_pathwise(self, q, x, num_samples, generator=generator).surrogate
        reconstruction, divergence = self.terms(x, num_samples=num_samples, generator=generator)
        return -(reconstruction + divergence)

    @validated(
        x=kinds.vae_data,
        num_samples=kinds.count,
        objective=kinds.one_of(("elbo", "iwae"), "pass objective='elbo'"),
        kl_weight=kinds.kl_weight,
        free_bits=kinds.free_bits,
        generator=kinds.generator_for("x"),
    )
    def loss(
        self,
        x: torch.Tensor,
        *,
        num_samples: int = 1,
        objective: str = "elbo",
        kl_weight: float | torch.Tensor = 1.0,
        free_bits: float = 0.0,
        generator=None,
    ) -> torch.Tensor:
        """What a framework minimizes, averaged over the images: −ELBO (objective="elbo":
        reconstruction loss + KL, num_samples draws of z), or −IWAE_k with k = num_samples
        (objective="iwae", a tighter bound, Burda et al. 2016).

        kl_weight: β in reconstruction + β KL (objective="elbo" only): 1 is the −ELBO; below 1
            during a KL warm-up (chapter 10), which train(kl_warmup=...) schedules. A float
            ≥ 0, or a 0-d tensor on x's device (the trainer's, updated in place).
        free_bits: λ ≥ 0 (objective="elbo", a diagonal q): the KL term becomes
            Σ_k max(λ, KL_k), KL_k the batch's mean KL of latent unit k, so that no unit gains
            by going below λ nats (Kingma et al., 2016: "free bits", against posterior
            collapse, chapter 10). 0 is the plain KL.

        Shapes: x (N, D) -> ()."""
        if objective == "iwae":
            q = self.encoder(x)
            z = q.rsample(num_samples, generator=generator)
            return -iwae(log_weights(self, q, x, z)).mean()
        if free_bits:
            return self._free_bits_loss(x, num_samples, kl_weight, free_bits, generator)
        reconstruction, divergence = self.terms(x, num_samples=num_samples, generator=generator)
        return (reconstruction + kl_weight * divergence).mean()

    def _free_bits_loss(self, x, num_samples, kl_weight, free_bits, generator) -> torch.Tensor:
        """reconstruction + β Σ_k max(λ, mean KL_k), with terms' draws (checked by loss)."""
        q, _, reconstruction = self._draw(x, num_samples, generator)
        per_unit = kl_diag_per_unit(q, self.prior(x.shape[0]))  # (N, K)
        kl = per_unit.mean(0).clamp_min(free_bits).sum()
        return reconstruction.mean() + kl_weight * kl

    @torch.no_grad()
    @validated(x=kinds.vae_images, num_samples=kinds.count, generator=kinds.generator_for("x"))
    def unit_activity(
        self, x: torch.Tensor, *, num_samples: int = 1000, generator=None
    ) -> torch.Tensor:
        """How much each latent unit u varies with the image: Var_x(E_q[z_u | x]), the variance
        over the images x of the encoder's mean. Burda et al. (2016) call a unit active when
        it exceeds 0.01: an inactive unit says the same for every image, its q matching the
        prior (posterior collapse, chapter 10).   Shapes: x (N, D) -> (K,).

        A Gaussian q's mean is its loc. A flow's (flow_layers > 0) has no closed form: it is the
        mean of num_samples draws of q(z|x), from `generator` (None: a fixed seed, so that the
        same x gives the same answer and torch's global stream is left as it was). Their noise
        adds about Var_q(z_u)/num_samples, 0.001 for a q as wide as the prior."""
        q = self.encoder(x)
        if not isinstance(q, PlanarFlow):
            return q.loc.var(0)
        if generator is None:  # a fixed seed, as above
            generator = torch.Generator(x.device).manual_seed(0)
        return q.sample(num_samples, generator=generator).mean(0).var(0)

    @torch.no_grad()
    @validated(**DRAWS, batch_size=kinds.count)
    def iwae(
        self, x: torch.Tensor, num_samples: int = 1000, *, batch_size: int = 100, generator=None
    ) -> torch.Tensor:
        """The importance-weighted bound IWAE_k = E[log (1/k) Σ_j p(x, z_j)/q(z_j|x)], z_j ~ q,
        a lower bound on log p(x) that rises to it as k grows (Burda et al., 2016); here one
        estimate per image, computed batch_size images at a time.   Shapes: (N,)."""
        out = []
        for chunk in x.split(batch_size):
            q = self.encoder(chunk)
            z = q.sample(num_samples, generator=generator)
            out.append(iwae(log_weights(self, q, chunk, z)))
        return torch.cat(out)
