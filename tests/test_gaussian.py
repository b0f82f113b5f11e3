import math

import pytest
import torch

from vicourse import DiagonalGaussian
from conftest import gen


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


def test_errors_name_the_argument():
    with pytest.raises(TypeError, match=r"loc must be a torch.Tensor, got builtins.list; convert it with torch.as_tensor"):
        DiagonalGaussian([0.0], torch.zeros(1))
    with pytest.raises(ValueError, match=r"loc must be a floating-point tensor, got torch.int64; use loc.double\(\)"):
        DiagonalGaussian(torch.zeros(1, dtype=torch.long), torch.zeros(1))
    with pytest.raises(ValueError, match=r"log_scale must have the shape of loc, \(2, 3\), got \(2, 1\)"):
        DiagonalGaussian(torch.zeros(2, 3), torch.zeros(2, 1))
    with pytest.raises(ValueError, match=r"log_scale has dtype torch.float64 but loc has dtype torch.float32"):
        DiagonalGaussian(torch.zeros(2), torch.zeros(2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"scale must be positive and finite"):
        DiagonalGaussian.from_scale(torch.zeros(2), torch.tensor([1.0, -1.0]))
    q = make_q()
    with pytest.raises(ValueError, match=r"num_samples must be a positive int, got 0\."):
        q.rsample(0)
    with pytest.raises(TypeError, match=r"generator must be a torch.Generator or None, got int"):
        q.rsample(1, generator=0)
    with pytest.raises(ValueError, match=r"z must have shape \(S, \.\.\., 3\), got \(5, 4, 2\)"):
        q.log_prob(torch.zeros(5, 4, 2, dtype=torch.float64))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_generator_must_live_on_the_tensors_device():
    q = make_q(device="cuda")
    with pytest.raises(ValueError, match=r"generator is on cpu but the tensors are on cuda:0; make one with "
                                         r"vicourse.make_generator\(seed, device='cuda:0'\)"):
        q.rsample(2, generator=gen(0, "cpu"))
