"""The cell editor's predictions panel: every shipped predictor's value, computed once per cell
(the editor reruns on every widget change; a cell seen before calls no model again)."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from archpred.app import cache
from archpred.app.panels.predictions import predictions_table
from archpred.predictors.base import Predictor
from archpred.spaces import get_space
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "cell_editor.py")
CELL = "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|"
OTHER = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture
def predict_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts model calls (every registered predictor inherits ``Predictor.predict``); the
    per-cell prediction cache starts empty."""
    calls: list[int] = []
    real = Predictor.predict
    monkeypatch.setattr(Predictor, "predict", lambda self, archs: calls.append(len(archs)) or real(self, archs))
    cache._cell_predictions.clear()
    return calls


def _set_cell(at: AppTest, arch_string: str) -> None:
    at.text_area(key="editor_json_nb201").set_value(json.dumps({"arch": arch_string})).run()
    assert not at.exception and not at.error, [e.value for e in at.error]


def test_a_rerun_for_the_same_cell_calls_no_model(predict_calls):
    n_models = len(cache.saved_models("nb201"))
    assert n_models > 0, "the shipped NB-201 predictors are missing"
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.selectbox(key="editor_space").select("nb201").run()
    _set_cell(at, CELL)
    _set_cell(at, OTHER)
    before = len(predict_calls)
    assert before >= 2 * n_models
    at.run()  # any other widget change reruns the page for the same cell
    _set_cell(at, CELL)  # back to a cell seen before
    assert len(predict_calls) == before


def test_cached_values_equal_the_models_own(predict_calls):
    arch = get_space("nb201").parse(CELL)
    first, problems = predictions_table("nb201", arch)
    again, _ = predictions_table("nb201", arch)
    assert not problems and len(first) == len(cache.saved_models("nb201"))
    for saved, value in zip(cache.saved_models("nb201"), first["predicted"]):
        assert value == pytest.approx(float(cache.predictor(saved.path, "cpu").predict([arch])[0]))
    np.testing.assert_array_equal(first["predicted"], again["predicted"])
