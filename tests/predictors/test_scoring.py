"""Scoring a whole space: the padded arrays of every cell, and ``score_space`` against ``predict``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archpred.errors import InvalidOption, NotFittedError
from archpred.predictors import make_predictor, score_space
from archpred.spaces import get_space
from tests.conftest import write_nb101_enumeration

torch.set_num_threads(1)

NB101, NB201 = get_space("nb101"), get_space("nb201")
TINY = {
    "neural-predictor": {"hidden": 16, "fc": 16, "epochs": 2, "batch_size": 16},
    "gnn": {"d_node": 8, "d_graph": 8, "epochs": 2, "batch_size": 16},
    "mlp": {"hidden": (16,), "epochs": 2, "batch_size": 16},
    "random-forest": {"n_estimators": 5},
}


def _cells_of_every_size(rng: np.random.Generator) -> list:
    cells, sizes = {}, set()
    while len(sizes) < 6 or len(cells) < 40:
        cell = NB101.sample(rng)
        cells.setdefault(NB101.hash(cell), cell)
        sizes.add(cell.num_vertices)
    cells["tiny"] = NB101.cell([[0, 1], [0, 0]], ["input", "output"])
    return list(cells.values())


def test_nb101_arrays_equal_padding_each_cell(tmp_path, monkeypatch, rng) -> None:
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    cells = _cells_of_every_size(rng)
    write_nb101_enumeration(tmp_path, cells)
    arrays = NB101.arrays(progress=False)
    assert len(arrays) == len(cells) and arrays.space == "nb101"
    for i, cell in enumerate(cells):
        adj, types = NB101.padded(cell)
        assert np.array_equal(arrays.adjacency[i], adj) and np.array_equal(arrays.types[i], types)
        assert arrays.keys[i] == NB101.hash(cell)
    assert arrays.archs(slice(None)) == cells
    assert arrays.archs([3, 1]) == [cells[3], cells[1]]


def test_listed_space_arrays_keep_keys_and_cells() -> None:
    arrays = NB201.arrays()
    cells = NB201.enumerate()
    assert len(arrays) == 15_625 and arrays.keys[7] == NB201.key(cells[7])
    assert arrays.archs(slice(5, 8)) == cells[5:8]
    assert np.array_equal(arrays.types[9], NB201.padded(cells[9])[1])


@pytest.fixture(scope="module")
def nb201_arrays():
    return NB201.arrays()


@pytest.mark.parametrize("name", list(TINY))
def test_score_space_equals_predict_on_every_cell(name, nb201_arrays) -> None:
    rng = np.random.default_rng(1)
    cells = NB201.enumerate()
    train = [cells[i] for i in rng.choice(len(cells), 40, replace=False)]
    model = make_predictor(name, seed=0, device="cpu", **TINY[name]).fit(train, rng.uniform(0.5, 0.95, 40))
    scores = score_space(model, arrays=nb201_arrays, batch_size=4_000)  # four batches, the last short
    assert scores.keys is nb201_arrays.keys and scores.predictions.shape == (15_625,)
    rows = rng.choice(15_625, 300, replace=False)
    np.testing.assert_allclose(scores.predictions[rows], model.predict([cells[i] for i in rows]), atol=1e-6)
    key, best = scores.top(1)[0]
    assert best == scores.predictions.max() and key == nb201_arrays.keys[scores.predictions.argmax()]


def test_score_space_refuses_what_it_cannot_score(nb201_arrays) -> None:
    cells = NB201.enumerate()[:20]
    with pytest.raises(NotFittedError, match="not fitted"):
        score_space(make_predictor("neural-predictor"), NB201)
    model = make_predictor("neural-predictor", seed=0, **TINY["neural-predictor"]).fit(cells, np.linspace(0.5, 0.9, 20))
    with pytest.raises(InvalidOption, match="fitted on nb201, not nb101"):
        score_space(model, NB101)
    with pytest.raises(InvalidOption, match="fitted on nb201, not nb101"):
        score_space(model, "nb101")  # a space's name as well as the space
    with pytest.raises(InvalidOption, match="batch_size"):
        score_space(model, arrays=nb201_arrays, batch_size=0)
    with pytest.raises(InvalidOption, match=r"\(N, 8, 8\)"):
        model.predict_padded(np.zeros((3, 7, 7), np.int8), np.zeros((3, 7), np.int8))
    mlp = make_predictor("mlp", seed=0, **TINY["mlp"]).fit(cells, np.linspace(0.5, 0.9, 20))
    with pytest.raises(InvalidOption, match="does not read padded graphs"):
        mlp.predict_padded(nb201_arrays.adjacency[:2], nb201_arrays.types[:2])
