"""categorical.py: a q over labels, against torch.distributions.Categorical, with draws that
follow the probabilities and a zero probability that stays finite in float32 and float64."""

import pytest
import torch
from conftest import gen

from vicourse import ArgumentError, ArgumentTypeError, Categorical

F64 = torch.float64


def test_log_prob_and_entropy_match_torch(dtype):
    logits = torch.randn(4, 3, generator=gen(0)).to(dtype)
    q, oracle = Categorical(logits), torch.distributions.Categorical(logits=logits)
    z = q.sample(6, generator=gen(1))
    assert z.shape == (6, 4) and z.dtype == torch.long and q.batch_shape == (4,)
    assert q.event_shape == () and not q.has_rsample
    torch.testing.assert_close(q.log_prob(z), oracle.log_prob(z))
    torch.testing.assert_close(q.entropy(), oracle.entropy())
    torch.testing.assert_close(q.probs, oracle.probs)


def test_draws_follow_the_probabilities():
    probs = torch.tensor([[0.2, 0.5, 0.3]], dtype=F64)
    z = Categorical.from_probs(probs).sample(40_000, generator=gen(2))[:, 0]
    freq = torch.bincount(z, minlength=3).double() / z.numel()
    se = (probs[0] * (1 - probs[0]) / z.numel()).sqrt()
    assert ((freq - probs[0]).abs() < 5 * se).all(), freq


def test_a_zero_probability_has_a_finite_log_in_either_dtype(dtype):
    q = Categorical.from_probs(torch.tensor([[0.0, 0.25, 0.75]], dtype=dtype))
    assert torch.isfinite(q.logits).all()
    assert q.probs[0, 0].item() < 1e-30 and q.sample(1000, generator=gen(3)).min() >= 1
    torch.testing.assert_close(q.probs[0, 1:], torch.tensor([0.25, 0.75], dtype=dtype))


def test_bad_labels_and_logits_are_refused_by_name():
    q = Categorical(torch.zeros(2, 3))
    with pytest.raises(ArgumentTypeError, match=r"z must be an int64 tensor of labels 0\.\.2"):
        q.log_prob(torch.zeros(1, 2))
    with pytest.raises(ArgumentError, match="z"):
        q.log_prob(torch.full((1, 2), 3))
    with pytest.raises(ArgumentError, match="logits"):
        Categorical(torch.tensor([[0.0, float("nan")]]))
