import torch
from conftest import gen
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from vicourse import GaussianMixture

F64 = torch.float64


def mixture(device="cpu", dtype=F64):
    return GaussianMixture(
        torch.tensor([0.0, 1.0, -0.5], dtype=dtype, device=device),
        torch.tensor([[-2.0, 0.0], [0.5, 1.0], [3.0, -1.0]], dtype=dtype, device=device),
        torch.tensor([[0.0, -0.5], [-0.3, 0.2], [0.1, 0.0]], dtype=dtype, device=device),
    )


def test_log_marginal_matches_torch_mixture(device):
    model = mixture(device)
    _, x = model.sample(10, generator=gen(0, device))
    oracle = MixtureSameFamily(
        Categorical(logits=model.logits.detach()),
        Independent(Normal(model.loc.detach(), model.log_scale.detach().exp()), 1),
    )
    with torch.no_grad():
        torch.testing.assert_close(model.log_marginal(x), oracle.log_prob(x))


def test_sum_over_z_of_the_joint_is_the_marginal():
    """p(x) = Σ_z p(x|z) p(z), summed by enumerating z through log_joint."""
    model = mixture()
    _, x = model.sample(6, generator=gen(1))
    z = torch.arange(3)[:, None].expand(3, 6)  # (C, N): every label for every datapoint
    with torch.no_grad():
        torch.testing.assert_close(model.log_joint(x, z).logsumexp(0), model.log_marginal(x))
        posterior = model.posterior(x).probs
        torch.testing.assert_close(posterior.sum(-1), torch.ones(6, dtype=F64))
        torch.testing.assert_close(
            posterior.log(), (model.log_joint(x, z) - model.log_marginal(x)).T
        )


def test_prior_draws_follow_the_weights():
    """Seeded: label frequencies within 5 standard errors of π."""
    model = mixture()
    z = model.sample_prior(50_000, 2, generator=gen(2))
    assert z.shape == (50_000, 2) and z.dtype == torch.long
    freq = torch.stack([(z == c).double().mean() for c in range(3)])
    pi = model.weights.detach()
    se = (pi * (1 - pi) / z.numel()).sqrt()
    assert ((freq - pi).abs() < 5 * se).all()
