"""AppTest: the Embedding map page embeds NB-201 with the shipped VAEs and projects it."""

import pytest
from streamlit.testing.v1 import AppTest

from archpred.paths import ASSETS_DIR
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "embedding_map.py")


def _need(kind: str) -> None:
    if not (ASSETS_DIR / "vae" / f"{kind}_nb201.pt").exists():
        pytest.skip(f"no shipped {kind} model for nb201")


@pytest.mark.parametrize("kind", [pytest.param("svge", marks=pytest.mark.slow), "arch2vec"])
def test_pca_map_of_nb201(kind):
    _need(kind)
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.selectbox(key="embed_kind").select(kind).run()
    assert not at.exception
    assert at.selectbox(key="embed_bench").value == "nb201"
    at.selectbox(key="embed_colour").select("predicted accuracy").run()
    assert not at.exception
    assert not at.error


@pytest.mark.parametrize("method", ["t-SNE", pytest.param("UMAP", marks=pytest.mark.slow)])
def test_small_projection_then_point_selection(method):
    _need("arch2vec")
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.selectbox(key="embed_kind").select("arch2vec").run()
    at.slider(key="embed_n").set_value(500).run()
    at.selectbox(key="embed_method").select(method).run()
    assert not at.exception and not at.error
    assert any("No point selected" in c.value for c in at.caption)


def test_no_model_is_an_inline_error(monkeypatch, tmp_path):
    monkeypatch.setattr("archpred.vae.model.ASSETS_DIR", tmp_path)
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("No trained" in e.value for e in at.error)
