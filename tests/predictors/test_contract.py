"""The predictor contract on every space: shapes, determinism, save/load, bad input."""

from __future__ import annotations

import os
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from archpred.errors import CheckpointError, InvalidOption, NotFittedError
from archpred.predictors import PREDICTORS, Predictor, make_predictor, predictor_class
from archpred.predictors.baselines import LSTMPredictor, RandomForestPredictor
from archpred.predictors.gnn import GNNPredictor
from archpred.spaces import get_space
from tests.conftest import tiny_io_model

torch.set_num_threads(1)

TINY = {
    "gnn": {"d_node": 16, "d_graph": 8, "epochs": 2, "batch_size": 16},
    "neural-predictor": {"hidden": 16, "fc": 16, "epochs": 2, "batch_size": 16},
    "random-forest": {"n_estimators": 5},
    "mlp": {"hidden": (16, 16), "epochs": 2, "batch_size": 16},
    "lstm": {"hidden": 8, "num_layers": 1, "epochs": 2, "batch_size": 16},
    "svge": {"epochs": 2, "batch_size": 16},
    "arch2vec": {"n_estimators": 5},
    "self-training": {
        "teachers": "random-forest",
        "student": "mlp",
        "unlabelled": 30,
        "unlabelled_from": "samples",
        "student_steps": 20,
    },
}
# the IO predictors read a trained IO / Accuracy model: tiny ones, built once per test process
TINY_IO_DIR = Path(tempfile.gettempdir()) / f"archpred-tiny-io-{os.getpid()}"
for _kind in ("io", "io-accuracy"):
    TINY[_kind] = {"n_estimators": 5, "model": str(TINY_IO_DIR / f"{_kind}_nb101.pt")}
NAMES = list(PREDICTORS)  # every registered predictor, so a new one cannot skip the contract
SPACES = ["nb101", "nb201", "enas"]


def spaces_of(name: str) -> list[str]:
    """The spaces a predictor fits (the IO predictors: NB-101 only)."""
    return list(predictor_class(name).spaces or SPACES)


PAIRS = [(name, space) for name in NAMES for space in spaces_of(name)]


def home(name: str) -> str:
    """The space a single-space test uses for ``name``: NB-201 where it can."""
    return "nb201" if "nb201" in spaces_of(name) else spaces_of(name)[0]


@pytest.fixture(scope="module", autouse=True)
def tiny_io_models():
    for kind in ("io", "io-accuracy"):
        tiny_io_model(kind, TINY_IO_DIR)


def test_every_registered_predictor_has_a_tiny_config():
    assert set(TINY) == set(PREDICTORS)


def sample(space: str, n: int, seed: int = 0):
    s = get_space(space)
    rng = np.random.default_rng(seed)
    archs = [s.sample(rng) for _ in range(n)]
    # a smooth synthetic target in [0.6, 0.9]: depends on ops and size, so it is learnable
    # (crc32, not hash(): Python salts str hashes per process, so targets would change per run)
    y = np.array([0.6 + 0.3 * (sum(zlib.crc32(o.encode()) % 7 for o in a.ops) % 11) / 10 for a in archs])
    return archs, y


@pytest.fixture(scope="module")
def fitted():
    """One tiny fitted model per (name, space), shared by the tests that only read it."""
    out = {}
    for name, space in PAIRS:
        archs, y = sample(space, 40)
        out[name, space] = make_predictor(name, seed=0, device="cpu", **TINY[name]).fit(archs, y)
    return out


@pytest.mark.parametrize(("name", "space"), PAIRS)
def test_predict_shape_and_finite(fitted, name, space):
    archs, _ = sample(space, 13, seed=1)
    pred = fitted[name, space].predict(archs)
    assert pred.shape == (13,) and pred.dtype == np.float64
    assert np.all(np.isfinite(pred))
    assert fitted[name, space].predict([]).shape == (0,)


@pytest.mark.parametrize(("name", "space"), PAIRS)
def test_deterministic_for_a_seed(fitted, name, space):
    archs, y = sample(space, 40)
    again = make_predictor(name, seed=0, device="cpu", **TINY[name]).fit(archs, y)
    test, _ = sample(space, 10, seed=2)
    np.testing.assert_array_equal(again.predict(test), fitted[name, space].predict(test))


@pytest.mark.parametrize("name", ["gnn", "neural-predictor", "mlp"])
def test_other_seed_other_model(fitted, name):
    archs, y = sample("nb201", 40)
    other = make_predictor(name, seed=1, device="cpu", **TINY[name]).fit(archs, y)
    test, _ = sample("nb201", 10, seed=2)
    assert not np.allclose(other.predict(test), fitted[name, "nb201"].predict(test))


def _global_rng_state() -> tuple:
    return torch.get_rng_state(), np.random.get_state()


def _assert_same_rng_state(before: tuple, after: tuple) -> None:
    assert torch.equal(before[0], after[0]), "torch's global RNG moved"
    for a, b in zip(before[1], after[1]):
        assert np.array_equal(a, b), "numpy's global RNG moved"


@pytest.mark.parametrize("name", NAMES)
def test_fit_and_predict_leave_global_rng_alone(name):
    """A user's own seeded stream must not shift because a model was fitted or asked."""
    archs, y = sample(home(name), 20)
    test, _ = sample(home(name), 5, seed=9)
    torch.manual_seed(123)
    np.random.seed(123)
    before = _global_rng_state()
    model = make_predictor(name, seed=5, device="cpu", **TINY[name]).fit(archs, y)
    _assert_same_rng_state(before, _global_rng_state())
    model.predict(test)
    _assert_same_rng_state(before, _global_rng_state())


@pytest.mark.parametrize(("name", "space"), PAIRS)
def test_save_load_round_trip(fitted, name, space, tmp_path):
    model = fitted[name, space]
    path = model.save(tmp_path / "m.pt")
    test, _ = sample(space, 10, seed=3)
    for loaded in (Predictor.load(path, device="cpu"), type(model).load(path, device="cpu")):
        assert type(loaded) is type(model) and loaded.config == model.config
        assert loaded.space_.name == space
        np.testing.assert_allclose(loaded.predict(test), model.predict(test), rtol=1e-6, atol=1e-9)


def test_load_as_other_class_is_an_error(fitted, tmp_path):
    path = fitted["gnn", "nb201"].save(tmp_path / "gnn.pt")
    with pytest.raises(CheckpointError, match="not lstm"):
        LSTMPredictor.load(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a checkpoint at all", bytes(range(256)) * 10],
    ids=["empty", "text", "binary"],
)
def test_corrupt_file(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        Predictor.load(path)


def test_truncated_file(fitted, tmp_path):
    path = fitted["mlp", "nb201"].save(tmp_path / "m.pt")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError):
        Predictor.load(path)


def test_foreign_files(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    for name in ("foreign.pt", "list.pt"):
        with pytest.raises(CheckpointError):
            Predictor.load(tmp_path / name)
    with pytest.raises(CheckpointError, match="no such"):
        Predictor.load(tmp_path / "missing.pt")


def test_tampered_weights(fitted, tmp_path):
    path = fitted["gnn", "nb201"].save(tmp_path / "m.pt")
    state = torch.load(path, weights_only=True)
    state["state"]["members"]["0"]["net"]["embed.weight"] = torch.zeros(3, 3)
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="corrupt gnn"):
        Predictor.load(path)
    state["state"] = {"nothing": 1}
    torch.save(state, path)
    with pytest.raises(CheckpointError):
        Predictor.load(path)


def test_tampered_forest(fitted, tmp_path):
    path = fitted["random-forest", "nb201"].save(tmp_path / "rf.pt")
    state = torch.load(path, weights_only=True)
    state["state"]["left"] = state["state"]["left"] + 10_000
    torch.save(state, path)
    with pytest.raises(CheckpointError):
        Predictor.load(path)


@pytest.mark.parametrize("name", NAMES)
def test_unfitted(name, tmp_path):
    model = make_predictor(name, **TINY[name])
    archs, _ = sample(home(name), 3)
    with pytest.raises(NotFittedError):
        model.predict(archs)
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "x.pt")


@pytest.mark.parametrize("name", NAMES)
def test_wrong_space(fitted, name):
    other = "nb101" if home(name) != "nb101" else "nb201"
    archs, _ = sample(other, 3)
    with pytest.raises(ValueError, match=f"fitted on {home(name)}"):
        fitted[name, home(name)].predict(archs)


@pytest.mark.parametrize("name", [n for n in NAMES if predictor_class(n).spaces])
def test_a_space_it_cannot_fit_is_a_one_line_error(name):
    other = next(s for s in SPACES if s not in spaces_of(name))
    archs, y = sample(other, 5)
    with pytest.raises(InvalidOption, match=f"works on .* not {other}"):
        make_predictor(name, **TINY[name]).fit(archs, y)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_option(name):
    with pytest.raises(ValueError, match="unknown option"):
        make_predictor(name, no_such_option=1)


@pytest.mark.parametrize(
    "name, config",
    [
        ("gnn", {"loss": "hinge"}),
        ("gnn", {"epochs": 0}),
        ("mlp", {"lr": -1.0}),
        ("random-forest", {"features": "path"}),
        ("neural-predictor", {"threshold": 91}),
        ("neural-predictor", {"cv_folds": 1}),
        ("io", {"embedding": "sum"}),
    ],
)
def test_bad_option_values(name, config):
    with pytest.raises(ValueError):
        make_predictor(name, **config)


def test_bad_fit_input():
    archs, y = sample("nb201", 5)
    model = make_predictor("mlp", **TINY["mlp"])
    with pytest.raises(ValueError, match="targets"):
        model.fit(archs, y[:3])
    with pytest.raises(ValueError, match="finite"):
        model.fit(archs, np.full(5, np.nan))
    mixed = archs[:2] + sample("nb101", 2)[0]
    with pytest.raises(ValueError, match="several spaces"):
        model.fit(mixed, np.zeros(4))


def test_callbacks_see_every_epoch():
    seen = []
    archs, y = sample("nb201", 20)
    GNNPredictor(device="cpu", callbacks=[lambda epoch, logs: seen.append(epoch)], **TINY["gnn"]).fit(archs, y)
    assert seen == [0, 1]
    calls = []
    RandomForestPredictor(callbacks=[lambda e, logs: calls.append(e)], n_estimators=2).fit(archs, y)
    assert calls == [0]


def test_ensemble_averages_members():
    """On MSE (a ranking-trained ensemble averages its members' outputs, then calibrates once)."""
    archs, y = sample("nb201", 30)
    config = {**TINY["mlp"], "loss": "mse", "ensemble": 3}
    ens = make_predictor("mlp", seed=0, device="cpu", **config).fit(archs, y)
    single = {**TINY["mlp"], "loss": "mse"}
    singles = [make_predictor("mlp", seed=s, device="cpu", **single).fit(archs, y) for s in range(3)]
    test, _ = sample("nb201", 8, seed=4)
    expected = np.mean([m.predict(test) for m in singles], axis=0)
    np.testing.assert_allclose(ens.predict(test), expected, rtol=1e-5, atol=1e-7)


def test_ranking_losses_run():
    archs, y = sample("nb201", 30)
    for loss in ("rank", "mse+rank"):
        pred = make_predictor("mlp", device="cpu", loss=loss, **TINY["mlp"]).fit(archs, y).predict(archs)
        assert np.all(np.isfinite(pred))


@pytest.mark.parametrize("name", ["gnn", "mlp", "neural-predictor", "svge"])
def test_a_ranking_trained_predictor_speaks_accuracy_and_keeps_its_order(name, tmp_path):
    """Trained on the pairwise loss alone, outputs are mapped onto accuracy by the isotonic fit on
    the training cells: the scale is the targets', the order the network's, save/load keeps both."""
    from sklearn.isotonic import IsotonicRegression

    archs, y = sample("nb201", 40)
    model = make_predictor(name, device="cpu", loss="rank", **{**TINY[name], "epochs": 5}).fit(archs, y)
    pred = model.predict(archs)
    knots, model.calibration_ = model.calibration_, None
    raw = model.predict(archs)  # the network's own outputs
    model.calibration_ = knots
    np.testing.assert_array_equal(np.argsort(pred, kind="stable"), np.argsort(raw, kind="stable"))
    assert len(np.unique(pred)) == len(np.unique(raw))  # no ties made
    np.testing.assert_allclose(pred, IsotonicRegression().fit_transform(raw, y), atol=2e-4)
    model.save(tmp_path / "m.pt")
    np.testing.assert_allclose(Predictor.load(tmp_path / "m.pt").predict(archs), pred, rtol=1e-6)


def test_calibration_is_strictly_increasing_beyond_the_training_range():
    from archpred.predictors.torch_common import apply_calibration, monotone_calibration

    rng = np.random.default_rng(0)
    raw = rng.standard_normal(50)
    y = np.clip(0.9 + 0.02 * raw + 0.01 * rng.standard_normal(50), 0, 1)
    y[:3] = 0.1  # failed runs
    knots = monotone_calibration(raw, y)
    grid = np.linspace(-10, 10, 1001)  # far outside the training outputs on both sides
    assert np.all(np.diff(apply_calibration(knots, grid)) > 0)
    assert apply_calibration(None, grid) is grid
    assert np.all(apply_calibration(monotone_calibration(np.zeros(5), np.arange(5.0)), grid) == 2.0)


def test_the_two_stage_mode_refuses_a_loss_without_a_scale():
    with pytest.raises(InvalidOption, match="two-stage"):
        make_predictor("neural-predictor", threshold=0.91, loss="rank")


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "tpu", ""])
def test_bad_device_is_a_one_line_error(device):
    with pytest.raises(InvalidOption, match="unknown device"):
        make_predictor("mlp", device=device)
