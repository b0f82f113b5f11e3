"""The kinds of argument the public functions declare with `@validated` (_checks_spec.py).

Each kind is a `Kind(sweep_name, check)`; the check takes (argument name, value, the arguments
checked before it) and returns the value to use. The messages come from _checks*.py; a kind
only picks which check, and which other argument it is judged against ("model", "x", "q").
"""

from __future__ import annotations

import inspect
import numbers
import types
from collections.abc import Sequence

import torch

from . import _checks, _checks_models, _checks_values
from . import families as _families  # a module: families.py declares its kinds from here
from ._checks_spec import Kind, optional

__all__ = ["Kind", "optional"]


def device_of(value) -> torch.device:
    """Where an argument's draws are made: a tensor's, a family's or a model's device."""
    if isinstance(value, torch.Tensor):
        return value.device
    if isinstance(value, _families.Family):
        return next(iter(value.params().values())).device
    return value.reference().device


# Python numbers and objects.

count = Kind("count", lambda name, value, args: _checks.positive_int(name, value))
positive = Kind("positive", lambda name, value, args: _checks.positive(name, value))
real = Kind("real", lambda name, value, args: _checks.real(name, value))
flag = Kind("flag", lambda name, value, args: _checks.boolean(name, value))
dtype = Kind("dtype", lambda name, value, args: _checks.dtype(name, value))
device = Kind("device", lambda name, value, args: _checks.device(name, value))


def count_or_zero_check(name, value, args):
    return 0 if _is_zero(value) else _checks.positive_int(name, value)


def _is_zero(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value == 0


count_or_zero = Kind("count_or_zero", count_or_zero_check)


def generator_for(source: str) -> Kind:
    """A torch.Generator (or None) on the device of the argument `source`."""

    def check(name, value, args):
        _checks.generator(value, device_of(args[source]))
        return value

    return Kind("generator", check)


def instance(kind: type | tuple[type, ...], fix: str, sweep_name: str = "model") -> Kind:
    """An object of `kind` (e.g. a LatentModel), nothing more."""
    return Kind(sweep_name, lambda name, value, args: _checks.instance(name, value, kind, fix))


def model(kind: type, fix: str = "use a vicourse model") -> Kind:
    return instance(kind, fix, "model")


# Tensors, judged against a model.


def data_for(model_arg: str = "model") -> Kind:
    """Data x (N, D) for the model in argument `model_arg` (_checks_models.data)."""
    return Kind("data", lambda name, value, args: _checks_models.data(args[model_arg], value, name))


def q_for(model_arg: str = "model", x_arg: str = "x") -> Kind:
    """A q with one row per datapoint of `x_arg`, over the model's latent."""

    def check(name, value, args):
        return _checks_models.q(args[model_arg], value, args[x_arg].shape[0])

    return Kind("q", check)


def draws_for(model_arg: str = "model", x_arg: str | None = "x") -> Kind:
    """Latent draws z, samples first, for the model (and N rows of `x_arg`, if given)."""

    def check(name, value, args):
        n = None if x_arg is None else args[x_arg].shape[0]
        return _checks_models.draws(args[model_arg], value, n)

    return Kind("data", check)


def log_w_check(name, value, args):
    """log w is (S, N) with S ≥ 1 draws, finite."""
    _checks.tensor("log_w", value, ndim=2, shape_hint="(S, N)", fix="pass log_weights(...)")
    if value.shape[0] == 0:
        _checks.fail(
            "log_w",
            "of shape (S, N) with S ≥ 1 draws",
            str(tuple(value.shape)),
            "draw at least one sample",
        )
    return _checks_values.finite("log_w", value, bounded=False)


log_w = Kind("data", log_w_check)


def values_check(name, values, args):
    """Draws of a quantity, samples first: (S, ...) with S ≥ 2, for a standard error."""
    _checks.tensor("values", values)
    if values.ndim < 1 or values.shape[0] < 2:
        _checks.fail(
            "values",
            "of shape (S, ...) with S ≥ 2 draws first",
            str(tuple(values.shape)),
            "a standard error needs at least two draws",
        )
    return _checks_values.finite("values", values, bounded=False)


draws_of_values = Kind("data", values_check)

# Estimators: a q to draw from, a function of the draws, a baseline.


def family(fix: str = "build one with DiagonalGaussian(loc, log_scale)") -> Kind:
    return Kind(
        "any_q", lambda name, value, args: _checks.instance(name, value, _families.Family, fix)
    )


def scored_family_check(name, value, args):
    """A Family with a log density at its own draws: the score function weighs by log q(z)."""
    fix = "build one with DiagonalGaussian(loc, log_scale)"
    _checks.instance(name, value, _families.Family, fix)
    if not getattr(value, "has_density", True):
        _checks.fail(
            name,
            "a family with a density at its draws (the score function weighs them by log q)",
            f"a {type(value).__name__}, whose one-hot draws have none",
            "use Categorical(q.logits) for the score function, or pathwise with this q",
        )
    return value


scored_family = Kind("any_q", scored_family_check)


def draws_count(q_arg: str = "q", *, pathwise: bool) -> Kind:
    """num_samples for draws from the q in `q_arg` (which must have rsample if pathwise)."""

    def check(name, value, args):
        value = _checks.positive_int(name, value)
        q = args[q_arg]
        if pathwise and not q.has_rsample:
            _checks.fail(
                "q",
                "a family with rsample (a reparameterizable q)",
                f"a {type(q).__name__}, which has none",
                "use the score-function estimator",
            )
        return value

    return Kind("count", check)


def callback_check(name, value, args):
    """f: a callable; returned wrapped, so that what it returns is checked too (shape (S, N),
    finite): the body then calls f as it is given, and trusted calls skip the wrapper."""
    if not callable(value):
        _checks.fail(
            "f",
            "a function z -> f(z) of shape (S, N)",
            _checks.describe_value(value),
            "pass e.g. lambda z: z.square().sum(-1)",
            kind=_checks.ArgumentTypeError,
        )
    q = args["q"]

    def checked(z):
        values = _with_checks(value, z)  # the caller's code, checked as at the call's entry
        expected = z.shape[: 1 + len(q.batch_shape)]
        if not isinstance(values, torch.Tensor) or values.shape != expected:
            _checks.fail(
                "f",
                f"a function returning shape (S, N) = {tuple(expected)}",
                f"one returning {_checks.describe_value(values)}",
                "sum over the latent dimension K inside f",
            )
        like = next(iter(q.params().values()))
        if values.dtype != like.dtype:  # an int f breaks the mean; a float32 one loses q's float64
            _checks.fail(
                "f",
                f"a function returning {like.dtype} values, like q",
                f"one returning {values.dtype}",
                f"compute f in q's dtype, e.g. return values.to({like.dtype})",
            )
        _checks_values.finite("f(z)", values, bounded=False)
        return values

    return checked


callback = Kind("callable", callback_check)


def _rows_and_like(value) -> tuple[int, torch.Tensor]:
    """N and a tensor whose dtype and device a baseline must share: x's, or q's first."""
    if isinstance(value, torch.Tensor):
        return value.shape[0], value
    like = next(iter(value.params().values()))
    return (value.batch_shape[0] if len(value.batch_shape) else 1), like


def baseline_for(rows_arg: str, count_arg: str = "num_samples") -> Kind:
    """None, a number, an (N,) tensor like the values of f, or 'leave-one-out' with S ≥ 2; N
    and the dtype from the argument `rows_arg` (x, or q)."""

    def check(name, baseline, args):
        n, like = _rows_and_like(args[rows_arg])
        num_samples = args[count_arg]
        if baseline is None:
            return baseline
        if isinstance(baseline, str):
            if baseline != "leave-one-out":
                _checks.fail(
                    "baseline",
                    "None, a number, an (N,) tensor or 'leave-one-out'",
                    repr(baseline),
                    "pass baseline='leave-one-out'",
                )
            if num_samples < 2:
                _checks.fail(
                    "num_samples",
                    "at least 2 with baseline='leave-one-out'",
                    str(num_samples),
                    "draw two or more samples",
                )
        elif isinstance(baseline, torch.Tensor):
            _checks.like("baseline", baseline, "the samples", like)
            if baseline.ndim > 1 or baseline.numel() not in (1, n):
                _checks.fail(
                    "baseline",
                    f"a number or a tensor of shape (N,) = ({n},)",
                    str(tuple(baseline.shape)),
                    "one baseline per datapoint",
                )
            _checks_values.finite("baseline", baseline.detach(), bounded=False)
        else:
            _checks.real("baseline", baseline)
        return baseline

    return Kind("baseline", check)


# Groups of kinds added by the modules that use them (kept apart so that each reads alone).
# --- kinds: families ---
# The variational families' (families.py to flows.py): each parameter is judged against those
# declared before it (log_scale against loc), a method's argument against q itself (args["self"]).

unchecked = Kind("unchecked", lambda name, value, args: value)  # any value: say why where used
own_generator = generator_for("self")  # a family's draws are made where its parameters live
drawing = dict(num_samples=count, generator=own_generator)  # q.rsample's and q.sample's


def check_draws(z, loc: torch.Tensor) -> torch.Tensor:
    """z is draws of a q over K-vectors whose parameters are shaped like loc (..., K): a tensor
    (S, ..., K) of loc's dtype and device, whose leading axes broadcast with loc's, finite.
    The z check of every continuous family's log_prob."""
    k = loc.shape[-1]
    _checks.tensor("z", z, last=k, shape_hint=f"(S, ..., {k})", fix="draw z with q.rsample(S)")
    _checks.like("z", z, "q", loc)
    _checks.broadcast(
        "z",
        z.shape,
        loc.shape,
        f"of a shape that broadcasts with q's {tuple(loc.shape)}",
        "draw z with q.rsample(S), shape (S, N, K)",
    )
    return _checks_values.finite("z", z)


draws_of_q = Kind("data", lambda name, z, args: check_draws(z, args["self"].loc))


def _to_arguments_check(name, value, args):
    """q.to's *args and **kwargs, tried on an empty tensor like q's parameters; the new q's
    constructor then checks what they made (q.to runs untrusted)."""
    like = next(iter(args["self"].params().values()))
    try:
        like.new_empty(0).to(*args["args"], **args["kwargs"])
    except (TypeError, RuntimeError, ValueError) as error:
        _checks.fail(
            "args",
            "arguments of torch.Tensor.to (a dtype, a device, or both)",
            f"{args['args']!r} and {args['kwargs']!r}",
            f"torch says: {str(error).splitlines()[0]}; e.g. q.to(torch.float64)",
        )
    return value


to_arguments = Kind("unchecked", _to_arguments_check)


def diagonal_q(kind: type) -> Kind:
    """A DiagonalGaussian (`kind`, passed in: gaussian.py imports this module) with (N, K)
    parameters, one row per datapoint: what from_diagonal builds on."""

    def check(name, q, args):
        _checks.instance("q", q, kind, "pass a DiagonalGaussian")
        if q.loc.ndim != 2:
            _checks.fail(
                "q",
                "a DiagonalGaussian with (N, K) parameters",
                f"one with loc of shape {tuple(q.loc.shape)}",
                "pass one row of parameters per datapoint",
            )
        return q

    return Kind("any_q", check)


# DiagonalGaussian (gaussian.py): loc (..., K); log_scale broadcasting with it; or scale > 0.


def _loc_check(name, loc, args):
    _checks.tensor("loc", loc, fix="pass μ with the latent dimension K last")
    return _checks_values.finite("loc", loc)


def _log_scale_check(name, log_scale, args):
    loc = args["loc"]
    _checks.tensor("log_scale", log_scale)
    _checks.like("log_scale", log_scale, "loc", loc)
    shape = _checks.broadcast(
        "log_scale",
        log_scale.shape,
        loc.shape,
        f"of a shape that broadcasts with loc's {tuple(loc.shape)}",
        "give it loc's shape, or (K,) to share it across datapoints",
    )
    if len(shape) == 0 or shape[-1] == 0:
        _checks.fail(
            "loc",
            "of shape (..., K) with K ≥ 1 latent dimensions last",
            str(tuple(shape)),
            "for one latent dimension use shape (N, 1)",
        )
    return _checks_values.scale_tensor("log_scale", log_scale)


def _scale_check(name, scale, args):
    _checks.tensor("scale", scale)
    return _checks_values.positive_tensor("scale", scale)


gaussian_loc = Kind("data", _loc_check)
gaussian_log_scale = Kind("data", _log_scale_check)
gaussian_scale = Kind("data", _scale_check)

# Categorical (categorical.py): logits (..., C), or probability rows; labels z for log_prob.


def _logits_check(name, logits, args):
    _checks.tensor("logits", logits, fix="pass (N, C) logits, one row per datapoint")
    if logits.ndim < 1 or logits.shape[-1] == 0:
        _checks.fail(
            "logits",
            "of shape (..., C) with C ≥ 1 categories last",
            str(tuple(logits.shape)),
            "pass one logit per category",
        )
    return _checks_values.finite("logits", logits)


def _probs_check(name, probs, args):
    _checks.tensor("probs", probs)
    return _checks_values.distribution_rows("probs", probs)


def _labels_check(name, z, args):
    q = args["self"]
    c = q.num_categories
    if not isinstance(z, torch.Tensor) or z.dtype != torch.long:
        _checks.fail(
            "z",
            f"an int64 tensor of labels 0..{c - 1}",
            _checks.describe_value(z),
            "draw it with q.sample(S)",
            kind=_checks.ArgumentTypeError,
        )
    try:
        shape = torch.broadcast_shapes(z.shape, q.batch_shape)
    except RuntimeError:
        shape = None
    if shape != z.shape:
        _checks.fail(
            "z",
            f"labels of shape (S, ...) = (S, {', '.join(map(str, q.batch_shape))})",
            str(tuple(z.shape)),
            "draw z with q.sample(S)",
        )
    return _checks_values.label_range("z", z, c)


categorical_logits = Kind("data", _logits_check)
categorical_probs = Kind("data", _probs_check)
labels_of_q = Kind("labels", _labels_check)

# RelaxedCategorical (relaxed.py): logits (N, C), τ > 0 such that (logits + g) / τ and log q
# stay finite in the logits' dtype; points y of the simplex; Gumbel noise g.


def gumbel_bound(dtype_: torch.dtype) -> float:
    """The largest |g| of standard Gumbel noise drawn in `dtype_`: u ≤ 1 − ε gives g ≤ −log ε
    (and u ≥ the smallest normal number, g ≥ −log(−log tiny), which is smaller)."""
    import math

    return 1 - math.log(torch.finfo(dtype_).eps)


def lowest_temperature(logits: torch.Tensor) -> float:
    """The smallest τ for these logits: log q's terms reach 8 C (|logits| + |g|)(1 + τ)/τ."""
    finfo = torch.finfo(logits.dtype)
    largest = logits.detach().abs().max().item() if logits.numel() else 0.0
    k = 8 * logits.shape[-1] * (largest + gumbel_bound(logits.dtype)) / finfo.max
    return max(finfo.tiny, k / (1 - k)) if k < 1 else float("inf")


def _relaxed_logits_check(name, logits, args):
    _checks.tensor(
        "logits", logits, ndim=2, shape_hint="(N, C)", fix="pass one row of logits per datapoint"
    )
    if logits.shape[-1] < 2:
        _checks.fail(
            "logits",
            "of shape (N, C) with C ≥ 2 categories",
            str(tuple(logits.shape)),
            "pass one logit per category",
        )
    return _checks_values.finite("logits", logits, bounded=False)  # never squared: see τ's


def _temperature_check(name, temperature, args):
    logits = args["logits"]
    if isinstance(temperature, torch.Tensor) and temperature.numel() != 1:
        _checks.fail(
            "temperature",
            "one number τ > 0",
            f"a tensor of shape {tuple(temperature.shape)}",
            "pass temperature=0.5",
        )
    if isinstance(temperature, torch.Tensor) and temperature.device.type == "meta":
        _checks.fail(
            "temperature", "a tensor with values", "a tensor on the meta device", "use cpu or cuda"
        )
    tau = _checks.positive("temperature", temperature)
    _checks_values.real_in_dtype("temperature", tau, logits.dtype)
    low = lowest_temperature(logits)
    if not tau >= low:
        _checks.fail(
            "temperature",
            f"at least {low:.1e} for these logits in {logits.dtype} (so that "
            "(logits + g) / τ and log q stay finite)",
            repr(tau),
            "raise it, rescale the logits, or use torch.float64",
        )
    return temperature


def check_points(
    name: str, y, shape: tuple[int, ...], fix: str, *, closed: bool = False
) -> torch.Tensor:
    """y is (S, *shape) points of the simplex: entries > 0 (≥ 0 if closed, which admits
    one-hot vectors) whose rows sum to 1 (to the rounding of a softmax in y's dtype)."""
    _checks.tensor(name, y, fix=fix)
    if y.ndim != 1 + len(shape) or tuple(y.shape[1:]) != tuple(shape):
        _checks.fail(
            name,
            f"points of the simplex of shape (S, {', '.join(map(str, shape))})",
            str(tuple(y.shape)),
            fix,
        )
    _checks_values.finite(name, y.detach())
    values = y.detach()
    tolerance = max(1e-6, 2 * torch.finfo(values.dtype).eps)
    outside = (values < 0) if closed else (values <= 0)
    if bool(outside.any()) or bool(((values.sum(-1) - 1).abs() > tolerance * shape[-1]).any()):
        _checks.fail(
            name,
            f"points {'of' if closed else 'inside'} the simplex ("
            f"{'entries ≥ 0' if closed else 'positive entries'}, each row summing to 1)",
            f"entries from {values.min().item():.3g} to {values.max().item():.3g}, row sums "
            f"from {values.sum(-1).min().item():.6g} to {values.sum(-1).max().item():.6g}",
            fix,
        )
    return y


def _relaxed_points_check(name, y, args):
    """Points of the closed simplex: an entry that underflowed to 0 is the draw of a low τ."""
    logits = args["self"].logits
    check_points(name, y, tuple(logits.shape), "pass relaxed draws, q.rsample(S)", closed=True)
    return _checks.like(name, y, "q", logits)


def _gumbel_check(name, gumbel, args):
    logits = args["self"].logits
    c = logits.shape[-1]
    _checks.tensor(name, gumbel, last=c, shape_hint=f"(S, N, {c})", fix="draw it with q.gumbel(S)")
    _checks.like(name, gumbel, "q", logits)
    _checks.broadcast(
        name,
        gumbel.shape,
        logits.shape,
        f"of a shape that broadcasts with q's {tuple(logits.shape)}",
        "draw it with q.gumbel(S)",
    )
    _checks_values.finite(name, gumbel, bounded=False)
    bound, largest = gumbel_bound(gumbel.dtype), gumbel.detach().abs().amax().item()
    if gumbel.numel() and largest > bound:
        _checks.fail(
            name,
            f"standard Gumbel noise, of magnitude at most {bound:.3g} in {gumbel.dtype}",
            f"a value of magnitude {largest:.3g}",
            "draw it with q.gumbel(S)",
        )
    return gumbel


relaxed_logits = Kind("data", _relaxed_logits_check)
temperature = Kind("positive", _temperature_check)
relaxed_points = Kind("data", _relaxed_points_check)
gumbel_noise = Kind("data", _gumbel_check)

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


# --- kinds: models ---
# The models' arguments (contracts, models, mixture, bernoulli_mixture; "self" is the model a
# method belongs to), their fitters (mle) and the KL divergences (kl).


def _dtype_of(value) -> torch.dtype:
    """The dtype a number is judged in: a dtype itself, a tensor's, or a model's."""
    if isinstance(value, torch.dtype):
        return value
    return value.dtype if isinstance(value, torch.Tensor) else value.reference().dtype


def real_in(source: str) -> Kind:
    """A finite number that the dtype of the argument `source` can carry (a model constant)."""

    def check(name, value, args):
        value = _checks.real(name, value)
        return _checks_values.real_in_dtype(name, value, _dtype_of(args[source]))

    return Kind("real", check)


def scale_in(source: str) -> Kind:
    """A scale σ > 0 whose square stays finite and nonzero in the dtype of `source`."""

    def check(name, value, args):
        value = _checks.positive(name, value)
        return _checks_values.scale_in_dtype(name, value, _dtype_of(args[source]))

    return Kind("positive", check)


def latent_for(model_arg: str = "self") -> Kind:
    """Any (..., K) batch of latent values of the model (what sample_likelihood takes)."""
    return Kind(
        "data",
        lambda name, value, args: _checks_models.latent(
            args[model_arg], value, fix="draw z with sample_prior"
        ),
    )


def labels_for(model_arg: str = "self", x_arg: str | None = None) -> Kind:
    """Labels z of a mixture: (S, N) samples first (N rows of `x_arg`, if given)."""

    def check(name, value, args):
        n = None if x_arg is None else args[x_arg].shape[0]
        return _checks_models.labels(args[model_arg], value, n)

    return Kind("labels", check)


any_labels = Kind(  # labels of any shape, not samples first (what sample_likelihood takes)
    "labels",
    lambda name, value, args: _checks_models.labels(args["self"], value, samples_first=False),
)


def closed_form_q(family_: type, fix: str) -> Kind:
    """A q of the family whose ELBO the model has in closed form, one row per row of x."""

    def check(name, value, args):
        _checks.instance("q", value, family_, fix)
        return _checks_models.q(args["self"], value, args["x"].shape[0])

    return Kind("q", check)


def labels_or_points(check_points) -> Kind:
    """BernoulliMixture's z: labels (S, N), or relaxed draws (S, N, C), points of the simplex
    (check_points: relaxed.py's check, passed in)."""

    def check(name, z, args):
        model, n = args["self"], args["x"].shape[0]
        if isinstance(z, torch.Tensor) and z.is_floating_point():
            fix = "pass q.rsample(S) of a RelaxedCategorical, or labels (S, N)"
            check_points("z", z, (n, model.num_components), fix, closed=True)
            return _checks.like("z", z, "the model", model.reference())
        return _checks_models.labels(model, z, n)

    return Kind("labels", check)


def linear_weight_check(name, weight, args):
    _checks.tensor("weight", weight, ndim=2, shape_hint="(D, K)", fix="W maps z to x: (D, K)")
    if 0 in weight.shape:
        _checks.fail(
            "weight",
            "of shape (D, K) with D, K ≥ 1",
            str(tuple(weight.shape)),
            "pass a nonempty matrix",
        )
    return _checks_values.finite("weight", weight)


def linear_bias_check(name, bias, args):
    weight = args["weight"]
    d = weight.shape[0]
    _checks.tensor("bias", bias, ndim=1, last=d, shape_hint=f"(D,) = ({d},)")
    _checks.like("bias", bias, "weight", weight)
    return _checks_values.finite("bias", bias)


linear_weight = Kind("data", linear_weight_check)
linear_bias = optional(Kind("data", linear_bias_check))


def mixture_loc_check(name, loc, args):
    _checks.tensor("loc", loc, ndim=2, shape_hint="(C, D)", fix="one row per component")
    if 0 in loc.shape:
        _checks.fail(
            "loc",
            "of shape (C, D) with C ≥ 1 components and D ≥ 1",
            str(tuple(loc.shape)),
            "a mixture needs at least one component",
        )
    return _checks_values.finite("loc", loc)


def mixture_logits_check(name, logits, args):
    loc = args["loc"]
    c = loc.shape[0]
    _checks.tensor(
        "logits", logits, ndim=1, last=c, shape_hint=f"(C,) = ({c},), one per row of loc"
    )
    _checks.like("logits", logits, "loc", loc)
    return _checks_values.finite("logits", logits)


def mixture_log_scale_check(name, log_scale, args):
    loc = args["loc"]
    c, d = loc.shape
    _checks.tensor("log_scale", log_scale, ndim=2, shape_hint=f"(C, D) = ({c}, {d})")
    if log_scale.shape != loc.shape:
        _checks.fail(
            "log_scale",
            f"of shape (C, D) = ({c}, {d}), like loc",
            str(tuple(log_scale.shape)),
            "give every component a log σ per dimension",
        )
    _checks.like("log_scale", log_scale, "loc", loc)
    return _checks_values.scale_tensor("log_scale", log_scale)


mixture_loc = Kind("data", mixture_loc_check)
mixture_logits = Kind("data", mixture_logits_check)
mixture_log_scale = Kind("data", mixture_log_scale_check)


def image_logits_check(name, image_logits, args):
    _checks.tensor("image_logits", image_logits, ndim=2, shape_hint="(C, D)")
    if image_logits.shape[1] == 0:  # an image of no pixels
        _checks.fail(
            "image_logits",
            "of shape (C, D) with D ≥ 1 pixels",
            str(tuple(image_logits.shape)),
            "give each component one logit per pixel",
        )
    return _checks_values.finite("image_logits", image_logits)


def bernoulli_logits_check(name, logits, args):
    image_logits = args["image_logits"]
    c = image_logits.shape[0]
    _checks.tensor("logits", logits, ndim=1, shape_hint=f"(C,) = ({c},), like image_logits")
    if logits.shape[0] != c or c < 2:
        _checks.fail(
            "logits",
            f"of shape (C,) with C ≥ 2, one per row of image_logits ({c})",
            str(tuple(logits.shape)),
            "pass one mixing logit per component",
        )
    _checks.like("logits", logits, "image_logits", image_logits)
    return _checks_values.finite("logits", logits)


image_logits = Kind("data", image_logits_check)
bernoulli_logits = Kind("data", bernoulli_logits_check)


# Fitting a model (mle.py): its parameters, its data, EM's responsibilities.


def finite_parameters(model, name: str = "model", values: dict | None = None):
    """Every parameter of the model finite (one sync): one set to nan in place after the model
    was built is named, with where, before a fit blames its step size. `values`: the
    parameters by name as they were (a copy from before a fit), if not as they are."""
    values = values or {k: v.detach() for k, v in model.named_parameters()}
    if not values or bool(torch.stack([v.isfinite().all() for v in values.values()]).all()):
        return model
    for parameter_name, value in values.items():
        bad = ~torch.isfinite(value)
        if bool(bad.any()):
            where = bad.nonzero()[0].tolist()
            at = f" at [{', '.join(map(str, where))}]" if where else ""
            _checks.fail(
                f"{name}.{parameter_name}",
                "finite",
                f"{value[tuple(where)].item()}{at}",
                f"build the model again, or copy finite values into {name}.{parameter_name}",
                kind=_checks.FitError,
            )
    return model


def fitted_model(kind: type, fix: str) -> Kind:
    """A model of `kind` to fit: every parameter finite (finite_parameters)."""

    def check(name, value, args):
        return finite_parameters(_checks.instance(name, value, kind, fix), name)

    return Kind("model", check)


fit_data = Kind(  # data a fit trains on: the model's, in float32 or float64
    "data",
    lambda name, value, args: _checks_models.fit_precision(
        name, _checks_models.data(args["model"], value, name)
    ),
)


def responsibilities_check(name, responsibilities, args):
    """r (N, C): one distribution over the model's C labels per row of x."""
    model = args["model"]
    n, c = args["x"].shape[0], model.num_components
    fix = "pass one row per datapoint, e.g. model.posterior(x).probs"
    shape = f"(N, C) = ({n}, {c})"
    _checks.tensor("responsibilities", responsibilities, ndim=2, shape_hint=shape, fix=fix)
    if responsibilities.shape != (n, c):
        _checks.fail(
            "responsibilities", f"of shape {shape}", str(tuple(responsibilities.shape)), fix
        )
    _checks.like("responsibilities", responsibilities, "the model", model.reference())
    return _checks_values.distribution_rows("responsibilities", responsibilities)


responsibilities = Kind("data", responsibilities_check)


# KL divergences (kl.py): two distributions over the same latent, and a Monte Carlo KL's log p.


def kl_batch_shape(q_loc: torch.Tensor, p_loc: torch.Tensor, p_name: str) -> None:
    """q and p have the same K and batch shapes that broadcast."""
    if p_loc.shape[-1] != q_loc.shape[-1]:
        _checks.fail(
            p_name,
            f"a distribution over K = {q_loc.shape[-1]} dimensions, like q",
            f"one over {p_loc.shape[-1]}",
            "compare distributions of the same latent variable",
        )
    _checks.broadcast(
        p_name,
        p_loc.shape[:-1],
        q_loc.shape[:-1],
        f"of a batch shape that broadcasts with q's {tuple(q_loc.shape[:-1])}",
        "give p one row per datapoint, or a single row",
    )
    _checks.like(f"{p_name}.loc", p_loc, "q", q_loc)


def p_like_q(kind: type, fix: str, sweep_name: str = "q") -> Kind:
    """p of `kind`, over q's latent, with a batch shape that broadcasts with q's."""

    def check(name, value, args):
        _checks.instance(name, value, kind, fix)
        kl_batch_shape(args["q"].loc, value.loc, name)
        return value

    return Kind(sweep_name, check)


def kl_family_check(name, value, args):
    """A Family with a density at its own draws: a Monte Carlo KL averages log q(z)."""
    _checks.instance(name, value, _families.Family, "build q with vicourse.DiagonalGaussian")
    if not getattr(value, "has_density", True):
        _checks.fail(
            name,
            "a family with a density at its draws (the KL averages log q over them)",
            f"a {type(value).__name__}, whose one-hot draws have none",
            "use RelaxedCategorical(q.logits, q.temperature), or Categorical(q.logits) for "
            "the labels' KL",
        )
    return value


kl_family = Kind("any_q", kl_family_check)


def log_p_check(name, value, args):
    """log_p: a callable; returned wrapped, so that what it returns is checked (shape (S, N),
    finite). The caller's function runs with the checks on, as the caller would run it."""
    if not callable(value):
        _checks.fail(
            "log_p",
            "a function z -> log p(z)",
            _checks.describe_value(value),
            "pass e.g. posterior.log_prob or lambda z: model.log_joint(x, z)",
            kind=_checks.ArgumentTypeError,
        )
    batch_ndim = len(args["q"].batch_shape)

    def checked(z):
        log_p_z = _with_checks(value, z)
        expected = z.shape[: 1 + batch_ndim]
        if not isinstance(log_p_z, torch.Tensor) or log_p_z.shape != expected:
            _checks.fail(
                "log_p",
                f"a function returning a tensor of shape (S, N) = {tuple(expected)} for z of "
                f"shape {tuple(z.shape)}",
                f"one returning {_checks.describe_value(log_p_z)}",
                "sum log p over the latent dimension K",
            )
        return _checks_values.finite("log_p(z)", log_p_z, bounded=False)

    return checked


def _with_checks(fn, z):
    """fn(z) with the checks on, as they were where the call entered (a kind runs only then)."""
    previous, _checks.enabled = _checks.enabled, True
    try:
        return fn(z)
    finally:
        _checks.enabled = previous


log_p = Kind("callable", log_p_check)


def standard_error_count_check(name, value, args):
    """num_samples ≥ 2: a standard error needs two draws."""
    value = _checks.positive_int(name, value)
    if value < 2:
        _checks.fail(name, "at least 2", "1", "a standard error needs two draws")
    return value


standard_error_count = Kind("count", standard_error_count_check)


# --- kinds: fitting ---
# trainer (train's settings; its model, x_train, lr, ... use the kinds above and below)


def batch_for(x_arg: str) -> Kind:
    """A batch size: a count of at most the N rows of the argument `x_arg`."""

    def check(name, value, args):
        value, n = _checks.positive_int(name, value), args[x_arg].shape[0]
        if value > n:
            _checks.fail(
                name,
                f"at most the number of training images, {n}",
                str(value),
                f"pass a smaller {name}",
            )
        return value

    return Kind("count", check)


def cuda_graph_for(x_arg: str) -> Kind:
    """None (yes on CUDA), or True or False, and False off CUDA (where `x_arg` is)."""

    def check(name, value, args):
        if value is not None and _checks.boolean(name, value) and args[x_arg].device.type != "cuda":
            _checks.fail(
                name,
                "False off CUDA (a CUDA graph needs a CUDA device)",
                "True",
                f"pass {name}=None or False",
            )
        return value

    return Kind("optional_flag", check)


def kl_warmup_check(name, value, args):
    """A number of epochs ≥ 0 (a numpy integer too), 0 unless args["objective"] is 'elbo'."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        _checks.fail(
            name,
            "a number of epochs, an int ≥ 0",
            _checks.describe_value(value),
            "pass kl_warmup=10, or 0 for none",
        )
    if value and args["objective"] != "elbo":
        elbo_only(name, value, "0")
    return int(value)


kl_warmup = Kind("count_or_zero", kl_warmup_check)


def train_free_bits_check(name, value, args):
    """λ ≥ 0 for train: 0, or with objective='elbo' check_free_bits for args["model"]."""
    if _checks.real(name, value) == 0:
        return 0.0
    if args["objective"] != "elbo":
        elbo_only(name, value, "0")
    return check_free_bits(value, args["model"].encoder)


train_free_bits = Kind("real", train_free_bits_check)


def checkpoint_path_check(name, value, args):
    """None, or a path a checkpoint can be read from and written to: refused now, not after an
    epoch. Returned as a pathlib.Path."""
    import os  # here, not at the table's top: only this kind reads paths
    from pathlib import Path

    from .checkpoints import temporary  # lazily: the table imports only the check modules

    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        _checks.fail(
            "checkpoint",
            "a file path (a str or a pathlib.Path) or None",
            _checks.describe_value(value),
            "pass e.g. checkpoint='vae.pt'",
            kind=_checks.ArgumentTypeError,
        )
    file = Path(value)
    if file.is_dir():
        _checks.fail("checkpoint", "a file path", f"the folder {str(file)!r}", "name a file in it")
    try:  # the folder must hold the file and its temporary twin (save writes both)
        file.parent.mkdir(parents=True, exist_ok=True)
        temporary(file).touch()
        temporary(file).unlink()
    except OSError as error:
        _checks.fail(
            "checkpoint",
            "a path where a file can be written",
            repr(str(file)),
            f"the system says: {error.strerror or error}; pick another folder",
        )
    return file


# "unchecked" for the sweep only: every str it feeds is a fair file name; the check itself still
# refuses what is not a path, by name (test_trainer.py, test_checkpoints.py).
checkpoint_path = Kind("unchecked", checkpoint_path_check)


# local VI, gaps, SNR


def fit_data_for(model_arg: str = "model", encoder_arg: str | None = None) -> Kind:
    """Data x a fit trains on: data_for the model, in float32 or float64 (fit_precision), and
    where the encoder in `encoder_arg` is, if one is named."""

    def check(name, value, args):
        _checks_models.fit_precision(name, _checks_models.data(args[model_arg], value, name))
        if encoder_arg is not None:
            _checks.like(name, value, "the encoder", args[encoder_arg].input_loc)
        return value

    return Kind("data", check)


def encoder_for(kind: type, model_arg: str = "model") -> Kind:
    """An encoder (a `kind`, GaussianEncoder, passed in by its module) from the model's D to K."""

    def check(name, value, args):
        _checks.instance(name, value, kind, "build one with GaussianEncoder(D, K)")
        model_ = args[model_arg]
        if value.latent_dim != model_.latent_dim or value.data_dim != model_.data_dim:
            _checks.fail(
                "encoder",
                f"an encoder from D = {model_.data_dim} to K = {model_.latent_dim}, like the model",
                f"one from {value.data_dim} to {value.latent_dim}",
                "build it with GaussianEncoder(model.data_dim, model.latent_dim)",
            )
        return value

    return Kind("encoder", check)


def check_estimator(estimator) -> None:
    """An ELBO estimator (a function like elbo_pathwise), or None for the default."""
    if estimator is not None and (isinstance(estimator, str) or not callable(estimator)):
        _checks.fail(
            "estimator",
            "an ELBO estimator such as vicourse.elbo_pathwise or vicourse.elbo_score_function",
            _checks.describe_value(estimator),
            "pass the function itself, e.g. estimator=vicourse.elbo_score_function",
            kind=_checks.ArgumentTypeError,
        )


def check_baseline_taken(estimator, baseline) -> None:
    """A baseline only for an estimator that takes one (the score function's)."""
    from .estimators import elbo_pathwise  # lazily: estimators imports this module

    try:
        takes = "baseline" in inspect.signature(estimator).parameters
    except (TypeError, ValueError):  # a callable without a signature: let it decide
        takes = True
    if baseline is not None and (estimator is elbo_pathwise or not takes):
        _checks.fail(
            "baseline",
            f"None with estimator={getattr(estimator, '__name__', estimator)}",
            repr(baseline),
            "a baseline is for the score function: pass estimator=vicourse.elbo_score_function",
        )


def estimator_check(name, value, args):
    check_estimator(value)
    return value


estimator = Kind("estimator_fn", estimator_check)


def fitted_q_for(estimator_arg: str = "estimator", model_arg: str = "model", x_arg: str = "x"):
    """The q a fit starts from: None (the model's prior) or a q for the model and x (q_for);
    with estimator=elbo_pathwise, one with rsample (a discrete model's prior has none)."""

    def check(name, value, args):
        from .estimators import elbo_pathwise  # lazily: estimators imports this module

        n = args[x_arg].shape[0]
        start = args[model_arg].prior(n) if value is None else value
        if value is not None:
            _checks_models.q(args[model_arg], value, n)
        if args[estimator_arg] is elbo_pathwise:  # draws_count's message: q must have rsample
            draws_count(pathwise=True)("num_samples", 1, {"q": start})
        return value

    return Kind("optional_q", check)


def estimator_baseline(q_arg: str | None = "init", x_arg: str = "x") -> Kind:
    """A fit's baseline: None, or one for an estimator that takes it (check_baseline_taken), as
    baseline_for(x) wants it. The estimator is the argument `estimator`, or the default: for
    the q in `q_arg` (None there: the model's prior), or elbo_pathwise where q_arg is None (an
    encoder's q)."""
    rows = baseline_for(x_arg)

    def check(name, value, args):
        from .estimators import default_estimator, elbo_pathwise  # lazily, as above

        chosen = args["estimator"]
        if chosen is None and q_arg is None:
            chosen = elbo_pathwise
        elif chosen is None:
            start = args[q_arg]
            start = args["model"].prior(args[x_arg].shape[0]) if start is None else start
            chosen = default_estimator(start)
        check_baseline_taken(chosen, value)
        return rows(name, value, args)

    return Kind("baseline", check)


def count_zero_or_default_check(name, value, args):
    """A count, 0 (none), or None (the function's default)."""
    return None if value is None else count_or_zero_check(name, value, args)


count_zero_or_default = Kind("count_or_zero", count_zero_or_default_check)


def sample_counts_check(name, ks, args):
    """ks as a non-empty list of positive ints."""
    if isinstance(ks, int | torch.Tensor) or not isinstance(ks, Sequence) or len(ks) == 0:
        _checks.fail(
            "ks",
            "a non-empty list of sample counts k",
            _checks.describe_value(ks),
            "pass a list such as ks=[1, 10, 100, 1000]",
        )
    return [_checks.positive_int(f"ks[{i}]", k) for i, k in enumerate(ks)]


sample_counts = Kind("counts", sample_counts_check)


def estimate_count_check(name, value, args):
    """A count of at least 2: the estimates a standard deviation is taken of."""
    value = _checks.positive_int(name, value)
    if value < 2:
        _checks.fail(
            "num_estimates", "at least 2 (a standard deviation needs two)", "1", "pass 100"
        )
    return value


estimate_count = Kind("count", estimate_count_check)


def differentiable_model(kind: type, fix: str) -> Kind:
    """A `kind` (a VAE) with at least one parameter that requires a gradient."""

    def check(name, value, args):
        _checks.instance(name, value, kind, fix)
        if not any(p.requires_grad for p in value.parameters()):
            _checks.fail(
                name,
                "a model with parameters that require gradients",
                "one whose parameters are all frozen (requires_grad=False)",
                "unfreeze them, e.g. model.requires_grad_(True)",
            )
        return value

    return Kind("vae_model", check)


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
    from .nets import ACTIVATIONS  # lazily: nets imports this module

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


def elbo_only(name: str, value, neutral: str) -> None:
    """Refuse a setting of the KL term (kl_weight, kl_warmup, free_bits) with the IWAE
    objective, which has no separate KL term; `neutral` is the value that means "none"."""
    _checks.fail(
        name,
        f"{neutral} with objective='iwae' (the IWAE bound has no separate KL term)",
        _checks.describe_value(value),
        f"pass {name}={neutral} (or leave it out), or use objective='elbo'",
    )


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


def check_free_bits(free_bits, encoder) -> float:
    """λ ≥ 0, and 0 unless the encoder's q is diagonal (free bits need a KL per unit)."""
    if _checks.real("free_bits", free_bits) < 0:
        _checks.fail(
            "free_bits", "a number of nats λ ≥ 0", repr(free_bits), "pass 0.1, or 0 for none"
        )
    if free_bits and (encoder.covariance != "diagonal" or encoder.flow_layers):
        _checks.fail(
            "free_bits",
            "0 for a full-covariance or flow q (free bits need a KL per latent unit)",
            repr(free_bits),
            "use a diagonal encoder, or a KL warm-up (train(kl_warmup=...))",
        )
    return float(free_bits)


def free_bits_check(name, free_bits, args):
    """λ for VAE.loss: check_free_bits with objective='elbo', else 0."""
    if args["objective"] == "elbo":
        return check_free_bits(free_bits, args["self"].encoder)
    if not (isinstance(free_bits, numbers.Real) and free_bits == 0):
        elbo_only("free_bits", free_bits, "0")
    return free_bits


free_bits = Kind("real", free_bits_check)


# --- kinds: exercises ---


def choice_of(options, expected: str, fix: str) -> Kind:
    """A name among `options` (an exercise, a data set), described as `expected` in the message."""

    def check(name, value, args):
        if not isinstance(value, str) or value not in options:
            _checks.fail(name, expected, repr(value), fix)
        return value

    return Kind("choice", check)


def seed_check(name, value, args):
    """A seed for torch.Generator.manual_seed: an int from 0 to 2**32 − 1."""
    import numbers  # here, not at the top: this group's kinds stay below its anchor

    expected, fix = "an int from 0 to 2**32 − 1", "pass e.g. seed=0"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _checks.fail(
            name, expected, _checks.describe_value(value), fix, kind=_checks.ArgumentTypeError
        )
    if not 0 <= value < 2**32:
        _checks.fail(name, expected, repr(value), fix)
    return int(value)


seed = Kind("seed", seed_check)


def folder_check(name, value, args):
    """A folder: a str or a path (any string names one, so the sweep's malformations, a string
    among them, do not apply: "unchecked" for the sweep; the type is still checked)."""
    import os

    if not isinstance(value, str | os.PathLike):
        _checks.fail(
            name,
            "a folder, as a str or a pathlib.Path",
            _checks.describe_value(value),
            f"pass e.g. {name}='~/.cache/vicourse'",
            kind=_checks.ArgumentTypeError,
        )
    return value


folder = Kind("unchecked", folder_check)


def learner_fn_check(name, value, args):
    """The learner's function for the exercise in args["name"]: any callable is a fair answer
    (the verdict judges what it returns)."""
    if not callable(value):
        exercise = args["name"]
        _checks.fail(
            name,
            "a function",
            type(value).__name__,
            f"pass the function itself, e.g. check({exercise!r}, {exercise})",
            kind=_checks.ArgumentTypeError,
        )
    return value


learner_fn = Kind("learner_fn", learner_fn_check)
# Any str names a variable: "unchecked" for the sweep (whose malformations include a string).
variable_name = Kind(
    "unchecked",
    lambda name, value, args: _checks.instance(
        name, value, str, "pass the variable's name, e.g. 'experiment_1_3'"
    ),
)


def measured_check(name, value, args):
    """An experiment's number, as the learner stored it: any value gets a verdict
    (ExerciseFailed says what is wrong with it), so "unchecked" for the sweep; only a tensor or
    array with no real number to read (complex, or on the meta device) is refused here."""
    import numpy as np

    complex_array = isinstance(value, np.ndarray) and np.iscomplexobj(value)
    if complex_array or (
        isinstance(value, torch.Tensor) and (value.is_complex() or value.device.type == "meta")
    ):
        _checks.fail(
            name,
            "a real number, or a tensor or array holding one",
            _checks.describe_value(value),
            "store the real number the experiment measures, computed on cpu or cuda",
        )
    return value


measured = Kind("unchecked", measured_check)


def nonnegative_check(name, value, args):
    """A finite number ≥ 0 (a tolerance)."""
    number = _checks.real(name, value)
    if number < 0:
        _checks.fail(name, "a number ≥ 0", f"{value!r}", f"pass a {name} ≥ 0")
    return number


nonnegative = Kind("real", nonnegative_check)
