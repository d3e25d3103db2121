"""Evaluate a search's queries in parallel: a local process pool or Ray tasks, one code path.

``run_search(..., workers=N)`` with ``N > 1`` (or ``executor="ray"``) keeps up to ``N`` queries in
flight. A query travels as a small picklable job: the oracle's ``OracleSpec`` (name, space,
dataset, options), the cell as ``to_dict`` and the query's seed, drawn from the oracle's generator
where the searcher runs. The worker rebuilds the oracle once per process (``evaluate``) and sends
back ``Evaluation.to_record()``; the run tells and commits each result the moment it arrives.

``executor="local"``: ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` context
(no fork of a process holding torch or SQLite state); each worker that trains or predicts uses
one torch thread, so give as many workers as cores, and a worker exits when the run's process
dies (``kill -9``), so an orphan never trains on. ``executor="ray"``: each query is a Ray task (``num_cpus=1``,
``num_gpus=gpus_per_task``) on the cluster at ``ray_address`` (``"auto"`` where ``RAY_ADDRESS``
is set; else a local Ray instance is started for the run and shut down after it). Ray is
imported only here, only for a Ray run.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from archpred.errors import InvalidOption

EXECUTORS = ("local", "ray")
EXECUTOR_OPTIONS = {"ray_address": None, "gpus_per_task": 0}
_POOL_WORKER = {"one_thread": False}  # set in this package's own pool processes only


@dataclass(frozen=True)
class OracleSpec:
    """What rebuilds an oracle in another process: ``make_oracle(name, space, dataset, rng,
    **options)``; the generator does not travel (each query brings its seed)."""

    name: str
    space: str
    dataset: str
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps([self.name, self.space, self.dataset, self.options], sort_keys=True)


@dataclass(frozen=True)
class Job:
    """One query in flight: the cell (``to_dict``), its key, its seed and the searcher's info."""

    key: str
    arch: dict[str, Any]
    seed: int
    info: dict[str, Any]


def evaluate(spec: OracleSpec, arch: dict[str, Any], seed: int) -> dict[str, Any]:
    """Worker side: answer one query on the process's oracle for ``spec``; a JSON-ready record."""
    oracle = _oracle(spec.to_json())
    return oracle.query(oracle.space.parse(arch), seed=seed).to_record()


@cache
def _oracle(spec_json: str) -> Any:
    """The oracle of a spec, built once per worker process (tables, datasets, models read once)."""
    from archpred.search.oracles import make_oracle

    name, space, dataset, options = json.loads(spec_json)
    if _POOL_WORKER["one_thread"] and name != "table":  # torch is needed: one thread per worker
        from archpred.networks.train import _one_thread_worker

        _one_thread_worker()
    return make_oracle(name, space, dataset, np.random.default_rng(0), **options)


def check_executor(executor: str, workers: Any, options: dict[str, Any] | None) -> dict[str, Any]:
    """``executor``, ``workers`` and ``options`` checked; the options with their defaults."""
    from archpred.search.options import positive_int

    if executor not in EXECUTORS:
        raise InvalidOption(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")
    positive_int("workers", workers)
    options = dict(options or {})
    unknown = sorted(set(options) - set(EXECUTOR_OPTIONS))
    if unknown:
        raise InvalidOption(
            f"unknown executor option(s) {', '.join(unknown)}; choose from {', '.join(EXECUTOR_OPTIONS)}"
        )
    if executor == "local" and options:
        raise InvalidOption(f"executor option(s) {', '.join(sorted(options))} are for executor ray")
    gpus = options.get("gpus_per_task", 0)
    if isinstance(gpus, bool) or not isinstance(gpus, (int, float)) or gpus < 0:
        raise InvalidOption(f"gpus_per_task must be a number >= 0, got {gpus!r}")
    if executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise InvalidOption("executor ray needs the ray package (pip install 'ray[default]')") from None
    return {**EXECUTOR_OPTIONS, **options} if executor == "ray" else {}


@contextmanager
def open_pool(executor: str, workers: int, spec: OracleSpec, options: dict[str, Any]) -> Any:
    """A ``LocalPool`` or ``RayPool``; on leaving with an exception the queries in flight are
    abandoned (their workers stopped), otherwise the pool is closed cleanly."""
    pool = LocalPool(workers, spec) if executor == "local" else RayPool(spec, **options)
    try:
        yield pool
    except BaseException:
        pool.close(abandon=True)
        raise
    pool.close(abandon=False)


class LocalPool:
    """Queries in a spawn-context process pool of ``workers`` processes."""

    def __init__(self, workers: int, spec: OracleSpec) -> None:
        from multiprocessing import get_context

        self.spec = spec
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_init, initargs=(os.getpid(),)
        )
        self._jobs: dict[Future, Job] = {}

    def __len__(self) -> int:
        return len(self._jobs)

    def submit(self, job: Job) -> None:
        self._jobs[self._pool.submit(evaluate, self.spec, job.arch, job.seed)] = job

    def next_done(self) -> tuple[Job, dict[str, Any]]:
        """The first query to finish (its worker's exception is raised here)."""
        done, _ = wait(self._jobs, return_when=FIRST_COMPLETED)
        future = min(done, key=lambda f: list(self._jobs).index(f))  # the earliest asked of those done
        job = self._jobs.pop(future)
        try:
            return job, future.result()
        except BrokenProcessPool:
            raise RuntimeError(
                "a worker of the local pool died abruptly (killed, out of memory, or a script that "
                "starts a parallel search outside `if __name__ == '__main__':`, which spawned workers re-run)"
            ) from None

    def close(self, abandon: bool) -> None:
        if abandon:  # stop what is running now: its result would be thrown away
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=abandon)


def _worker_init(parent: int) -> None:
    """A local worker: one torch thread once it needs torch (``train_many``'s sanctioned
    initialiser; a table worker never imports torch), and an exit as soon as the run's process
    is gone."""
    _POOL_WORKER["one_thread"] = True
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


class RayPool:
    """Queries as Ray tasks on an existing cluster (``ray_address``) or a local instance."""

    def __init__(self, spec: OracleSpec, ray_address: str | None = None, gpus_per_task: float = 0) -> None:
        import ray

        self.ray, self.spec, self._started = ray, spec, False
        if not ray.is_initialized():
            address = ray_address or ("auto" if os.environ.get("RAY_ADDRESS") else None)
            if address is None:
                ray.init(include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
            self._started = True
        self._task = ray.remote(num_cpus=1, num_gpus=gpus_per_task, max_retries=0)(evaluate)
        self._jobs: dict[Any, Job] = {}

    def __len__(self) -> int:
        return len(self._jobs)

    def submit(self, job: Job) -> None:
        self._jobs[self._task.remote(self.spec, job.arch, job.seed)] = job

    def next_done(self) -> tuple[Job, dict[str, Any]]:
        """The first task to finish; a task's exception is raised as the original error."""
        [ref], _ = self.ray.wait(list(self._jobs), num_returns=1)
        job = self._jobs.pop(ref)
        try:
            return job, self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as err:
            cause = getattr(err, "cause", None)
            raise (cause if isinstance(cause, Exception) else err) from None

    def close(self, abandon: bool) -> None:
        if abandon:
            for ref in self._jobs:
                self.ray.cancel(ref, force=True)
        self._jobs.clear()
        if self._started:
            self.ray.shutdown()
