"""The run store: one SQLite file per workspace holding every search run and evaluation.

Durability: the file is in WAL mode and every evaluation is committed, together with the
searcher's and oracle's state after it, in one transaction the moment it finishes. A process
killed at any moment (``kill -9``) therefore loses no finished evaluation, and the saved state
always matches the evaluations saved, so a resumed run continues exactly. ``synchronous=FULL``
(the default here) also survives a power cut or OS crash at the price of one fsync per
evaluation (a process kill alone only needs ``NORMAL``). Several processes may write one file
(SQLite serialises writers; each waits up to ``timeout`` seconds for the lock), and
``UNIQUE(run_id, idx)`` / ``UNIQUE(run_id, key)`` refuse a second writer of the same run.

Only stdlib ``sqlite3`` and JSON: no pickles, so opening a foreign file is safe, and a file
that is not a run store is refused with a one-line ``StoreError``.

Liveness: a run records the process running it (pid, host and, on Linux, the process's start
time, so a recycled pid is not mistaken for it) when it is created and each time it is
resumed. A reader on the same host can then tell a live run from one whose process died
without a word (``kill -9``, a crash, a reboot): ``RunRecord.status`` is ``killed`` for a
``running`` run whose process is gone. Version-1 files (before liveness) gain the columns when
first opened.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archpred.errors import CheckpointError, InvalidOption
from archpred.search.base import Evaluation

APPLICATION_ID = 0x41505352  # "APSR": marks a file as an archpred search run store
SCHEMA_VERSION = 2
STATUSES = ("running", "stopped", "finished", "failed")  # what a run writes
KILLED = "killed"  # what a reader sees for a "running" run whose process is gone

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    versions TEXT NOT NULL,
    searcher_state TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    budget INTEGER NOT NULL,
    pid INTEGER,
    host TEXT,
    proc_start TEXT
);
CREATE TABLE IF NOT EXISTS evaluations (
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    key TEXT NOT NULL,
    arch TEXT NOT NULL,
    val_acc REAL NOT NULL,
    mean_val_acc REAL,
    test_acc REAL,
    cost REAL,
    time REAL,
    extra TEXT NOT NULL,
    finished REAL NOT NULL,
    UNIQUE (run_id, key),
    UNIQUE (run_id, idx)
);
"""

# Version 1 -> 2: the process running a run (liveness).
_MIGRATE_1 = (
    "ALTER TABLE runs ADD COLUMN pid INTEGER",
    "ALTER TABLE runs ADD COLUMN host TEXT",
    "ALTER TABLE runs ADD COLUMN proc_start TEXT",
)
_RUN_COLUMNS = (
    "run_id, created, updated, status, config, seed, versions, searcher_state, progress, budget, pid, host, proc_start"
)


def default_path(create: bool = False) -> Path:
    """The run store the CLI and the app use when none is given:
    ``$ARCHPRED_CACHE_DIR/search/runs.db`` (default ``~/.cache/archpred``); ``create`` makes
    its folder."""
    from archpred.paths import cache_dir

    return cache_dir("search", create=create) / "runs.db"


class StoreError(CheckpointError):
    """A run store file that is corrupt, foreign or of another version, or a conflicting write."""


@dataclass(frozen=True)
class RunRecord:
    """One row of ``runs``, JSON columns decoded.

    Attributes:
        run_id: the run's number in this store.
        created, updated: Unix times of creation and of the last committed evaluation.
        status: ``running``, ``stopped``, ``finished``, ``failed``, or ``killed``: recorded as
            ``running`` but its process is gone (derived when read; ``recorded_status`` is
            what the file says).
        config: what ``run_search`` was asked (space, algorithm, budget, seed, oracle, ...).
        seed: the run's seed.
        versions: package versions the run was made with.
        searcher_state: ``{"searcher": ..., "oracle": ...}`` after the last evaluation.
        progress: evaluations committed.
        budget: evaluations asked for.
        pid, host: the process that runs (or last ran) the run; ``None`` for runs of
            version-1 files.
        alive: whether that process still runs: ``None`` where it cannot be told (another
            host, or no process recorded).
        recorded_status: the status as stored.
    """

    run_id: int
    created: float
    updated: float
    status: str
    config: dict[str, Any]
    seed: int
    versions: dict[str, Any]
    searcher_state: dict[str, Any]
    progress: int
    budget: int
    pid: int | None = None
    host: str | None = None
    alive: bool | None = None
    recorded_status: str = ""


class RunStore:
    """A SQLite run store; ``with RunStore(path) as store: ...`` closes it.

    Args:
        path: the file (created if missing; its folder must exist).
        synchronous: ``FULL`` (durable across power loss) or ``NORMAL`` (across process kills).
        timeout: seconds to wait for another process's write lock.
    """

    def __init__(self, path: str | Path, synchronous: str = "FULL", timeout: float = 30.0) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise InvalidOption(f"synchronous must be FULL or NORMAL, got {synchronous!r}")
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a run store file")
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as err:
            raise StoreError(f"cannot open run store {self.path}: {err}") from None
        try:
            self._setup(synchronous)
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise StoreError(f"{self.path} is not a readable run store: {err}") from None
        except StoreError:
            self._db.close()
            raise

    def _setup(self, synchronous: str) -> None:
        db = self._db
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id != APPLICATION_ID and (tables or app_id):
            raise StoreError(f"{self.path} is an SQLite file but not an archpred run store")
        version = None
        if app_id == APPLICATION_ID:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (1, SCHEMA_VERSION):
                raise StoreError(
                    f"{self.path} is a run store of version {version}; this archpred reads {SCHEMA_VERSION}"
                )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute("PRAGMA foreign_keys=ON")
        if app_id != APPLICATION_ID:  # a new file: tables and marks in one transaction
            db.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA application_id={APPLICATION_ID};"
                f" PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )
        elif version == 1:
            self._migrate_from_1()

    def _migrate_from_1(self) -> None:
        """Add the liveness columns to a version-1 file (once: another process may have
        migrated it while this one waited for the lock)."""
        with self._write():
            if self._db.execute("PRAGMA user_version").fetchone()[0] == 1:
                for statement in _MIGRATE_1:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    # -- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------------------
    def create_run(self, config: dict[str, Any], seed: int, versions: dict[str, Any], state: dict[str, Any]) -> int:
        """A new run (status ``running``, no evaluations, run by this process); returns its ``run_id``."""
        now = time.time()
        with self._write():
            cur = self._db.execute(
                "INSERT INTO runs (created, updated, status, config, seed, versions, searcher_state, progress, budget,"
                " pid, host, proc_start) VALUES (?, ?, 'running', ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                (
                    now, now, _dump(config), int(seed), _dump(versions), _dump(state), int(config["budget"]),
                    *this_process(),
                ),
            )  # fmt: skip
        return int(cur.lastrowid)

    def add_evaluation(self, run_id: int, idx: int, evaluation: Evaluation, state: dict[str, Any]) -> None:
        """Commit evaluation ``idx`` of a run and the state after it, in one transaction."""
        row = (
            run_id,
            idx,
            evaluation.key,
            _dump(evaluation.arch.to_dict()),
            evaluation.val_acc,
            evaluation.mean_val_acc,
            evaluation.test_acc,
            evaluation.cost,
            evaluation.time,
            _dump(evaluation.extra),
            time.time(),
        )
        with self._write():
            try:
                self._db.execute("INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            except sqlite3.IntegrityError:
                raise StoreError(
                    f"run {run_id} already has evaluation {idx} or cell {evaluation.key}: "
                    "is the run going on in another process?"
                ) from None
            self._db.execute(
                "UPDATE runs SET searcher_state = ?, progress = ?, updated = ? WHERE run_id = ?",
                (_dump(state), idx + 1, row[-1], run_id),
            )

    def set_budget(self, run_id: int, config: dict[str, Any]) -> None:
        """Store a run's config with a new ``budget`` (``resume_search(..., budget=)``)."""
        with self._write():
            self._db.execute(
                "UPDATE runs SET config = ?, budget = ?, updated = ? WHERE run_id = ?",
                (_dump(config), int(config["budget"]), time.time(), run_id),
            )

    def set_status(self, run_id: int, status: str) -> None:
        """Mark a run ``running`` (by this process: a resume records its pid and host),
        ``stopped``, ``finished`` or ``failed``."""
        if status not in STATUSES:
            raise InvalidOption(f"unknown run status {status!r}; choose from {', '.join(STATUSES)}")
        with self._write():
            if status == "running":
                self._db.execute(
                    "UPDATE runs SET status = ?, updated = ?, pid = ?, host = ?, proc_start = ? WHERE run_id = ?",
                    (status, time.time(), *this_process(), run_id),
                )
            else:
                self._db.execute(
                    "UPDATE runs SET status = ?, updated = ? WHERE run_id = ?", (status, time.time(), run_id)
                )

    def _write(self) -> _Transaction:
        return _Transaction(self._db, self.path)

    # -- reads ----------------------------------------------------------------------------
    def run(self, run_id: int) -> RunRecord:
        """One run's record; an unknown id is an ``InvalidOption``."""
        rows = self._read(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (int(run_id),))
        if not rows:
            raise InvalidOption(f"no run {run_id} in {self.path}")
        return self._record(rows[0])

    def runs(self) -> list[RunRecord]:
        """Every run, oldest first."""
        return [self._record(r) for r in self._read(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY run_id")]

    def best_val_accs(self) -> dict[int, float]:
        """Each run's best validation accuracy so far (runs without evaluations left out), in
        one query: lists of runs need no run's evaluations."""
        return {int(r): float(v) for r, v in self._read("SELECT run_id, max(val_acc) FROM evaluations GROUP BY run_id")}

    def evaluation_records(self, run_id: int) -> list[dict[str, Any]]:
        """A run's evaluations in order, as ``Evaluation.to_record`` dicts plus ``idx`` and
        ``finished`` (the Unix time it was committed: progress rates, ETAs)."""
        rows = self._read(
            "SELECT idx, key, arch, val_acc, mean_val_acc, test_acc, cost, time, extra, finished"
            " FROM evaluations WHERE run_id = ? ORDER BY idx",
            (int(run_id),),
        )
        out = []
        for idx, key, arch, val, mean, test, cost, secs, extra, finished in rows:
            out.append(
                {
                    "idx": idx,
                    "arch": self._load(arch),
                    "key": key,
                    "val_acc": val,
                    "mean_val_acc": mean,
                    "test_acc": test,
                    "cost": cost,
                    "time": secs,
                    "extra": self._load(extra),
                    "finished": finished,
                }
            )
        if [r["idx"] for r in out] != list(range(len(out))):
            raise StoreError(f"run {run_id} in {self.path} has a gap in its evaluations")
        return out

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"cannot read run store {self.path}: {err}") from None

    def _record(self, row: tuple) -> RunRecord:
        run_id, created, updated, status, config, seed, versions, state, progress, budget, pid, host, start = row
        alive = process_alive(pid, host, start)
        shown = KILLED if status == "running" and alive is False else status
        return RunRecord(
            run_id, created, updated, shown, self._load(config), seed, self._load(versions), self._load(state),
            progress, budget, pid, host, alive, status,
        )  # fmt: skip

    def _load(self, text: str) -> Any:
        try:
            return json.loads(text)
        except (TypeError, json.JSONDecodeError) as err:
            raise StoreError(f"run store {self.path} holds a corrupt record: {err}") from None


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error); SQLite errors as ``StoreError``."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db, self.path = db, path

    def __enter__(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise StoreError(f"cannot write run store {self.path}: {err}") from None

    def __exit__(self, kind: type | None, err: BaseException | None, tb: object) -> None:
        if kind is not None:
            self.db.execute("ROLLBACK")
            if isinstance(err, sqlite3.Error):
                raise StoreError(f"cannot write run store {self.path}: {err}") from None
            return
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as err:
            raise StoreError(f"cannot write run store {self.path}: {err}") from None


def _dump(value: Any) -> str:
    return json.dumps(value, allow_nan=False)


# -- liveness ---------------------------------------------------------------------------------
def this_process() -> tuple[int, str, str | None]:
    """``(pid, host, start)`` of the calling process, as a run records it."""
    pid = os.getpid()
    return pid, socket.gethostname(), _start_time(pid)


def process_alive(pid: int | None, host: str | None, start: str | None) -> bool | None:
    """Whether the process a run recorded still runs: ``False`` when it is gone (or is a
    zombie, or its pid now belongs to a process started at another time), ``None`` where this
    process cannot tell (no process recorded, or another host)."""
    if pid is None or host is None or host != socket.gethostname():
        return None
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    stat = _proc_stat(pid)
    if stat is None:  # ended just now, or no /proc to ask (macOS): then os.kill's answer stands
        return not Path("/proc/self/stat").exists()
    state, started = stat
    if state in ("Z", "X"):  # exited, not yet reaped by its parent
        return False
    return start is None or started == start


def _start_time(pid: int) -> str | None:
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time in clock ticks since boot)`` from ``/proc/PID/stat`` (Linux), else ``None``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the name, in parentheses, may hold spaces
    return (fields[0], fields[19]) if len(fields) > 19 else None
