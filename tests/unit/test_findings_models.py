"""Bad inputs to the models, their fitters and the KL that used to pass, blame the wrong
argument, or raise a raw torch error."""

import math

import pytest
import torch

import vicourse
from vicourse import ArgumentError, FitError, validation_enabled


def linear(**changes):
    weight = torch.tensor([[1.0, 0.5], [0.3, -0.7], [0.2, 0.1]], dtype=torch.float64)
    model = vicourse.LinearGaussian(weight, torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64))
    with torch.no_grad():
        for name, (index, value) in changes.items():
            getattr(model, name)[index] = value  # in place, after the checks of the constructor
    return model


def mixture():
    return vicourse.GaussianMixture(
        torch.zeros(2), torch.tensor([[-1.0], [1.0]]), torch.zeros(2, 1)
    )


X3 = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(4, 3)
X1 = torch.linspace(-2, 2, 6)[:, None]


def test_a_bernoulli_mixture_of_images_of_no_pixels_is_refused_naming_image_logits():
    with pytest.raises(ArgumentError, match=r"^image_logits must be of shape \(C, D\) with D ≥ 1"):
        vicourse.BernoulliMixture(torch.zeros(3), torch.zeros(3, 0))


@pytest.mark.parametrize("checked", [True, False])
@pytest.mark.parametrize("name, index", [("weight", (0, 1)), ("bias", 2), ("log_noise", ())])
def test_fitting_a_linear_model_with_a_nan_parameter_names_the_parameter_not_lr(
    name, index, checked
):
    """Checked: refused where the call enters. Unchecked: the log-likelihood is nan before any
    step (not a raw error from torch's MultivariateNormal), and the fit names the parameter."""
    at = f" at {list(index) if isinstance(index, tuple) else [index]}" if index != () else ""
    with validation_enabled(checked), pytest.raises(FitError) as error:
        vicourse.fit_gradient(linear(**{name: (index, math.nan)}), X3, num_steps=3)
    assert str(error.value).startswith(f"model.{name} must be finite, got nan{at}; ")


@pytest.mark.parametrize("checked", [True, False])
@pytest.mark.parametrize("fit", ["fit_gradient", "fit_em", "em_step"])
def test_fitting_a_mixture_with_a_nan_parameter_names_the_parameter(fit, checked):
    model = mixture()
    with torch.no_grad():
        model.loc[1, 0] = math.nan
    with validation_enabled(checked), pytest.raises(FitError, match=r"^model\.loc must be finite"):
        getattr(vicourse, fit)(model, X1)


def test_a_linear_model_whose_fit_diverges_blames_lr_with_the_projects_error():
    x = 3 * torch.randn(50, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with pytest.raises(FitError, match=r"^lr must be small enough for the log-likelihood"):
        vicourse.fit_gradient(linear(), x, num_steps=50, lr=1e3)


def test_the_linear_models_log_marginal_is_the_multivariate_normals():
    model = linear()
    torch.testing.assert_close(model.log_marginal(X3), model.marginal().log_prob(X3))


def test_kl_monte_carlo_names_q_for_a_straight_through_q():
    q = vicourse.StraightThroughCategorical(torch.zeros(3, 4, dtype=torch.float64), 0.5)
    with pytest.raises(ArgumentError, match=r"^q must be a family with a density at its draws"):
        vicourse.kl_monte_carlo(q, lambda z: z.sum(-1), 4)


def test_kl_monte_carlo_runs_log_p_with_the_checks_on():
    """A log_p that cannot take q's draws gets the project's error, not a raw torch one."""
    q = vicourse.DiagonalGaussian(torch.zeros(5, 2), torch.zeros(5, 2))
    p = vicourse.DiagonalGaussian(torch.zeros(3, 2), torch.zeros(3, 2))
    with pytest.raises(ArgumentError, match=r"^z must be"):
        vicourse.kl_monte_carlo(q, p.log_prob, 4)
