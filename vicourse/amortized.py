"""Amortized variational inference: one encoder q_φ(z|x) = N(μ_φ(x), diag σ_φ(x)²) for every x.

The notes' second loop, trained jointly with the model p_θ(x|z):

    sample z ~ q_φ(z|x_i);  θ ← θ + α ∇θ L_i;  φ ← φ + α ∇φ L_i

One set of φ serves every x, held-out ones included. What it costs is the amortization gap
(Cremer et al. 2018): how much ELBO a q refined for each x on its own would add.

Shapes: x (N, D) -> q (N, K); traces are (num_steps + 1,) mean ELBO estimates, [0] at the start.
Chapter 6, "Amortized variational inference" (book/06_amortized_vi.ipynb).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from . import _checks
from .bounds import elbo_value
from .contracts import LatentModel
from .estimators import elbo_estimator
from .gaussian import DiagonalGaussian
from .local_vi import ascend, fit_local

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def mlp(widths: Sequence[int], activation: str) -> list[nn.Module]:
    """Linear layers between consecutive widths, each followed by the activation (by name)."""
    if activation not in ACTIVATIONS:
        _checks.fail(
            "activation",
            " or ".join(map(repr, ACTIVATIONS)),
            repr(activation),
            "pass activation='tanh' or 'relu'",
        )
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(widths):
        layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
    return layers


def standardization(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The column means and standard deviations of x, (D,) each; a column with no spread gets
    the scale 1, so it is only centred.   Chapters: 6, 8."""
    _checks.tensor("x", x, ndim=2, shape_hint="(N, D)", fix="one row per datapoint")
    if x.shape[0] < 2:
        _checks.fail("x", "at least two rows", str(tuple(x.shape)), "pass the training data")
    _checks.finite("x", x)
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

    Shapes: forward(x (N, D)) -> DiagonalGaussian (N, K).   Chapter: 6.
    """

    def __init__(
        self,
        data_dim: int,
        latent_dim: int,
        hidden: Sequence[int] = (64,),
        *,
        activation: str = "tanh",
        input_loc: torch.Tensor | None = None,
        input_scale: torch.Tensor | None = None,
    ):
        super().__init__()
        self.data_dim = d = _checks.positive_int("data_dim", data_dim)
        self.latent_dim = _checks.positive_int("latent_dim", latent_dim)
        if not isinstance(hidden, list | tuple) or not all(
            isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden
        ):
            _checks.fail(
                "hidden",
                "a sequence of positive layer widths, e.g. (64,) or ()",
                repr(hidden),
                "pass hidden=() for an affine encoder",
            )
        widths = [d, *hidden]
        layers = mlp(widths, activation)
        last = nn.Linear(widths[-1], 2 * self.latent_dim)
        nn.init.zeros_(last.weight)  # start at q(z|x) = N(0, I), the usual prior, for every x
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)
        loc = torch.zeros(d) if input_loc is None else input_loc
        scale = torch.ones(d) if input_scale is None else input_scale
        _checks.tensor("input_loc", loc, ndim=1, last=d, shape_hint=f"(D,) = ({d},)")
        _checks.tensor("input_scale", scale, ndim=1, last=d, shape_hint=f"(D,) = ({d},)")
        self.register_buffer("input_loc", _checks.finite("input_loc", loc.detach().clone()))
        scale = _checks.positive_tensor("input_scale", scale.detach().clone())
        self.register_buffer("input_scale", scale)
        self.to(dtype=loc.dtype if input_loc is not None else torch.get_default_dtype())

    @classmethod
    def for_data(
        cls, x: torch.Tensor, latent_dim: int, hidden: Sequence[int] = (64,), activation="tanh"
    ) -> GaussianEncoder:
        """An encoder for data like x, on x's device and dtype, that standardizes its input by
        x's column means and standard deviations (see `standardization`)."""
        loc, scale = standardization(x)
        encoder = cls(
            x.shape[1], latent_dim, hidden, activation=activation, input_loc=loc, input_scale=scale
        )
        return encoder.to(x.device)

    def forward(self, x: torch.Tensor) -> DiagonalGaussian:
        d = self.data_dim
        _checks.tensor("x", x, ndim=2, last=d, shape_hint=f"(N, {d})", fix="one row per x")
        _checks.like("x", x, "the encoder", self.input_loc)
        h = (_checks.finite("x", x) - self.input_loc) / self.input_scale
        loc, log_scale = self.net(h).chunk(2, dim=-1)
        return DiagonalGaussian(loc, log_scale)


def fit_amortized(
    model: LatentModel,
    encoder: GaussianEncoder,
    x: torch.Tensor,
    *,
    num_steps: int = 1000,
    batch_size: int | None = None,
    num_samples: int = 1,
    lr: float = 0.01,
    estimator: str = "pathwise",
    baseline=None,
    fit_model: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Adam on the mean ELBO over φ (and θ, if fit_model), in place, with minibatches drawn at
    random (batch_size=None: all of x every step); the step size falls from lr to lr/100.

    Returns:
        the mean ELBO estimate on each step's batch, (num_steps + 1,): [0] at the start.

    Chapter: 6.
    """
    _checks.instance("model", model, LatentModel, "use a vicourse model")
    _checks.instance("encoder", encoder, GaussianEncoder, "build one with GaussianEncoder(D, K)")
    n = model.check_x(x).shape[0]
    _checks.like("x", x, "the encoder", encoder.input_loc)
    if encoder.latent_dim != model.latent_dim or encoder.data_dim != model.data_dim:
        _checks.fail(
            "encoder",
            f"an encoder from D = {model.data_dim} to K = {model.latent_dim}, like the model",
            f"one from {encoder.data_dim} to {encoder.latent_dim}",
            "build it with GaussianEncoder(model.data_dim, model.latent_dim)",
        )
    num_steps = _checks.positive_int("num_steps", num_steps)
    num_samples = _checks.positive_int("num_samples", num_samples)
    batch = n if batch_size is None else min(_checks.positive_int("batch_size", batch_size), n)
    lr = _checks.positive("lr", lr)
    estimate = elbo_estimator(estimator, baseline)
    _checks.generator(generator, x.device)
    trainable = list(encoder.parameters())
    if _checks.boolean("fit_model", fit_model):
        trainable += model.trainable_parameters()

    def step():
        if batch < n:
            x_batch = x[torch.randint(n, (batch,), generator=generator, device=x.device)]
        else:
            x_batch = x
        return estimate(model, encoder(x_batch), x_batch, num_samples, generator=generator)

    return ascend(step, trainable, lr=lr, num_steps=num_steps, like=x)


class AmortizationGap(NamedTuple):
    """Per datapoint (N,): the encoder's ELBO, the ELBO after refining its q for each x alone,
    and their difference, the amortization gap."""

    encoder_elbo: torch.Tensor
    refined_elbo: torch.Tensor
    gap: torch.Tensor


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
    estimated from 4,096 draws.   Chapter: 6.
    """
    _checks.instance("encoder", encoder, GaussianEncoder, "build one with GaussianEncoder(D, K)")
    with torch.no_grad():
        start = encoder(x)
    refined = fit_local(
        model,
        x,
        init=start,
        num_steps=num_steps,
        num_samples=num_samples,
        lr=lr,
        generator=generator,
    ).q
    before = elbo_value(model, start, x, generator=generator)
    after = torch.maximum(elbo_value(model, refined, x, generator=generator), before)
    return AmortizationGap(before, after, after - before)
