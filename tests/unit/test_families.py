"""families.py: the base class defines the shapes, `sample` from `rsample` and `detach`/`to`
once, for every q family; a family without rsample says so by name."""

import pytest
import torch
from conftest import gen

from vicourse import ArgumentError, Categorical, DiagonalGaussian, Family

F64 = torch.float64


class Point(Family):
    """The smallest family: a point mass at loc, with rsample."""

    __slots__ = ("loc",)
    has_rsample = True

    def __init__(self, loc):
        self.loc = loc

    def params(self):
        return {"loc": self.loc}

    def rsample(self, num_samples, *, generator=None):  # q.sample checks its arguments
        return self.loc.expand(num_samples, *self.loc.shape)


def test_the_base_class_gives_shapes_sample_detach_and_to():
    loc = torch.ones(3, 2, requires_grad=True)
    q = Point(loc)
    assert q.batch_shape == (3,) and q.event_shape == (2,)
    assert q.rsample(4).requires_grad and not q.sample(4).requires_grad
    assert q.sample(4).shape == (4, 3, 2)
    assert not q.detach().loc.requires_grad and q.to(F64).loc.dtype == F64
    with pytest.raises(ArgumentError, match="num_samples"):
        q.sample(0)


def test_sample_is_rsample_cut_from_the_graph_with_the_same_draws():
    q = DiagonalGaussian(torch.zeros(3, 2, requires_grad=True), torch.zeros(3, 2))
    torch.testing.assert_close(q.sample(5, generator=gen(0)), q.rsample(5, generator=gen(0)))


def test_a_family_without_rsample_says_so():
    with pytest.raises(ArgumentError, match="a family with rsample"):
        Categorical(torch.zeros(2, 3)).rsample(1)
    for name in ("params", "log_prob", "entropy"):
        with pytest.raises(NotImplementedError):
            getattr(Family(), name)(*([torch.zeros(1)] if name == "log_prob" else []))
