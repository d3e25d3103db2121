"""GENNAPE's atlas: family samples, the embedding map of families and uploads, its disk cache
(parquet, keyed by the model's digest) and nearest cells. NB-201 runs on a fresh machine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from archpred.errors import DataNotFound, InvalidOption
from archpred.gennape import atlas
from archpred.gennape.examples import example_onnx_bytes
from archpred.gennape.graphs import GraphSet
from archpred.gennape.inputs import onnx_graph, to_graphs
from archpred.gennape.model import load_gennape
from tests.conftest import needs_data


@pytest.fixture(scope="module")
def model(tiny_gennape_path):
    return load_gennape(tiny_gennape_path)


@pytest.fixture
def own_cache(tmp_path, monkeypatch) -> None:
    """This test's own cache folder (maps and CG shards start empty)."""
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def upload() -> GraphSet:
    return GraphSet.from_graphs([onnx_graph(example_onnx_bytes("resnet-ish"), "resnet.onnx")], ["resnet.onnx"])


def no_building(monkeypatch) -> None:
    """Building a CG from here on fails the test (what must come from a cache)."""

    def build(*args, **kwargs):
        raise AssertionError("a computation graph was built again")

    monkeypatch.setattr("archpred.gennape.families.build_graph", build)


# -- samples ----------------------------------------------------------------------------------
def test_family_sample_is_seeded_uniform_and_in_fractions():
    archs, acc, keys = atlas.family_sample("nb201", 12, seed=3)
    again = atlas.family_sample("nb201", 12, seed=3)
    other = atlas.family_sample("nb201", 12, seed=4)
    assert len(archs) == len(acc) == len(keys) == 12 == len(set(keys))
    assert keys == again[2] and keys != other[2]
    assert np.all((acc > 0) & (acc <= 1))
    assert all(a.space == "nb201" for a in archs)


def test_family_sample_on_a_fresh_machine(fresh_machine):
    archs, acc, keys = atlas.family_sample("nb201", 5, seed=0)  # NB-201 from PyPI: validation accuracy
    assert len(keys) == 5 and np.all((acc > 0) & (acc <= 1))
    with pytest.raises(DataNotFound):
        atlas.family_sample("nb101", 5)


def test_bad_family_and_sizes_are_one_line_errors():
    with pytest.raises(InvalidOption, match="unknown family 'nb999'"):
        atlas.family_sample("nb999", 5)
    with pytest.raises(InvalidOption, match="at least 1"):
        atlas.family_sample("nb201", 0)


# -- the map -----------------------------------------------------------------------------------
def test_the_map_has_one_row_per_cg_with_the_models_own_numbers(model, upload, own_cache):
    calls: list[tuple[str, int, int]] = []
    frame = atlas.embedding_map(model, {"nb201": 8}, "pca", extra=upload, progress=lambda *a: calls.append(a))
    assert list(frame.columns) == list(atlas.COLUMNS)
    assert len(frame) == 9 and list(frame["family"]) == ["nb201"] * 8 + ["upload"]
    assert np.isfinite(frame[["x", "y", "predicted", "flops", "params"]].to_numpy(dtype=float)).all()

    archs, acc, keys = atlas.family_sample("nb201", 8, seed=0)
    cells = frame.iloc[:8]
    assert list(cells["key"]) == keys
    np.testing.assert_allclose(cells["accuracy"], acc)
    graphs = to_graphs(archs)
    np.testing.assert_allclose(cells["predicted"], model.predict(graphs), rtol=1e-5)  # the family is one population
    u = np.stack(cells["memberships"].to_numpy())
    np.testing.assert_allclose(u, model.memberships(graphs), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(u.sum(axis=1), 1.0, rtol=1e-6)
    assert list(cells["cluster"]) == list(u.argmax(axis=1))
    np.testing.assert_allclose(np.stack(cells["heads"].to_numpy()), model.head_predictions(graphs), rtol=1e-5)
    np.testing.assert_allclose(cells["flops"], graphs.flops)
    np.testing.assert_allclose(np.stack(cells["embedding"].to_numpy()), model.embed(graphs), rtol=1e-5, atol=1e-6)

    mine = frame.iloc[8]
    assert mine["key"] == "resnet.onnx" and np.isnan(mine["accuracy"])
    assert mine["predicted"] == pytest.approx(model.predict(upload)[0], rel=1e-6)
    assert mine["params"] == upload.params[0]

    assert calls[-1] == ("PCA projection of 9 embeddings", 1, 1)
    built = [c for c in calls if c[0] == "nb201: computation graphs"]
    assert [c[1] for c in built] == list(range(1, 9)) and all(c[2] == 8 for c in built)


def test_the_map_is_cached_on_disk_as_parquet(model, upload, own_cache, monkeypatch):
    first = atlas.embedding_map(model, {"nb201": 6}, "pca")
    files = sorted(p.name for p in atlas.atlas_dir().iterdir())
    assert len(files) == 2 and all(f.endswith(".parquet") for f in files)  # the family's table and the map
    no_building(monkeypatch)
    again = atlas.embedding_map(model, {"nb201": 6}, "pca")
    lists = ["memberships", "heads", "embedding"]
    pd.testing.assert_frame_equal(first.drop(columns=lists), again.drop(columns=lists))
    for column in lists:
        np.testing.assert_array_equal(np.stack(first[column].to_numpy()), np.stack(again[column].to_numpy()))
    # another projection and an upload reuse the family's table: nothing is built again
    tsne = atlas.embedding_map(model, {"nb201": 6}, "t-SNE", extra=upload)
    assert len(tsne) == 7 and list(tsne["key"][:6]) == list(first["key"])
    np.testing.assert_allclose(tsne["predicted"][:6], first["predicted"])
    assert atlas.missing_tables(model, {"nb201": 6}) == []
    assert atlas.missing_tables(model, {"nb201": 7}) == ["nb201"]


def test_another_model_never_reads_the_maps_of_this_one(model, own_cache, tiny_gennape_path):
    twin = load_gennape(tiny_gennape_path)
    assert atlas.model_digest(twin) == atlas.model_digest(model)
    import torch

    head = next(iter(twin.members["cl+fcm+t"].module.parameters()))
    with torch.no_grad():
        head.add_(0.5)
    assert atlas.model_digest(twin) != atlas.model_digest(model)
    atlas.embedding_map(model, {"nb201": 5}, "pca")
    assert atlas.missing_tables(twin, {"nb201": 5}) == ["nb201"]


def test_missing_families_are_left_out_with_a_note(model, fresh_machine, own_cache):
    frame = atlas.embedding_map(model, {"nb101": 5, "nb201": 5}, "pca")
    assert set(frame["family"]) == {"nb201"}
    assert any(note.startswith("nb101: no data here") for note in frame.attrs["notes"])


def test_bad_maps_are_one_line_errors(model, own_cache):
    with pytest.raises(InvalidOption, match="unknown projection 'mds'"):
        atlas.embedding_map(model, {"nb201": 5}, "mds")
    with pytest.raises(InvalidOption, match="at least 5 networks"):
        atlas.embedding_map(model, {"nb201": 2}, "pca")


def test_cgs_cached_by_load_family_are_read_not_built(own_cache, monkeypatch):
    from archpred.gennape.families import load_family

    monkeypatch.setattr("archpred.gennape.families.SHARD", 4)
    family = load_family("nb201", limit=8, shard_size=4)  # two shards of 4, in the family's order
    keys = [family.graphs.keys[i] for i in (6, 1, 3)]
    archs = [family.archs[i] for i in (6, 1, 3)]
    no_building(monkeypatch)
    graphs = atlas.family_graphs("nb201", archs, keys)
    assert list(graphs.keys) == keys
    np.testing.assert_array_equal(graphs.flops, family.graphs.flops[[6, 1, 3]])


@needs_data("nb101")
def test_nearest_nb101_cells_by_cosine(model, upload, own_cache):
    frame = atlas.embedding_map(model, {"nb101": 6, "nb201": 6}, "pca", extra=upload)
    near = atlas.nearest(frame, frame["embedding"].iloc[2], k=3, families=["nb101"])
    assert len(near) == 3 and set(near["family"]) == {"nb101"}
    assert near["key"].iloc[0] == frame["key"].iloc[2] and near["similarity"].iloc[0] == pytest.approx(1.0)
    assert list(near["similarity"]) == sorted(near["similarity"], reverse=True)
    assert atlas.nearest(frame, frame["embedding"].iloc[0], families=["macro"]).empty


def test_to_graphs_reads_cached_cells_and_traces_the_rest(own_cache, monkeypatch):
    """The cell editor's path: a benchmark cell whose CG a family build cached is read (no
    tracing); the others are traced; the order of the items is kept, and the graphs are the
    ones tracing would give."""
    from archpred.gennape import families
    from archpred.gennape.inputs import to_graphs
    from archpred.spaces import get_space

    monkeypatch.setattr("archpred.gennape.families.SHARD", 4)
    family = families.load_family("nb201", limit=8, shard_size=4)
    space = get_space("nb201")
    outside = space.sample(np.random.default_rng(11))
    assert space.key(outside) not in family.graphs.keys
    items = [family.archs[5], outside, family.archs[2], family.archs[5]]
    traced = []
    real = families.build_graph
    monkeypatch.setattr(families, "build_graph", lambda arch, name: traced.append(arch) or real(arch, name))
    graphs = to_graphs(items)
    assert traced == [outside]  # only the cell no shard holds
    assert graphs.keys == tuple(space.key(a) for a in items)
    expected = GraphSet.from_graphs([real(a, "nb201") for a in items], graphs.keys)
    for field in ("op_type", "numeric", "edges", "node_ptr", "edge_ptr", "flops", "params"):
        np.testing.assert_array_equal(getattr(graphs, field), getattr(expected, field), err_msg=field)
    np.testing.assert_allclose(graphs.spectrum, expected.spectrum, atol=1e-5)
    with pytest.raises(InvalidOption, match="given with space='nb101'"):
        to_graphs([family.archs[5]], space="nb101")  # the space check still holds for cached cells
