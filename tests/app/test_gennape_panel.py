"""AppTest: the cell editor's GENNAPE panel -- the current cell's predicted accuracy in every
space with the members in an expander (the tiny test model), an info when there is no model,
one error line when the model or the cell's network fails."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from archpred.app import cache, clusters
from archpred.app.text import fmt_number
from archpred.gennape.model import load_gennape
from archpred.spaces import get_space
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "cell_editor.py")
LABEL = "GENNAPE predicted accuracy"


@pytest.fixture
def tiny_model(tiny_gennape_path, monkeypatch):
    monkeypatch.delenv(cache.GENNAPE_ENV, raising=False)
    monkeypatch.setattr("archpred.gennape.model.SHIPPED", tiny_gennape_path)
    return tiny_gennape_path


def editor(space: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.selectbox(key="editor_space").select(space).run()
    return at


def gennape_metric(at: AppTest) -> str | None:
    return next((m.value for m in at.metric if m.label == LABEL), None)


def test_every_space_gets_gennapes_prediction(tiny_model):
    model = load_gennape(tiny_model)
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    for space in ("nb201", "nb101", "enas", "macro"):
        at.selectbox(key="editor_space").select(space).run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        arch = get_space(space).parse(at.text_area(key=f"editor_json_{space}").value)
        assert gennape_metric(at) == fmt_number(float(model.predict([arch])[0])), space
    members = next(d.value for d in at.dataframe if "ensemble weight" in d.value.columns)
    assert list(members["member"]) == list(model.members)
    assert members["ensemble weight"].sum() == pytest.approx(1.0)
    assert any(e.label == "GENNAPE's members" for e in at.expander)


def test_no_model_is_an_info(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.GENNAPE_ENV, raising=False)
    monkeypatch.setattr("archpred.gennape.model.SHIPPED", tmp_path / "absent.pt")
    at = editor("nb201")
    assert not at.exception and not at.error
    assert any(clusters.TRAIN_COMMAND in i.value for i in at.info)
    assert gennape_metric(at) is None


def test_an_unreadable_model_is_one_error_line(monkeypatch, tmp_path):
    bad = tmp_path / "gennape.pt"
    bad.write_bytes(b"not a model")
    monkeypatch.setenv(cache.GENNAPE_ENV, str(bad))
    at = editor("nb201")
    assert not at.exception
    assert [e.value.startswith("Cannot load the GENNAPE model") for e in at.error] == [True]
    assert "\n" not in at.error[0].value


def test_a_network_gennape_cannot_read_is_one_error_line(tiny_model, monkeypatch):
    def broken(arch, space):
        raise ValueError("the network would not trace\nsecond line")

    monkeypatch.setattr("archpred.gennape.families.build_graph", broken)
    cache.gennape_cell.clear()
    at = editor("nb201")
    assert not at.exception
    assert len(at.error) == 1 and "GENNAPE cannot predict for this cell" in at.error[0].value
    assert "second line" not in at.error[0].value
    cache.gennape_cell.clear()  # the next test's cells are predicted for real
