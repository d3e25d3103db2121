"""The SQLite run store: round trips, refusals, and files that are not run stores."""

from __future__ import annotations

import sqlite3

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
