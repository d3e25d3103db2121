"""The shared training loop: deterministic, checkpoints every epoch, resumes, rejects bad files."""

import pytest
import torch

from archpred import CheckpointError
from archpred.training import CosineLR, EarlyStopping, FunctionCallback, fit_loop, load_checkpoint


def make(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(1))
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    return model, opt, (lambda b: torch.nn.functional.mse_loss(model(b[0]), b[1])), (lambda e: [(x, y)])


def test_loss_decreases_and_callbacks_run():
    model, opt, step, batches = make()
    seen = []
    hist = fit_loop(
        model,
        step,
        batches,
        epochs=20,
        optimizer=opt,
        progress=False,
        callbacks=[FunctionCallback(lambda e, logs: seen.append(e))],
    )
    assert hist[-1]["loss"] < hist[0]["loss"] / 5 and seen == list(range(20))


def test_resume_equals_uninterrupted(tmp_path):
    model, opt, step, batches = make()
    full = fit_loop(model, step, batches, epochs=6, optimizer=opt, progress=False)
    ckpt = tmp_path / "run.pt"
    model, opt, step, batches = make()
    fit_loop(model, step, batches, epochs=3, optimizer=opt, progress=False, checkpoint=ckpt)
    model, opt, step, batches = make(seed=5)  # a fresh process would start from other weights
    resumed = fit_loop(model, step, batches, epochs=6, optimizer=opt, progress=False, checkpoint=ckpt)
    assert len(resumed) == 6
    assert resumed[-1]["loss"] == pytest.approx(full[-1]["loss"], rel=1e-6)


def test_cosine_lr_follows_the_absolute_epoch_across_a_resume(tmp_path):
    def run(epochs, ckpt, seen):
        model, opt, step, batches = make()
        record = FunctionCallback(lambda e, logs: seen.append(opt.param_groups[0]["lr"]))
        schedule = CosineLR(opt, lr=0.1, lr_min=0.001, epochs=4)
        fit_loop(
            model,
            step,
            batches,
            epochs=epochs,
            optimizer=opt,
            progress=False,
            checkpoint=ckpt,
            callbacks=[schedule, record],
        )

    straight, resumed = [], []
    run(4, None, straight)
    run(2, tmp_path / "c.pt", resumed)
    run(4, tmp_path / "c.pt", resumed)
    assert straight == pytest.approx([0.1, 0.0855, 0.0505, 0.0155], abs=1e-4)
    assert resumed == pytest.approx(straight)


def test_early_stopping():
    model, opt, step, batches = make()
    stopper = EarlyStopping(monitor="val", patience=2)
    hist = fit_loop(
        model,
        step,
        batches,
        epochs=50,
        optimizer=opt,
        progress=False,
        validate=lambda: {"val": 1.0},
        callbacks=[stopper],
    )
    assert len(hist) == 3


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"PK\x03\x04garbage"])
def test_corrupt_checkpoint_is_a_clear_error(tmp_path, content):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a readable archpred checkpoint"):
        load_checkpoint(bad)


def test_checkpoint_of_another_model(tmp_path):
    model, opt, step, batches = make()
    ckpt = tmp_path / "run.pt"
    fit_loop(model, step, batches, epochs=1, optimizer=opt, progress=False, checkpoint=ckpt)
    other = torch.nn.Linear(4, 2)
    with pytest.raises(CheckpointError, match="does not fit this model"):
        fit_loop(
            other,
            step,
            batches,
            epochs=2,
            optimizer=torch.optim.SGD(other.parameters(), lr=0.1),
            progress=False,
            checkpoint=ckpt,
        )
