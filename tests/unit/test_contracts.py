"""contracts.py: what a model promises. log p(x, z) = log p(z) + log p(x|z) and ancestral
sampling come from the contract; the VAE is a LatentModel without the exact answers."""

import pytest
import torch
from conftest import digits, gen, small_vae
from torch.distributions import Normal

import vicourse
from vicourse import ArgumentError

DIGITS = digits()


def test_the_vae_is_a_latent_model_with_the_generative_contract():
    vae = small_vae()
    assert isinstance(vae, vicourse.LatentModel) and not isinstance(vae, vicourse.TractableModel)
    z, x = vae.sample(5, generator=gen(10))
    assert z.shape == (5, 2) and x.shape == (5, 64) and set(x.unique().tolist()) <= {0.0, 1.0}


class Shifted(vicourse.LatentModel):
    """The smallest model: z ~ N(0, I), x | z ~ N(z + 1, I), written from the contract alone."""

    data_dim = latent_dim = 2

    def __init__(self):
        super().__init__()
        self.register_buffer("zero", torch.zeros(2, dtype=torch.float64))

    def prior(self, n):
        return vicourse.DiagonalGaussian(self.zero.expand(n, 2), self.zero.expand(n, 2))

    def log_likelihood(self, x, z):
        return Normal(z + 1, 1.0).log_prob(x).sum(-1)

    def sample_likelihood(self, z, *, generator=None):
        return z + 1 + torch.randn(z.shape, generator=generator, dtype=z.dtype)


def test_a_model_written_from_the_contract_gets_the_joint_and_ancestral_sampling():
    model = Shifted()
    x = torch.randn(4, 2, generator=gen(1), dtype=torch.float64)
    z = torch.randn(3, 4, 2, generator=gen(2), dtype=torch.float64)
    prior = Normal(0.0, 1.0).log_prob(z).sum(-1)
    torch.testing.assert_close(model.log_prior(z), prior)
    torch.testing.assert_close(model.log_joint(x, z), prior + model.log_likelihood(x, z))
    assert model.reference() is model.zero and model.sample_prior(5, 4).shape == (5, 4, 2)
    z, x = model.sample(20_000, generator=gen(3))  # x = z + 1 + noise: mean 1, variance 2
    assert (x.mean(0) - 1).abs().max() < 0.05 and (x.var(0) / 2 - 1).abs().max() < 0.05
    with pytest.raises(ArgumentError, match="model must be a model with trainable parameters"):
        model.trainable_parameters()
    with pytest.raises(ArgumentError, match="z must be"):
        model.log_prior(torch.zeros(3, 4, 5, dtype=torch.float64))
