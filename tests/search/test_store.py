"""The SQLite run store: round trips, refusals, and files that are not run stores."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from archpred.errors import ArchpredError, InvalidOption
from archpred.search import Evaluation
from archpred.search.store import RunStore, StoreError
from archpred.spaces import get_space

SPACE = get_space("nb201")
A = SPACE.parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|")
B = SPACE.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")


def evaluation(arch, val: float = 0.5) -> Evaluation:
    return Evaluation(arch, SPACE.key(arch), val, val + 0.01, None, 12.5, 0.001, {"phase": "init"})


def test_round_trip_and_state_travel_together(tmp_path):
    path = tmp_path / "runs.db"
    with RunStore(path) as store:
        run = store.create_run({"budget": 5, "space": "nb201"}, 7, {"archpred": "x"}, {"step": 0})
        store.add_evaluation(run, 0, evaluation(A), {"step": 1})
        store.add_evaluation(run, 1, evaluation(B, 0.1), {"step": 2})
    with RunStore(path) as store:  # reopened: everything committed
        record = store.run(run)
        assert (record.progress, record.budget, record.seed, record.status) == (2, 5, 7, "running")
        assert record.searcher_state == {"step": 2} and record.config["space"] == "nb201"
        back = [Evaluation.from_record(SPACE, r) for r in store.evaluation_records(run)]
        assert back == [evaluation(A), evaluation(B, 0.1)]
        store.set_status(run, "finished")
        assert [r.status for r in store.runs()] == ["finished"]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_same_cell_or_index_twice_is_refused_and_nothing_changes(tmp_path):
    with RunStore(tmp_path / "runs.db") as store:
        run = store.create_run({"budget": 5}, 0, {}, {"step": 0})
        store.add_evaluation(run, 0, evaluation(A), {"step": 1})
        for idx, arch in ((1, A), (0, B)):
            with pytest.raises(StoreError, match="another process"):
                store.add_evaluation(run, idx, evaluation(arch), {"step": 99})
        assert store.run(run).searcher_state == {"step": 1} and store.run(run).progress == 1
        assert len(store.evaluation_records(run)) == 1


def test_unknown_run_and_status(tmp_path):
    with RunStore(tmp_path / "runs.db") as store:
        with pytest.raises(InvalidOption, match="no run 3"):
            store.run(3)
        with pytest.raises(InvalidOption, match="unknown run status"):
            store.set_status(1, "paused")


def foreign_sqlite(path):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (text)")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"not a database at all " * 200), "not a readable run store"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000), "not a readable run store"),
        (foreign_sqlite, "not an archpred run store"),
        (lambda p: p.mkdir(), "is a folder"),
    ],
)
def test_files_that_are_not_run_stores_are_one_line_errors(tmp_path, make, message):
    path = tmp_path / "runs.db"
    make(path)
    with pytest.raises(StoreError, match=message) as err:
        RunStore(path)
    assert isinstance(err.value, ArchpredError) and "\n" not in str(err.value)


def test_a_store_of_another_version_is_refused(tmp_path):
    path = tmp_path / "runs.db"
    RunStore(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=9")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="version 9"):
        RunStore(path)


def test_a_corrupt_record_is_a_store_error(tmp_path):
    path = tmp_path / "runs.db"
    with RunStore(path) as store:
        run = store.create_run({"budget": 2}, 0, {}, {})
    db = sqlite3.connect(path)
    db.execute("UPDATE runs SET config = '{broken'")
    db.commit()
    db.close()
    with RunStore(path) as store, pytest.raises(StoreError, match="corrupt record"):
        store.run(run)


# -- liveness: which process runs a run, and whether it still does ---------------------------------
V1_SCHEMA = """
CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, updated REAL NOT NULL,
    status TEXT NOT NULL, config TEXT NOT NULL, seed INTEGER NOT NULL, versions TEXT NOT NULL,
    searcher_state TEXT NOT NULL, progress INTEGER NOT NULL DEFAULT 0, budget INTEGER NOT NULL
);
CREATE TABLE evaluations (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, idx INTEGER NOT NULL,
    key TEXT NOT NULL, arch TEXT NOT NULL, val_acc REAL NOT NULL, mean_val_acc REAL, test_acc REAL,
    cost REAL, time REAL, extra TEXT NOT NULL, finished REAL NOT NULL,
    UNIQUE (run_id, key), UNIQUE (run_id, idx)
);
"""


def version_1_store(path) -> None:
    """A run store as archpred wrote it before liveness: one stopped run with one evaluation."""
    from archpred.search.store import APPLICATION_ID

    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA + f"PRAGMA application_id={APPLICATION_ID}; PRAGMA user_version=1;")
    db.execute(
        "INSERT INTO runs VALUES (1, 1.0, 2.0, 'stopped', '{\"budget\": 4, \"space\": \"nb201\"}', 3, '{}',"
        " '{\"step\": 1}', 1, 4)"
    )
    record = evaluation(A).to_record()
    db.execute(
        "INSERT INTO evaluations VALUES (1, 0, ?, ?, 0.5, 0.51, NULL, 12.5, 0.001, '{}', 2.0)",
        (record["key"], json.dumps(record["arch"])),
    )
    db.commit()
    db.close()


def test_a_version_1_store_is_migrated_and_keeps_its_runs(tmp_path):
    path = tmp_path / "runs.db"
    version_1_store(path)
    with RunStore(path) as store:
        old = store.run(1)
        assert (old.status, old.progress, old.pid, old.host, old.alive) == ("stopped", 1, None, None, None)
        assert [r["key"] for r in store.evaluation_records(1)] == [SPACE.key(A)]
        store.set_status(1, "running")  # a resume records this process
        assert store.run(1).pid == os.getpid() and store.run(1).alive is True
        new = store.create_run({"budget": 2}, 0, {}, {})
        assert store.run(new).pid == os.getpid()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    RunStore(path).close()  # a second open finds it migrated


def test_a_run_records_its_process_and_a_dead_one_reads_killed(tmp_path):
    path = tmp_path / "runs.db"
    code = (
        "import sys\n"
        "from archpred.search.store import RunStore\n"
        "RunStore(sys.argv[1]).create_run({'budget': 3}, 0, {}, {})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=120)
    assert proc.returncode == 0
    with RunStore(path) as store:
        record = store.run(1)
        assert record.host == socket.gethostname() and record.pid not in (None, os.getpid())
        assert (record.recorded_status, record.alive, record.status) == ("running", False, "killed")
        store.set_status(1, "running")  # resumed here: alive again
        assert (store.run(1).status, store.run(1).alive) == ("running", True)
        store.set_status(1, "stopped")  # a stopped run is not killed, whatever its process does
        assert store.run(1).status == "stopped"


def test_liveness_of_processes():
    from archpred.search.store import process_alive, this_process

    pid, host, start = this_process()
    assert process_alive(pid, host, start) is True
    assert process_alive(pid, "another-host", start) is None  # cannot tell from here
    assert process_alive(None, None, None) is None  # a version-1 run
    if start is not None:  # Linux: a recycled pid (same number, other start time) is not the run
        assert process_alive(pid, host, str(int(start) + 1)) is False
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert process_alive(sleeper.pid, host, None) is True
        sleeper.kill()  # not reaped yet: a zombie, which os.kill(pid, 0) still finds
        deadline = time.monotonic() + 30
        while process_alive(sleeper.pid, host, None) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process_alive(sleeper.pid, host, None) is False and sleeper.poll() is not None
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
