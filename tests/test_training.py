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


def test_a_checkpoint_of_other_settings_is_refused_naming_them(tmp_path):
    ckpt = tmp_path / "run.pt"
    recipe = {"lr": 0.1, "seed": 0, "sizes": (3, 1)}
    model, opt, step, batches = make()
    fit_loop(model, step, batches, epochs=2, optimizer=opt, progress=False, checkpoint=ckpt, recipe=recipe)
    model, opt, step, batches = make()
    with pytest.raises(CheckpointError, match=r"other settings: lr=0.1 \(now 0.01\), seed=0 \(now 1\); .*--fresh"):
        fit_loop(
            model,
            step,
            batches,
            epochs=4,
            optimizer=opt,
            progress=False,
            checkpoint=ckpt,
            recipe={**recipe, "lr": 0.01, "seed": 1},
        )
    assert load_checkpoint(ckpt)["epoch"] == 1  # refused before anything was written
    resumed = fit_loop(model, step, batches, epochs=4, optimizer=opt, progress=False, checkpoint=ckpt, recipe=recipe)
    assert len(resumed) == 4  # the same settings (a tuple saved as a list) resume


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


def test_resolve_device_rule():
    from archpred.errors import InvalidOption
    from archpred.training import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None) == resolve_device("auto")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    for bad in ("gpu", "cuda:", "CUDA:zero", "mps0"):
        with pytest.raises(InvalidOption, match="unknown device"):
            resolve_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidOption, match="no CUDA GPU"):
            resolve_device("cuda:0")


@pytest.mark.parametrize("n, batch_size", [(10, 3), (10, 10), (7, 3), (1, 4), (65, 64)])
def test_batches_cover_each_row_once_and_depend_on_seed_and_epoch(n, batch_size):
    from archpred.training import batches

    rows = [b.tolist() for b in batches(n, batch_size, seed=1, epoch=2)]
    flat = [r for b in rows for r in b]
    dropped = n - len(flat)
    assert len(set(flat)) == len(flat) and set(flat) <= set(range(n))
    assert dropped == (1 if n % min(batch_size, n) == 1 and n > 1 else 0)  # only a lone last row is dropped
    assert all(len(b) >= 2 for b in rows) or n == 1
    again = [b.tolist() for b in batches(n, batch_size, seed=1, epoch=2)]
    assert again == rows
    if n > 3:
        assert [b.tolist() for b in batches(n, batch_size, seed=1, epoch=3)] != rows
        assert [b.tolist() for b in batches(n, batch_size, seed=2, epoch=2)] != rows


def test_seeded_restores_the_callers_stream():
    from archpred.training import seeded

    torch.manual_seed(7)
    expected = torch.rand(4)
    torch.manual_seed(7)
    with seeded(123):
        inside = torch.rand(2)
    with seeded(123):
        assert torch.equal(torch.rand(2), inside)
    assert torch.equal(torch.rand(4), expected)


def test_cosine_schedule_keeps_group_ratios_and_matches_torch():
    """CosineLR is the one schedule: to lr_min=0 it follows torch's CosineAnnealingLR, and a group
    with its own learning rate (the SVGe predictor's encoder) keeps its ratio to the base rate."""
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.01}], lr=0.1)
    schedule = CosineLR(opt, 0.1, 0.0, 10)
    ref_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(ref_opt, T_max=10)
    for epoch in range(10):
        schedule.on_epoch_start(epoch)
        assert opt.param_groups[0]["lr"] == pytest.approx(ref_opt.param_groups[0]["lr"], rel=1e-12)
        assert opt.param_groups[1]["lr"] == pytest.approx(0.1 * opt.param_groups[0]["lr"], rel=1e-12)
        ref_opt.step()
        reference.step()


def test_checkpoint_header_refuses_other_archpred_files(tmp_path):
    from archpred.artifacts import save_artifact
    from archpred.training import save_checkpoint

    save_checkpoint(tmp_path / "ck.pt", epoch=3, model={})
    assert load_checkpoint(tmp_path / "ck.pt")["epoch"] == 3
    torch.save({"epoch": 1, "model": {}}, tmp_path / "old.pt")  # written before the header
    assert load_checkpoint(tmp_path / "old.pt")["epoch"] == 1
    save_artifact(tmp_path / "model.pt", "archpred-predictor", 1, name="gnn")
    with pytest.raises(CheckpointError, match="archpred-predictor file, not a training checkpoint"):
        load_checkpoint(tmp_path / "model.pt")


def test_a_diverging_run_stops_and_keeps_its_last_good_checkpoint(tmp_path):
    from archpred.errors import TrainingDiverged

    ckpt = tmp_path / "run.pt"
    model, opt, step, batches = make()
    fit_loop(model, step, batches, epochs=2, optimizer=opt, progress=False, checkpoint=ckpt)
    good = load_checkpoint(ckpt)

    def diverging(batch):
        return step(batch) * float("nan")

    with pytest.raises(TrainingDiverged, match=r"loss became nan in epoch 2; .*run.pt keeps epoch 1"):
        fit_loop(model, diverging, batches, epochs=10, optimizer=opt, progress=False, checkpoint=ckpt)
    saved = load_checkpoint(ckpt)
    assert saved["epoch"] == 1 and torch.equal(saved["model"]["weight"], good["model"]["weight"])
