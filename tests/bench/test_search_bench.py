"""``bench search``: traces, efficiency ratios, resumability and the written report (tiny runs)."""

import json

import numpy as np
import pytest

from archpred.bench import search as bench
from archpred.cli import main
from archpred.search import load_run, run_search
from archpred.search.store import RunStore


def test_incumbent_trace_follows_the_best_by_validation_not_the_metric():
    records = [
        {"val_acc": 0.5, "test_acc": 0.9},
        {"val_acc": 0.7, "test_acc": 0.6},  # better by val, worse by test: the user picks it anyway
        {"val_acc": 0.7, "test_acc": 0.99},  # a tie keeps the earlier one
        {"val_acc": 0.8, "test_acc": 0.8},
    ]
    assert bench.incumbent_trace(records, "test_acc").tolist() == [0.9, 0.6, 0.6, 0.8]


def test_efficiency_is_re_queries_over_the_algorithm_queries():
    re = {"mean": [0.1, 0.2, 0.3, 0.4] + [0.5] * 296}
    fast = {"mean": [0.3, 0.5] + [0.6] * 298}
    slow = {"mean": [0.0] * 300}
    out = bench.efficiency({"s/x/evolution": re, "s/x/fast": fast, "s/x/slow": slow})
    # RE reaches its q=25 level (0.5) at query 5; "fast" at query 2
    assert out["s/x/fast"]["25"] == {"level": 0.5, "re_queries": 5, "queries": 2, "ratio": 2.5}
    assert out["s/x/evolution"]["300"]["ratio"] == 1.0
    assert out["s/x/slow"]["50"]["ratio"] is None


def test_first_reaching():
    assert bench.first_reaching([0.1, 0.3, 0.3], 0.3) == 2
    assert bench.first_reaching([0.1, 0.3], 0.4) is None


@pytest.fixture
def config(tmp_path):
    return bench.SearchBenchConfig(
        settings=("nb201/cifar10",),
        algorithms=("random", "evolution"),
        seeds=2,
        budget=12,
        options={"evolution": {"population_size": 4, "sample_size": 2}},
        store=tmp_path / "runs.db",
        out=tmp_path / "report" / "search",
        command="test",
    )


def test_harness_writes_the_report_from_real_runs_and_resumes(config, capsys):
    summary = bench.run_search(config)
    curve = summary["curves"]["nb201/cifar10/evolution"]
    assert curve["seeds"] == 2 and len(curve["mean"]) == 12
    # the mean curve is the mean of the runs' incumbent traces, recomputed here from the store
    traces = []
    for seed in range(2):
        run = run_search("nb201", "evolution", 12, seed, options=config.options["evolution"])
        metric = bench.metric_of("nb201", "cifar10", [e.to_record() for e in run.history])
        traces.append(bench.incumbent_trace([e.to_record() for e in run.history], metric))
    assert np.allclose(curve["mean"], np.mean(traces, axis=0), atol=1e-6)
    md = (config.out.with_suffix(".md")).read_text()
    assert "## nb201/cifar10" in md and "| evolution | 2 |" in md and "Sample efficiency" in md
    assert config.out.with_suffix(".png").stat().st_size > 1000
    ref = json.loads((config.out.parent / "reference.json").read_text())
    assert set(ref["nb201/cifar10"]) == {"metric", "random", "evolution"}
    assert len(ref["nb201/cifar10"]["random"]["lo"]) == 12
    capsys.readouterr()
    # everything is in the store: a second harness runs nothing
    bench.complete_runs(config)
    assert "4/4 runs already in" in capsys.readouterr().out
    # render-only reports what finished and runs nothing, even where more seeds are asked for
    more = bench.SearchBenchConfig(**{**config.__dict__, "seeds": 5, "render_only": True})
    assert bench.run_search(more)["curves"]["nb201/cifar10/random"]["seeds"] == 2


def test_harness_resumes_a_cut_run_and_extends_finished_ones(config, capsys):
    class Stop(Exception):
        pass

    def stop_at_5(evaluation, seen=[]) -> None:  # noqa: B006 - a counter local to this test
        seen.append(evaluation)
        if len(seen) == 5:
            raise Stop

    with pytest.raises(Stop):
        run_search("nb201", "random", 12, 0, store=config.store, on_evaluation=stop_at_5)
    bench.complete_runs(config)
    assert "0/4 runs already in" in capsys.readouterr().out
    assert len(load_run(config.store, 1).history) == 12  # resumed, not run again
    bigger = bench.SearchBenchConfig(**{**config.__dict__, "budget": 15})
    bench.complete_runs(bigger)
    with RunStore(config.store) as db:
        assert [r.progress for r in db.runs()] == [15, 15, 15, 15]  # extended in place, no new runs


def test_cli_bench_search_rejects_a_bad_setting(capsys):
    assert main(["bench", "search", "--settings", "nb999/cifar10"]) == 2
    assert "unknown setting(s) nb999/cifar10" in capsys.readouterr().err


def test_a_slow_algorithm_can_have_a_smaller_budget(config):
    small = bench.SearchBenchConfig(**{**config.__dict__, "budget_by_algorithm": {"evolution": 8}})
    summary = bench.run_search(small)
    assert len(summary["curves"]["nb201/cifar10/evolution"]["mean"]) == 8
    assert len(summary["curves"]["nb201/cifar10/random"]["mean"]) == 12
    md = small.out.with_suffix(".md").read_text()
    assert "| evolution | 2 |" in md and "| - |" in md  # q=10 is past evolution's budget
