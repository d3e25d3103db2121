"""AppTest: the Models page trains a tiny predictor with a progress bar, shows the scatter and
metrics, and lists saved models; the cell editor's predictions panel uses them."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from archpred.predictors import make_predictor
from archpred.predictors.store import saved_models, user_dir
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "models.py")


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=120).run()


def test_page_loads():
    at = page()
    assert not at.exception
    assert at.selectbox(key="models_space").value == "nb201"


def test_train_tiny_random_forest_and_list_it():
    at = page()
    at.selectbox(key="models_name").select("random-forest").run()
    at.number_input(key="models_train_size").set_value(50)
    at.number_input(key="models_test_size").set_value(200)
    at.number_input(key="models_trees").set_value(5)
    at.text_input(key="models_save_name").input("apptest-rf").run()
    at.button(key="models_train").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    result = at.session_state["models_result"]
    assert result["y_pred"].shape == (200,) and "kendall_tau" in result["metrics"]
    assert any(s.path.stem == "apptest-rf" for s in saved_models("nb201")), result["path"]
    at.button(key="models_eval").click().run()
    assert not at.exception


def test_train_tiny_mlp_with_progress():
    at = page()
    at.selectbox(key="models_name").select("mlp").run()
    at.number_input(key="models_train_size").set_value(40)
    at.number_input(key="models_test_size").set_value(100)
    at.number_input(key="models_epochs").set_value(2)
    at.text_input(key="models_save_name").input("apptest-mlp").run()
    at.button(key="models_train").click().run()
    assert not at.exception and not at.error
    assert np.all(np.isfinite(at.session_state["models_result"]["y_pred"]))


def test_bad_model_name_is_an_inline_error():
    at = page()
    at.selectbox(key="models_name").select("random-forest").run()
    at.text_input(key="models_save_name").input("../escape").run()
    at.button(key="models_train").click().run()
    assert not at.exception
    assert any("model name" in e.value for e in at.error)


def test_predictions_panel_with_a_corrupt_file():
    from archpred.app.panels.predictions import predictions_table
    from archpred.spaces import get_space

    space = get_space("nb201")
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(20)]
    model = make_predictor("random-forest", n_estimators=3).fit(archs, rng.uniform(0.5, 0.9, 20))
    model.save(user_dir(create=True) / "nb201-panel-rf.pt")
    (user_dir() / "nb201-broken.pt").write_bytes(b"garbage")
    table, problems = predictions_table("nb201", archs[0])
    assert "nb201-panel-rf" in set(table["model"])
    assert np.isfinite(table["predicted"]).all()
    # the garbage file is not a predictor file at all, so it is not listed (and not an error)
    assert not any("broken" in p for p in problems)


@pytest.mark.parametrize("space", ["nb201"])
def test_cell_editor_shows_predictions(space):
    at = AppTest.from_file(str(ROOT / "pages" / "cell_editor.py"), default_timeout=120).run()
    at.selectbox(key="editor_space").select(space).run()
    assert not at.exception
    assert any("Predicted accuracy" in h.value for h in at.subheader)
