"""AppTest: the Embedding map page embeds NB-201 with the shipped VAEs and projects it; a
projection is computed once per (model, benchmark, method, rows), t-SNE and UMAP start on a
subsample, and a selected point opens in the cell editor."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from archpred.app import cache, latent, state
from archpred.paths import ASSETS_DIR
from tests.conftest import ROOT, needs_data

PAGE = str(ROOT / "pages" / "embedding_map.py")


def _need(kind: str) -> None:
    if not (ASSETS_DIR / "vae" / f"{kind}_nb201.pt").exists():
        pytest.skip(f"no shipped {kind} model for nb201")


@pytest.fixture
def fake_projection(monkeypatch: pytest.MonkeyPatch, tmp_path) -> list[tuple[str, int]]:
    """``archpred.vae.projection.project`` replaced by a quick stand-in that records
    ``(method, rows)`` per call; projections go to a folder of this test's own."""
    calls: list[tuple[str, int]] = []

    def project(x: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
        calls.append((method, len(x)))
        return np.asarray(x[:, :2], dtype=np.float64)

    real_dir = cache.cache_dir
    monkeypatch.setattr("archpred.vae.projection.project", project)
    monkeypatch.setattr(
        cache,
        "cache_dir",
        lambda *parts, create=True: real_dir(*parts, create=create) if parts != ("app", "projections") else tmp_path,
    )
    return calls


def arch2vec_map() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["embed_kind"] = "arch2vec"
    return at.run()


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
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["embed_kind"] = "arch2vec"
    at.session_state[latent.cells_key(method)] = 500
    at.run()
    at.selectbox(key="embed_method").select(method).run()
    assert not at.exception and not at.error
    assert at.slider(key=latent.cells_key(method)).value == 500
    assert any("No point selected" in c.value for c in at.caption)


def test_tsne_starts_on_a_subsample_and_a_colour_change_reuses_it(fake_projection):
    """PCA maps every cell; t-SNE opens on 2,000 (not PCA's 15,625, a minute of work); the
    projection is computed once and a colour change or a return reads it from disk."""
    _need("arch2vec")
    at = arch2vec_map()
    assert not at.exception and not at.error
    assert fake_projection == [("PCA", 15_625)]
    at.selectbox(key="embed_method").select("t-SNE").run()
    assert at.slider(key=latent.cells_key("t-SNE")).value == latent.SUBSAMPLE == 2000
    assert fake_projection[-1] == ("t-SNE", 2000)
    assert any("computed in" in c.value and "cached on disk" in c.value for c in at.caption)
    at.selectbox(key="embed_colour").select("predicted accuracy").run()
    at.selectbox(key="embed_method").select("PCA").run()
    at.selectbox(key="embed_method").select("t-SNE").run()
    assert not at.exception and not at.error
    assert fake_projection == [("PCA", 15_625), ("t-SNE", 2000)]
    assert any("from the disk cache" in c.value for c in at.caption)


def test_the_disk_cache_is_keyed_on_the_rows_not_their_count(fake_projection):
    _need("arch2vec")
    bench = cache.benchmark("nb201")
    tag = cache.vae_tag("arch2vec", "nb201")
    x = cache.embeddings("arch2vec", "nb201", tag, "cpu")
    a, b = np.arange(500), np.arange(500, 1000)
    for rows in (a, b, a):
        xy = cache.projection("arch2vec", bench.name, "t-SNE", tag, rows, "cpu")
        np.testing.assert_allclose(xy, x[rows, :2], rtol=1e-6)
    assert fake_projection == [("t-SNE", 500), ("t-SNE", 500)]


def test_a_selected_point_opens_in_the_cell_editor(monkeypatch, fake_projection):
    _need("arch2vec")
    row = 123
    monkeypatch.setattr(latent, "selected_rows", lambda event: [row])  # a click on the map
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["embed_kind"] = "arch2vec"
    at.run()
    at.switch_page("pages/embedding_map.py").run()
    assert not at.exception and not at.error
    at.button(key="embed_open").click().run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Cell editor"]
    cell = cache.benchmark("nb201").archs[row]
    assert at.session_state[state.CELLS_KEY]["nb201"] == cell.to_dict()


def test_no_model_is_an_inline_error(monkeypatch, tmp_path):
    monkeypatch.setattr("archpred.vae.model.ASSETS_DIR", tmp_path)
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("No trained" in e.value for e in at.error)


# -- the whole NB-101 space ------------------------------------------------------------------
@pytest.fixture
def small_nb101_space(monkeypatch: pytest.MonkeyPatch, tmp_path, nb101_data):
    """ "Every NB-101 cell" is 300 cells here (half of them in the benchmark table): the view
    embeds, projects and scores them for real, in seconds."""
    from archpred.app import space_view
    from archpred.spaces import get_space
    from tests.conftest import write_nb101_enumeration

    if not (ASSETS_DIR / "vae" / "arch2vec_nb101.pt").exists():
        pytest.skip("no shipped arch2vec model for nb101")
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    bench = cache.benchmark("nb101")
    rng = np.random.default_rng(0)
    table = set(bench.keys)
    space = get_space("nb101")
    extra = []
    while len(extra) < 150:
        cell = space.sample(rng)
        if space.hash(cell) not in table and cell not in extra:
            extra.append(cell)
    write_nb101_enumeration(tmp_path, [*bench.archs[:150], *extra])
    for fn in (cache.space_arrays, cache.space_embedding, cache.space_projection, cache._space_scores):
        fn.clear()
    monkeypatch.setattr(space_view, "SHOWN", (300, 100))
    yield tmp_path
    for fn in (cache.space_arrays, cache.space_embedding, cache.space_projection, cache._space_scores):
        fn.clear()


def whole_space_map() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["embed_kind"] = "arch2vec"
    at.session_state["embed_scope"] = "the whole NB-101 space (423,624 cells)"
    return at.run()


def test_the_whole_space_is_embedded_on_request_then_drawn_and_coloured(small_nb101_space):
    at = whole_space_map()
    assert not at.exception and not at.error
    assert any("not computed yet" in i.value for i in at.info)  # nothing is computed unasked
    at.button(key="space_embed_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Ringed: the 150 cells of the table" in c.value for c in at.caption)
    assert any("predicted accuracy" in c.value for c in at.caption)
    again = whole_space_map()  # a new session reads the embedding, projection and scores from disk
    assert not again.exception and not again.error and not again.info
    assert any("from the disk cache" in c.value for c in again.caption)


def test_a_whole_space_point_opens_in_the_cell_editor(small_nb101_space, monkeypatch):
    monkeypatch.setattr(latent, "selected_rows", lambda event: [200])  # a cell outside the table
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["embed_kind"] = "arch2vec"
    at.session_state["embed_scope"] = "the whole NB-101 space (423,624 cells)"
    at.run()
    at.switch_page("pages/embedding_map.py").run()
    at.button(key="space_embed_start").click().run()
    assert not at.exception and not at.error
    assert [m.value for m in at.metric][0] == "not in the table"
    at.button(key="space_open").click().run()
    assert [t.value for t in at.title] == ["Cell editor"]
    cell = cache.space_arrays("nb101").archs([200])[0]
    assert at.session_state[state.CELLS_KEY]["nb101"] == cell.to_dict()


def test_an_io_model_without_a_trained_file_names_its_own_command(monkeypatch, tmp_path):
    monkeypatch.setattr("archpred.vae.model.ASSETS_DIR", tmp_path)
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["embed_kind"] = "io"
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "No trained io model. Train one with: python -m archpred train io-vae --kind io"
    ]


@needs_data("nb101")
def test_an_io_model_maps_nb101_only(monkeypatch, tmp_path, fake_projection):
    """The IO models learn from NB-101 networks: NB-101 is their one benchmark."""
    from tests.conftest import tiny_io_model

    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    tiny_io_model("io-accuracy", tmp_path / "vae")
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["embed_kind"] = "io-accuracy"
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="embed_bench").options == ["nb101"]
    assert at.selectbox(key="embed_kind").value == "io-accuracy"
