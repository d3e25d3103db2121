"""The first page stays light: opening the app (``app.py`` and its first page, Benchmarks) in a
new process loads none of umap, numba, torch_geometric or torch, whose imports take seconds and
which only the pages that run models need (the sidebar's device choice looks for a GPU driver
without importing torch)."""

from archpred.bench.app import HEAVY, first_page_imports


def test_the_first_page_loads_no_heavy_module():
    found = first_page_imports(timeout_s=300)
    assert found["titles"] == ["Benchmarks"] and not found["exceptions"], found
    assert found["heavy"] == [], {m: found["where"][m] for m in found["heavy"]}
    assert set(HEAVY) == {"umap", "numba", "torch_geometric", "torch"}
