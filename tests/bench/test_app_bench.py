"""``bench app``: the edit -> predictions timing, the import-log parsing, the report, the CLI's
checks; the browser and projection timings (slow) where they can run."""

import json

import pytest

from archpred.bench import app as bench_app
from archpred.bench.app_report import render
from archpred.cli import main

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |     numba.core
import time:      2000 |       2100 |   numba
import time:       500 |       2600 | umap
import time:       300 |        300 | json
import time:      5000 |       5000 | torch
"""


def test_importtime_chain_and_top_imports():
    log = bench_app.parse_importtime(IMPORTTIME)
    assert log[0] == (2, 100e-6, "numba.core")
    assert bench_app.import_chain(log, "numba.core") == ["umap", "numba", "numba.core"]
    assert bench_app.import_chain(log, "torch") == ["torch"]
    assert bench_app.import_chain(log, "absent") == []
    assert bench_app.top_imports(log, n=2) == [("torch", 0.005), ("umap", 0.003)]


def test_edit_texts_are_new_cells_each_time():
    texts = bench_app.edit_texts("nb201", 20, seed=0, first="x")
    assert all(a != b for a, b in zip(["x", *texts], texts))
    avoid = tuple(texts[:5])
    assert not set(bench_app.edit_texts("nb201", 20, seed=0, first="x", avoid=avoid)) & set(avoid)
    assert texts == bench_app.edit_texts("nb201", 20, seed=0, first="x")  # seeded


def test_edit_timing_and_report(tmp_path):
    edit = bench_app.time_edits("nb201", runs=2, seed=0, device="cpu", timeout_s=300)
    assert len(edit["seconds"]) == 2 and edit["run"]["n"] == 2 and edit["predictors"] >= 1
    assert all(s > 0 for s in edit["seconds"])
    assert {"parse", "hash and benchmark lookup"} <= set(edit["phases"])
    assert any(name.startswith("predict: ") for name in edit["phases"])
    results = {"command": "python -m archpred bench app --quick", "config": {"runs": 2}}
    results |= {"meta": bench_app.machine_facts(), "edit": edit, "browser": {"skipped": "chromium is not installed"}}
    out = tmp_path / "app.md"
    bench_app.write_report(results, out)
    text = out.read_text()
    assert "Edit -> new predictions" in text and "`python -m archpred bench app --quick`" in text
    assert f"{results['meta']['cores']} cores" in text and "Skipped: chromium is not installed." in text
    assert json.loads(out.with_suffix(".json").read_text())["edit"]["seconds"] == edit["seconds"]


def test_report_of_every_part_renders_each_number():
    visit = {"title_s": 0.5, "idle_s": 2.0, "exceptions": 0}
    cold = {k: {"median": 3.0, "min": 2.0, "max": 4.0, "n": 2} for k in ("server_s", "title_s", "content_s", "idle_s")}
    page = {"first_run1": visit, "first_later": visit | {"timeouts": 0}, "again": {"title_s": 0.2, "idle_s": None}}
    results = {
        "command": "CMD",
        "config": {"runs": 2},
        "meta": {"date": "D", "commit": "C", "cores": 2, "processor": "P", "python": "3", "streamlit": "1"}
        | {"data": ["nb201"], "load_average_start": [1, 1, 1]},
        "imports": {"titles": ["Benchmarks"], "loaded": ["torch"], "heavy": [], "process_s": 9.0}
        | {"where": {"torch": ["app.py:1 <module>"]}, "top_imports": [("torch", 7.5)], "chains": {"torch": ["torch"]}},
        "browser": {
            "runs": [{}, {}],
            "exceptions": 0,
            "cold_start": cold,
            "pages": {"Models": page | {"exceptions": 0}},
        },
        "projections": {"kind": "svge", "bench": "nb201", "cells": 15625, "rows": 2000, "via": "V"}
        | {"embeddings": {"median": 20.0, "min": 19.0, "max": 21.0}}
        | {
            "methods": {
                "UMAP": {"first_in_process": 40.0, "first_later": {"median": 12.0}, "cached_summary": {"median": 0.001}}
            }
        },
    }
    text = render(results)
    for expected in ("**3.00 s**", "| Models | 2.00 s (0.50 s) | 2.00 s (0.50 s) | **timed out** | 0 |", "**none**"):
        assert expected in text, expected
    assert "`torch` first imported at `app.py:1 <module>`" in text and "| `torch` | 7.50 s |" in text
    assert "| UMAP | 40.0 s | **12.0 s** | **1.0 ms** |" in text and "15,625 nb201 cells" in text


def test_cli_refuses_an_unknown_part(tmp_path, capsys):
    assert main(["bench", "app", "--parts", "nope", "--out", str(tmp_path / "app.md")]) == 2
    assert "unknown part 'nope'" in capsys.readouterr().err
    assert main(["bench", "app", "--runs", "0", "--out", str(tmp_path / "app.md")]) == 2
    assert "runs must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "app.md").exists()


@pytest.mark.slow
@pytest.mark.browser
def test_browser_cold_start_renders_the_first_page():
    from archpred.bench.app_browser import skip_reason

    if skip_reason():
        pytest.skip(skip_reason())
    found = bench_app.browser_timings(runs=1, tour=False, timeout_s=300)
    cold = found["cold_start"]
    assert found["exceptions"] == 0 and found["pages"] == {}
    assert 0 < cold["server_s"]["median"] <= cold["title_s"]["median"] <= cold["idle_s"]["median"]


@pytest.mark.slow
def test_projections_first_then_cached():
    found = bench_app.time_projections("svge", "nb201", 300, ("PCA",), runs=2, device="cpu")
    assert found["rows"] == 300 and found["embeddings"]["n"] == 2
    pca = found["methods"]["PCA"]
    assert len(pca["first"]) == 2 and pca["cached_summary"]["median"] < pca["first_later"]["median"]
