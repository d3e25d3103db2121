"""AppTest: the Benchmarks page renders real data and reacts to its widgets."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, needs_data

PAGE = str(ROOT / "pages" / "benchmarks.py")


@needs_data("nb101")
def test_renders_nb101():
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception
    assert at.metric[0].value == "20,001"
    assert at.metric[1].value == "0.9491"


@pytest.mark.parametrize("dataset", ["cifar100", "imagenet16-120"])
def test_nb201_datasets(dataset):
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    at.selectbox(key="bench_name").select("nb201").run()
    at.selectbox(key="bench_dataset").select(dataset).run()
    assert not at.exception and at.metric[0].value == "15,625"


def test_missing_data_is_an_inline_error(tmp_path, monkeypatch):
    from archpred.app import cache

    cache.clear_benchmarks()  # another test in this process may have loaded ENAS already
    monkeypatch.setenv("ARCHPRED_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.run()
    at.selectbox(key="bench_name").select("enas").run()
    assert not at.exception
    assert any("ENAS data not found" in e.value for e in at.error)


def test_a_fresh_machine_opens_on_nb201(fresh_machine):
    """Without the shared data the page opens on NB-201 (from PyPI), not on a red error."""
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="bench_name").value == "nb201"
    assert at.metric[0].value == "15,625"


def test_numbers_are_formatted_for_people(fresh_machine):
    """NB-201's val_acc_std holds values like 1e-11: the table gives every float column 4
    significant digits (sprintf %.4g: 1.007e-11, not 0.00000000001) and counts separators."""
    import json

    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception
    columns = json.loads(at.dataframe[0].proto.columns)
    formats = {name: c.get("type_config", {}).get("format") for name, c in columns.items() if name != "_index"}
    assert formats["val_acc_std"] == formats["val_acc"] == "%.4g"
    assert formats["n_seeds"] == "localized"
    assert formats.get("index", "localized") == "localized"  # the official index needs the shared file
    assert "key" not in formats  # the cell string stays text
    assert [m.value for m in at.metric][1:3] == ["0.9161", "0.8369"]


def test_a_record_and_a_title_read_well():
    from archpred.app import benchmarks_page, cache

    record = benchmarks_page.readable_record({"val_acc_std": 1.0070277e-11, "val_acc": 0.9304893, "params": 8555530.0})
    assert record == {"val_acc_std": 1.007e-11, "val_acc": 0.9305, "params": 8555530}
    assert isinstance(record["params"], int)
    bench = cache.benchmark("nb201", "cifar10")
    title = benchmarks_page.row_title(bench, 0)
    assert title.startswith(bench.keys[0]) and title.endswith(f"({bench.target} = 0.09712)")


def test_every_chart_saves_svg(fresh_machine):
    """The histogram, the scatter and a selected row's cell: plotly's camera button saves SVG."""
    import json

    at = AppTest.from_file(PAGE, default_timeout=90).run()
    at.session_state["bench_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    configs = [json.loads(c.proto.config or "{}") for c in at.get("plotly_chart")]
    assert len(configs) == 3  # histogram, scatter, the selected row's cell
    assert all(c.get("toImageButtonOptions", {}).get("format") == "svg" for c in configs)
