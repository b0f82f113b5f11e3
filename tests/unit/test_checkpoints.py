"""checkpoints.py: a checkpoint resumes the same run or is refused by name. Sequences of calls
(train, resume with something changed, a checkpoint damaged between two calls) against an
oracle of what each call must do."""

import pytest
import torch
from conftest import digits, gen
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vicourse import VAE, ArgumentError, train

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
