"""trainer.py: the trainer's promises: a resumed run gives the same history, nan stops with a
message, bad settings are refused by name, and the CUDA graph step trains like the eager one."""

import pytest
import torch
from conftest import digits, gen, small_vae
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


# Sequences of calls: train, then resume with something changed, or after the checkpoint was
# damaged between two calls. An oracle says what each call must do: a resume of the same run
# ends with the uninterrupted run's history, field by field; anything else is refused before
# any step, by the project's error naming what differs. Small data, so a call takes milliseconds.
SMALL = digits().x_train[:40]
BASE = dict(lr=1e-3, batch_size=10, objective="elbo", num_samples=1, images="a", test=False,
            hidden=(4,), dtype="float32")  # fmt: skip
OTHER = dict(lr=2e-3, batch_size=20, objective="iwae", num_samples=2, images="b", test=True,
             hidden=(5,), dtype="float64")  # fmt: skip
DAMAGE = ["truncated", "junk bytes", "empty", "another pickle", "a folder"]


def run_of(config: dict, epochs: int, checkpoint=None):
    dtype = getattr(torch, config["dtype"])
    x = (SMALL if config["images"] == "a" else 1 - SMALL).to(dtype)
    torch.manual_seed(0)
    model = VAE.for_data(x, 2, hidden=config["hidden"]).to(dtype)
    return train(
        model,
        x,
        epochs=epochs,
        batch_size=config["batch_size"],
        lr=config["lr"],
        num_samples=config["num_samples"],
        objective=config["objective"],
        x_test=x[:8] if config["test"] else None,
        generator=gen(3),
        checkpoint=checkpoint,
        progress=False,
        graph=False,
    )


def damage(path, how: str) -> None:
    raw = path.read_bytes() if path.is_file() else b""
    if path.is_dir():
        return
    path.unlink(missing_ok=True)
    if how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "junk bytes":
        path.write_bytes(b"\x80\x04junk" * 50)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "another pickle":
        torch.save({"model": {}, "epoch": 3}, path)
    else:
        path.mkdir()


STEP = st.one_of(
    st.tuples(
        st.just("train"),
        st.sets(st.sampled_from(sorted(OTHER)), max_size=2),
        st.integers(1, 3),
    ),
    st.tuples(st.just("damage"), st.sampled_from(DAMAGE), st.just(0)),
)


def examples(test):
    """Every damage once, and every change once, besides what hypothesis draws."""
    first = ("train", set(), 2)
    for how in DAMAGE:
        test = example(steps=[first, ("damage", how, 0), ("train", set(), 2)])(test)
    for key in OTHER:
        test = example(steps=[first, ("train", {key}, 3)])(test)
    return example(steps=[first, ("train", set(), 1), ("train", set(), 4)])(test)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(steps=st.lists(STEP, min_size=2, max_size=4))
@examples
def test_a_sequence_of_calls_resumes_the_same_run_or_is_refused_by_name(steps, tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "run.pt"
    saved = None  # the oracle: None (no file), "damaged", or (config, epochs) in the file
    for action, what, epochs in steps:
        if action == "damage":
            if saved is not None:
                damage(path, what)
                saved = "damaged"
            continue
        config = {**BASE, **{k: OTHER[k] for k in what}}
        if saved == "damaged":
            with pytest.raises(ArgumentError, match=r"^checkpoint must be"):
                run_of(config, epochs, path)
            continue
        differ = [] if saved is None else [k for k in BASE if saved[0][k] != config[k]]
        if differ:
            # what the caller changed, by the name the message uses
            names = {"images": "x_train", "test": "x_test", "hidden": "model", "dtype": "dtype"}
            with pytest.raises(ArgumentError, match=r"^checkpoint must be .* same run") as error:
                run_of(config, epochs, path)
            for k in differ:
                assert names.get(k, k) in str(error.value), (k, str(error.value))
            continue
        if saved is not None and epochs < saved[1]:
            with pytest.raises(ArgumentError, match=rf"^epochs must be at least the {saved[1]}"):
                run_of(config, epochs, path)
            continue
        history = run_of(config, epochs, path)
        whole = run_of(config, epochs)
        assert history.train_loss == whole.train_loss, (steps, history, whole)
        assert history.test_loss == whole.test_loss, (steps, history, whole)
        saved = (config, epochs)
