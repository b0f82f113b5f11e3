"""Kinds of the richer families: FullGaussian (fullcov.py) and PlanarFlow (flows.py)."""

from __future__ import annotations

import torch

from .. import _checks, _checks_values
from .._checks_spec import Kind, optional

# FullGaussian (fullcov.py): loc (N, K) in float32 or float64, and L (N, K, K) from tril (or
# scale_tril), whose inverse is bounded as 1/σ is for a diagonal q, so that log q stays finite.


def _full_loc_check(name, loc, args):
    _checks.tensor("loc", loc, ndim=2, shape_hint="(N, K)", fix="pass μ with one row per x")
    if loc.shape[1] == 0:
        _checks.fail("loc", "of shape (N, K) with K ≥ 1", str(tuple(loc.shape)), "use K ≥ 1")
    if loc.dtype not in (torch.float32, torch.float64):
        _checks.fail(
            "loc",
            "of dtype torch.float32 or torch.float64 (log q solves a triangular system, "
            "which torch does not in lower precision)",
            str(loc.dtype),
            "convert it with loc.float() or loc.double()",
        )
    return _checks_values.finite("loc", loc)


def _factor_shape(name, matrix, args):
    loc = args["loc"]
    n, k = loc.shape
    _checks.shaped_like(
        name,
        matrix,
        (n, k, k),
        loc,
        "one K × K matrix per row of loc (N, K)",
        "pass one K × K matrix per row of loc (FullGaussian.from_diagonal makes one)",
    )


def _inverse_bounded(name: str, factor: torch.Tensor) -> None:
    """L⁻¹'s entries at most 1/σ_min of scale_range, the bound of 1/σ for a diagonal q: then
    L⁻¹(z − μ) is as finite as (z − μ)/σ (an L far from its diagonal's scale breaks this)."""
    if not factor.numel():
        return
    factor = factor.detach()
    eye = torch.eye(factor.shape[-1], dtype=factor.dtype, device=factor.device)
    inverse = torch.linalg.solve_triangular(factor, eye.expand_as(factor), upper=False)
    worst, bound = inverse.abs().amax().item(), 1 / _checks_values.scale_range(factor.dtype)[0]
    if not worst <= bound * (1 + 1e-3):  # nan (from inf − inf) is refused too
        _checks.fail(
            name,
            f"the parameters of an L whose inverse has entries of magnitude at most "
            f"{bound:.1e} in {factor.dtype} (as 1/σ for a diagonal q, so that log q stays "
            "finite)",
            f"an entry of L⁻¹ of magnitude {worst:.3g}",
            "shrink L's entries below the diagonal or raise its diagonal, or use torch.float64",
        )


def _tril_check(name, tril, args):
    _factor_shape("tril", tril, args)
    _checks_values.finite("tril", tril)
    diagonal = tril.diagonal(dim1=-2, dim2=-1)
    _checks_values.scale_tensor("tril's diagonal", diagonal)
    _inverse_bounded("tril", tril.tril(-1) + torch.diag_embed(diagonal.exp()))
    return tril


def _scale_tril_check(name, scale_tril, args):
    _factor_shape("scale_tril", scale_tril, args)
    if bool((scale_tril.triu(1) != 0).any()):
        _checks.fail(
            "scale_tril",
            "lower triangular (zeros above the diagonal), a Cholesky factor L",
            "a matrix with entries above its diagonal",
            "pass torch.linalg.cholesky(covariance), not the covariance itself",
        )
    _checks_values.positive_tensor("scale_tril's diagonal", scale_tril.diagonal(dim1=-2, dim2=-1))
    _checks_values.finite("scale_tril", scale_tril)
    _inverse_bounded("scale_tril", scale_tril)
    return scale_tril


full_loc = Kind("data", _full_loc_check)
full_tril = Kind("data", _tril_check)
full_scale_tril = Kind("data", _scale_tril_check)

# PlanarFlow (flows.py): loc, log_scale (N, K); u, w (N, L, K); bias (N, L); a layer's index.


def _flow_shaped(name, value, args, shape) -> torch.Tensor:
    """`value` of shape(N, L, K): N and K from loc, L from u (checked first, after loc)."""
    n, k = args["loc"].shape
    layers = args["u"].shape[1]
    return _checks.shaped_like(
        name,
        value,
        shape(n, layers, k),
        args["loc"],
        f"like loc's (N, K) = ({n}, {k}) with L = {layers} layers",
        "build q with PlanarFlow.from_diagonal(q, num_layers)",
    )


def _flow_loc_check(name, loc, args):
    _checks.tensor("loc", loc, ndim=2, shape_hint="(N, K)", fix="pass μ with one row per x")
    return _checks_values.finite("loc", loc)


def _flow_u_check(name, u, args):
    n, k = args["loc"].shape
    _checks.tensor("u", u, ndim=3, last=k, shape_hint=f"(N, L, K) = ({n}, L, {k})")
    _flow_shaped("u", u, args, lambda n, layers, k: (n, layers, k))
    return _checks_values.finite("u", u)


def _flow_log_scale_check(name, log_scale, args):
    n, k = args["loc"].shape
    _checks.tensor("log_scale", log_scale, ndim=2, shape_hint=f"(N, K) = ({n}, {k})")
    _flow_shaped("log_scale", log_scale, args, lambda n, layers, k: (n, k))
    return _checks_values.scale_tensor("log_scale", log_scale)


def _flow_w_check(name, w, args):
    _flow_shaped("w", w, args, lambda n, layers, k: (n, layers, k))
    _checks_values.finite("w", w)
    if w.shape[1] and bool((w.square().sum(-1) == 0).any()):
        _checks.fail(
            "w", "nonzero in every layer (û divides by ‖w‖²)", "a zero w", "start w small, not 0"
        )
    return w


def _flow_bias_check(name, bias, args):
    _flow_shaped("bias", bias, args, lambda n, layers, k: (n, layers))
    return _checks_values.finite("bias", bias)


def _layer_index_check(name, index, args):
    layers = args["self"].num_layers
    if isinstance(index, bool) or not hasattr(index, "__index__") or not 0 <= index < layers:
        _checks.fail(
            "index",
            f"the index of one of the {layers} layers, an int from 0 to {layers - 1}",
            _checks.describe_value(index),
            "count the layers from 0",
        )
    return int(index)


def _u_hat_check(name, u_hat, args):
    q = args["self"]
    _checks.shaped_like(
        "u_hat", u_hat, tuple(q.u.shape), q.loc, "that of u (N, L, K)", "pass q.u_hat() or None"
    )
    return _checks_values.finite("u_hat", u_hat)


flow = dict(
    loc=Kind("data", _flow_loc_check),
    u=Kind("data", _flow_u_check),
    log_scale=Kind("data", _flow_log_scale_check),
    w=Kind("data", _flow_w_check),
    bias=Kind("data", _flow_bias_check),
)
layer_index = Kind("count_or_zero", _layer_index_check)
u_hat = optional(Kind("data", _u_hat_check))
