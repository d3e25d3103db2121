"""AppTest: the Train page trains the current (or default) cell on digits, and the network panel."""

import json
import re

from streamlit.testing.v1 import AppTest

from archpred.app import cache, jobs, state, train_page
from archpred.app.text import fmt_number
from archpred.spaces import get_space
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "train.py")
NB201_CELL = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"


def chart_types(at: AppTest) -> list[str]:
    """Every chart element on the page, of any kind (plotly, vega-lite line charts, ...)."""

    def walk(node, out):
        if "chart" in str(getattr(node, "type", "")):
            out.append(node.type)
        for child in getattr(node, "children", {}).values():
            walk(child, out)
        return out

    return walk(at._tree, [])


def unescaped_tildes(text: str) -> int:
    return len(re.findall(r"(?<!\\)~", text))


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
    assert chart_types(at) == ["plotly_chart"]  # the finished run, once (no leftover live chart)


def test_an_nb201_cell_string_is_shown_literally():
    """Its ``~`` would be strikethrough in Markdown: the line above and the result's caption escape it."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[state.CELLS_KEY] = {"nb201": {"arch": NB201_CELL}}
    at.session_state[state.LATEST_KEY] = "nb201"
    at.run()
    line = next(m.value for m in at.markdown if "nb201" in m.value)
    assert "nor\\_conv\\_3x3\\~0" in line and unescaped_tildes(line) == 0
    _tiny(at).button(key="train_start").click().run()
    assert not at.exception, at.exception
    caption = next(c.value for c in at.caption if "parameters" in c.value)
    assert "skip\\_connect\\~2" in caption and unescaped_tildes(caption) == 0
    assert chart_types(at) == ["plotly_chart"]


def test_a_stopped_run_is_reported_on_the_next_run():
    at = AppTest.from_file(PAGE, default_timeout=120)
    job = jobs.Job(name=train_page.JOB, label="Training the nb101 cell abc", total=100, done=73)
    at.session_state[jobs.JOBS_KEY] = {train_page.JOB: job}
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "Training the nb101 cell abc was stopped at epoch 73/100: nothing was saved."
    ]
    at.run()
    assert not at.warning  # said once


STOP_SCRIPT = """
import streamlit as st
from archpred.app import train_page
from archpred.spaces import get_space
train_page.report_stopped()
if st.button("Train", key="go"):
    settings = {"epochs": 5, "batch": 64, "lr": 0.05, "seed": 0, "width": 4}
    train_page.train("macro", get_space("macro").cell("01200120"), settings, "cpu")
"""


def test_stop_during_training_is_reported_once(monkeypatch):
    """Stop ends the script inside the training loop (a BaseException); the next run says so."""
    import streamlit as st

    import archpred.networks.train as networks_train

    def stopped_after_three(arch, space, config, network=None, on_epoch=None, progress=True):
        for epoch in range(3):
            on_epoch(epoch, {"loss": 1.0, "val_acc": 0.5})
        st.stop()  # what Streamlit raises when the user presses Stop

    monkeypatch.setattr(networks_train, "train_classifier", stopped_after_three)
    at = AppTest.from_string(STOP_SCRIPT, default_timeout=60).run()
    at.button(key="go").click().run()
    assert not at.exception and not at.warning
    at.run()
    assert [w.value for w in at.warning] == [
        "Training the macro cell 01200120 was stopped at epoch 3/5: nothing was saved."
    ]
    assert train_page.RESULT not in at.session_state


def test_loss_and_accuracy_have_their_own_axes():
    curve = [{"epoch": e, "loss": 2.0 / e, "val_acc": 0.5 + 0.04 * e} for e in range(1, 11)]
    fig = train_page.curve_figure(curve)
    loss, acc = fig.data
    assert loss.yaxis != acc.yaxis and loss.xaxis != acc.xaxis  # stacked subplots
    assert fig.layout[acc.yaxis.replace("y", "yaxis")].tickformat == ".0%"
    assert fig.layout.showlegend is False
    assert list(fig.layout[acc.yaxis.replace("y", "yaxis")].range) == [0.5, 1.02]


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
    _, flops = cache.network_counts("macro", get_space("macro").cell("00000000").to_json())
    assert values["Parameters"] == "387,882" and values["FLOPs (multiply-adds)"] == f"{fmt_number(flops / 1e6)} M"
    at.toggle(key="editor_network_graph").set_value(True).run()
    assert not at.exception
    assert any("operations" in c.value for c in at.caption)
    assert svg_configs(at) == [True]  # the computation graph's camera button saves SVG


def svg_configs(at: AppTest) -> list[bool]:
    """For every plotly chart on the page: whether its camera button saves SVG (export.PLOT_CONFIG)."""
    configs = [json.loads(c.proto.config or "{}") for c in at.get("plotly_chart")]
    return [c.get("toImageButtonOptions", {}).get("format") == "svg" for c in configs]


def test_the_last_runs_curve_saves_svg():
    at = AppTest.from_file(PAGE, default_timeout=120)
    curve = [{"epoch": e, "loss": 2.0 / e, "val_acc": 0.5 + 0.04 * e} for e in (1, 2)]
    accuracies = {"test_acc": 0.61234, "val_acc": 0.6, "train_acc": 0.7, "train_seconds": 1.23456}
    run = {"device": "cpu", "space": "macro", "key": "01200120", "params": 12345, "epochs": 2, "curve": curve}
    at.session_state[train_page.RESULT] = {**accuracies, **run}
    at.run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["0.6123", "0.6", "0.7", "1.23 s"]
    assert svg_configs(at) == [True]
