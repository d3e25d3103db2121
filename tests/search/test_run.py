"""run_search / resume_search / load_run / list_runs: determinism, exact resume (after an
exception and after kill -9), and the run store's contents."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from archpred.errors import InvalidOption
from archpred.paths import data_dir
from archpred.search import list_runs, load_run, resume_search, run_search

from .conftest import small_options

ROOT = Path(__file__).resolve().parents[2]


class Stop(Exception):
    """What a Stop button raises from ``on_evaluation``."""


def stop_after(n: int):
    count = [0]

    def hook(_evaluation) -> None:
        count[0] += 1
        if count[0] == n:
            raise Stop

    return hook


def search(algorithm: str, space: str, budget: int = 18, seed: int = 3, **kwargs):
    return run_search(space, algorithm, budget, seed, options=small_options(algorithm, space), **kwargs)


def test_same_seed_same_history(algorithm, space_name):
    first, second = search(algorithm, space_name), search(algorithm, space_name)
    assert first.history == second.history and len(first.history) == 18
    assert [e.key for e in search(algorithm, space_name, seed=4).history] != [e.key for e in first.history]
    assert len({e.key for e in first.history}) == 18  # no cell twice


def test_resume_after_stop_equals_an_uninterrupted_run(algorithm, space_name, tmp_path):
    store = tmp_path / "runs.db"
    with pytest.raises(Stop):
        search(algorithm, space_name, store=store, on_evaluation=stop_after(7))
    [summary] = list_runs(store)
    assert (summary.status, summary.progress, summary.budget) == ("stopped", 7, 18)
    resumed = resume_search(store, summary.run_id)
    assert resumed.status == "finished"
    assert resumed.history == search(algorithm, space_name).history
    assert load_run(store, summary.run_id).history == resumed.history
    assert list_runs(store)[0].status == "finished"


@pytest.mark.parametrize("algorithm", ["evolution", "local"])
def test_kill_9_loses_nothing_and_resume_continues_the_same_run(algorithm, tmp_path):
    """A search in another process is SIGKILLed after a few committed evaluations; resuming
    gives every evaluation exactly once and the history of an uninterrupted run."""
    store, budget = tmp_path / "runs.db", 40
    options = small_options(algorithm, "nb201")
    code = (
        "import time\n"
        "from archpred.search import run_search\n"
        f"run_search('nb201', {algorithm!r}, {budget}, 11, store={str(store)!r}, options={options!r},"
        " on_evaluation=lambda e: time.sleep(0.05))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ))
    try:
        committed = wait_for_evaluations(store, 5, proc)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL  # killed, not finished
    finally:
        if proc.poll() is None:
            proc.kill()
    [summary] = list_runs(store)
    assert summary.status == "killed" and committed <= summary.progress < budget  # died mid-run

    resumed = resume_search(store, summary.run_id)
    db = sqlite3.connect(store)
    rows = db.execute("SELECT idx, key FROM evaluations WHERE run_id = ? ORDER BY idx", (summary.run_id,)).fetchall()
    assert [i for i, _ in rows] == list(range(budget)) and len({k for _, k in rows}) == budget
    uninterrupted = run_search("nb201", algorithm, budget, 11, options=options)
    assert resumed.history == uninterrupted.history
    assert [k for _, k in rows] == [e.key for e in uninterrupted.history]


def wait_for_evaluations(store: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> int:
    """Poll the store until ``n`` evaluations are committed (the child must still be alive)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the search process ended before it was killed"
        try:
            db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
            count = db.execute("SELECT count(*) FROM evaluations").fetchone()[0]
            db.close()
        except sqlite3.Error:  # not created yet
            count = 0
        if count >= n:
            return count
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} evaluations after {timeout} s")


def test_result_best_and_incumbents():
    result = search("random", "nb201", budget=15)
    assert result.run_id is None and result.status == "finished"
    assert result.best.val_acc == max(e.val_acc for e in result.history)
    trace = [e.val_acc for e in result.incumbents()]
    assert trace == list(np.maximum.accumulate([e.val_acc for e in result.history]))
    assert result.config == {
        "space": "nb201",
        "algorithm": "random",
        "budget": 15,
        "seed": 3,
        "oracle": "table",
        "dataset": "cifar10",
        "options": {},
        "oracle_options": {},
        "executor": "local",
        "workers": 1,
        "executor_options": {},
    }
    first = result.history[0]
    assert first.extra == {"phase": "random"} and first.cost > 0 and 0 < first.mean_val_acc < 1
    has_test = (data_dir() / "nb201" / "nasbench_vis_nas-201-arch.json").is_file()
    assert (first.test_acc is not None) == has_test  # CIFAR-10 test accuracies: a shared file


def test_a_finished_run_resumes_as_it_is(tmp_path):
    store = tmp_path / "runs.db"
    done = search("random", "nb201", budget=5, store=store)
    assert resume_search(store, done.run_id).history == done.history
    assert len(load_run(store, done.run_id).history) == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"algorithm": "annealing"}, "unknown search algorithm"),
        ({"budget": 0}, "budget must be"),
        ({"budget": 15_626}, "exceeds the 15625 cells"),
        ({"seed": -1}, "seed must be"),
        ({"oracle": "gennape"}, "unknown oracle"),
        ({"oracle": "train", "oracle_options": {"epochs": 0}}, "epochs must be"),
        ({"oracle": "predictor", "oracle_options": {"model": "nb201-oracle"}}, "no saved nb201 predictor"),
        ({"executor": "dask"}, "unknown executor 'dask'; choose from local, ray"),
        ({"workers": 0}, "workers must be a whole number >= 1"),
        ({"executor_options": {"ray_address": "auto"}}, "are for executor ray"),
        ({"dataset": "svhn"}, "choose from cifar10"),
        ({"options": {"population": 3}}, "unknown option"),
    ],
)
def test_bad_requests_are_one_line_invalid_options(kwargs, message, tmp_path):
    args = {"space": "nb201", "algorithm": "evolution", "budget": 10, "seed": 0, **kwargs}
    with pytest.raises(InvalidOption, match=message) as err:
        run_search(**args, store=tmp_path / "runs.db")
    assert "\n" not in str(err.value)
    assert list_runs(tmp_path / "runs.db") == []  # nothing half-created


def test_evolution_beats_random_on_nb201_cifar10():
    """Regularized evolution finds better cells than random search at 100 queries (mean over
    10 seeds of the best-by-validation cell's mean validation accuracy), as in every paper."""
    found = {a: [run_search("nb201", a, 100, s).best.mean_val_acc for s in range(10)] for a in ("random", "evolution")}
    assert np.mean(found["evolution"]) > np.mean(found["random"])
