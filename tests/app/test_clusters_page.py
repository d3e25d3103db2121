"""AppTest: the Clusters page -- GENNAPE's map of the families (NB-201 here: it runs on a fresh
machine) drawn with PCA, its colours, a chosen point, an ONNX upload with its prediction, bad
uploads as one error line, and the missing-model message. The model is the tiny test model."""

from __future__ import annotations

import base64
import json
import pickle

import numpy as np
import pytest
import streamlit as st
from onnx import TensorProto, helper
from streamlit.testing.v1 import AppTest

from archpred.app import cache, clusters
from archpred.app.text import fmt_number, md_escape
from archpred.gennape.examples import example_onnx_bytes
from archpred.gennape.model import load_gennape
from tests.conftest import ROOT, needs_data

PAGE = str(ROOT / "pages" / "clusters.py")
CELLS = 10


@pytest.fixture
def tiny_model(tiny_gennape_path, monkeypatch):
    """The page's model is the tiny test model (``SHIPPED`` is where the page looks)."""
    monkeypatch.delenv(cache.GENNAPE_ENV, raising=False)
    monkeypatch.setattr("archpred.gennape.model.SHIPPED", tiny_gennape_path)
    return tiny_gennape_path


def page(families: list[str] | None = None, drawn: bool = True, method: str = "PCA") -> AppTest:
    """The page on a small NB-201 map (``drawn``: as after the first "Draw the map" click)."""
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state[clusters.FAMILIES_KEY] = ["nb201"] if families is None else families
    at.session_state[clusters.CELLS_KEY] = CELLS
    at.session_state[clusters.METHOD_KEY] = method
    if drawn:
        at.session_state[clusters.DRAWN_KEY] = True
    return at.run()


def ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def figure(at: AppTest, i: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def values(trace: dict, axis: str) -> np.ndarray:
    """A trace's coordinates (plotly writes numeric arrays base64-encoded as ``bdata``)."""
    data = trace[axis]
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
    return np.asarray(data)


def table(at: AppTest, column: str):
    """The first table on the page with ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def upload(at: AppTest, name: str, raw: bytes) -> AppTest:
    at.file_uploader(key=clusters.UPLOAD_KEY).set_value((name, raw, "application/octet-stream"))
    return at.run()


def test_missing_model_is_an_info_with_the_training_command(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.GENNAPE_ENV, raising=False)
    monkeypatch.setattr("archpred.gennape.model.SHIPPED", tmp_path / "gennape-nb101.pt")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    ok(at)
    assert len(at.info) == 1 and clusters.TRAIN_COMMAND in at.info[0].value
    assert not at.get("plotly_chart")


def test_an_unreadable_model_is_one_error_line(monkeypatch, tmp_path):
    bad = tmp_path / "gennape.pt"
    bad.write_bytes(b"not a model")
    monkeypatch.setenv(cache.GENNAPE_ENV, str(bad))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("Cannot load the GENNAPE model")
    assert "\n" not in at.error[0].value


@pytest.fixture
def progress_texts(monkeypatch) -> list[str]:
    """The texts of every progress bar the page shows (the bar is emptied when the map is done)."""
    texts: list[str] = []
    real = st.progress

    class Bar:
        def __init__(self, bar) -> None:
            self.bar = bar

        def progress(self, value, text=None):
            texts.append(text)
            return self.bar.progress(value, text=text)

        def empty(self):
            return self.bar.empty()

    monkeypatch.setattr(st, "progress", lambda value, text=None, **kw: Bar(real(value, text=text, **kw)))
    return texts


def test_the_first_map_waits_for_a_click_then_comes_from_disk(tiny_model, monkeypatch, tmp_path, progress_texts):
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))  # nothing cached yet
    at = page(drawn=False)
    ok(at)
    assert any("builds the computation graphs of 10 cells" in i.value for i in at.info)
    assert not at.get("plotly_chart")
    at.button(key=clusters.DRAW_KEY).click().run()
    ok(at)
    assert "nb201: computation graphs: 1 / 10" in progress_texts
    assert "nb201: computation graphs: 10 / 10" in progress_texts
    assert progress_texts[-1] == "PCA projection of 10 embeddings: 1 / 1"
    assert any(c.value.startswith(f"{CELLS} networks; computed in") for c in at.caption)
    assert figure(at)["layout"]["title"]["text"] == f"GENNAPE CL embedding, PCA ({CELLS} networks)"
    at.selectbox(key=clusters.METHOD_KEY).select("t-SNE").run()  # later changes need no click
    ok(at)
    assert "t-SNE" in figure(at)["layout"]["title"]["text"]
    at.selectbox(key=clusters.METHOD_KEY).select("PCA").run()
    assert any(c.value == f"{CELLS} networks; read from the disk cache." for c in at.caption)


def test_colour_switch(tiny_model):
    at = page()
    ok(at)
    names = [t.get("name") for t in figure(at)["data"]]
    assert names == ["NB-201"]  # by family, in the family's own colour
    assert figure(at)["data"][0]["marker"]["color"] == clusters.FAMILY_COLOURS["NB-201"]
    at.selectbox(key=clusters.COLOUR_KEY).select("hard FCM cluster").run()
    ok(at)
    clusters_shown = [t.get("name") for t in figure(at)["data"]]
    assert clusters_shown and all(n.isdigit() and int(n) < 3 for n in clusters_shown)  # the tiny model's C = 3
    for colour in ("real accuracy", "predicted accuracy"):
        at.selectbox(key=clusters.COLOUR_KEY).select(colour).run()
        ok(at)
        spec = figure(at)
        assert spec["layout"]["coloraxis"]["colorbar"]["title"]["text"] == colour
        assert len(values(spec["data"][0], "x")) == CELLS


def test_a_chosen_point_shows_its_cell_memberships_and_heads(tiny_model, monkeypatch):
    at = page()
    ok(at)
    assert any(c.value == "No point chosen yet." for c in at.caption)
    at.selectbox(key=clusters.POINT_KEY).select(3).run()
    ok(at)
    options = at.selectbox(key=clusters.POINT_KEY).options
    assert len(options) == CELLS and options[3].startswith("NB-201 · ")
    shown = metrics(at)
    assert set(shown) >= {"Real accuracy", "GENNAPE predicted", "FLOPs (multiply-adds)", "Parameters"}
    bars = figure(at, 2)  # map, the cell, its memberships
    assert bars["layout"]["xaxis"]["title"]["text"] == "FCM cluster"
    assert np.sum(values(bars["data"][0], "y")) == pytest.approx(1.0)
    heads = table(at, "head prediction")
    assert list(heads.columns) == ["cluster", "membership", "head prediction"] and len(heads) == 3
    assert at.button(key="clusters_open")  # the cell opens in the editor

    # a click on the map chooses the point instead of the box
    monkeypatch.setattr(clusters, "selected_rows", lambda event: [7])
    at.run()
    ok(at)
    assert at.subheader[0].value == md_escape(options[7])


def test_an_uploaded_onnx_file_gets_a_prediction_and_a_place_on_the_map(tiny_model):
    raw = example_onnx_bytes("mobilenet-ish")
    at = upload(page(), "mobile.onnx", raw)
    ok(at)
    expected = float(load_gennape(tiny_model).predict([raw])[0])
    assert metrics(at)["GENNAPE predicted accuracy"] == fmt_number(expected)
    members = table(at, "ensemble weight")
    assert set(members["member"]) == set(load_gennape(tiny_model).members)
    pairwise = members[members["output"].str.startswith("rank position")]
    assert len(pairwise) == 2 and pairwise["value"].isna().all()  # no sort position for one network
    stars = [t for t in figure(at)["data"] if t.get("name") == "upload"]
    assert len(stars) == 1 and len(values(stars[0], "x")) == 1
    assert any("mobile.onnx" in e.label for e in at.expander)
    assert any("MB" in c.value and "do_constant_folding=False" in c.value for c in at.caption)


@needs_data("nb101")
def test_an_upload_lists_its_nearest_nb101_training_cells(tiny_model):
    at = upload(page(families=["nb101"]), "resnet.onnx", example_onnx_bytes("resnet-ish"))
    ok(at)
    near = table(at, "similarity")
    assert len(near) == 5 and list(near["similarity"]) == sorted(near["similarity"], reverse=True)
    assert set(near["key"]) <= set(cache.benchmark("nb101").keys)


def test_a_builtin_example_needs_no_file(tiny_model):
    at = page(families=[])
    at.radio(key=clusters.SOURCE_KEY).set_value("Built-in example").run()
    ok(at)
    assert at.selectbox(key=clusters.EXAMPLE_KEY).value == "resnet-ish"
    expected = float(load_gennape(tiny_model).predict([example_onnx_bytes("resnet-ish")])[0])
    assert metrics(at)["GENNAPE predicted accuracy"] == fmt_number(expected)


def _einsum_onnx() -> bytes:
    """A valid ONNX model with an operation GENNAPE's graphs do not know."""
    weights = [
        helper.make_tensor("W", TensorProto.FLOAT, [5, 4], np.zeros(20, np.float32)),
        helper.make_tensor("E", TensorProto.FLOAT, [5, 6], np.zeros(30, np.float32)),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "W"], ["h"], transB=1),
        helper.make_node("Einsum", ["h", "E"], ["y"], equation="bi,ij->bj"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
        weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


BAD = {
    "empty": (b"", "is an empty file"),
    "random bytes": (np.random.default_rng(0).bytes(4096), "is not an ONNX model"),
    "pickle renamed .onnx": (pickle.dumps({"weights": [1.0, 2.0]}), "is not an ONNX model"),
    "unsupported op": (_einsum_onnx(), "unsupported operation(s) in bad.onnx: Einsum"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_upload_is_one_error_line(tiny_model, case):
    raw, message = BAD[case]
    at = upload(page(families=[]), "bad.onnx", raw)
    assert not at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    text = at.error[0].value.replace("\\", "")  # md_escape's backslashes
    assert message in text and "\n" not in text and "Traceback" not in text
    assert "GENNAPE predicted accuracy" not in metrics(at)
