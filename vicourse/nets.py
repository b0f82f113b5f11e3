"""The networks: an MLP, the input standardization, the encoder q_φ(z|x) and the decoder f_θ(z).

    GaussianEncoder:   x -> (μ_φ(x), log σ_φ(x)), so q_φ(z|x) = N(μ, diag σ²)      (chapter 6)
    BernoulliDecoder:  z -> logits f_θ(z) of p_θ(x|z) = Π_d Bernoulli(σ(f_θ(z))_d)   (chapter 8)

Both are plain nn.Modules built by `mlp`. The encoder sees standardized input,
(x − mean) / std of the training data, so the first steps are well scaled on raw pixel values.
Shapes: x (N, D) -> q (N, K); z (..., K) -> logits (..., D).
Chapters 6 and 8 (book/06_amortized_vi.ipynb, book/08_vae.ipynb).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

from . import _checks_kinds as kinds
from ._checks_spec import optional, validated
from .flows import PlanarFlow
from .fullcov import FullGaussian
from .gaussian import DiagonalGaussian

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
LAYERS = dict(  # the layers of an encoder, and of a VAE, after its input width
    latent_dim=kinds.count,
    hidden=kinds.widths("pass hidden=() for an affine encoder"),
    activation=kinds.activation,
)
NETWORK = dict(data_dim=kinds.count, **LAYERS)
Q = dict(shared_scale=kinds.flag, covariance=kinds.covariance, flow_layers=kinds.flow_layers)
INPUT = dict(  # what an encoder standardizes its input by
    input_loc=optional(kinds.input_standardization(positive=False)),
    input_scale=optional(kinds.input_standardization(positive=True)),
)


@validated(widths=kinds.widths("pass e.g. widths=[3, 64, 2]"), activation=kinds.activation)
def mlp(widths: Sequence[int], activation: str) -> list[nn.Module]:
    """Linear layers between consecutive widths, each followed by the activation (by name)."""
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(widths):
        layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
    return layers


@validated(x=kinds.rows_to_standardize)
def standardization(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The column means and standard deviations of x, (D,) each; a column with no spread gets
    the scale 1, so it is only centred.   Chapters: 6, 8."""
    scale = x.std(0)
    return x.mean(0), torch.where(scale > 0, scale, torch.ones_like(scale))


class GaussianEncoder(nn.Module):
    """q_φ(z|x) = N(μ_φ(x), diag σ_φ(x)²): a network from x to (μ, log σ).

    Args:
        data_dim, latent_dim: D and K.
        hidden: widths of the hidden layers; () makes the encoder affine,
            (μ, log σ) = A x + c. The last layer starts at zero: q(z|x) = N(0, I) for every x.
        activation: after each hidden layer, "tanh" or "relu".
        input_loc, input_scale: (D,) tensors; the network sees (x − input_loc) / input_scale.
            GaussianEncoder.for_data sets them from the data, which keeps the first steps of
            gradient ascent well scaled on raw data such as 0–16 pixel values.
        shared_scale: if True, the network outputs μ only and log σ is one learned (K,) vector,
            the same for every x (`shared_log_scale`), as in the linear-Gaussian model's best q.
        covariance: "diagonal" (the default), or "full": the network outputs μ and a K × K
            matrix whose lower triangle gives L (log L_kk on the diagonal), and q_φ(z|x) is the
            FullGaussian N(μ_φ(x), L_φ(x) L_φ(x)ᵀ) of chapter 10.
        flow_layers: L > 0 makes q_φ(z|x) the PlanarFlow of chapter 10: the diagonal Gaussian
            pushed through L planar layers whose u, w, b the network also outputs (w offset by
            a small constant and u shifted along w so that the layers start as the identity:
            q is still N(0, I) at the start).

    Shapes: forward(x (N, D)) -> DiagonalGaussian (N, K), or FullGaussian.   Chapters: 6, 10.
    """

    @validated(**NETWORK, **Q, **INPUT)
    def __init__(
        self,
        data_dim: int,
        latent_dim: int,
        hidden: Sequence[int] = (64,),
        *,
        activation: str = "tanh",
        input_loc: torch.Tensor | None = None,
        input_scale: torch.Tensor | None = None,
        shared_scale: bool = False,
        covariance: str = "diagonal",
        flow_layers: int = 0,
    ):
        super().__init__()
        self.data_dim, self.latent_dim = d, k = data_dim, latent_dim
        widths = [d, *hidden]
        layers = mlp(widths, activation)
        self.covariance, self.flow_layers = covariance, flow_layers
        outputs = k if shared_scale else (k + k * k if self.covariance == "full" else 2 * k)
        outputs += self.flow_layers * (2 * k + 1)
        last = nn.Linear(widths[-1], outputs)
        nn.init.zeros_(last.weight)  # start at q(z|x) = N(0, I), the usual prior, for every x
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)
        self.shared_log_scale = nn.Parameter(torch.zeros(k)) if shared_scale else None
        loc = torch.zeros(d) if input_loc is None else input_loc
        scale = torch.ones(d) if input_scale is None else input_scale
        self.register_buffer("input_loc", loc.detach().clone())
        self.register_buffer("input_scale", scale.detach().clone())
        self.to(dtype=loc.dtype if input_loc is not None else torch.get_default_dtype())

    @classmethod
    @validated(x=kinds.rows_to_standardize, **LAYERS, **Q)
    def for_data(
        cls,
        x: torch.Tensor,
        latent_dim: int,
        hidden: Sequence[int] = (64,),
        activation="tanh",
        *,
        shared_scale: bool = False,
        covariance: str = "diagonal",
        flow_layers: int = 0,
    ) -> GaussianEncoder:
        """An encoder for data like x, on x's device and dtype, that standardizes its input by
        x's column means and standard deviations (see `standardization`)."""
        loc, scale = standardization(x)
        encoder = cls(
            x.shape[1],
            latent_dim,
            hidden,
            activation=activation,
            input_loc=loc,
            input_scale=scale,
            shared_scale=shared_scale,
            covariance=covariance,
            flow_layers=flow_layers,
        )
        return encoder.to(x.device)

    @validated(x=kinds.encoder_input)
    def forward(self, x: torch.Tensor) -> DiagonalGaussian | FullGaussian | PlanarFlow:
        out = self.net((x - self.input_loc) / self.input_scale)
        if self.covariance == "full":
            k = self.latent_dim
            return FullGaussian(out[:, :k], out[:, k:].reshape(-1, k, k))
        if self.flow_layers:
            return self._flow(out)
        if self.shared_log_scale is None:
            loc, log_scale = out.chunk(2, dim=-1)
        else:  # one log σ for every x
            loc, log_scale = out, self.shared_log_scale.expand_as(out)
        return DiagonalGaussian(loc, log_scale)

    def _flow(self, out: torch.Tensor) -> PlanarFlow:
        """The network's outputs as a PlanarFlow: μ, log σ, then u, w (L × K each) and b (L)."""
        k, layers = self.latent_dim, self.flow_layers
        loc, log_scale, u, w, bias = out.split([k, k, layers * k, layers * k, layers], dim=-1)
        w = w.reshape(-1, layers, k) + 0.1 / k**0.5  # never 0 at the start
        u = u.reshape(-1, layers, k) + IDENTITY * w / w.square().sum(-1, keepdim=True)
        return PlanarFlow(loc, log_scale, u, w, bias)


IDENTITY = math.log(math.e - 1)  # wᵀu = log(e − 1) makes û = 0: a planar layer that does nothing


class BernoulliDecoder(nn.Module):
    """f_θ: z -> the logits of p_θ(x|z), an MLP.   Shapes: (..., K) -> (..., D).   Chapter: 8."""

    @validated(
        latent_dim=kinds.count,
        hidden=kinds.widths("pass hidden=(400,)"),
        activation=kinds.activation,
        data_dim=kinds.count,
    )
    def __init__(
        self,
        latent_dim: int,
        data_dim: int,
        hidden: Sequence[int] = (400,),
        activation: str = "relu",
    ):
        super().__init__()
        self.latent_dim = latent_dim
        widths = [latent_dim, *hidden]
        self.net = nn.Sequential(*mlp(widths, activation), nn.Linear(widths[-1], data_dim))

    @validated(z=kinds.decoder_input)
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
