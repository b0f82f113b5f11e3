"""validation.py: the switch for argument checks. On by default; off inside
validation_enabled(False) and after enable_validation(False); the previous setting comes back on
leaving the block, even through an exception and when the same switch is entered twice."""

import pytest
import torch

import vicourse
from vicourse import ArgumentError, ArgumentTypeError, enable_validation, validation_enabled


def wrong_width():
    """An (N, 2) q for a model whose latent width is 1: the checks refuse it."""
    model = vicourse.GaussianMean(3, 0.0, 1.0, 1.0)
    return model, torch.zeros(4, 3), vicourse.DiagonalGaussian(torch.zeros(4, 2), torch.zeros(4, 2))


def checked() -> bool:
    model, x, q = wrong_width()
    try:
        vicourse.elbo_pathwise(model, q, x, 2, generator=torch.Generator().manual_seed(0))
    except ArgumentError:
        return True
    except RuntimeError:  # unchecked, torch's own shape error (or none at all)
        return False
    return False


def test_checks_are_on_by_default_and_the_switch_turns_them_off_and_back():
    assert checked()
    with validation_enabled(False):
        assert not checked()
        with validation_enabled(True):
            assert checked()
        assert not checked()
    assert checked()
    enable_validation(False)
    try:
        assert not checked()
    finally:
        enable_validation(True)
    assert checked()


def test_the_setting_comes_back_through_an_exception_and_a_reentered_switch():
    with pytest.raises(KeyError), validation_enabled(False):
        raise KeyError("inside")
    assert checked()
    switch = validation_enabled(False)
    with switch, switch:
        assert not checked()
    assert checked()


def test_the_switch_takes_a_bool_only():
    for bad in ("no", 0, None):
        with pytest.raises(ArgumentTypeError, match="enabled"):
            validation_enabled(bad)
        with pytest.raises(ArgumentTypeError, match="enabled"):
            enable_validation(bad)
    assert checked()
