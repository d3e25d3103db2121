"""Self-training: which cells the teachers label, what labels they get, what the student keeps."""

from __future__ import annotations

import numpy as np
import pytest

from archpred.errors import InvalidOption
from archpred.predictors import make_predictor
from archpred.predictors.self_training import rank_fraction, unlabelled_cells
from archpred.spaces import get_space
from tests.conftest import write_nb101_enumeration

NB101, NB201 = get_space("nb101"), get_space("nb201")
TINY = {"teachers": "random-forest", "student": "mlp", "unlabelled": 60, "student_steps": 30}


def _labelled(space, n: int, seed: int = 0):
    """Distinct cells with a learnable target: the share of convolutions among the ops."""
    rng = np.random.default_rng(seed)
    cells = {space.key(c): c for c in space.iter_sample(4 * n, rng)}
    archs = list(cells.values())[:n]
    y = np.array([0.7 + 0.2 * np.mean(["conv" in op for op in a.ops] or [0]) for a in archs])
    return archs, y


def test_rank_fraction_orders_and_averages_ties():
    np.testing.assert_allclose(rank_fraction(np.array([3.0, 1.0, 2.0, 2.0])), [0.875, 0.125, 0.5, 0.5])


@pytest.mark.parametrize("enumerated", [True, False])
def test_unlabelled_cells_are_new_and_distinct(enumerated):
    labelled, _ = _labelled(NB201, 50)
    cells = unlabelled_cells(NB201, 500, np.random.default_rng(0), labelled, enumerated=enumerated)
    keys = [NB201.key(c) for c in cells]
    assert len(keys) == 500 and len(set(keys)) == 500
    assert not set(keys) & {NB201.key(c) for c in labelled}


def test_unlabelled_cells_come_from_the_enumeration(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    every = list({NB101.hash(c): c for c in NB101.iter_sample(60, np.random.default_rng(1))}.values())
    write_nb101_enumeration(tmp_path, every)
    cells = unlabelled_cells(NB101, 1000, np.random.default_rng(0), every[:10])
    # all the enumeration holds besides the labelled ten, and nothing else
    assert sorted(NB101.hash(c) for c in cells) == sorted(NB101.hash(c) for c in every[10:])


def test_a_space_with_fewer_new_cells_gives_what_it_has(monkeypatch):
    few = list({NB201.key(c): c for c in NB201.iter_sample(40, np.random.default_rng(2))}.values())
    monkeypatch.setattr(NB201, "sample", lambda rng: few[int(rng.integers(len(few)))])
    cells = unlabelled_cells(NB201, 100, np.random.default_rng(0), few[:5], enumerated=False)
    assert sorted(NB201.key(c) for c in cells) == sorted(NB201.key(c) for c in few[5:])


def test_pseudo_labels_follow_the_teachers_and_stay_in_the_labels_range():
    archs, y = _labelled(NB201, 40)
    model = make_predictor("self-training", seed=0, device="cpu", **TINY).fit(archs, y)
    keys, pseudo = model.pseudo_
    assert len(keys) == 60 and not set(keys) & {NB201.key(a) for a in archs}
    assert y.min() <= pseudo.min() and pseudo.max() <= y.max()
    # a teacher refitted alone on the same cells ranks the unlabelled cells as the pseudo-labels do
    teacher = make_predictor("random-forest", seed=0, device="cpu").fit(archs, y)
    cells = [NB201.parse(k) for k in keys]
    order = np.argsort(teacher.predict(cells), kind="stable")
    assert np.all(np.diff(pseudo[order]) >= 0)


def test_student_predictions_are_calibrated_on_the_labelled_cells():
    archs, y = _labelled(NB201, 40)
    config = {**TINY, "student": "gnn", "student_steps": 30}
    model = make_predictor("self-training", seed=0, device="cpu", **config).fit(archs, y)
    assert model.student_.config.loss == "rank" and model.student_.config.steps == 30
    test, _ = _labelled(NB201, 50, seed=3)
    pred = model.predict(test)
    # the isotonic map's range is the labelled accuracies' (plus its 1e-4 tilt)
    assert y.min() - 2e-4 <= pred.min() and pred.max() <= y.max() + 2e-4
    assert model.reads_padded
    adj, types = zip(*(NB201.padded(a) for a in test))
    np.testing.assert_allclose(model.predict_padded(np.stack(adj), np.stack(types)), pred, atol=1e-9)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"teachers": "gnn+svge"}, "not 'svge'"),
        ({"student": "transformer"}, "not 'transformer'"),
        ({"unlabelled": 0}, "unlabelled must be >= 1"),
        ({"unlabelled_from": "table"}, "unknown unlabelled_from"),
        ({"student_steps": -1}, "student_steps must be >= 0"),
        ({"student": "random-forest"}, "random-forest student takes no steps"),
    ],
)
def test_impossible_options_are_refused(option, message):
    with pytest.raises(InvalidOption, match=message):
        make_predictor("self-training", **option)
