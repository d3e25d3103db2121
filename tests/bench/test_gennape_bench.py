"""bench gennape on a tiny model and a tiny family: every result lands in the JSON at once, a
rerun skips what is there, the Markdown renders beside the paper's numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archpred.bench import gennape as bench
from archpred.gennape.families import Family
from archpred.gennape.inputs import to_graphs
from archpred.spaces import get_space


@pytest.fixture
def tiny_family(monkeypatch) -> Family:
    space = get_space("nb201")
    rng = np.random.default_rng(3)
    archs = [space.sample(rng) for _ in range(24)]
    graphs = to_graphs(archs)
    fam = Family("nb201", graphs, rng.uniform(0.8, 0.94, 24), archs)
    from archpred.gennape import families

    monkeypatch.setattr(families, "load_family", lambda name, **kw: fam)
    return fam


def test_zero_shot_and_fine_tuned_results_and_report(tiny_gennape_path, tiny_family, tmp_path) -> None:
    out = tmp_path / "g.json"
    config = bench.GennapeBenchConfig(
        model=tiny_gennape_path, families=("nb201",), seeds=2, samples=8, epochs=2, speed=False, out=out
    )
    data = bench.run_gennape(config, log=lambda _: None)
    results = data["results"]
    for member in ("gennape", "cl+fcm+t", "kgnn", "flops", "params"):
        assert -1 <= results[f"zero_shot/nb201/{member}"]["srcc"] <= 1
    assert results["zero_shot/nb201/gennape"]["n"] == 24
    assert "mae" in results["zero_shot/nb201/cl+t"] and "mae" not in results["zero_shot/nb201/flops"]
    assert results["fine_tuned/nb201/seed1/gennape"]["n"] == 16
    weights = results["fine_tuned/nb201/seed0/weights"]
    assert sum(weights.values()) == pytest.approx(1.0)
    assert json.loads(out.read_text())["results"] == results
    text = out.with_suffix(".md").read_text()
    assert "0.9103" in text and "fine-tuned on 8 cells, 2 epochs (2 seeds" in text

    def refuse(*a, **k):
        raise AssertionError("a finished result was measured again")

    import archpred.gennape.model as model_module

    original = model_module.Gennape.fine_tune
    model_module.Gennape.fine_tune = refuse
    try:
        bench.run_gennape(config, log=lambda _: None)
    finally:
        model_module.Gennape.fine_tune = original


def test_ndcg_exp_is_the_papers_formula() -> None:
    y = np.array([0.9, 0.8, 0.7, 0.95])
    pred = np.array([0.1, 0.3, 0.2, 0.0])
    rel = 20 * (y - y.min()) / (y.max() - y.min())
    order = np.argsort(-pred)[:2]
    dcg = sum((2 ** rel[i] - 1) / np.log2(k + 2) for k, i in enumerate(order))
    ideal = sum((2**r - 1) / np.log2(k + 2) for k, r in enumerate(sorted(rel, reverse=True)[:2]))
    assert bench.ndcg_exp(y, pred, k=2) == pytest.approx(dcg / ideal)


def test_a_report_of_another_model_is_refused_not_overwritten(tiny_gennape_path, tiny_family, tmp_path) -> None:
    from archpred.errors import InvalidOption

    out = tmp_path / "g.json"
    held = {"meta": {"model": "other.pt", "model_digest": "0123456789abcdef"}, "results": {"zero_shot/x": {"srcc": 1}}}
    out.write_text(json.dumps(held))
    config = bench.GennapeBenchConfig(
        model=tiny_gennape_path, families=("nb201",), fine_tune=False, speed=False, out=out
    )
    with pytest.raises(InvalidOption, match="another model .*other.pt.*--out for a new report"):
        bench.run_gennape(config, log=lambda _: None)
    assert json.loads(out.read_text()) == held


def test_the_networks_trained_here_are_a_test_family(tiny_gennape_path, tmp_path, monkeypatch) -> None:
    """``--families io``: the IO dataset's NB-101 networks trained on digits (the shipped sample,
    each network listed twice: a family needs 10 cells to be scored)."""
    import shutil

    from tests.conftest import IO_SAMPLE

    folder = tmp_path / "io"
    shutil.copytree(IO_SAMPLE, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    twice = [{**n, "hash": n["hash"] + suffix} for suffix in ("", "-again") for n in manifest["networks"]]
    (folder / "manifest.json").write_text(json.dumps({**manifest, "networks": twice}))
    monkeypatch.setattr("archpred.data.io_dataset.default_io_dir", lambda: folder)
    out = tmp_path / "g.json"
    config = bench.GennapeBenchConfig(model=tiny_gennape_path, families=("io",), fine_tune=False, speed=False, out=out)
    results = bench.run_gennape(config, log=lambda _: None)["results"]
    assert results["zero_shot/io/gennape"]["n"] == 16
    assert -1 <= results["zero_shot/io/params"]["srcc"] <= 1
    assert "trained on digits" in out.with_suffix(".md").read_text()
