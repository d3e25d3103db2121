"""Searches in the background: each run is its own process, found again through the run store.

``launch`` starts ``python -m archpred search ... --store STORE --quiet`` as a detached process
(its own session, so neither the app's Ctrl-C nor its exit ends it; output to a log file beside
the store) and returns once the run is in the store. Everything else goes through the store,
not through the process handle: the run records its pid and host (``RunStore``), so ``stop``
(SIGINT: the run loop marks the run ``stopped``, resumable) and ``resume`` work from any later
process -- after a browser reload, an app restart, or from the command line.

A launch that fails before its run exists (a bad option, a foreign store file) comes back as
one ``InvalidOption`` line read from the log, as the command line would print it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archpred.errors import InvalidOption
from archpred.paths import PROJECT_ROOT
from archpred.search.store import RunRecord, RunStore

START_TIMEOUT = 120.0  # seconds for a new process to put its run in the store
STOP_TIMEOUT = 15.0  # seconds for a stopped run to mark itself stopped
_POLL = 0.05
# ``python -m archpred`` with Python's Ctrl-C handler installed even where the parent ignores
# SIGINT (a shell's background job passes "ignore" on, and then SIGINT would do nothing).
_BOOT = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from archpred.cli import main; sys.exit(main(sys.argv[1:]))"
)
_ERROR_PREFIX = "archpred: error: "


@dataclass(frozen=True)
class LaunchedRun:
    """A run started in the background: its id in the store, its process and its log file."""

    run_id: int
    pid: int
    log: Path


def launch(
    store: str | Path,
    space: str,
    algorithm: str,
    budget: int,
    seed: int,
    dataset: str | None = None,
    options: dict[str, Any] | None = None,
    oracle: str = "table",
    oracle_options: dict[str, Any] | None = None,
    device: str = "auto",
    threads: int | None = None,
    timeout: float = START_TIMEOUT,
) -> LaunchedRun:
    """Start a new search in its own process; return once its run is in ``store``.

    The arguments are ``run_search``'s (``dataset=None``: the oracle's default; ``device`` and
    ``threads`` the command line's); the run is the one ``python -m archpred search`` makes
    with them.
    """
    path = store_path(store)
    args = [
        "search", "--space", space, "--algorithm", algorithm, "--budget", str(int(budget)), "--seed", str(int(seed)),
        "--oracle", oracle,
    ]  # fmt: skip
    args += [] if dataset is None else ["--dataset", str(dataset)]
    args += _pairs("--set", options) + _pairs("--oracle-set", oracle_options)
    with RunStore(path) as db:  # a foreign file or a folder is refused here, before any process
        last = max((r.run_id for r in db.runs()), default=0)
    proc, log = _start(path, args, device, threads, log_for=None)
    record = _wait(path, proc, log, lambda r: r.run_id > last and r.pid == proc.pid, timeout)
    return LaunchedRun(record.run_id, proc.pid, _name_log(log, path, record.run_id))


def resume(
    store: str | Path,
    run_id: int,
    budget: int | None = None,
    device: str = "auto",
    threads: int | None = None,
    timeout: float = START_TIMEOUT,
) -> LaunchedRun:
    """Continue a stopped or killed run in a new process (``budget``: raise its budget, which
    also extends a finished run); return once the new process has taken the run over."""
    path = existing_store_path(store)
    with RunStore(path) as db:
        record = db.run(run_id)
    _check_resumable(record, budget)
    args = ["search", "--resume", str(int(run_id))] + ([] if budget is None else ["--budget", str(int(budget))])
    proc, log = _start(path, args, device, threads, log_for=int(run_id))
    record = _wait(path, proc, log, lambda r: r.run_id == int(run_id) and r.pid == proc.pid, timeout)
    return LaunchedRun(record.run_id, proc.pid, log)


def stop(store: str | Path, run_id: int, timeout: float = STOP_TIMEOUT) -> str:
    """Ask a running run's process to stop (SIGINT, like Ctrl-C: the run loop marks the run
    ``stopped`` after its last committed evaluation); return the run's status once it is no
    longer ``running`` (or still ``running`` after ``timeout`` seconds)."""
    path = existing_store_path(store)
    with RunStore(path) as db:
        record = db.run(run_id)
        if record.status != "running":
            raise InvalidOption(f"run {run_id} is {record.status}, not running")
        if record.alive is None:
            raise InvalidOption(_unknown_process(record))
        os.kill(int(record.pid), signal.SIGINT)
        deadline = time.monotonic() + timeout
        while record.status == "running" and time.monotonic() < deadline:
            time.sleep(_POLL)
            record = db.run(run_id)
    return record.status


def log_path(store: str | Path, run_id: int) -> Path:
    """The log file of a run launched or resumed here (it may not exist)."""
    return _log_dir(Path(store)) / f"run-{int(run_id)}.log"


def store_path(store: str | Path) -> Path:
    """An absolute store path a new run can go to: a file (new or not) in an existing folder."""
    text = str(store).strip()
    if not text:
        raise InvalidOption("no run store given")
    path = Path(text).expanduser().resolve()
    if path.is_dir():
        raise InvalidOption(f"{path} is a folder, not a run store file")
    if not path.parent.is_dir():
        raise InvalidOption(f"no folder {path.parent} for the run store")
    return path


def existing_store_path(store: str | Path) -> Path:
    """``store_path`` of a store that must exist (reading must not create an empty one)."""
    path = store_path(store)
    if not path.is_file():
        raise InvalidOption(f"no run store at {path}")
    return path


# -- processes ----------------------------------------------------------------------------------
def _pairs(flag: str, values: dict[str, Any] | None) -> list[str]:
    """``--set key=<JSON>`` per option: the command line reads JSON values back exactly."""
    out: list[str] = []
    for key, value in (values or {}).items():
        out += [flag, f"{key}={json.dumps(value)}"]
    return out


def _start(
    path: Path, args: list[str], device: str, threads: int | None, log_for: int | None
) -> tuple[subprocess.Popen, Path]:
    """The detached search process (its own session; stdin closed; output to its log)."""
    args = [*args, "--store", str(path), "--quiet", "--device", str(device)]
    if threads:
        args += ["--threads", str(int(threads))]
    folder = _log_dir(path)
    folder.mkdir(exist_ok=True)
    if log_for is None:  # the run id is known once the run is in the store: renamed then
        log = folder / f"launch-{time.time_ns()}-{os.getpid()}-{threading.get_ident()}.log"
    else:
        log = folder / f"run-{log_for}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} on {socket.gethostname()}: archpred {' '.join(args)}\n")
        out.flush()
        proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, log


def _wait(
    path: Path, proc: subprocess.Popen, log: Path, found: Callable[[RunRecord], bool], timeout: float
) -> RunRecord:
    """Poll the store until a run satisfies ``found``; a process that ends first is a failed
    launch, reported with its log's error line."""
    deadline = time.monotonic() + timeout
    with RunStore(path) as db:
        while True:
            ended = proc.poll() is not None  # before reading: a run it wrote is then visible
            match = next((r for r in reversed(db.runs()) if found(r)), None)
            if match is not None:
                if not ended:  # reap it when it ends, so it never lingers as a zombie
                    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
                return match
            if ended:
                message = _failure(log, proc.returncode)
                if log.name.startswith("launch-"):  # no run to keep it for: the message says it all
                    log.unlink(missing_ok=True)
                raise InvalidOption(message)
            if time.monotonic() > deadline:
                raise InvalidOption(
                    f"the search process {proc.pid} has not started its run after {timeout:.0f} s; see {log}"
                )
            time.sleep(_POLL)


def _failure(log: Path, code: int) -> str:
    """The one line a failed search process left: the command line's error, else its last line."""
    try:
        lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError:
        lines = []
    lines = [line for line in lines if line and not line.startswith("# ")]
    errors = [line[len(_ERROR_PREFIX) :] for line in lines if line.startswith(_ERROR_PREFIX)]
    if errors:
        return errors[-1]
    return lines[-1] if lines else f"the search process ended with exit code {code} before starting its run"


def _name_log(log: Path, path: Path, run_id: int) -> Path:
    """Give a launch's log its run's name (``run-ID.log``, which a resume appends to)."""
    target = log_path(path, run_id)
    try:
        os.replace(log, target)
    except OSError:
        return log
    return target


def _log_dir(path: Path) -> Path:
    return path.parent / f"{path.name}.logs"


def _check_resumable(record: RunRecord, budget: int | None) -> None:
    """Refuse a resume that would race a live process, or that has nothing to do."""
    if record.status == "running":
        if record.alive is True:
            raise InvalidOption(f"run {record.run_id} is still running (process {record.pid}); stop it first")
        if record.host is not None:
            raise InvalidOption(_unknown_process(record))
    if budget is not None and budget < record.progress:
        raise InvalidOption(f"run {record.run_id} already has {record.progress} evaluations; budget {budget} is less")
    if record.status == "finished" and (budget is None or budget <= record.budget):
        raise InvalidOption(
            f"run {record.run_id} is finished ({record.progress}/{record.budget}): "
            f"give a budget above {record.budget} to extend it"
        )


def _unknown_process(record: RunRecord) -> str:
    if record.host is None:
        return f"run {record.run_id} records no process (a run store made before liveness); it cannot be stopped here"
    return f"run {record.run_id} runs on host {record.host} (process {record.pid}): stop or resume it there"
