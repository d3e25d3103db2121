"""Parallel evaluation: a spawn process pool and Ray tasks, one code path.

Random search asks the same cells whatever order results come back in, and each query's seed is
drawn where the searcher runs, in ask order: so a parallel random search is reproducible as a
mapping cell -> answer (its history is in completion order), whether it runs in a local pool,
on Ray, or is stopped or killed and resumed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from archpred.errors import InvalidOption
from archpred.search import list_runs, load_run, resume_search, run_search
from archpred.search.store import RunStore

from .test_run import ROOT, Stop, stop_after, wait_for_evaluations

pytestmark = pytest.mark.pool  # spawns pools and Ray: a fresh pytest process (see .ci/run)

BUDGET, SEED = 10, 5


def parallel(store: Path | None = None, **kwargs):
    return run_search("nb201", "random", kwargs.pop("budget", BUDGET), SEED, store=store, workers=2, **kwargs)


def answers(result) -> dict[str, tuple[float, float]]:
    """Each cell's answer (the seed's validation accuracy and cost), whatever the order."""
    return {e.key: (e.val_acc, e.cost) for e in result.history}


@pytest.fixture(scope="module")
def reference():
    """An uninterrupted two-worker run, without a store."""
    return parallel()


def test_a_pool_of_two_workers_evaluates_the_asked_cells_once_each(reference, tmp_path):
    result = parallel(tmp_path / "runs.db")
    assert result.status == "finished" and len(result.history) == BUDGET
    assert answers(result) == answers(reference)  # reproducible from the seed
    sequential = run_search("nb201", "random", BUDGET, SEED)
    assert set(answers(result)) == {e.key for e in sequential.history}  # the same asks
    by_key = {e.key: e for e in sequential.history}
    assert all(e.mean_val_acc == by_key[e.key].mean_val_acc for e in result.history)
    assert all(e.extra == {"phase": "random"} for e in result.history)
    assert (result.config["executor"], result.config["workers"]) == ("local", 2)
    assert load_run(tmp_path / "runs.db", result.run_id).history == result.history  # committed as they came


def test_stop_then_resume_evaluates_the_queries_in_flight_again(reference, tmp_path):
    """Stopped after 4 results, the queries in flight are in the saved state with their seeds;
    the resumed run evaluates them again: the same answers as the uninterrupted run."""
    store = tmp_path / "runs.db"
    with pytest.raises(Stop):
        parallel(store, on_evaluation=stop_after(4))
    [summary] = list_runs(store)
    assert (summary.status, summary.progress) == ("stopped", 4)
    with RunStore(store) as db:
        state = db.run(summary.run_id).searcher_state
    in_flight = {p["key"] for p in state["searcher"]["pending"]}
    assert in_flight and set(state["seeds"]) == in_flight
    resumed = resume_search(store, summary.run_id)
    assert resumed.status == "finished" and len({e.key for e in resumed.history}) == BUDGET
    assert answers(resumed) == answers(reference)


def test_kill_9_of_a_parallel_run_loses_nothing_and_duplicates_nothing(reference, tmp_path):
    """The run's process is SIGKILLed mid-run: its pool workers exit by themselves, every
    committed evaluation survives, and the resumed run ends with each cell once and the answers
    of an uninterrupted run."""
    store = tmp_path / "runs.db"
    code = (
        "import time\n"
        "from archpred.search import run_search\n"
        f"run_search('nb201', 'random', {BUDGET}, {SEED}, store={str(store)!r}, workers=2,"
        " on_evaluation=lambda e: time.sleep(0.5))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ), start_new_session=True)
    try:
        wait_for_evaluations(store, 5, proc, timeout=300)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        assert group_gone(proc.pid, timeout=30), "the pool's workers outlived the killed run"
    finally:
        with_group_killed(proc.pid)
    [summary] = list_runs(store)
    before = load_run(store, summary.run_id).history
    assert summary.status == "killed" and 5 <= len(before) < BUDGET
    resumed = resume_search(store, summary.run_id)
    assert resumed.history[: len(before)] == before  # nothing committed is lost or redone
    assert len(resumed.history) == BUDGET and len({e.key for e in resumed.history}) == BUDGET
    assert answers(resumed) == answers(reference)


def group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def with_group_killed(pgid: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def test_ray_tasks_give_the_answers_of_the_local_pool(reference):
    """executor="ray" on a local Ray instance: the same code path, the same answers."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = parallel(executor="ray")
    finally:
        ray.shutdown()
    assert result.status == "finished" and answers(result) == answers(reference)
    assert (result.config["executor"], result.config["workers"]) == ("ray", 2)
    assert result.config["executor_options"] == {"ray_address": None, "gpus_per_task": 0}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"executor": "dask"}, "unknown executor 'dask'; choose from local, ray"),
        ({"workers": 0}, "workers must be a whole number >= 1"),
        ({"workers": 1.5}, "workers must be a whole number >= 1"),
        ({"executor": "ray", "executor_options": {"address": "x"}}, "unknown executor option(s) address"),
        ({"executor": "ray", "executor_options": {"gpus_per_task": -1}}, "gpus_per_task must be"),
        ({"executor_options": {"gpus_per_task": 1}}, "are for executor ray"),
    ],
)
def test_bad_executor_settings_are_one_line(kwargs, message, tmp_path):
    with pytest.raises(InvalidOption, match=re.escape(message)) as err:
        run_search("nb201", "random", 4, 0, store=tmp_path / "runs.db", **kwargs)
    assert "\n" not in str(err.value)
    assert list_runs(tmp_path / "runs.db") == []
