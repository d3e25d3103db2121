"""Out of the box every space with labels has a predictor (#16 item 6): the files shipped in
``assets/predictors`` load, predict on cells of their space, and the cell editor shows their
predictions on a fresh machine (no shared data), for NB-101 and Macro as for NB-201."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from archpred.data import BENCHMARKS
from archpred.predictors import Predictor
from archpred.predictors.store import saved_models
from archpred.spaces import get_space
from tests.conftest import ROOT

EDITOR = str(ROOT / "pages" / "cell_editor.py")


@pytest.mark.parametrize("space", BENCHMARKS)
def test_every_space_ships_a_predictor_that_predicts(space):
    shipped = saved_models(space, include_user=False)
    assert shipped, f"no shipped predictor for {space}"
    cells = [get_space(space).sample(np.random.default_rng(0)) for _ in range(8)]
    for saved in shipped:
        assert saved.shipped and saved.path.stem == f"{space}-{saved.name}"  # named as it is labelled
        assert saved.size_kb < 1024, f"{saved.path.name} is {saved.size_kb:.0f} KB"
        predicted = Predictor.load(saved.path, device="cpu").predict(cells)
        assert predicted.shape == (8,) and np.all(np.isfinite(predicted))
        assert np.all((predicted > 0) & (predicted < 1.5)), predicted  # accuracies, not garbage


@pytest.mark.parametrize("space", ["nb101", "macro", "enas"])
def test_cell_editor_shows_shipped_predictions_on_a_fresh_machine(space, fresh_machine):
    at = AppTest.from_file(EDITOR, default_timeout=120).run()
    at.selectbox(key="editor_space").select(space).run()
    assert not at.exception, at.exception
    assert not any("No trained predictor" in i.value for i in at.info)
    tables = [d.value for d in at.dataframe if "predicted" in d.value]
    assert tables, "no predictions table"
    shipped = tables[0][tables[0]["model"].str.endswith("(shipped)")]
    assert len(shipped) >= 1 and np.isfinite(shipped["predicted"]).all()
