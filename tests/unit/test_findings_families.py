"""The families' findings of the sweep of bad inputs, one test each: the score function through a
planar flow, remembered log-densities only for unchanged draws, the relaxed density in log space
(low temperatures, float16, underflowed entries, huge logits), dtypes and devices refused by
name, and FullGaussian's limits (no float16, an L⁻¹ bounded as 1/σ is)."""

import math

import pytest
import torch
from conftest import gen

import vicourse
from vicourse import (
    ArgumentError,
    DiagonalGaussian,
    FullGaussian,
    PlanarFlow,
    RelaxedCategorical,
)

F64 = torch.float64


def flow(requires_grad=True, seed=0):
    g = gen(seed)
    params = dict(
        loc=torch.randn(2, 2, generator=g, dtype=F64),
        log_scale=0.3 * torch.randn(2, 2, generator=g, dtype=F64),
        u=torch.randn(2, 3, 2, generator=g, dtype=F64),
        w=torch.randn(2, 3, 2, generator=g, dtype=F64),
        bias=torch.randn(2, 3, generator=g, dtype=F64),
    )
    return PlanarFlow(**{k: v.requires_grad_(requires_grad) for k, v in params.items()})


def test_log_q_of_sampled_flow_draws_has_the_gradient_at_the_fixed_draws():
    # finding 1: the score function needs ∇φ log q_φ(z) with z held; check it against central
    # differences of log q at the same z, computed by inverting the layers
    q = flow()
    z = q.sample(3, generator=gen(1))
    assert not z.requires_grad
    params = list(q.params().values())
    grads = torch.autograd.grad(q.log_prob(z).sum(), params)
    directions = [
        torch.randn(p.shape, generator=gen(2 + i), dtype=F64) for i, p in enumerate(params)
    ]
    slope = sum((g * v).sum() for g, v in zip(grads, directions, strict=True))

    def log_q(h):
        moved = [p.detach() + h * v for p, v in zip(params, directions, strict=True)]
        with torch.no_grad():
            return PlanarFlow(*moved).log_prob(z.clone()).sum()

    h = 1e-6
    torch.testing.assert_close(slope, (log_q(h) - log_q(-h)) / (2 * h), rtol=1e-6, atol=1e-6)


def test_the_score_function_moves_a_planar_flow():
    weight = torch.tensor([[1.0, 0.5], [0.3, -0.7]], dtype=F64)
    model = vicourse.LinearGaussian(weight, noise_scale=0.5)
    x = torch.tensor([[1.0, 0.5]], dtype=F64)
    start = PlanarFlow.from_diagonal(model.prior(1), 2)
    fit = vicourse.fit_local(
        model,
        x,
        init=start,
        estimator=vicourse.elbo_score_function,
        num_steps=5,
        num_samples=4,
        generator=gen(3),
    )
    for name, value in start.params().items():
        assert (fit.q.params()[name] - value).abs().max() > 0, name


def test_a_remembered_flow_density_holds_only_for_the_unchanged_draws_and_parameters():
    # finding 2: z changed in place, or a parameter, is computed again (here, by inversion)
    q = flow(requires_grad=False)
    z = q.sample(3, generator=gen(4))
    q.log_prob(z)
    z += 0.5
    torch.testing.assert_close(q.log_prob(z), q.log_prob(z.clone()), rtol=0, atol=1e-9)
    z = q.sample(3, generator=gen(5))
    q.loc.add_(0.3)
    torch.testing.assert_close(q.log_prob(z), q.log_prob(z.clone()), rtol=0, atol=1e-9)
    q = flow()  # parameters that require gradients: a changed draw cannot be differentiated
    z = q.rsample(3, generator=gen(6))
    with torch.no_grad():
        q.u.mul_(0.5)
    with pytest.raises(ArgumentError, match=r"^z must be .*no gradient"):
        q.log_prob(z)
    with torch.no_grad():
        torch.testing.assert_close(q.log_prob(z), q.log_prob(z.clone()), rtol=0, atol=1e-9)


@pytest.mark.parametrize("tau", [0.05, 0.01])
def test_the_score_function_of_a_relaxed_q_at_a_low_temperature_is_finite(tau):
    # finding 3: log q of draws with entries that underflow to 0, from their remembered log y
    logits = torch.randn(3, 4, generator=gen(7), dtype=F64, requires_grad=True)
    q = RelaxedCategorical(logits, tau)
    estimate = vicourse.score_function(q, lambda y: y.square().sum(-1), 8, generator=gen(8))
    assert torch.isfinite(estimate.surrogate).all()
    (grad,) = torch.autograd.grad(estimate.surrogate.sum(), logits)
    assert torch.isfinite(grad).all()


def test_relaxed_log_prob_refuses_another_dtype_by_name():
    # finding 4
    q = RelaxedCategorical(torch.zeros(2, 3, dtype=F64), 0.5)
    with pytest.raises(ArgumentError, match=r"^y must be of dtype torch\.float64"):
        q.log_prob(torch.full((4, 2, 3), 1 / 3))


def test_a_temperature_on_the_meta_device_is_refused_by_name():
    # finding 5
    with pytest.raises(ArgumentError, match=r"^temperature must be"):
        RelaxedCategorical(torch.zeros(2, 3), torch.tensor(0.5, device="meta"))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_a_full_gaussian_in_half_precision_is_refused_at_construction(dtype):
    # finding 6: log q's triangular solve has no half precision
    with pytest.raises(ArgumentError, match=r"^loc must be .*float32 or torch\.float64"):
        FullGaussian(torch.zeros(2, 2, dtype=dtype), torch.zeros(2, 2, 2, dtype=dtype))
    with pytest.raises(ArgumentError, match=r"^loc must be"):
        FullGaussian.from_diagonal(DiagonalGaussian(torch.zeros(2, 2), torch.zeros(2, 2)).to(dtype))
    with pytest.raises(ArgumentError, match=r"^loc must be"):
        FullGaussian(torch.zeros(2, 2), torch.zeros(2, 2, 2)).to(dtype)


def test_an_l_whose_inverse_overflows_is_refused_and_a_correlated_one_is_not():
    # finding 7: entries of 4e9 below a diagonal of e^−21 (each within the limits) make an L
    # whose inverse, and so log q of a point near μ, overflows in float32: refused by name
    for k in (2, 3):
        tril = torch.full((1, k, k), 4e9)
        tril.diagonal(dim1=-2, dim2=-1).fill_(-21.0)
        with pytest.raises(ArgumentError, match=r"^tril must be .*L whose inverse"):
            FullGaussian(torch.zeros(1, k), tril)
        scale_tril = tril.tril(-1) + torch.diag_embed(torch.full((1, k), math.exp(-21.0)))
        with pytest.raises(ArgumentError, match=r"^scale_tril must be .*L whose inverse"):
            FullGaussian.from_scale_tril(torch.zeros(1, k), scale_tril)
    rho = 1 - 1e-6  # a correlation of 1 − 10⁻⁶ in float32: accepted, and log q finite
    scale = torch.tensor([[[1.0, 0.0], [rho, math.sqrt(1 - rho**2)]]])
    q = FullGaussian.from_scale_tril(torch.zeros(1, 2), scale)
    assert torch.isfinite(q.log_prob(q.sample(100, generator=gen(9)))).all()


def scored_or_refused(q, y):
    """A copy of q's draws, which q does not remember: scored from its own log y if every entry
    is positive, else refused naming y (an entry that underflowed to 0 has lost its log, and
    clamping it would give another density than the draw's)."""
    copy = y.clone()
    if bool((copy > 0).all()):
        assert torch.isfinite(q.log_prob(copy)).all()
    else:
        with pytest.raises(ArgumentError, match=r"^y must be points inside the simplex"):
            q.log_prob(copy)


def test_legitimate_relaxed_inputs_work():
    # finding 8: τ = 0.05 in float16; a float32 logit of −1e10
    q = RelaxedCategorical(torch.zeros(3, 3, dtype=torch.float16), 0.05)
    y = q.rsample(6, generator=gen(10))
    assert torch.isfinite(q.log_prob(y)).all()
    scored_or_refused(q, y)
    q = RelaxedCategorical(torch.tensor([[0.0, -1e10, 1.0]]), 0.5)
    y = q.rsample(6, generator=gen(11))
    assert torch.isfinite(q.log_prob(y)).all()
    scored_or_refused(q, y)


def test_own_float32_draws_with_underflowed_entries_have_the_right_density():
    # finding 8: at τ = 0.1 some entries of float32 draws underflow to 0; their log q is that of
    # the same draws in float64 (same noise), and a copy (not remembered) is finite too
    logits = 2 * torch.randn(20, 10, generator=gen(12))
    q = RelaxedCategorical(logits, 0.1)
    y = q.sample(10, generator=gen(13))
    assert (y == 0).any()
    noise = q.gumbel(10, generator=gen(13)).double()
    y64 = torch.softmax((logits.double() + noise) / 0.1, -1)
    oracle = torch.distributions.RelaxedOneHotCategorical(
        torch.tensor(0.1, dtype=F64), logits=logits.double()
    ).log_prob(y64)
    torch.testing.assert_close(q.log_prob(y).double(), oracle, rtol=1e-3, atol=0.5)
    scored_or_refused(q, y)  # a copy has lost the underflowed entries' logs: refused
    y.copy_(y.flip(-1))  # changed in place: not the remembered draw any more, judged as a copy
    scored_or_refused(q, y)


def test_to_and_layer_refuse_bad_arguments_by_name():
    with pytest.raises(ArgumentError, match=r"^args must be"):
        DiagonalGaussian(torch.zeros(2, 2), torch.zeros(2, 2)).to("gpu")
    q = flow(requires_grad=False)
    for index in (-1, 3, 1.0, True):
        with pytest.raises(ArgumentError, match=r"^index must be"):
            q.layer(torch.zeros(1, 2, 2, dtype=F64), index)
