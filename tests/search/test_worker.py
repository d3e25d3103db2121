"""Background searches: launch a run as its own process, stop it, resume it, see it killed."""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import pytest

from archpred.errors import ArchpredError, InvalidOption
from archpred.search import list_runs, load_run, run_search, worker
from archpred.search.store import RunStore

LONG = 3000  # a random search this long takes ~20 s here: long enough to stop or kill it mid-run


def wait_for(store, run_id: int, done, timeout: float = 120):
    """Poll the run's record until ``done(record)``; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with RunStore(store) as db:
            record = db.run(run_id)
        if done(record):
            return record
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still {record.status} at {record.progress}/{record.budget} after {timeout} s")


@pytest.fixture
def store(tmp_path):
    return tmp_path / "runs.db"


def test_a_launched_run_runs_in_its_own_process_and_is_the_api_run(store):
    launched = worker.launch(store, "nb201", "evolution", 8, 3, "cifar10", {"population_size": 4, "sample_size": 2})
    assert launched.run_id == 1 and launched.pid != os.getpid()
    record = wait_for(store, 1, lambda r: r.status == "finished")
    assert (record.pid, record.progress, record.config["options"]) == (
        launched.pid,
        8,
        {"population_size": 4, "sample_size": 2},
    )
    same = run_search("nb201", "evolution", 8, 3, options={"population_size": 4, "sample_size": 2})
    assert load_run(store, 1).history == same.history
    assert launched.log == worker.log_path(store, 1) and "run 1 (finished)" in launched.log.read_text()


@pytest.mark.parametrize(
    ("options", "message"),
    [({"bogus": 1}, "unknown option"), ({"max_tries": 0}, "max_tries must be")],
)
def test_a_failed_launch_is_one_line_and_leaves_nothing(store, options, message):
    with pytest.raises(InvalidOption, match=message) as err:
        worker.launch(store, "nb201", "random", 5, 0, "cifar10", options)
    assert "\n" not in str(err.value)
    assert list_runs(store) == [] and list(worker.log_path(store, 1).parent.iterdir()) == []


def test_bad_stores_are_refused_before_any_process(tmp_path):
    (tmp_path / "folder").mkdir()
    foreign = tmp_path / "notes.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE notes (text)")
    db.commit()
    db.close()
    for bad, message in (
        (tmp_path / "folder", "is a folder"),
        (tmp_path / "missing" / "runs.db", "no folder"),
        (foreign, "not an archpred run store"),
        ("  ", "no run store"),
    ):
        with pytest.raises(ArchpredError, match=message):
            worker.launch(bad, "nb201", "random", 5, 0)
    with pytest.raises(InvalidOption, match="no run store at"):
        worker.stop(tmp_path / "none.db", 1)


def test_stop_marks_the_run_stopped_and_resume_finishes_it(store):
    launched = worker.launch(store, "nb201", "random", LONG, 5, "cifar10", {})
    wait_for(store, launched.run_id, lambda r: r.progress >= 3)
    assert worker.stop(store, launched.run_id) == "stopped"
    stopped = wait_for(store, launched.run_id, lambda r: r.alive is False)  # the process ended
    assert stopped.status == "stopped" and 3 <= stopped.progress < LONG
    with pytest.raises(InvalidOption, match="is stopped, not running"):
        worker.stop(store, launched.run_id)

    budget = stopped.progress + 4  # resume with a budget: a little more, then finished
    again = worker.resume(store, launched.run_id, budget=budget)
    assert again.run_id == launched.run_id and again.pid != launched.pid
    done = wait_for(store, launched.run_id, lambda r: r.status == "finished")
    assert (done.progress, done.budget) == (budget, budget)
    assert load_run(store, launched.run_id).history == run_search("nb201", "random", budget, 5).history
    with pytest.raises(InvalidOption, match="is finished"):
        worker.resume(store, launched.run_id)  # nothing to do without a larger budget


def test_a_killed_run_reads_killed_and_resumes(store):
    launched = worker.launch(store, "nb201", "random", LONG, 6, "cifar10", {})
    wait_for(store, launched.run_id, lambda r: r.progress >= 2)
    with pytest.raises(InvalidOption, match="still running"):
        worker.resume(store, launched.run_id)  # a second writer of a live run is refused
    os.kill(launched.pid, signal.SIGKILL)
    killed = wait_for(store, launched.run_id, lambda r: r.status != "running")
    assert (killed.status, killed.recorded_status, killed.alive) == ("killed", "running", False)
    assert list_runs(store)[0].status == "killed"  # what `runs list` and the page show

    worker.resume(store, launched.run_id, budget=killed.progress + 3)
    done = wait_for(store, launched.run_id, lambda r: r.status == "finished")
    assert load_run(store, launched.run_id).history == run_search("nb201", "random", done.budget, 6).history
