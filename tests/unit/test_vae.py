"""The VAE against its pieces, its bounds against each other, the trainer's promises (resume gives
the same history, nan stops with a message, one code path per device), and the data loader's
errors when MNIST cannot be had."""

import hashlib
import math
import sys
import types
import urllib.error
from pathlib import Path

import pytest
import torch
from conftest import gen

import vicourse
from vicourse import VAE, ArgumentError, DataUnavailable, FitError, load_images, train
from vicourse.kl import kl_diag_gaussians

DIGITS = load_images("digits")


def small_vae(seed=0):
    torch.manual_seed(seed)
    return VAE.for_data(DIGITS.x_train, 2, hidden=(32,))


def test_digits_are_a_fixed_binarized_split():
    again = load_images("digits")
    assert DIGITS.x_train.shape == (1437, 64) and DIGITS.x_test.shape == (360, 64)
    assert torch.equal(DIGITS.x_train, again.x_train) and torch.equal(DIGITS.y_test, again.y_test)
    assert set(DIGITS.x_train.unique().tolist()) == {0.0, 1.0}
    assert DIGITS.shape == (8, 8) and DIGITS.y_train.dtype == torch.long


def test_the_loss_is_reconstruction_plus_kl_from_the_earlier_pieces():
    vae = small_vae()
    x = DIGITS.x_test[:7]
    reconstruction, kl = vae.terms(x, generator=gen(0))
    q = vae.encoder(x)
    z = q.rsample(1, generator=gen(0))
    logits = vae.decoder(z)[0]
    by_hand = -(
        x * torch.nn.functional.logsigmoid(logits)
        + (1 - x) * torch.nn.functional.logsigmoid(-logits)
    ).sum(-1)
    torch.testing.assert_close(reconstruction, by_hand)
    torch.testing.assert_close(kl, kl_diag_gaussians(q, vae.prior(7)))
    loss = vae.loss(x, generator=gen(0))
    torch.testing.assert_close(loss, (reconstruction + kl).mean())


def test_bounds_are_ordered_and_agree_in_expectation():
    """E[ELBO] (analytic or Monte Carlo KL) ≤ E[IWAE_10] ≤ E[IWAE_100], each mean over 360
    images, with IWAE_1 an estimate of the ELBO (same expectation)."""
    vae = small_vae()
    train(vae, DIGITS.x_train, epochs=20, batch_size=64, generator=gen(1), progress=False)
    x = DIGITS.x_test
    with torch.no_grad():
        analytic = vae.elbo(x.repeat(50, 1), generator=gen(2)).reshape(50, -1).mean(0)
        sampled = vae.elbo(x.repeat(50, 1), kl="mc", generator=gen(3)).reshape(50, -1).mean(0)
        iwae_1 = vae.iwae(x, 1, generator=gen(4))
        iwae_10, iwae_100 = vae.iwae(x, 10, generator=gen(5)), vae.iwae(x, 100, generator=gen(6))
    se = ((analytic - sampled).std() / math.sqrt(len(x))).item()
    assert abs((analytic - sampled).mean().item()) < 5 * se
    assert abs((iwae_1 - analytic).mean().item()) < 5 * (iwae_1 - analytic).std().item() / 19
    assert analytic.mean() < iwae_10.mean() < iwae_100.mean()


def test_resuming_from_a_checkpoint_gives_the_same_history(tmp_path):
    """An interrupted run (2 epochs, then a new process with new objects and another seed)
    resumes from the checkpoint and ends with the history of an uninterrupted run."""
    settings = dict(batch_size=128, lr=1e-3, x_test=DIGITS.x_test, progress=False)
    whole = train(small_vae(), DIGITS.x_train, epochs=4, generator=gen(7), **settings)
    path = tmp_path / "run.pt"
    first = train(
        small_vae(), DIGITS.x_train, epochs=2, generator=gen(7), checkpoint=path, **settings
    )
    assert first.epochs == 2 and path.is_file()
    resumed = train(
        small_vae(seed=5), DIGITS.x_train, epochs=4, generator=gen(99), checkpoint=path, **settings
    )
    assert resumed.train_loss == whole.train_loss and resumed.test_loss == whole.test_loss
    # an interruption in the middle of epoch 3 (as when a Colab runtime stops) costs only that epoch
    interrupted = tmp_path / "interrupted.pt"
    original, calls = vicourse.trainer._Step.__call__, []

    def stop_in_epoch_3(self, indices):
        calls.append(1)
        if len(calls) == 2 * (1437 // 128) + 5:
            raise KeyboardInterrupt
        return original(self, indices)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vicourse.trainer._Step, "__call__", stop_in_epoch_3)
        with pytest.raises(KeyboardInterrupt):
            train(
                small_vae(),
                DIGITS.x_train,
                epochs=4,
                generator=gen(7),
                checkpoint=interrupted,
                **settings,
            )
    after = train(small_vae(), DIGITS.x_train, epochs=4, checkpoint=interrupted, **settings)
    assert after.train_loss == whole.train_loss and after.test_loss == whole.test_loss
    with pytest.raises(ArgumentError, match="checkpoint must be a checkpoint made with the same"):
        train(
            small_vae(), DIGITS.x_train, epochs=5, checkpoint=path, **{**settings, "batch_size": 64}
        )


def test_a_diverging_run_stops_with_a_message():
    with pytest.raises(FitError, match=r"lr must be small enough .* in epoch 1; try a smaller lr"):
        train(small_vae(), DIGITS.x_train, epochs=3, lr=1e30, generator=gen(8), progress=False)


def test_trainer_arguments():
    vae = small_vae()
    with pytest.raises(ArgumentError, match="graph must be False off CUDA"):
        train(vae, DIGITS.x_train, epochs=1, graph=True, progress=False)
    with pytest.raises(ArgumentError, match="batch_size must be at most the number of training"):
        train(vae, DIGITS.x_train, epochs=1, batch_size=5000, progress=False)
    with pytest.raises(ArgumentError, match=r"x_train must be pixel values in \[0, 1\]"):
        train(vae, DIGITS.x_train * 16, epochs=1, progress=False)
    with pytest.raises(ArgumentError, match="objective must be 'elbo' or 'iwae'"):
        train(vae, DIGITS.x_train, epochs=1, objective="kl", progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_the_cuda_graph_step_trains_like_the_eager_one():
    """The same model trained with and without the CUDA graph: different random streams, the
    same loss in distribution (final held-out −ELBO within 0.5 nats, both far below the start)."""
    data = load_images("digits", device="cuda")
    results = {}
    for graph in (False, True):
        torch.manual_seed(0)
        vae = VAE.for_data(data.x_train, 2, hidden=(32,))
        history = train(
            vae,
            data.x_train,
            epochs=30,
            batch_size=64,
            x_test=data.x_test,
            generator=gen(9, "cuda"),
            graph=graph,
            progress=False,
        )
        results[graph] = history.test_loss
    assert results[True][-1] < results[True][0] - 5
    assert abs(results[True][-1] - results[False][-1]) < 0.5


def test_mnist_errors_are_clear_without_torchvision_or_network(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)
    with pytest.raises(DataUnavailable, match="needs torchvision, which is not installed"):
        load_images("mnist")

    class Offline:
        resources = (("train-images-idx3-ubyte.gz", "0" * 32),)

        def __init__(self, *args, **kwargs):
            raise urllib.error.URLError("no route to host")

    fake = types.ModuleType("torchvision")
    fake.datasets = types.SimpleNamespace(MNIST=Offline)
    utils = types.ModuleType("torchvision.datasets.utils")
    utils.check_integrity = lambda path, md5: True
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", fake.datasets)
    monkeypatch.setitem(sys.modules, "torchvision.datasets.utils", utils)
    with pytest.raises(DataUnavailable, match=r"could not download MNIST .* no route to host"):
        load_images("mnist")


def test_a_damaged_mnist_download_is_refused(monkeypatch, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(b"not mnist")

    class Downloaded:
        resources = (("train-images-idx3-ubyte.gz", "d41d8cd98f00b204e9800998ecf8427e"),)

        def __init__(self, root, train, download):
            self.raw_folder = str(raw)

    fake = types.ModuleType("torchvision")
    fake.datasets = types.SimpleNamespace(MNIST=Downloaded)
    utils = types.ModuleType("torchvision.datasets.utils")
    utils.check_integrity = lambda path, md5: (
        hashlib.md5(Path(path).read_bytes()).hexdigest() == md5
    )
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", fake.datasets)
    monkeypatch.setitem(sys.modules, "torchvision.datasets.utils", utils)
    with pytest.raises(DataUnavailable, match="does not match its MD5 sum"):
        load_images("mnist", root=tmp_path)


def test_the_vae_is_a_latent_model_with_the_generative_contract():
    vae = small_vae()
    assert isinstance(vae, vicourse.LatentModel) and not isinstance(vae, vicourse.TractableModel)
    z, x = vae.sample(5, generator=gen(10))
    assert z.shape == (5, 2) and x.shape == (5, 64) and set(x.unique().tolist()) <= {0.0, 1.0}
