"""``search`` and ``runs``: run an architecture search into a run store, and read runs back.

    python -m archpred search --space nb201 --dataset cifar10 --algorithm evolution --budget 150 \\
        --seed 0 --store runs.db
    python -m archpred search --resume 3 --store runs.db
    python -m archpred runs list --store runs.db
    python -m archpred runs show 3 --store runs.db
    python -m archpred runs export 3 --store runs.db --format csv --out run3.csv

The store is the same SQLite file the API (``archpred.search``) and the app use; without
``--store`` it is ``$ARCHPRED_CACHE_DIR/search/runs.db`` (default ``~/.cache/archpred``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from archpred.cli.common import add_runtime, parse_key_values
from archpred.search.registry import SEARCHERS
from archpred.search.store import default_path

ALGORITHMS_HELP = ", ".join(SEARCHERS)
STORE_HELP = "run store file (default: $ARCHPRED_CACHE_DIR/search/runs.db, i.e. ~/.cache/archpred/search/runs.db)"
LAST_SHOWN = 5


def register(sub: argparse._SubParsersAction) -> None:
    """``search`` and ``runs list|show|export``."""
    p = sub.add_parser("search", help="search a space for its best cell (table oracle), saved to a run store")
    p.add_argument("--space", default="nb201", help="nb201 or nb101 (default nb201)")
    p.add_argument(
        "--dataset",
        default=None,
        help="table: nb201 cifar10 (default), cifar100, imagenet16-120; nb101 cifar10. "
        "train: the training data, digits (default), npz:PATH, cifar10[:DIR]",
    )
    p.add_argument("--algorithm", default=None, help=f"search algorithm: {ALGORITHMS_HELP} (required unless --resume)")
    p.add_argument(
        "--budget",
        type=int,
        default=None,
        help="queries, distinct cells evaluated (default 150; with --resume: raise the run's budget)",
    )
    p.add_argument("--seed", type=int, default=0, help="the run's only source of randomness (default 0)")
    p.add_argument(
        "--oracle",
        default="table",
        help="table: benchmark lookup (default); train: real training; predictor: a saved predictor's estimate",
    )
    p.add_argument(
        "--oracle-set", action="append", default=[], metavar="KEY=VALUE", help="oracle option, e.g. epochs=4"
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="searcher option, e.g. population_size=20"
    )
    p.add_argument("--executor", default="local", help="local (a process pool, default) or ray")
    p.add_argument("--workers", type=int, default=1, help="queries evaluated at once (default 1: in this process)")
    p.add_argument(
        "--executor-set", action="append", default=[], metavar="KEY=VALUE", help="e.g. ray_address=ray://head:10001"
    )
    p.add_argument("--store", default=None, help=STORE_HELP)
    p.add_argument("--resume", type=int, default=None, metavar="RUN_ID", help="continue this run of --store")
    p.add_argument("--quiet", action="store_true", help="no per-evaluation progress on stderr")
    add_runtime(p)
    p.set_defaults(func=cmd_search)

    runs = sub.add_parser("runs", help="search runs in a run store: list, show, export")
    rsub = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    ls = rsub.add_parser("list", help="every run: algorithm, space, status, progress, best validation accuracy")
    ls.add_argument("--store", default=None, help=STORE_HELP)
    add_runtime(ls)
    ls.set_defaults(func=cmd_list)
    show = rsub.add_parser("show", help="one run: its config, best cell and last evaluations")
    show.add_argument("run_id", type=int, help="run id (see runs list)")
    show.add_argument("--store", default=None, help=STORE_HELP)
    add_runtime(show)
    show.set_defaults(func=cmd_show)
    export = rsub.add_parser("export", help="one run's evaluations, in order, as CSV or JSON")
    export.add_argument("run_id", type=int, help="run id (see runs list)")
    export.add_argument("--store", default=None, help=STORE_HELP)
    export.add_argument("--format", choices=["csv", "json"], default="csv", help="default csv")
    export.add_argument("--out", default=None, help="file to write, atomically (default: standard output)")
    add_runtime(export)
    export.set_defaults(func=cmd_export)


# -- search -----------------------------------------------------------------------------------
def cmd_search(args: argparse.Namespace) -> int:
    """Run (or resume) one search, printing progress to stderr and the best cell to stdout."""
    from archpred.search import load_run, resume_search, run_search

    if args.resume is not None:
        store = existing_store(args.store)
        before = load_run(store, args.resume)
        progress = Progress(len(before.history), args.budget or before.config["budget"], before.best, args.quiet)
        progress.store, progress.resumed = store, True
        result = _run_interruptibly(
            progress,
            lambda: resume_search(
                store, args.resume, on_evaluation=progress, budget=args.budget, on_start=progress.start
            ),
        )
    else:
        if args.algorithm is None:
            raise ValueError(f"--algorithm is required (choose from {ALGORITHMS_HELP})")
        store = new_store(args.store)
        budget = 150 if args.budget is None else args.budget
        progress = Progress(0, budget, None, args.quiet)
        progress.store = store
        options = parse_key_values(args.set, "--set")
        oracle_options = parse_key_values(args.oracle_set, "--oracle-set")
        executor_options = parse_key_values(args.executor_set, "--executor-set")
        result = _run_interruptibly(
            progress,
            lambda: run_search(
                space=args.space,
                algorithm=args.algorithm,
                budget=budget,
                seed=args.seed,
                oracle=args.oracle,
                dataset=args.dataset,
                store=store,
                options=options,
                oracle_options=oracle_options,
                executor=args.executor,
                workers=args.workers,
                executor_options=executor_options,
                on_evaluation=progress,
                on_start=progress.start,
            ),
        )
    print(best_line(result.run_id, result.best, result.status))
    return 0


def _run_interruptibly(progress: Progress, call: Any) -> Any:
    """``call()``; on Ctrl-C, name the run to resume before the usual interrupted line."""
    try:
        return call()
    except KeyboardInterrupt:
        if progress.run_id is not None:
            print(
                f"run {progress.run_id} stopped at {progress.done}/{progress.budget}; "
                f"continue it with: --resume {progress.run_id} --store {progress.store}",
                file=sys.stderr,
            )
        raise


class Progress:
    """``on_evaluation`` hook: one stderr line per evaluation (its accuracy and the best so far)."""

    def __init__(self, done: int, budget: int, best: Any, quiet: bool) -> None:
        self.done, self.budget, self.quiet = done, budget, quiet
        self.best_val = None if best is None else best.val_acc
        self.store: Path | None = None
        self.resumed = False
        self.run_id: int | None = None

    def start(self, run_id: int | None) -> None:
        """``on_start``: name the run first, so an interrupted run can be resumed by its id."""
        self.run_id = run_id
        if not self.quiet:
            verb = "resuming" if self.resumed else "running"
            print(f"{verb} run {run_id} of {self.store} at {self.done}/{self.budget}", file=sys.stderr)

    def __call__(self, evaluation: Any) -> None:
        self.done += 1
        if self.best_val is None or evaluation.val_acc > self.best_val:
            self.best_val = evaluation.val_acc
        if not self.quiet:
            width = len(str(self.budget))
            print(
                f"[{self.done:>{width}}/{self.budget}] val {pct(evaluation.val_acc)}  best {pct(self.best_val)}"
                f"  {evaluation.key}",
                file=sys.stderr,
            )


def best_line(run_id: int | None, best: Any, status: str) -> str:
    """``run N (status): best KEY val X% test Y%`` -- the one line a search ends with."""
    if best is None:
        return f"run {run_id} ({status}): no evaluations yet"
    test = "" if best.test_acc is None else f" test {pct(best.test_acc)}"
    what = "predicted" if best.extra.get("predicted") else "val"  # a predictor oracle measures nothing
    return f"run {run_id} ({status}): best {best.key} {what} {pct(best.val_acc)}{test}"


def pct(fraction: float | None) -> str:
    return "-" if fraction is None else f"{100 * fraction:.2f}%"


# -- stores -----------------------------------------------------------------------------------
def new_store(value: str | None) -> Path:
    """The store a new run goes to (created if missing; its folder must exist)."""
    path = Path(value) if value else default_path(create=True)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"no folder {path.parent} for the run store")
    return path


def existing_store(value: str | None) -> Path:
    """A store that must already exist (reading it must not create an empty one)."""
    path = Path(value) if value else default_path(create=False)
    if not path.is_file():
        raise FileNotFoundError(f"no run store at {path}")
    return path


# -- runs ---------------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    """A table of every run, oldest first."""
    from archpred.search import list_runs
    from archpred.search.store import RunStore

    store = existing_store(args.store)
    with RunStore(store) as db:
        best = db.best_val_accs()  # one query, not every run's evaluations
    rows = [["run", "algorithm", "space", "dataset", "status", "progress", "best val"]]
    for s in list_runs(store):
        rows.append(
            [
                str(s.run_id), s.algorithm, s.space, s.dataset, s.status, f"{s.progress}/{s.budget}",
                pct(best.get(s.run_id)),
            ]
        )  # fmt: skip
    if len(rows) == 1:
        print(f"no runs in {store}")
        return 0
    print(table(rows))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """One run: status, config, best cell and its last evaluations."""
    from archpred.search import load_run

    result = load_run(existing_store(args.store), args.run_id)
    print(f"run {result.run_id}: {result.status}, {len(result.history)}/{result.config.get('budget')} evaluations")
    print("config: " + json.dumps(result.config, sort_keys=True))
    print(best_line(result.run_id, result.best, result.status))
    first = max(0, len(result.history) - LAST_SHOWN)
    if result.history:
        rows = [["#", "val", "test", "cost s", "extra", "cell"]]
        for i, e in enumerate(result.history[first:], start=first):
            extra = json.dumps(e.extra, sort_keys=True) if e.extra else ""
            rows.append([str(i), pct(e.val_acc), pct(e.test_acc), f"{e.cost:.0f}", extra, e.key])
        print(f"last {len(rows) - 1} evaluations:")
        print(table(rows))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Every evaluation of a run in order, as CSV (one row each) or JSON (config + list)."""
    from archpred.artifacts import atomic_write_text
    from archpred.search import load_run
    from archpred.search.export import export_text

    result = load_run(existing_store(args.store), args.run_id)
    text = export_text(result, args.format)
    if args.out is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(args.out, text)
        print(f"wrote {len(result.history)} evaluations of run {result.run_id} to {args.out}", file=sys.stderr)
    return 0


def table(rows: list[list[str]]) -> str:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
