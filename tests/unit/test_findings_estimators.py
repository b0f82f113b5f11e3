"""Bad inputs to the estimators that used to pass silently or raise a raw torch error."""

import pytest
import torch

import vicourse
from vicourse import ArgumentError


def q64():
    return vicourse.DiagonalGaussian(
        torch.zeros(3, 2, dtype=torch.float64), torch.zeros(3, 2, dtype=torch.float64)
    )


def straight_through():
    return vicourse.StraightThroughCategorical(torch.zeros(3, 4, dtype=torch.float64), 0.5)


@pytest.mark.parametrize(
    "f, returned",
    [
        (lambda z: z.square().sum(-1).float(), "torch.float32"),  # silently float32 before
        (lambda z: (z.sum(-1) > 0).long(), "torch.int64"),  # a raw RuntimeError from mean()
    ],
)
def test_pathwise_refuses_an_f_in_another_dtype_than_q(f, returned):
    with pytest.raises(ArgumentError, match=rf"^f must be .*float64.*got one returning {returned}"):
        vicourse.pathwise(q64(), f)


def test_pathwise_keeps_qs_dtype():
    estimate = vicourse.pathwise(q64(), lambda z: z.square().sum(-1), 4)
    assert estimate.value.dtype == estimate.surrogate.dtype == torch.float64


@pytest.mark.parametrize("call", ["score_function", "kl_monte_carlo"])
def test_a_straight_through_q_has_no_density_and_the_error_names_q(call):
    q = straight_through()
    with pytest.raises(ArgumentError, match=r"^q must be a family with a density"):
        if call == "score_function":
            vicourse.score_function(q, lambda z: z.sum(-1), 4)
        else:
            vicourse.kl_monte_carlo(q, q.log_prob, 4)
