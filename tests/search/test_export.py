"""Export formatting: the same CSV and JSON the command line writes."""

from __future__ import annotations

import csv
import io
import json

import pytest

from archpred.errors import InvalidOption
from archpred.search import export, run_search


def test_csv_and_json_hold_every_evaluation_in_order(tmp_path):
    result = run_search(
        "nb201", "evolution", 7, 2, store=tmp_path / "runs.db", options={"population_size": 3, "sample_size": 2}
    )
    rows = list(csv.DictReader(io.StringIO(export.export_text(result, "csv"))))
    assert [r["key"] for r in rows] == [e.key for e in result.history]
    assert [float(r["val_acc"]) for r in rows] == [e.val_acc for e in result.history]
    assert {"phase", "arch"} <= set(rows[0]) and json.loads(rows[0]["arch"]) == result.history[0].arch.to_dict()
    doc = json.loads(export.export_text(result, "json"))
    assert (doc["run_id"], doc["status"], doc["config"]) == (result.run_id, "finished", result.config)
    assert [e["idx"] for e in doc["evaluations"]] == list(range(7))
    with pytest.raises(InvalidOption, match="unknown export format"):
        export.export_text(result, "xml")
