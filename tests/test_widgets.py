import matplotlib.pyplot as plt
import pytest
import torch

from vicourse import GaussianMean

ipywidgets = pytest.importorskip("ipywidgets")
# ipywidgets 7.7 (Colab's version) calls APIs that today's ipykernel and logging deprecate; not ours
# to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
from vicourse import widgets  # noqa: E402

F64 = torch.float64


def test_explore_q_updates_its_numbers_when_a_slider_moves():
    model = GaussianMean(1, dtype=F64)
    x = torch.tensor([[1.2]], dtype=F64)
    explorer = widgets.explore_q(model, x, loc=0.3, scale=0.8)
    assert isinstance(explorer, ipywidgets.interactive)
    first_gap = explorer.summary["gap"]
    assert first_gap > 0
    posterior = model.posterior(x)
    explorer.children[0].value = round(posterior.loc.item(), 2)  # the μ slider
    explorer.children[1].value = round(posterior.scale.item(), 2)  # the σ slider
    explorer.update()
    assert explorer.summary["gap"] < first_gap and explorer.summary["gap"] < 1e-3
    torch.testing.assert_close(
        torch.tensor(explorer.summary["log p(x)"], dtype=F64), model.log_marginal(x)[0]
    )
    plt.close("all")
