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

    cache.benchmark.clear()  # another test in this process may have loaded ENAS already
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
