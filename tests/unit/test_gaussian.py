import math

import pytest
import torch
from conftest import gen

from vicourse import DiagonalGaussian


def make_q(n=4, k=3, dtype=torch.float64, device="cpu", seed=0):
    g = gen(seed)
    loc = torch.randn(n, k, generator=g, dtype=dtype).to(device)
    log_scale = (0.5 * torch.randn(n, k, generator=g, dtype=dtype)).to(device)
    return DiagonalGaussian(loc, log_scale)


def test_log_prob_and_entropy_match_torch(device):
    q = make_q(device=device)
    z = q.sample(7, generator=gen(1, device))
    oracle = q.to_torch()
    torch.testing.assert_close(q.log_prob(z), oracle.log_prob(z))
    torch.testing.assert_close(q.entropy(), oracle.entropy())
    assert q.log_prob(z).shape == (7, 4) and q.entropy().shape == (4,)


def test_rsample_has_gradient_path_and_sample_does_not():
    loc = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    log_scale = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    q = DiagonalGaussian(loc, log_scale)
    z = q.rsample(5, generator=gen(0))
    assert z.shape == (5, 2, 3) and z.requires_grad
    z.sum().backward()
    torch.testing.assert_close(loc.grad, torch.full_like(loc, 5.0))  # dz/dμ = 1 for each of 5 draws
    assert not q.sample(5, generator=gen(0)).requires_grad


def test_sample_and_rsample_draw_the_same_values():
    q = make_q()
    torch.testing.assert_close(q.sample(4, generator=gen(9)), q.rsample(4, generator=gen(9)))


def test_draw_statistics_match_parameters():
    """Seeded: sample mean and standard deviation within 5 standard errors of μ and σ."""
    q = make_q(n=2, k=2)
    z = q.sample(40_000, generator=gen(2))
    se_mean = q.scale / math.sqrt(40_000)
    assert ((z.mean(0) - q.loc).abs() < 5 * se_mean).all()
    se_std = q.scale / math.sqrt(2 * 40_000)
    assert ((z.std(0) - q.scale).abs() < 5 * se_std).all()


def test_from_scale_and_detach_and_to():
    loc = torch.zeros(1, 2, requires_grad=True)
    q = DiagonalGaussian.from_scale(loc, torch.tensor([[1.0, 2.0]]))
    torch.testing.assert_close(q.scale, torch.tensor([[1.0, 2.0]]))
    assert not q.detach().loc.requires_grad
    assert q.to(torch.float64).loc.dtype == torch.float64
    assert "DiagonalGaussian(loc=" in repr(q)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_generator_must_live_on_the_tensors_device():
    q = make_q(device="cuda")
    with pytest.raises(
        ValueError,
        match=r"generator must be on cuda:0, where the draws are made, got a generator on cpu; "
        r"make one with vicourse.make_generator\(seed, device='cuda:0'\)",
    ):
        q.rsample(2, generator=gen(0, "cpu"))
