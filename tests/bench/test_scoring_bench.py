"""``bench scoring``: a whole space scored, timed beside this machine's matmul, report written."""

from __future__ import annotations

import json

from archpred.bench.scoring import ScoringBenchConfig, run_scoring


def test_scoring_bench_writes_rates_and_flops(tmp_path) -> None:
    out = tmp_path / "scoring.json"
    config = ScoringBenchConfig(
        spaces=("nb201",),
        predictors=("neural-predictor", "random-forest"),
        fit_cells=20,
        fit_epochs=1,
        vaes=("arch2vec",),
        out=out,
    )
    report = run_scoring(config, log=lambda _: None)
    assert json.loads(out.read_text()) == report and report["matmul_gflops"] > 0
    np_row, rf_row = report["rows"]
    assert np_row["cells"] == 15_625 and np_row["finite"] and np_row["flops_per_cell"] > 1e5
    assert 0 < np_row["matmul_fraction"] < 2 and np_row["cells_per_second"] > 0
    assert rf_row["flops_per_cell"] == 0 and rf_row["matmul_fraction"] is None  # no torch network to count
    text = out.with_suffix(".md").read_text()
    assert "| nb201 | neural-predictor | 15,625 |" in text and "| nb201 | random-forest |" in text
    assert [m["what"] for m in report["maps"]] == ["arch2vec embedding", "PCA of the arch2vec embedding"]
    assert all(m["cells"] == 15_625 and m["seconds"] > 0 for m in report["maps"])
    assert "| nb201 | arch2vec embedding | 15,625 |" in text
