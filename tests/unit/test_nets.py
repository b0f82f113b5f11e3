"""nets.py: the encoder and decoder networks: where they start, what they standardize, and what
shape they return."""

import pytest
import torch
from conftest import gen
from torch import nn

import vicourse
from vicourse import ArgumentError, BernoulliDecoder, GaussianEncoder

F64 = torch.float64


def test_the_encoder_starts_at_the_standard_normal_and_standardizes_its_input():
    x = 5 + 3 * torch.randn(50, 3, generator=gen(0), dtype=F64)
    x[:, 2] = 7.0  # a column with no spread is only centred
    encoder = GaussianEncoder.for_data(x, 2, hidden=(8,))
    q = encoder(x)
    assert q.loc.shape == (50, 2) and q.loc.dtype == F64
    assert (q.loc == 0).all() and (q.log_scale == 0).all()
    torch.testing.assert_close(encoder.input_loc, x.mean(0))
    assert encoder.input_scale[2] == 1 and abs(encoder.input_scale[0] - x[:, 0].std()) < 1e-12


def test_a_shared_scale_encoder_gives_every_x_one_learned_sigma():
    x = torch.randn(6, 3, generator=gen(2), dtype=F64)
    encoder = GaussianEncoder.for_data(x, 2, hidden=(), shared_scale=True)
    assert encoder.net[-1].out_features == 2  # the network outputs μ only
    with torch.no_grad():
        encoder.net[-1].weight.normal_(generator=gen(3))
        encoder.shared_log_scale.copy_(torch.tensor([0.3, -1.0], dtype=F64))
    q = encoder(x)
    assert q.loc.shape == q.log_scale.shape == (6, 2) and q.log_scale.dtype == F64
    assert (q.log_scale == torch.tensor([0.3, -1.0], dtype=F64)).all()  # the same for every x
    assert not torch.allclose(q.loc[0], q.loc[1])  # while μ depends on x
    # exercise 6.3's function: μ = x Wᵀ + b on the standardized x, one σ = exp(log σ) per row
    layer = encoder.net[-1]
    mu = (x - encoder.input_loc) / encoder.input_scale @ layer.weight.T + layer.bias
    sigma = encoder.shared_log_scale.exp().expand_as(mu)
    torch.testing.assert_close((q.loc, q.log_scale.exp()), (mu, sigma))
    q.log_scale.sum().backward()  # σ is learned
    assert encoder.shared_log_scale.grad.tolist() == [6.0, 6.0]


def test_the_decoder_maps_latent_codes_to_logits_through_its_hidden_layers():
    torch.manual_seed(0)
    decoder = BernoulliDecoder(2, 5, hidden=(7, 3), activation="tanh").double()
    widths = [(m.in_features, m.out_features) for m in decoder.net if isinstance(m, nn.Linear)]
    assert widths == [(2, 7), (7, 3), (3, 5)]
    assert sum(isinstance(m, nn.Tanh) for m in decoder.net) == 2
    z = torch.randn(4, 6, 2, generator=gen(1), dtype=F64)
    logits = decoder(z)
    assert logits.shape == (4, 6, 5) and logits.dtype == F64
    torch.testing.assert_close(logits[1, 2], decoder(z[1, 2]))  # each code on its own
    # the logits depend on z: two codes give two images
    assert not torch.allclose(decoder(z[0, :1]), decoder(z[0, 1:2]))


def test_mlp_alternates_linear_layers_and_the_named_activation():
    layers = vicourse.nets.mlp([3, 4, 2], "relu")
    assert [type(m) for m in layers] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU]
    with pytest.raises(ArgumentError, match="activation must be 'tanh' or 'relu'"):
        vicourse.nets.mlp([3, 4], "gelu")
