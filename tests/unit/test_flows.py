"""PlanarFlow: each layer against Pyro's Planar transform and its log-determinant against
autograd's Jacobian; the log-density of a draw, remembered, against the numerical inversion;
the density integrating to 1; the diagonal Gaussian as the case of no layers (or u = 0); the
gradient path; and in fit_local, a better q than the diagonal one for a correlated posterior."""

import math

import pytest
import torch
from conftest import gen
from hypothesis import given, settings
from hypothesis import strategies as st

import vicourse
from vicourse import ArgumentError, DiagonalGaussian, PlanarFlow

F64 = torch.float64


def random_flow(n=3, layers=4, k=2, seed=0, requires_grad=False):
    g = gen(seed)
    params = dict(
        loc=torch.randn(n, k, generator=g, dtype=F64),
        log_scale=0.3 * torch.randn(n, k, generator=g, dtype=F64),
        u=torch.randn(n, layers, k, generator=g, dtype=F64),
        w=torch.randn(n, layers, k, generator=g, dtype=F64),
        bias=torch.randn(n, layers, generator=g, dtype=F64),
    )
    return PlanarFlow(**{name: v.requires_grad_(requires_grad) for name, v in params.items()})


def test_each_layer_is_pyros_planar_transform():
    # a test dependency (requirements.txt)
    from pyro.distributions.transforms.planar import ConditionedPlanar

    q = random_flow()
    z = torch.randn(5, 3, 2, generator=gen(1), dtype=F64)
    for index in range(q.num_layers):
        pyro_layer = ConditionedPlanar((q.bias[:, index : index + 1], q.u[:, index], q.w[:, index]))
        y = pyro_layer(z)
        ours, log_det = q.layer(z, index)
        torch.testing.assert_close(ours, y, rtol=0, atol=1e-12)
        torch.testing.assert_close(
            log_det, pyro_layer.log_abs_det_jacobian(z, y), rtol=0, atol=1e-12
        )


def test_each_log_determinant_is_that_of_autograds_jacobian():
    q = random_flow(n=2, layers=3, k=3, seed=2)
    point = torch.randn(3, generator=gen(3), dtype=F64)
    for row in range(2):
        for index in range(3):

            def layer(v, row=row, index=index):
                z = torch.zeros(1, 2, 3, dtype=F64).index_put(
                    (torch.tensor([0]), torch.tensor([row])), v[None]
                )
                return q.layer(z, index)[0][0, row]

            jacobian = torch.autograd.functional.jacobian(layer, point)
            z = torch.zeros(1, 2, 3, dtype=F64)
            z[0, row] = point
            expected = torch.linalg.slogdet(jacobian).logabsdet
            torch.testing.assert_close(q.layer(z, index)[1][0, row], expected, rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(0, 5), st.integers(1, 4), st.integers(0, 10**6))
def test_the_inverted_log_density_is_the_remembered_one(n, layers, k, seed):
    q = random_flow(n, layers, k, seed)
    z = q.sample(4, generator=gen(seed + 1))
    torch.testing.assert_close(q.log_prob(z.clone()), q.log_prob(z), rtol=0, atol=1e-9)


def test_the_density_integrates_to_one():
    q = random_flow(n=1, layers=3, k=1, seed=4)
    grid = torch.linspace(-30, 30, 30_001, dtype=F64)
    density = q.log_prob(grid.reshape(-1, 1, 1)).exp()[:, 0]
    assert abs(torch.trapezoid(density, grid).item() - 1) < 1e-5


def test_without_layers_or_with_u_zero_it_is_the_diagonal_gaussian():
    base = DiagonalGaussian(
        torch.randn(3, 2, generator=gen(5), dtype=F64), torch.zeros(3, 2, dtype=F64)
    )
    z = base.sample(4, generator=gen(6))
    flat = PlanarFlow.from_diagonal(base, 3)
    torch.testing.assert_close(flat.log_prob(z.clone()), base.log_prob(z), rtol=0, atol=1e-12)
    none = PlanarFlow(
        base.loc,
        base.log_scale,
        *(torch.zeros(3, 0, 2, dtype=F64),) * 2,
        torch.zeros(3, 0, dtype=F64),
    )
    torch.testing.assert_close(none.log_prob(z.clone()), base.log_prob(z))


def test_gradients_reach_every_parameter_through_a_draw_and_never_through_an_inversion():
    q = random_flow(requires_grad=True)
    z = q.rsample(6, generator=gen(7))
    grads = torch.autograd.grad(q.log_prob(z).sum() + z.sum(), list(q.params().values()))
    assert all(g.abs().sum() > 0 for g in grads)
    with pytest.raises(ArgumentError, match="no gradient"):
        q.log_prob(z.detach().clone())
    with torch.no_grad():
        assert torch.isfinite(q.log_prob(z.detach().clone())).all()


def test_fit_local_finds_a_closer_q_than_the_diagonal_one_for_a_correlated_posterior():
    weight = torch.tensor([[1.0, 0.8], [0.5, 0.7], [-1.0, -0.6]], dtype=F64)
    model = vicourse.LinearGaussian(weight=weight, noise_scale=0.5)
    x = torch.tensor([[1.0, 0.5, -1.0]], dtype=F64)
    start = PlanarFlow.from_diagonal(model.prior(1), 8)
    flow = vicourse.fit_local(
        model, x, init=start, num_steps=1000, num_samples=16, lr=0.02, generator=gen(8)
    )
    with torch.no_grad():
        gap = model.log_marginal(x) - vicourse.elbo_value(model, flow.q, x, generator=gen(9))
    assert gap.item() < 0.5 * model.mean_field_gap().item(), gap  # the diagonal q's is 0.61


def test_bad_parameters_name_themselves():
    good = random_flow().params()
    for name, value, words in [
        ("u", torch.zeros(3, 4, 5, dtype=F64), "u"),
        ("w", torch.zeros(3, 4, 2, dtype=F64), "w"),
        ("bias", torch.zeros(3, 5, dtype=F64), "bias"),
        ("log_scale", torch.full((3, 2), 1e4, dtype=F64), "log_scale"),
        ("u", torch.full((3, 4, 2), math.nan, dtype=F64), "u"),
        ("loc", torch.zeros(3, 2), "float64"),
    ]:
        with pytest.raises(ArgumentError, match=words):
            PlanarFlow(**{**good, name: value})
    with pytest.raises(ArgumentError, match="entropy"):
        random_flow().entropy()


def test_a_flow_encoder_starts_at_the_prior_and_its_vae_trains():
    x = (torch.rand(40, 6, generator=gen(10), dtype=F64) < 0.4).to(F64)
    torch.manual_seed(0)
    model = vicourse.VAE.for_data(x, latent_dim=2, hidden=(8,), flow_layers=3)
    q = model.encoder(x)
    assert isinstance(q, PlanarFlow) and q.num_layers == 3
    z = q.sample(5, generator=gen(11))
    standard = model.prior(40)
    torch.testing.assert_close(q.log_prob(z), standard.log_prob(z), rtol=0, atol=1e-12)
    before = model.elbo(x, num_samples=200, generator=gen(12)).mean()
    vicourse.train(model, x, epochs=40, batch_size=10, lr=1e-2, generator=gen(13), progress=False)
    with torch.no_grad():
        after = model.elbo(x, num_samples=500, generator=gen(14))
        bound = model.iwae(x, 500, generator=gen(15))
        assert (model.encoder(x).u_hat().abs() > 1e-3).any()  # the layers are used
    assert after.mean() > before + 0.1
    assert bound.mean() >= after.mean() - 0.05  # IWAE_500 ≥ ELBO, up to Monte Carlo error


def test_bad_flow_layers_name_themselves():
    for layers, others in [(-1, {}), (1.5, {}), (True, {}), (2, {"covariance": "full"})]:
        with pytest.raises(ArgumentError, match="flow_layers"):
            vicourse.GaussianEncoder(3, 2, flow_layers=layers, **others)
    with pytest.raises(ArgumentError, match="flow_layers"):
        vicourse.GaussianEncoder(3, 2, flow_layers=2, shared_scale=True)
    with pytest.raises(ArgumentError, match="flow_layers"):
        vicourse.VAE(4, 2, flow_layers=-2)
