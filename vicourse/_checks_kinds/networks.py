"""Kinds of the networks (nets.py), the amortized fits and the VAE (vae.py)."""

from __future__ import annotations

import numbers
import types

import torch

from .. import _checks, _checks_models, _checks_values
from .._checks_spec import Kind
from .trainer import check_free_bits, elbo_only

# --- kinds: networks and the VAE ---
# nets.py's networks, amortized.py's fits (which use fitting's encoder_for and fit_data_for),
# vae.py's VAE and its loss. nets.py and vae.py import this module: their classes are read
# lazily, or from the arguments (args["self"], args["cls"]).


def widths(fix: str) -> Kind:
    """Layer widths: a list or tuple of positive ints (() for none), as a tuple of ints."""

    def check(name, value, args):
        if not isinstance(value, list | tuple) or not all(
            isinstance(h, numbers.Integral) and not isinstance(h, bool) and h > 0 for h in value
        ):
            _checks.fail(
                name, "a sequence of positive layer widths, e.g. (64,) or ()", repr(value), fix
            )
        return tuple(int(h) for h in value)

    return Kind("widths", check)


def activation_check(name, value, args):
    from ..nets import ACTIVATIONS  # lazily: nets imports this module

    if not isinstance(value, str) or value not in ACTIVATIONS:
        _checks.fail(
            "activation",
            " or ".join(map(repr, ACTIVATIONS)),
            repr(value),
            "pass activation='tanh' or 'relu'",
        )
    return value


activation = Kind("activation", activation_check)


def one_of(options: tuple[str, ...], fix: str) -> Kind:
    """One of a few names, e.g. objective='elbo' or 'iwae'."""

    def check(name, value, args):
        if not isinstance(value, str) or value not in options:
            _checks.fail(name, " or ".join(map(repr, options)), repr(value), fix)
        return value

    return Kind("choice", check)


def covariance_check(name, covariance, args):
    """'diagonal' or 'full', and not 'full' with shared_scale=True (declared before it)."""
    if covariance not in ("diagonal", "full"):
        _checks.fail(
            "covariance",
            "'diagonal' or 'full'",
            repr(covariance),
            "pass covariance='full' for a full-covariance q (chapter 10)",
        )
    if covariance == "full" and args.get("shared_scale", False):
        _checks.fail(
            "shared_scale",
            "False with covariance='full' (the network gives each x its own L)",
            "True",
            "pass shared_scale=False, or covariance='diagonal'",
        )
    return covariance


covariance = Kind("choice", covariance_check)


def flow_layers_check(name, flow_layers, args):
    """An int ≥ 0 (a numpy integer too), 0 with covariance='full' or shared_scale=True."""
    if (
        isinstance(flow_layers, bool)
        or not isinstance(flow_layers, numbers.Integral)
        or flow_layers < 0
    ):
        _checks.fail(
            "flow_layers",
            "a number of planar layers, an int ≥ 0",
            _checks.describe_value(flow_layers),
            "pass flow_layers=4, or 0 for none",
        )
    if flow_layers and (args.get("covariance") == "full" or args.get("shared_scale", False)):
        _checks.fail(
            "flow_layers",
            "0 with covariance='full' or shared_scale=True (a flow starts from its own "
            "diagonal Gaussian)",
            str(flow_layers),
            "pass flow_layers=0, or the defaults for the other two",
        )
    return int(flow_layers)


flow_layers = Kind("count_or_zero", flow_layers_check)


def input_standardization(*, positive: bool) -> Kind:
    """An encoder's input_loc (finite) or input_scale (positive): (D,), D from data_dim."""

    def check(name, value, args):
        d = args["data_dim"]
        _checks.tensor(name, value, ndim=1, last=d, shape_hint=f"(D,) = ({d},)")
        if positive:
            return _checks_values.positive_tensor(name, value.detach())
        return _checks_values.finite(name, value.detach())

    return Kind("data", check)


def rows_to_standardize_check(name, x, args):
    """x (N, D) with N ≥ 2, finite: standardization's, and for_data's (an encoder's)."""
    _checks.tensor("x", x, ndim=2, shape_hint="(N, D)", fix="one row per datapoint")
    if x.shape[0] < 2:
        _checks.fail("x", "at least two rows", str(tuple(x.shape)), "pass the training data")
    return _checks_values.finite("x", x)


rows_to_standardize = Kind("data", rows_to_standardize_check)


def images_to_standardize_check(name, x, args):
    """VAE.for_data's x: rows to standardize, in the data_range of the class args["cls"] (e.g.
    raw 0–16 pixel values are not Bernoulli data), judged as data of a model like x."""
    rows_to_standardize_check(name, x, args)
    like_x = types.SimpleNamespace(
        data_dim=x.shape[1], data_range=args["cls"].data_range, reference=lambda: x
    )
    return _checks_models.data(like_x, x, name)


images_to_standardize = Kind("data", images_to_standardize_check)


def encoder_input_check(name, x, args):
    """An encoder's x: (N, D), where and of the dtype the encoder (args["self"]) is, finite."""
    encoder, d = args["self"], args["self"].data_dim
    _checks.tensor("x", x, ndim=2, last=d, shape_hint=f"(N, {d})", fix="one row per x")
    _checks.like("x", x, "the encoder", encoder.input_loc)
    return _checks_values.finite("x", x)


encoder_input = Kind("data", encoder_input_check)


def decoder_input_check(name, z, args):
    """A decoder's z: (..., K), where and of the dtype the decoder (args["self"]) is, finite."""
    decoder, k = args["self"], args["self"].latent_dim
    _checks.tensor("z", z, last=k, shape_hint=f"(..., {k})", fix="pass latent codes")
    _checks.like("z", z, "the decoder", decoder.net[0].weight)
    return _checks_values.finite("z", z)


decoder_input = Kind("data", decoder_input_check)


def vae_parts(vae) -> None:
    """The VAE's encoder and decoder on one device, in one dtype (not so after, e.g.,
    vae.decoder.double() alone): the part that differs is named."""
    like = vae.reference()  # the encoder's first layer
    for name, value in [*vae.named_parameters(), *vae.named_buffers()]:
        if (value.dtype, value.device) != (like.dtype, like.device):
            part = "decoder" if name.startswith("decoder.") else name
            _checks.like(f"vae.{part}", value, "the encoder", like)


def vae_data_check(name, x, args):
    """Data x for the VAE args["self"] (data_for), whose parts agree (vae_parts)."""
    vae_parts(args["self"])
    return _checks_models.data(args["self"], x, name)


vae_data = Kind("data", vae_data_check)


def vae_images_check(name, x, args):
    """vae_data with at least two images (a variance over them)."""
    if vae_data_check(name, x, args).shape[0] < 2:
        _checks.fail("x", "at least two images", str(tuple(x.shape)), "pass more images")
    return x


vae_images = Kind("data", vae_images_check)


def vae_latent(fix: str) -> Kind:
    """Latent codes (..., K) for the VAE args["self"], whose parts agree."""

    def check(name, z, args):
        vae_parts(args["self"])
        return _checks_models.latent(args["self"], z, fix=fix)

    return Kind("data", check)


def kl_weight_check(name, kl_weight, args):
    """β: with objective='elbo' a number ≥ 0, or a 0-d tensor like x whose value is ≥ 0 (read
    here, once, where the call enters: the trainer's own calls are trusted, so never read in
    its loop); with 'iwae', 1."""
    if args["objective"] != "elbo":
        if not (isinstance(kl_weight, float | int) and kl_weight == 1):
            elbo_only("kl_weight", kl_weight, "1")
        return kl_weight
    value = kl_weight
    if isinstance(kl_weight, torch.Tensor):
        _checks.tensor("kl_weight", kl_weight, ndim=0, shape_hint="a 0-d tensor")
        _checks.like("kl_weight", kl_weight, "x", args["x"])
        value = kl_weight.item()
    if _checks.real("kl_weight", value) < 0:
        _checks.fail("kl_weight", "a weight β ≥ 0", repr(value), "pass a weight in [0, 1]")
    return kl_weight


kl_weight = Kind("real", kl_weight_check)


def free_bits_check(name, free_bits, args):
    """λ for VAE.loss: check_free_bits with objective='elbo', else 0."""
    if args["objective"] == "elbo":
        return check_free_bits(free_bits, args["self"].encoder)
    if not (isinstance(free_bits, numbers.Real) and free_bits == 0):
        elbo_only("free_bits", free_bits, "0")
    return free_bits


free_bits = Kind("real", free_bits_check)
