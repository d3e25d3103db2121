"""Run a search end to end: ``run_search``, ``resume_search``, ``load_run``, ``list_runs``.

A run is: a searcher (``SEARCHERS``) asking one cell at a time, an oracle answering, and, with a
``store``, every evaluation committed to the run store the moment it finishes together with the
state of the searcher and of the oracle after it. The searcher and the oracle draw from two
generators spawned from the run's seed, so a run is reproducible from ``seed`` alone, and a
resumed run (after Stop, an exception or ``kill -9``) produces exactly the history an
uninterrupted run with the same seed would have.

With ``workers > 1`` (or ``executor="ray"``) up to ``workers`` queries run at once
(``archpred.search.executor``): each result is told and committed the moment it finishes, so the
history is in completion order. The queries in flight are in the searcher's saved state (its
pending asks) with their seeds, so a resumed run evaluates them again with the same seeds:
nothing finished is lost and nothing is evaluated twice. ``workers=1`` on the local executor is
the sequential loop above, exactly.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.search.base import Evaluation, Searcher
from archpred.search.executor import check_executor
from archpred.search.oracles import oracle_dataset
from archpred.search.store import RunRecord, RunStore, StoreError
from archpred.spaces import SearchSpace, get_space

StoreLike = str | Path | RunStore


@dataclass
class SearchResult:
    """A run's outcome so far.

    Attributes:
        run_id: its number in the store (``None`` when run without a store).
        config: space, algorithm, budget, seed, oracle, dataset, options.
        history: one ``Evaluation`` per query, in order.
        status: ``finished``, ``stopped``, ``running`` (or killed), ``failed``.
    """

    run_id: int | None
    config: dict[str, Any]
    history: list[Evaluation]
    status: str

    @property
    def best(self) -> Evaluation | None:
        """The best by validation accuracy as the search saw it (what a user would pick;
        the earliest of ties), or ``None`` before the first evaluation."""
        return max(self.history, key=lambda e: e.val_acc, default=None)

    def incumbents(self) -> list[Evaluation]:
        """After each query, the best-by-validation evaluation so far (the search trace)."""
        out: list[Evaluation] = []
        for e in self.history:
            out.append(e if not out or e.val_acc > out[-1].val_acc else out[-1])
        return out


@dataclass(frozen=True)
class RunSummary:
    """A line of ``list_runs``."""

    run_id: int
    status: str
    progress: int
    budget: int
    space: str
    algorithm: str
    dataset: str
    seed: int
    created: float
    updated: float


def run_search(
    space: str | SearchSpace,
    algorithm: str,
    budget: int,
    seed: int,
    oracle: str = "table",
    dataset: str | None = None,
    store: StoreLike | None = None,
    options: dict[str, Any] | None = None,
    on_evaluation: Callable[[Evaluation], None] | None = None,
    oracle_options: dict[str, Any] | None = None,
    on_start: Callable[[int | None], None] | None = None,
    executor: str = "local",
    workers: int = 1,
    executor_options: dict[str, Any] | None = None,
) -> SearchResult:
    """Search ``space`` with ``algorithm`` for ``budget`` queries.

    Args:
        space: table oracle: ``nb201`` or ``nb101`` (NB-101: the 20,001 labelled cells only);
            train and predictor oracles: any space with a network or a saved predictor.
        algorithm: one of ``SEARCHERS``; ``options`` are its knobs (``searcher_options``).
        budget: queries (distinct cells) to evaluate.
        seed: the only source of randomness (searcher and oracle generators spawn from it).
        oracle: ``table`` (benchmark lookup), ``train`` (real training) or ``predictor`` (a saved
            predictor's estimate, labelled as predicted); ``oracle_options`` are its knobs
            (``oracle_options(name)`` lists them).
        dataset: what cells are evaluated on; ``None``: the oracle's default. Table: NB-201
            ``cifar10`` (default), ``cifar100``, ``imagenet16-120``; NB-101 ``cifar10``. Train:
            ``digits`` (default), ``npz:PATH``, ``cifar10:DIR`` or ``cifar10`` (the batches in
            the data folder). Predictor: a label (default ``cifar10``).
        store: a run store (path or ``RunStore``) to commit each evaluation to, or ``None``.
        on_evaluation: called with each evaluation once it is committed (progress, Stop: raise
            in it to stop the run, which is then ``stopped`` and can be resumed).
        on_start: called with the run id once the run is in the store (before the first query),
            so a caller can say which run to resume if it is interrupted.
        executor: ``local`` (a process pool) or ``ray`` (Ray tasks on a cluster).
        workers: queries in flight at once; 1 on ``local`` is the sequential loop.
        executor_options: for ``ray``: ``ray_address`` (default ``auto`` where ``RAY_ADDRESS`` is
            set, else a local instance) and ``gpus_per_task`` (default 0).
    """
    name = space if isinstance(space, str) else space.name
    executor_options = check_executor(executor, workers, executor_options)
    config = {
        "space": name,
        "algorithm": algorithm,
        "budget": _budget(budget),
        "seed": _seed(seed),
        "oracle": oracle,
        "dataset": oracle_dataset(oracle, dataset),
        "options": dict(options or {}),
        "oracle_options": dict(oracle_options or {}),
        "executor": executor,
        "workers": int(workers),
        "executor_options": executor_options,
    }
    searcher, oracle_ = _build(config)
    if config["budget"] > len(oracle_):
        raise InvalidOption(
            f"budget {config['budget']} exceeds the {len(oracle_)} cells the {name} oracle can evaluate"
        )
    with _opened(store) as db:
        run_id = None
        if db is not None:
            run_id = db.create_run(config, config["seed"], _versions(), _state(searcher, oracle_))
        if on_start is not None:
            on_start(run_id)
        return _go(db, run_id, config, searcher, oracle_, [], on_evaluation)


def resume_search(
    store: StoreLike,
    run_id: int,
    on_evaluation: Callable[[Evaluation], None] | None = None,
    budget: int | None = None,
    on_start: Callable[[int | None], None] | None = None,
) -> SearchResult:
    """Continue a stopped or killed run from its last committed evaluation.

    ``budget`` raises the run's budget (a finished run then goes on: the searcher's state after
    its last evaluation is kept, so the extended run is the run a larger budget would have
    made); without it a finished run is returned as it is.
    """
    with _opened(store) as db:
        record = db.run(run_id)
        config = record.config
        space = get_space(config["space"])
        history = [Evaluation.from_record(space, r) for r in db.evaluation_records(run_id)]
        if budget is not None:
            new_budget = _budget(budget)
            if new_budget < len(history):
                raise InvalidOption(f"run {run_id} already has {len(history)} evaluations; budget {new_budget} is less")
            if new_budget != config["budget"]:
                config = {**config, "budget": new_budget}
                db.set_budget(run_id, config)
        if len(history) >= config["budget"]:
            if record.status != "finished":
                db.set_status(run_id, "finished")
            return SearchResult(run_id, config, history, "finished")
        searcher, oracle = _build(config)
        try:
            searcher.load_state_dict(record.searcher_state["searcher"])
            oracle.load_state_dict(record.searcher_state["oracle"])
        except (KeyError, TypeError) as err:
            raise StoreError(f"run {run_id} in {db.path} has an unreadable searcher state ({err})") from None
        # pending asks (queries in flight when a parallel run stopped) are evaluated again
        if searcher.n_told != len(history):
            raise StoreError(f"run {run_id} in {db.path}: its state does not match its {len(history)} evaluations")
        db.set_status(run_id, "running")
        if on_start is not None:
            on_start(run_id)
        seeds = dict(record.searcher_state.get("seeds") or {})
        return _go(db, run_id, config, searcher, oracle, history, on_evaluation, seeds)


def load_run(store: StoreLike, run_id: int) -> SearchResult:
    """A run as stored (finished or not), without running anything."""
    with _opened(store) as db:
        record = db.run(run_id)
        space = get_space(record.config["space"])
        history = [Evaluation.from_record(space, r) for r in db.evaluation_records(run_id)]
        return SearchResult(run_id, record.config, history, record.status)


def list_runs(store: StoreLike) -> list[RunSummary]:
    """Every run of a store, oldest first, with its status and progress."""
    with _opened(store) as db:
        return [_summary(r) for r in db.runs()]


# -- the loop ---------------------------------------------------------------------------------
def _go(
    db: RunStore | None,
    run_id: int | None,
    config: dict[str, Any],
    searcher: Searcher,
    oracle: Any,
    history: list[Evaluation],
    on_evaluation: Callable[[Evaluation], None] | None,
    seeds: dict[str, int] | None = None,
) -> SearchResult:
    """Ask, evaluate, tell, commit, until the budget is spent; a run cut short by an exception
    (Stop, Ctrl-C, a bug) is marked ``stopped`` and can be resumed."""
    try:
        if config.get("executor", "local") == "local" and config.get("workers", 1) == 1:
            _sequential(db, run_id, config, searcher, oracle, history, on_evaluation, seeds or {})
        else:
            _parallel(db, run_id, config, searcher, oracle, history, on_evaluation, seeds or {})
    except BaseException as err:
        # a StoreError here means another process writes this run: its status is not ours
        if db is not None and not isinstance(err, StoreError):
            with suppress(StoreError):
                db.set_status(run_id, "stopped")
        raise
    if db is not None:
        db.set_status(run_id, "finished")
    return SearchResult(run_id, config, history, "finished")


def _sequential(
    db: RunStore | None,
    run_id: int | None,
    config: dict[str, Any],
    searcher: Searcher,
    oracle: Any,
    history: list[Evaluation],
    on_evaluation: Callable[[Evaluation], None] | None,
    seeds: dict[str, int],
) -> None:
    """One query at a time, in this process (pending asks of a parallel run first)."""
    space = oracle.space
    while len(history) < config["budget"]:
        pending = searcher.pending
        arch = pending[0] if pending else searcher.ask(1)[0]
        key = space.key(arch)
        info = searcher.info(key)
        answer = oracle.query(arch, seed=seeds.pop(key, None))
        # the oracle's fields (params, ...) and then the algorithm's (phase, parent, ...)
        _commit(db, run_id, searcher, oracle, history, replace(answer, extra={**answer.extra, **info}), {})
        if on_evaluation is not None:
            on_evaluation(history[-1])


def _parallel(
    db: RunStore | None,
    run_id: int | None,
    config: dict[str, Any],
    searcher: Searcher,
    oracle: Any,
    history: list[Evaluation],
    on_evaluation: Callable[[Evaluation], None] | None,
    seeds: dict[str, int],
) -> None:
    """Up to ``workers`` queries in flight; each result told and committed as it arrives."""
    from archpred.search.executor import Job, OracleSpec, open_pool

    space, budget = oracle.space, config["budget"]
    spec = OracleSpec(config["oracle"], config["space"], config["dataset"], config.get("oracle_options", {}))
    inflight: dict[str, int] = {}  # key -> seed of every query submitted and not yet told

    def submit(pool: Any, arch: Any) -> None:
        key = space.key(arch)
        seed = seeds.pop(key, None)
        inflight[key] = oracle.draw_seed() if seed is None else seed
        pool.submit(Job(key, arch.to_dict(), inflight[key], searcher.info(key)))

    with open_pool(config["executor"], config["workers"], spec, config.get("executor_options") or {}) as pool:
        for arch in searcher.pending:  # in flight when the run stopped: evaluated again, same seed
            if len(history) + len(inflight) < budget:
                submit(pool, arch)
        while len(history) < budget:
            while len(pool) < config["workers"] and len(history) + len(inflight) < budget:
                submit(pool, searcher.ask(1)[0])
            job, record = pool.next_done()
            answer = Evaluation.from_record(space, record)
            del inflight[job.key]
            evaluation = replace(answer, extra={**answer.extra, **job.info})
            _commit(db, run_id, searcher, oracle, history, evaluation, inflight)
            if on_evaluation is not None:
                on_evaluation(evaluation)


def _commit(
    db: RunStore | None,
    run_id: int | None,
    searcher: Searcher,
    oracle: Any,
    history: list[Evaluation],
    evaluation: Evaluation,
    inflight: dict[str, int],
) -> None:
    """Tell the searcher, then store the evaluation with the state after it (and the seeds of
    the queries still in flight) in one transaction."""
    searcher.tell(evaluation)
    if db is not None:
        db.add_evaluation(run_id, len(history), evaluation, _state(searcher, oracle, inflight))
    history.append(evaluation)


def _build(config: dict[str, Any]) -> tuple[Searcher, Any]:
    """The searcher and oracle of a config, with generators spawned from its seed."""
    from archpred.search.oracles import make_oracle
    from archpred.search.registry import make_searcher

    searcher_seq, oracle_seq = np.random.SeedSequence(config["seed"]).spawn(2)
    oracle = make_oracle(
        config["oracle"],
        config["space"],
        config["dataset"],
        np.random.default_rng(oracle_seq),
        **config.get("oracle_options", {}),
    )
    searcher = make_searcher(
        config["algorithm"],
        oracle.space,
        np.random.default_rng(searcher_seq),
        candidates=oracle.candidates(),
        **config["options"],
    )
    return searcher, oracle


def _state(searcher: Searcher, oracle: Any, inflight: dict[str, int] | None = None) -> dict[str, Any]:
    state = {"searcher": searcher.state_dict(), "oracle": oracle.state_dict()}
    if inflight:
        state["seeds"] = dict(inflight)
    return state


@contextmanager
def _opened(store: StoreLike | None) -> Iterator[RunStore | None]:
    """A ``RunStore`` for a path (closed afterwards), the given one, or ``None``."""
    if store is None or isinstance(store, RunStore):
        yield store
        return
    db = RunStore(store)
    try:
        yield db
    finally:
        db.close()


def _budget(budget: Any) -> int:
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise InvalidOption(f"budget must be a whole number >= 1, got {budget!r}")
    return int(budget)


def _seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidOption(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


def _versions() -> dict[str, str]:
    import sqlite3

    from archpred import __version__

    return {
        "archpred": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def _summary(record: RunRecord) -> RunSummary:
    c = record.config
    return RunSummary(
        record.run_id,
        record.status,
        record.progress,
        record.budget,
        c.get("space", "?"),
        c.get("algorithm", "?"),
        c.get("dataset", "?"),
        record.seed,
        record.created,
        record.updated,
    )
