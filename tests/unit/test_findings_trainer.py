"""Findings in train and its checkpoints: a resume compares every setting the checkpoint records;
a checksum catches damaged weights; a resume may change lr when asked (change_lr=True), as a
FitError advises; a hand-edited checkpoint is refused saying what is wrong in it; NaN weights
are named as the cause, not lr; kl_warmup may be a numpy integer; train works under no_grad.
Tiny VAEs, 1-3 epochs of 8 images: each test takes well under a second."""

import zipfile

import numpy as np
import pytest
import torch
from conftest import gen

import vicourse
from vicourse import ArgumentError, FitError, train
from vicourse._checks_values import fit_trace
from vicourse.checkpoints import checksum

X = (torch.rand(8, 6, generator=gen(1)) < 0.5).float()


def vae():
    torch.manual_seed(0)
    return vicourse.VAE.for_data(X, 2, hidden=(4,))


def run(epochs, checkpoint=None, model=None, **settings):
    settings = {"batch_size": 4, "generator": gen(2), "progress": False, **settings}
    return train(model or vae(), X, epochs=epochs, checkpoint=checkpoint, **settings)


def edit(path, change) -> None:
    """Load the checkpoint, change it, save it (with its old checksum unless `change` resets it)."""
    state = torch.load(path, weights_only=True)
    change(state)
    torch.save(state, path)


REFUSED = r"^checkpoint must be a file written by vicourse.train, got '.*run.pt', whose "


@pytest.mark.parametrize("setting", [dict(kl_warmup=3), dict(free_bits=0.5)])
def test_a_resume_compares_every_setting_the_checkpoint_records(tmp_path, setting):
    path = tmp_path / "run.pt"
    run(1, path, **setting)
    ((name, value),) = setting.items()
    with pytest.raises(ArgumentError, match=rf"one whose {name} \({value!r} there, 0"):
        run(2, path)  # the setting left out: its default, 0, differs from the checkpoint's
    other = tmp_path / "other.pt"
    run(1, other)
    with pytest.raises(ArgumentError, match=rf"one whose {name} \(0.* there, {value!r} here\)"):
        run(2, other, **setting)
    # a setting this version does not know is compared too, and named
    edit(other, lambda s: (s["run"].update(shuffle="off"), s.update(checksum=checksum(s))))
    with pytest.raises(ArgumentError, match=r"one whose shuffle \('off' there, None here\)"):
        run(2, other)


def test_damaged_weights_are_caught_by_the_checksum(tmp_path):
    path = tmp_path / "run.pt"
    run(1, path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:  # flip the lowest bit of each tensor's first byte
        for info in archive.infolist():
            if "/data/" in info.filename and info.file_size:
                header = raw[info.header_offset : info.header_offset + 30]
                name, extra = (int.from_bytes(header[i : i + 2], "little") for i in (26, 28))
                raw[info.header_offset + 30 + name + extra] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(ArgumentError, match=REFUSED + "contents do not match their checksum"):
        run(2, path)
    run(1, tmp_path / "edited.pt")
    edit(tmp_path / "edited.pt", lambda s: s["model"]["decoder.net.0.weight"].add_(0.01))
    with pytest.raises(ArgumentError, match="contents do not match their checksum"):
        run(2, tmp_path / "edited.pt")


def test_a_resume_may_change_lr_when_asked(tmp_path):
    path = tmp_path / "run.pt"
    first = run(1, path, lr=1e-2)
    with pytest.raises(FitError, match=r"try a smaller lr \(or resume .* change_lr=True\)"):
        run(1, lr=1e30)  # the advice of a diverging run names the argument
    with pytest.raises(ArgumentError, match=r"lr \(0.01 there, 1e-12 here\).*change_lr=True"):
        run(2, path, lr=1e-12)
    epoch_1 = torch.load(path, weights_only=True)["model"]
    model = vae()
    resumed = run(2, path, model=model, lr=1e-12, change_lr=True)
    assert resumed.train_loss[0] == first.train_loss[0]
    saved = torch.load(path, weights_only=True)
    assert saved["run"]["lr"] == 1e-12 and saved["optimizer"]["param_groups"][0]["lr"] == 1e-12
    # the second epoch stepped with lr 1e-12: the weights are still those after epoch 1
    for name, weight in model.state_dict().items():
        assert (weight - epoch_1[name]).abs().max() < 1e-9
    assert run(3, path, lr=1e-12).epochs == 3  # and the checkpoint now records the new lr


@pytest.mark.parametrize(
    "change, why",
    [
        (lambda s: s.update(run=None), "run entry is None, not a dict"),
        (lambda s: s.update(history=[1.0]), r"history is a list, not a dict of lists"),
        (lambda s: s["history"].update(seconds="1"), r"history's 'seconds' is a str"),
        (lambda s: s["history"]["train_loss"].append(2.0), "history's lists differ in length"),
        (lambda s: s["model"].pop("decoder.net.0.bias"), "model weights lack 'decoder.net.0.bias'"),
        (
            lambda s: s["model"].update(extra=torch.zeros(2)),
            "model weights have an unknown 'extra'",
        ),
        (
            lambda s: s["model"].update({"decoder.net.0.weight": torch.zeros(3)}),
            r"model weight 'decoder.net.0.weight' is a torch.float32 tensor of shape \(3,\)",
        ),
        (lambda s: s["optimizer"].update(state=[]), "optimizer entry is a dict without"),
        (lambda s: s["optimizer"]["param_groups"].append({}), "optimizer state does not fit"),
        (lambda s: s.update(generator=torch.zeros(3)), "generator entry is a Tensor"),
    ],
)
def test_a_hand_edited_checkpoint_is_refused_saying_what_is_wrong(tmp_path, change, why):
    path = tmp_path / "run.pt"
    run(1, path)
    edit(path, change)
    model = vae()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ArgumentError, match=REFUSED + why):
        run(2, path, model=model)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_nan_weights_are_named_as_the_cause_not_lr(tmp_path):
    model = vae()
    with torch.no_grad():
        model.decoder.net[0].weight[0, 0] = float("nan")
    named = r"^model must be .* finite before the first step, got one whose decoder.net.0.weight"
    with pytest.raises(FitError, match=named):
        run(1, model=model)
    path = tmp_path / "run.pt"
    run(1, path)

    def poison(state):
        state["model"]["encoder.net.0.weight"][0, 0] = float("nan")
        state["checksum"] = checksum(state)

    edit(path, poison)
    with pytest.raises(FitError, match=r"got one whose encoder\.net\.0\.weight held nan"):
        run(2, path)
    # fit_trace, which the fitters share: the start is read only when the trace is not finite
    trace = torch.tensor([1.0, float("nan")])
    bad, good = {"w": torch.tensor(False)}, {"w": torch.tensor(True)}
    with pytest.raises(FitError, match=r"^model must be .* whose w held nan"):
        fit_trace(trace, 0.1, "ELBO", start=bad)
    with pytest.raises(FitError, match=r"^lr must be"):
        fit_trace(trace, 0.1, "ELBO", start=good)
    assert fit_trace(torch.ones(2), 0.1, "ELBO", start=bad) is not None


def test_kl_warmup_may_be_a_numpy_integer(tmp_path):
    assert run(2, kl_warmup=np.int64(2)).train_loss == run(2, kl_warmup=2).train_loss
    run(1, tmp_path / "run.pt", kl_warmup=np.int64(2))
    assert run(2, tmp_path / "run.pt", kl_warmup=2).epochs == 2  # recorded as an int
    with pytest.raises(ArgumentError, match="kl_warmup must be a number of epochs"):
        run(1, kl_warmup=np.float64(2))


def test_train_computes_its_own_gradients_under_no_grad():
    expected = run(2, x_test=X).train_loss
    with torch.no_grad():
        assert run(2, x_test=X).train_loss == expected
    model = vae()
    with torch.inference_mode():  # a model and data made outside it
        assert run(2, model=model, x_test=X).train_loss == expected


def test_a_resume_compares_numbers_by_value(tmp_path):
    path = tmp_path / "run.pt"
    run(1, path, lr=1.0)
    with vicourse.validation_enabled(False):  # lr reaches the comparison as the int 1
        assert run(2, path, lr=1).epochs == 2
