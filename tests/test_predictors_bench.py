"""``bench predictors``: a smoke run writes the JSON and the markdown, and resumes."""

from __future__ import annotations

import json

import pytest

from archpred.bench.predictors import PAPER, render_markdown
from archpred.cli import main
from archpred.errors import DataNotFound


def test_smoke_run_writes_and_resumes(tmp_path, capsys):
    out = tmp_path / "report"
    args = ["bench", "predictors", "--out", str(out), "--protocols", "np172", "--np-splits", "1", "--profile", "smoke"]
    try:
        assert main(args) == 0
    except DataNotFound as err:  # pragma: no cover
        pytest.skip(str(err))
    report = json.loads(out.with_suffix(".json").read_text())
    assert set(report["results"]) == {"np172/one-stage/s0", "np172/two-stage/s0"}
    two = report["results"]["np172/two-stage/s0"]
    assert two["n_train"] == 172 and "mse_above_threshold" in two and two["fit_s"] > 0
    md = out.with_suffix(".md").read_text()
    assert "one- vs two-stage" in md and "bench predictors" in md
    capsys.readouterr()
    assert main(args) == 0  # everything cached: no new fit is printed
    assert "np172/" not in capsys.readouterr().err


def test_unknown_protocol_and_variant(tmp_path):
    assert main(["bench", "predictors", "--out", str(tmp_path / "r"), "--protocols", "nope"]) == 2
    assert main(["bench", "predictors", "--out", str(tmp_path / "r"), "--protocols", "split", "--predictors", "x"]) == 2


def test_markdown_tables_from_records():
    rec = {
        "space": "nb201",
        "variant": "gnn",
        "predictor": "gnn",
        "config": {"epochs": 5},
        "seed": 0,
        "n_train": 78,
        "n_test": 100,
        "fit_s": 1.0,
        "predict_per_s": 1000.0,
        "rmse": 0.1,
        "mse": 0.01,
        "mae": 0.05,
        "kendall_tau": 0.5,
        "spearman": 0.6,
        "pearson": 0.7,
    }
    results = {f"sizes/nb201/78/gnn/s{s}": {**rec, "seed": s, "kendall_tau": 0.5 + s / 100} for s in range(3)}
    results["split/nb101/gnn/s0"] = {**rec, "space": "nb101"}
    md = render_markdown({"commands": ["python -m archpred bench predictors"], "meta": {}, "results": results})
    assert "0.510 ± 0.008 (n=3)" in md
    assert f"*{PAPER['sizes_tau']['nb201']['PINAT'][0]:.3f}*" in md
    assert "70/20/10" in md and "**0.510**" in md
