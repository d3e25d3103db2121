"""``search`` and ``runs list|show|export`` from the command line, on NB-201's table (tiny budgets)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from archpred.cli import main
from archpred.cli.search import ALGORITHMS_HELP
from archpred.search import SEARCHERS, list_runs, load_run, run_search

SMALL = ["--set", "population_size=3", "--set", "sample_size=2"]
EVOLUTION = {"population_size": 3, "sample_size": 2}


def search(store, *extra: str, budget: int = 8) -> list[str]:
    return ["search", "--algorithm", "evolution", "--budget", str(budget), "--seed", "1", "--store", str(store), *extra]


@pytest.fixture
def store(tmp_path, capsys):
    """A store holding one finished 8-query evolution run (run 1)."""
    path = tmp_path / "runs.db"
    assert main([*search(path, *SMALL), "--quiet"]) == 0
    capsys.readouterr()
    return path


def test_search_writes_the_store_and_prints_the_best(tmp_path, capsys):
    path = tmp_path / "runs.db"
    assert main(search(path, *SMALL)) == 0
    out, err = capsys.readouterr()
    [summary] = list_runs(path)
    assert (summary.status, summary.progress, summary.budget) == ("finished", 8, 8)
    best = load_run(path, summary.run_id).best
    # the test accuracy is known only with the shared NB-201 file (a fresh machine has none)
    test = "" if best.test_acc is None else f" test {100 * best.test_acc:.2f}%"
    assert out.splitlines() == [f"run 1 (finished): best {best.key} val {100 * best.val_acc:.2f}%{test}"]
    lines = err.splitlines()
    assert lines[0] == f"running run 1 of {path} at 0/8"  # the id first: an interrupted run can be resumed
    assert [line.split("]")[0] for line in lines[1:]] == [f"[{i}/8" for i in range(1, 9)]


def test_quiet_prints_no_progress(tmp_path, capsys):
    assert main([*search(tmp_path / "runs.db", *SMALL), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("run 1 (finished): best ")


class Stop(Exception):
    pass


def test_resume_continues_to_the_uninterrupted_history(tmp_path, capsys):
    path = tmp_path / "runs.db"
    seen = []

    def stop_at_4(evaluation) -> None:
        seen.append(evaluation)
        if len(seen) == 4:
            raise Stop

    with pytest.raises(Stop):
        run_search("nb201", "evolution", 10, 1, store=path, options=EVOLUTION, on_evaluation=stop_at_4)
    assert main(["search", "--resume", "1", "--store", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == f"resuming run 1 of {path} at 4/10" and err.splitlines()[-1].startswith("[10/10]")
    resumed = load_run(path, 1)
    assert resumed.status == "finished" and out.startswith("run 1 (finished): best ")
    assert resumed.history == run_search("nb201", "evolution", 10, 1, options=EVOLUTION).history


def test_runs_list_and_show(store, capsys):
    assert main(["runs", "list", "--store", str(store)]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["run", "algorithm", "space", "dataset", "status", "progress", "best", "val"]
    assert row.split()[:6] == ["1", "evolution", "nb201", "cifar10", "finished", "8/8"]
    assert main(["runs", "show", "1", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "config: " in out and '"algorithm": "evolution"' in out and "last 5 evaluations:" in out


def test_runs_export_csv_and_json(store, tmp_path, capsys):
    history = load_run(store, 1).history
    csv_path, json_path = tmp_path / "run.csv", tmp_path / "run.json"
    assert main(["runs", "export", "1", "--store", str(store), "--format", "csv", "--out", str(csv_path)]) == 0
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert [r["key"] for r in rows] == [e.key for e in history]
    assert [float(r["val_acc"]) for r in rows] == [e.val_acc for e in history]
    assert {r["phase"] for r in rows} <= {"init", "mutation"}
    assert main(["runs", "export", "1", "--store", str(store), "--format", "json", "--out", str(json_path)]) == 0
    doc = json.loads(json_path.read_text())
    assert doc["config"]["budget"] == 8 and [r["idx"] for r in doc["evaluations"]] == list(range(8))
    assert [r["key"] for r in doc["evaluations"]] == [e.key for e in history]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "--algorithm", "nope", "--budget", "5"], "unknown search algorithm 'nope'"),
        (["search", "--algorithm", "random", "--budget", "0"], "budget must be a whole number >= 1"),
        (["search", "--algorithm", "random", "--oracle", "gennape"], "unknown oracle 'gennape'"),
        (["search", "--budget", "5"], "--algorithm is required"),
        (["search", "--algorithm", "random", "--set", "bogus=1"], "unknown option(s) bogus"),
        (["search", "--resume", "7"], "no run 7"),
        (["runs", "show", "7"], "no run 7"),
        (["runs", "export", "7", "--format", "json"], "no run 7"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(store, capsys, argv, message):
    assert main([*argv, "--store", str(store)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err and "Traceback" not in err
    assert [r.run_id for r in list_runs(store)] == [1]  # nothing half-made was left behind


@pytest.mark.parametrize("argv", [["runs", "list"], ["runs", "show", "1"], ["search", "--resume", "1"]])
def test_missing_or_corrupt_store_is_one_line_and_exit_2(tmp_path, capsys, argv):
    missing = tmp_path / "missing.db"
    assert main([*argv, "--store", str(missing)]) == 2
    assert capsys.readouterr().err == f"archpred: error: no run store at {missing}\n"
    assert not missing.exists()  # reading never creates an empty store
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_text("not a database\n")
    assert main([*argv, "--store", str(corrupt)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a readable run store" in err


def test_help_names_every_algorithm():
    assert ALGORITHMS_HELP.split(", ") == list(SEARCHERS)


def test_resume_with_a_larger_budget_extends_a_finished_run(store, capsys):
    assert main(["search", "--resume", "1", "--store", str(store), "--budget", "12", "--quiet"]) == 0
    extended = load_run(store, 1)
    assert (extended.status, len(extended.history), extended.config["budget"]) == ("finished", 12, 12)
    # the extended run is the run a budget of 12 would have made
    assert extended.history == run_search("nb201", "evolution", 12, 1, options=EVOLUTION).history
    assert main(["search", "--resume", "1", "--store", str(store), "--budget", "5"]) == 2
    assert "already has 12 evaluations" in capsys.readouterr().err


def test_ctrl_c_names_the_run_to_resume(tmp_path, capsys, monkeypatch):
    from archpred.cli import search as cli_search

    calls = []

    def interrupt_at_3(self, evaluation) -> None:
        calls.append(evaluation)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_search.Progress, "__call__", interrupt_at_3)
    path = tmp_path / "runs.db"
    assert main(search(path, *SMALL)) == 130
    err = capsys.readouterr().err
    assert f"continue it with: --resume 1 --store {path}" in err
    assert load_run(path, 1).status == "stopped" and len(load_run(path, 1).history) == 3


def test_predictor_oracle_runs_are_labelled_predicted(tmp_path, capsys):
    argv = ["search", "--algorithm", "random", "--budget", "3", "--oracle", "predictor", "--quiet"]
    assert main([*argv, "--store", str(tmp_path / "runs.db")]) == 0
    out = capsys.readouterr().out
    assert " predicted " in out and " val " not in out


@pytest.mark.pool
def test_workers_run_a_search_in_a_process_pool(tmp_path, capsys):
    argv = ["search", "--algorithm", "random", "--budget", "4", "--workers", "2", "--quiet"]
    assert main([*argv, "--store", str(tmp_path / "runs.db")]) == 0
    run = load_run(tmp_path / "runs.db", 1)
    assert (run.config["executor"], run.config["workers"], len(run.history)) == ("local", 2, 4)
