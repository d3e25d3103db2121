"""AppTest: the Train page trains the current (or default) cell on digits, and the network panel."""

from streamlit.testing.v1 import AppTest

from archpred.app import state
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "train.py")


def _tiny(at: AppTest) -> AppTest:
    at.number_input(key="train_width").set_value(4)
    at.number_input(key="train_epochs").set_value(2)
    at.number_input(key="train_batch").set_value(256)
    return at


def test_trains_the_default_cell():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert any("default" in m.value for m in at.markdown)
    _tiny(at).button(key="train_start").click().run()
    assert not at.exception, at.exception
    result = at.session_state["train_result"]
    assert result["space"] == "nb101" and result["epochs"] == 2 and len(result["curve"]) == 2
    assert 0 <= result["test_acc"] <= 1
    assert any(m.label == "Test accuracy" for m in at.metric)


def test_trains_the_editor_cell_and_survives_a_bad_one():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[state.CELLS_KEY] = {"macro": {"arch": "01200120"}}
    at.session_state[state.LATEST_KEY] = "macro"
    at.run()
    assert not at.exception and any("01200120" in m.value for m in at.markdown)
    _tiny(at).button(key="train_start").click().run()
    assert not at.exception and at.session_state["train_result"]["key"] == "01200120"

    bad = AppTest.from_file(PAGE, default_timeout=120)
    bad.session_state[state.CELLS_KEY] = {"macro": {"arch": "0120"}}
    bad.session_state[state.LATEST_KEY] = "macro"
    bad.run()
    assert not bad.exception and any("cannot be used" in w.value for w in bad.warning)


def test_network_panel_counts_and_graph():
    script = """
import streamlit as st
from archpred.app.panels.network import render
from archpred.spaces import get_space
render("macro", get_space("macro").cell("00000000"))
"""
    at = AppTest.from_string(script, default_timeout=120).run()
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Parameters"] == "387,882" and values["FLOPs (multiply-adds)"] == "7.7 M"
    at.toggle(key="editor_network_graph").set_value(True).run()
    assert not at.exception
    assert any("operations" in c.value for c in at.caption)
