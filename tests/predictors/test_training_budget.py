"""The torch predictors' training budget: a step count that does not shrink as the training set
grows, and early stopping on a held-out slice of the training cells only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archpred.errors import InvalidOption
from archpred.predictors import make_predictor, torch_common
from archpred.predictors.torch_common import MIN_EARLY_STOP, early_stopping_split, epochs_for_steps
from archpred.spaces import get_space

torch.set_num_threads(1)
NB201 = get_space("nb201")
TINY = {
    "gnn": {"d_node": 8, "d_graph": 8, "batch_size": 16},
    "neural-predictor": {"hidden": 16, "fc": 16, "batch_size": 16},
    "mlp": {"hidden": (16,), "batch_size": 16},
    "lstm": {"hidden": 8, "num_layers": 1, "batch_size": 16},
}


def _data(n: int, seed: int = 0):
    cells = NB201.enumerate()
    rows = np.random.default_rng(seed).choice(len(cells), n, replace=False)
    archs = [cells[i] for i in rows]
    # a learnable target: the share of 3x3 convolutions, plus noise
    y = np.array([a.ops.count("nor_conv_3x3") / 6 for a in archs]) * 0.3 + 0.6
    return archs, y + np.random.default_rng(seed).normal(0, 0.01, n)


@pytest.mark.parametrize(("steps", "n", "batch"), [(100, 40, 16), (100, 400, 16), (300, 1563, 128), (1, 5, 64)])
def test_epochs_for_steps_gives_at_least_the_steps(steps, n, batch) -> None:
    epochs = epochs_for_steps(steps, n, batch)
    per_epoch = -(-n // batch)
    assert epochs * per_epoch >= steps and (epochs - 1) * per_epoch < steps or epochs == 1


@pytest.mark.parametrize("n", [10, 19, 20, 78, 1563])
def test_early_stopping_split_holds_out_training_rows_only(n) -> None:
    fit, held = early_stopping_split(n, 0.1, seed=3)
    if n < MIN_EARLY_STOP:
        assert held is None and np.array_equal(fit, np.arange(n))
        return
    assert len(held) == round(0.1 * n) and not set(fit) & set(held)
    assert np.array_equal(np.sort(np.r_[fit, held]), np.arange(n))
    again_fit, again_held = early_stopping_split(n, 0.1, seed=3)
    assert np.array_equal(again_held, held) and not np.array_equal(early_stopping_split(n, 0.1, seed=4)[1], held)


@pytest.mark.parametrize("name", list(TINY))
def test_step_budget_grows_epochs_not_shrinks_steps(name, monkeypatch) -> None:
    seen = []
    real = torch_common.fit_regressor
    monkeypatch.setattr(
        torch_common,
        "fit_regressor",
        lambda module, forward, feats, target, **kw: (
            seen.append((len(target), kw["epochs"], kw["batch_size"])) or real(module, forward, feats, target, **kw)
        ),
    )
    for n in (20, 60):
        archs, y = _data(n)
        make_predictor(name, seed=0, steps=12, **TINY[name]).fit(archs, y)
    (n_small, e_small, b), (n_large, e_large, _) = seen
    steps_small, steps_large = e_small * -(-n_small // b), e_large * -(-n_large // b)
    assert steps_small >= 12 and steps_large >= 12 and e_small > e_large


@pytest.mark.parametrize("name", list(TINY))
def test_early_stopping_sees_only_the_training_cells(name, monkeypatch) -> None:
    """The held-out slice is cut from the cells given to fit; the networks are fitted on the rest
    and validated on it, and nothing else reaches them (the test cells stay with the caller)."""
    archs, y = _data(50)
    fitted_rows, validated = [], []
    real_fit = torch_common.fit_regressor

    def spy(module, forward, feats, target, **kw):
        fitted_rows.append(len(target))
        inner = kw["validate"]

        def validate():
            out = inner()
            validated.append(out["val_loss"])
            return out

        return real_fit(module, forward, feats, target, **{**kw, "validate": validate})

    monkeypatch.setattr(torch_common, "fit_regressor", spy)
    model = make_predictor(name, seed=0, epochs=30, early_stopping=0.2, patience=3, **TINY[name]).fit(archs, y)
    assert fitted_rows == [40]  # 50 training cells, 10 held out
    assert validated and all(np.isfinite(validated))
    assert len(model.stopped_epochs_) == 1 and 1 <= model.stopped_epochs_[0] <= 30
    assert np.isfinite(model.predict(archs)).all()


def test_early_stopping_restores_the_weights_of_its_best_epoch() -> None:
    from archpred.training import EarlyStopping

    module = torch.nn.Linear(2, 1)
    stopper = EarlyStopping("val_loss", patience=2, module=module)
    weights = {}
    for epoch, value in enumerate([3.0, 1.0, 2.0, 2.5]):
        with torch.no_grad():
            module.weight.fill_(float(epoch))
        weights[epoch] = module.weight.detach().clone()
        stopper.on_epoch_end(epoch, {"val_loss": value})
    assert stopper.best_epoch == 1 and stopper.should_stop()
    stopper.restore_best()
    assert torch.equal(module.weight, weights[1])


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("steps", -1, "steps"), ("early_stopping", 0.5, "early_stopping"), ("patience", 0, "patience")],
)
def test_budget_options_are_checked(field, value, match) -> None:
    with pytest.raises(InvalidOption, match=match):
        make_predictor("gnn", **{field: value})


def test_asking_for_epochs_trains_for_epochs_not_the_default_steps() -> None:
    assert make_predictor("gnn").config.steps > 0  # the chosen default budget is in steps
    assert make_predictor("gnn", epochs=3).config.steps == 0
    assert make_predictor("gnn", epochs=3, steps=10).config.steps == 10


def test_a_fit_killed_midway_resumes_from_its_checkpoints(tmp_path) -> None:
    """Each network checkpoints every epoch; a fit interrupted in epoch 3 and started again with
    the same settings trains only the epochs left and ends where an uninterrupted fit ends."""
    archs, y = _data(40)
    options = {**TINY["mlp"], "epochs": 8}
    whole = make_predictor("mlp", seed=0, **options).fit(archs, y)

    epochs_run = []

    def kill_in_epoch_4(epoch, logs):
        epochs_run.append(epoch)
        if epoch == 3:
            raise KeyboardInterrupt  # a kill at the end of epoch 3, before its checkpoint

    with pytest.raises(KeyboardInterrupt):
        make_predictor("mlp", seed=0, checkpoint_dir=tmp_path, callbacks=[kill_in_epoch_4], **options).fit(archs, y)
    assert [p.suffix for p in tmp_path.iterdir()] == [".ckpt"]
    epochs_run.clear()
    resumed = make_predictor(
        "mlp", seed=0, checkpoint_dir=tmp_path, callbacks=[lambda e, logs: epochs_run.append(e)], **options
    )
    resumed.fit(archs, y)
    assert epochs_run == [3, 4, 5, 6, 7]  # epoch 3's checkpoint was never written: it runs again
    np.testing.assert_allclose(resumed.predict(archs), whole.predict(archs), atol=1e-6)
    with pytest.raises(InvalidOption, match="early_stopping"):
        make_predictor("mlp", checkpoint_dir=tmp_path, early_stopping=0.1)
