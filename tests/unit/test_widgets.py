import matplotlib.pyplot as plt
import pytest
import torch

import vicourse
from vicourse import GaussianMean

ipywidgets = pytest.importorskip("ipywidgets")
# ipywidgets 7.7 (Colab's version) calls APIs that today's ipykernel and logging deprecate; not ours
# to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
from vicourse import widgets  # noqa: E402

F64 = torch.float64


def picture(explorer) -> bytes:
    """The explorer's figure: sliders above, and last a PNG in an Image widget (no Output
    widget, whose messages can make a notebook runner miss a cell's reply)."""
    assert isinstance(explorer, ipywidgets.VBox)
    assert not any(isinstance(child, ipywidgets.Output) for child in explorer.children)
    image = explorer.children[-1]
    assert isinstance(image, ipywidgets.Image) and image.format == "png"
    assert bytes(image.value).startswith(b"\x89PNG")
    return bytes(image.value)


def test_explore_q_updates_its_numbers_when_a_slider_moves():
    model = GaussianMean(1, dtype=F64)
    x = torch.tensor([[1.2]], dtype=F64)
    explorer = widgets.explore_q(model, x, loc=0.3, scale=0.8)
    first_gap = explorer.summary["gap"]
    assert first_gap > 0
    first_picture = picture(explorer)
    posterior = model.posterior(x)
    explorer.children[0].value = round(posterior.loc.item(), 2)  # the μ slider
    explorer.children[1].value = round(posterior.scale.item(), 2)  # the σ slider
    assert picture(explorer) != first_picture  # redrawn as the sliders moved
    assert explorer.summary["gap"] < first_gap and explorer.summary["gap"] < 1e-3
    torch.testing.assert_close(
        torch.tensor(explorer.summary["log p(x)"], dtype=F64), model.log_marginal(x)[0]
    )
    plt.close("all")


def test_explore_gradients_shows_the_variances_of_section_7_1():
    """At μ = 1, σ = 0.5 the one-draw variances are 4σ² = 1 (pathwise) and
    μ⁴/σ² + 14μ² + 15σ² = 21.75 (score); with M = 16 draws both divide by 16."""
    explorer = widgets.explore_gradients(loc=1.0, scale=0.5, num_samples=1, num_trials=20_000)
    picture(explorer)
    assert abs(explorer.summary["pathwise variance"] - 1.0) < 0.05
    assert abs(explorer.summary["score variance"] / 21.75 - 1) < 0.15
    explorer.children[2].value = 16  # the M slider
    assert abs(explorer.summary["pathwise variance"] * 16 - 1.0) < 0.05
    with pytest.raises(ValueError, match=r"num_samples must be one of \[1, 2, 4"):
        widgets.explore_gradients(num_samples=3)
    plt.close("all")


def test_explore_decoder_decodes_the_point_the_sliders_choose():
    from vicourse import VAE

    torch.manual_seed(0)
    vae = vicourse.VAE(64, 2, hidden=(8,))
    explorer = widgets.explore_decoder(vae)
    picture(explorer)
    explorer.children[0].value, explorer.children[1].value = 1.5, -0.5
    expected = vae.mean_image(torch.tensor([[1.5, -0.5]]))
    torch.testing.assert_close(explorer.summary["image"], expected)
    with pytest.raises(ValueError, match="vae must be a VAE with a 2-D latent"):
        widgets.explore_decoder(VAE(64, 3, hidden=(8,)))
    plt.close("all")


def test_every_slider_has_a_label_a_screen_reader_can_announce():
    model = GaussianMean(1, dtype=torch.float64)
    x = torch.tensor([[0.5]], dtype=torch.float64)
    explorers = [widgets.explore_q(model, x), widgets.explore_gradients()]
    vae = vicourse.VAE(64, 2, hidden=(8,))
    explorers.append(widgets.explore_decoder(vae))
    sliders = [
        child
        for explorer in explorers
        for child in explorer.children
        if "Slider" in type(child).__name__
    ]
    assert len(sliders) == 7
    for slider in sliders:
        words = slider.description.split()
        assert len(words) >= 2 and words[0].isalpha(), slider.description  # a word, then a symbol
        assert slider.style.description_width == "initial"  # shown whole
        assert not slider.disabled
