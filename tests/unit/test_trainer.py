"""trainer.py: the trainer's promises: a resumed run gives the same history, nan stops with a
message, bad settings are refused by name, and the CUDA graph step trains like the eager one."""

import pytest
import torch
from conftest import digits, gen, small_vae

import vicourse
from vicourse import VAE, ArgumentError, FitError, load_images, train

DIGITS = digits()


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
