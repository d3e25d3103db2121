"""``bench search``: every search algorithm on the benchmark tables, many seeds, as the papers
compare them.

Each (setting, algorithm, seed) is one run of ``run_search`` in a run store (default
``$ARCHPRED_CACHE_DIR/bench/search.db``), so the harness is resumable for free: runs already
finished are read back, runs cut short (Ctrl-C, kill -9) are resumed, and a larger ``budget``
extends finished runs. The store is the checkpoint; the report is rendered from it.

What is measured, at every query count q: the quality of the architecture a user would pick
after q queries -- the best by the validation accuracy the search saw (one noisy training seed
per query on NB-201) -- namely its CIFAR-10 test accuracy on NB-201 cifar10 (where the shared
test-accuracy file is present), otherwise its mean validation accuracy over the benchmark's
seeds (NB-201 cifar100 and ImageNet16-120: our data has no test accuracies for them; NB-101-20k:
one training run per cell, validation only). Mean over seeds with a 95% band (1.96 standard
errors). Sample efficiency vs regularized evolution at a level L: the queries RE's mean curve
needs to reach L divided by the queries the algorithm's mean curve needs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from archpred.artifacts import atomic_write_text
from archpred.errors import InvalidOption
from archpred.paths import cache_dir

SETTINGS = ("nb201/cifar10", "nb201/cifar100", "nb201/imagenet16-120", "nb101/cifar10")
TABLE_QUERIES = (10, 25, 50, 100, 150, 200, 300)
LEVEL_QUERIES = (25, 50, 100, 150, 300)  # RE's mean at these query counts are the efficiency levels
# Secondary compilations of published results (approximate), test accuracy in %, mean over runs.
PUBLISHED = {
    "nb201": [
        {"method": "CAP", "queries": 50, "cifar10": 94.34, "cifar100": 73.41, "imagenet16-120": 46.44},
        {"method": "DCLP", "queries": 50, "cifar10": 94.34, "cifar100": 73.50, "imagenet16-120": 46.54},
        {"method": "NPENAS-NP", "queries": 100, "cifar10": 94.31, "cifar100": 73.46, "imagenet16-120": 46.48},
        {"method": "arch2vec-BO", "queries": None, "cifar10": 94.18, "cifar100": None, "imagenet16-120": 46.27},
    ],
    # NB-101 at 150 queries, test error % (full NB-101: not comparable with our 20k-cell validation)
    "nb101": [
        {"method": "RS", "queries": 150, "test_error": 6.34},
        {"method": "RE", "queries": 150, "test_error": 6.11},
        {"method": "LS", "queries": 150, "test_error": 5.93},
        {"method": "BANANAS", "queries": 150, "test_error": 5.92},
    ],
}


@dataclasses.dataclass(frozen=True)
class SearchBenchConfig:
    """What ``run_search`` runs, and where it writes.

    Args:
        settings: ``space/dataset`` pairs (``SETTINGS``).
        algorithms: search algorithms (default: every registered one).
        seeds: runs per (setting, algorithm), seeds 0..seeds-1.
        budget: queries per run.
        seeds_by_algorithm: fewer (or more) seeds for some algorithms, e.g. the slow ones.
        budget_by_algorithm: a smaller budget for some algorithms (the slow ones).
        options: per-algorithm searcher options (default: each algorithm's defaults).
        store: the run store holding every run (the checkpoint).
        out: report path without suffix (``.json``, ``.md``, ``.png``), plus ``reference.json``
            beside it (random and evolution bands for the app's Search page).
        workers: processes running runs at once.
        render_only: run nothing; report the runs already in the store (fewer seeds where fewer
            finished, said per row).
        command: the command line recorded in the report.
    """

    settings: tuple[str, ...] = SETTINGS
    algorithms: tuple[str, ...] = ()
    seeds: int = 50
    budget: int = 300
    seeds_by_algorithm: dict[str, int] = dataclasses.field(default_factory=dict)
    budget_by_algorithm: dict[str, int] = dataclasses.field(default_factory=dict)
    options: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    store: Path = dataclasses.field(default_factory=lambda: cache_dir("bench") / "search.db")
    out: Path = Path("reports/search/search")
    workers: int = 1
    render_only: bool = False
    command: str = ""

    def __post_init__(self) -> None:
        bad = [s for s in self.settings if s not in SETTINGS]
        if bad:
            raise InvalidOption(f"unknown setting(s) {', '.join(bad)}; choose from {', '.join(SETTINGS)}")

    def algorithm_list(self) -> tuple[str, ...]:
        from archpred.search import SEARCHERS

        return self.algorithms or tuple(SEARCHERS)

    def seeds_of(self, algorithm: str) -> int:
        return int(self.seeds_by_algorithm.get(algorithm, self.seeds))

    def budget_of(self, algorithm: str) -> int:
        return int(self.budget_by_algorithm.get(algorithm, self.budget))


@dataclasses.dataclass(frozen=True)
class Job:
    space: str
    dataset: str
    algorithm: str
    seed: int
    options: dict[str, Any]

    @property
    def setting(self) -> str:
        return f"{self.space}/{self.dataset}"


def jobs_of(config: SearchBenchConfig) -> list[Job]:
    """Every run the config asks for, seed-major so a partial harness covers every algorithm."""
    out = []
    max_seeds = max(config.seeds_of(a) for a in config.algorithm_list())
    for seed in range(max_seeds):
        for setting in config.settings:
            space, dataset = setting.split("/")
            for algorithm in config.algorithm_list():
                if seed < config.seeds_of(algorithm):
                    out.append(Job(space, dataset, algorithm, seed, dict(config.options.get(algorithm, {}))))
    return out


def _identity(space: str, dataset: str, algorithm: str, seed: int, options: dict[str, Any]) -> str:
    return json.dumps([space, dataset, algorithm, seed, options], sort_keys=True)


def _stored_runs(store: Path) -> dict[str, tuple[int, str, int, float]]:
    """identity -> (run_id, status, progress, seconds from creation to the last write) of the
    table-oracle runs in the store."""
    from archpred.search.store import RunStore

    with RunStore(store, synchronous="NORMAL") as db:
        out = {}
        for r in db.runs():
            c = r.config
            if c.get("oracle") != "table":
                continue
            key = _identity(c["space"], c["dataset"], c["algorithm"], c["seed"], c.get("options", {}))
            out[key] = (r.run_id, r.status, r.progress, r.updated - r.created)
        return out


def _run_job(store: str, job: Job, budget: int, run_id: int | None) -> tuple[Job, int, float]:
    """One run to ``budget`` (new, resumed or extended) in a worker; returns its id and seconds."""
    from archpred.search import resume_search, run_search
    from archpred.search.store import RunStore

    start = time.perf_counter()
    with RunStore(store, synchronous="NORMAL") as db:
        if run_id is None:
            result = run_search(
                job.space, job.algorithm, budget, job.seed, dataset=job.dataset, store=db, options=job.options
            )
        else:
            result = resume_search(db, run_id, budget=budget)
    return job, int(result.run_id), time.perf_counter() - start


def complete_runs(config: SearchBenchConfig) -> None:
    """Run (or resume, or extend) every job not finished at ``budget``, printing each as it ends."""
    config.store.parent.mkdir(parents=True, exist_ok=True)
    stored = _stored_runs(config.store)
    todo = []
    for job in jobs_of(config):
        run = stored.get(_identity(job.space, job.dataset, job.algorithm, job.seed, job.options))
        if run is None or run[2] < config.budget_of(job.algorithm) or run[1] != "finished":
            todo.append((job, None if run is None else run[0]))
    total = len(jobs_of(config))
    print(f"bench search: {total - len(todo)}/{total} runs already in {config.store}; {len(todo)} to run", flush=True)
    if not todo:
        return
    done = 0
    if config.workers <= 1:
        for job, run_id in todo:
            done += 1
            _report(done, len(todo), *_run_job(str(config.store), job, config.budget_of(job.algorithm), run_id))
        return
    from multiprocessing import get_context

    from archpred.networks.train import _one_thread_worker

    # spawn: fresh interpreters (no forked torch state); one torch thread per worker process
    with ProcessPoolExecutor(config.workers, mp_context=get_context("spawn"), initializer=_one_thread_worker) as pool:
        futures = [
            pool.submit(_run_job, str(config.store), job, config.budget_of(job.algorithm), run_id)
            for job, run_id in todo
        ]
        for future in as_completed(futures):
            done += 1
            _report(done, len(todo), *future.result())


def _report(done: int, total: int, job: Job, run_id: int, seconds: float) -> None:
    print(f"[{done}/{total}] {job.setting} {job.algorithm} seed {job.seed}: run {run_id}, {seconds:.1f} s", flush=True)


# -- reading the runs back ----------------------------------------------------------------------
def metric_of(space: str, dataset: str, records: Sequence[dict[str, Any]]) -> str:
    """``test_acc`` on NB-201 cifar10 where the runs have it, else ``mean_val_acc``."""
    if space == "nb201" and dataset == "cifar10" and records and records[0].get("test_acc") is not None:
        return "test_acc"
    return "mean_val_acc"


def incumbent_trace(records: Sequence[dict[str, Any]], metric: str) -> np.ndarray:
    """After each query, ``metric`` of the best-by-validation evaluation so far (earliest of ties)."""
    out = np.empty(len(records))
    best_val, best_metric = -np.inf, np.nan
    for i, r in enumerate(records):
        if r["val_acc"] > best_val:
            best_val, best_metric = r["val_acc"], r[metric]
        out[i] = best_metric
    return out


def collect(config: SearchBenchConfig) -> dict[str, dict[str, Any]]:
    """``setting/algorithm`` -> traces and costs (seeds x budget), the metric, seconds per run."""
    from archpred.search.store import RunStore

    stored = _stored_runs(config.store)
    out: dict[str, dict[str, Any]] = {}
    with RunStore(config.store, synchronous="NORMAL") as db:
        for job in jobs_of(config):
            run = stored.get(_identity(job.space, job.dataset, job.algorithm, job.seed, job.options))
            budget = config.budget_of(job.algorithm)
            if run is None or run[2] < budget:
                continue
            records = db.evaluation_records(run[0])[:budget]
            entry = out.setdefault(
                f"{job.setting}/{job.algorithm}", {"traces": [], "costs": [], "seconds": [], "seeds": []}
            )
            entry["metric"] = metric_of(job.space, job.dataset, records)
            entry["traces"].append(incumbent_trace(records, entry["metric"]))
            entry["costs"].append([r["cost"] for r in records])  # the benchmark's training seconds
            entry["seconds"].append(run[3])
            entry["seeds"].append(job.seed)
    return out


def ci95_half_width(x: np.ndarray) -> np.ndarray:
    """1.96 standard errors over axis 0 (zero for a single row): the half-width of a 95 % band."""
    x = np.asarray(x, dtype=float)
    return 1.96 * x.std(axis=0, ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.zeros_like(x[0])


# -- the summary ----------------------------------------------------------------------------------
def summarise(collected: dict[str, dict[str, Any]], config: SearchBenchConfig) -> dict[str, Any]:
    """Mean and 95% band curves, the tables at ``TABLE_QUERIES``, and efficiency vs RE."""
    curves = {}
    for key, entry in collected.items():
        traces = np.vstack(entry["traces"])
        mean = traces.mean(axis=0)
        half = ci95_half_width(traces)
        curves[key] = {
            "metric": entry["metric"],
            "seeds": len(traces),
            "mean": np.round(mean, 6).tolist(),
            "lo": np.round(mean - half, 6).tolist(),
            "hi": np.round(mean + half, 6).tolist(),
            "seconds_per_run": float(np.mean(entry["seconds"])),
        }
    return {
        "command": config.command,
        "budget": config.budget,
        "curves": curves,
        "efficiency": efficiency(curves),
        "optimum": optima(config.settings),
        "published": PUBLISHED,
    }


def first_reaching(mean: Sequence[float], level: float) -> int | None:
    """The first query count (1-based) whose mean reaches ``level``, or ``None``."""
    hits = np.flatnonzero(np.asarray(mean) >= level - 1e-12)
    return int(hits[0]) + 1 if len(hits) else None


def efficiency(curves: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``setting/algorithm`` -> per level (RE's mean at ``LEVEL_QUERIES``): RE's queries / the
    algorithm's queries to reach it (``None`` where it never does within the budget)."""
    out: dict[str, dict[str, Any]] = {}
    for key, curve in curves.items():
        setting = key.rsplit("/", 1)[0]
        re = curves.get(f"{setting}/evolution")
        if re is None:
            continue
        rows = {}
        for q in LEVEL_QUERIES:
            if q > len(re["mean"]):
                continue
            level = re["mean"][q - 1]
            q_re, q_alg = first_reaching(re["mean"], level), first_reaching(curve["mean"], level)
            rows[str(q)] = {
                "level": level,
                "re_queries": q_re,
                "queries": q_alg,
                "ratio": q_re / q_alg if q_alg else None,
            }
        out[key] = rows
    return out


def optima(settings: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The table's best cell by mean validation accuracy, per setting (what a perfect search finds)."""
    from archpred.search.oracles import TableOracle

    out = {}
    for setting in settings:
        space, dataset = setting.split("/")
        best = TableOracle(space, dataset).optimum()
        out[setting] = {"mean_val_acc": best["mean_val_acc"], "test_acc": best["test_acc"], "key": best["key"]}
    return out


# -- writing ------------------------------------------------------------------------------------
def write_reference(summary: dict[str, Any], path: Path) -> None:
    """Random and evolution bands per setting, for the app's Search page."""
    ref: dict[str, Any] = {}
    for key, curve in summary["curves"].items():
        setting, algorithm = key.rsplit("/", 1)
        if algorithm in ("random", "evolution"):
            n = len(curve["mean"])
            ref.setdefault(setting, {"metric": curve["metric"]})[algorithm] = {
                "queries": list(range(1, n + 1)),
                **{k: [round(v, 6) for v in curve[k]] for k in ("mean", "lo", "hi")},
                "seeds": curve["seeds"],
            }
    atomic_write_text(path, json.dumps(ref, sort_keys=True) + "\n")


def plot(summary: dict[str, Any], path: Path) -> None:
    """Mean best-by-val quality vs queries, one panel per setting, 95% bands."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display
    import matplotlib.pyplot as plt

    settings = sorted({k.rsplit("/", 1)[0] for k in summary["curves"]}, key=SETTINGS.index)
    fig, axes = plt.subplots(1, len(settings), figsize=(5 * len(settings), 4), squeeze=False)
    for ax, setting in zip(axes[0], settings, strict=True):
        for key, curve in summary["curves"].items():
            if not key.startswith(setting + "/"):
                continue
            q = np.arange(1, len(curve["mean"]) + 1)
            mean = 100 * np.asarray(curve["mean"])
            (line,) = ax.plot(q, mean, label=f"{key.rsplit('/', 1)[1]} ({curve['seeds']})")
            ax.fill_between(
                q, 100 * np.asarray(curve["lo"]), 100 * np.asarray(curve["hi"]), alpha=0.2, color=line.get_color()
            )
        best = summary["optimum"][setting]
        metric = next(c["metric"] for k, c in summary["curves"].items() if k.startswith(setting + "/"))
        top = best["test_acc"] if metric == "test_acc" else best["mean_val_acc"]
        ax.axhline(100 * top, color="black", lw=0.8, ls=":", label="table optimum")
        ax.set_xscale("log")
        ax.set_title(setting)
        ax.set_xlabel("queries")
        ax.set_ylabel(("test" if metric == "test_acc" else "mean val") + " accuracy of best-by-val (%)")
        lows = [
            100 * c["mean"][min(9, len(c["mean"]) - 1)]
            for k, c in summary["curves"].items()
            if k.startswith(setting + "/")
        ]
        ax.set_ylim(min(lows) - 0.3, 100 * top + 0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}"


def render_markdown(summary: dict[str, Any], png_name: str) -> str:
    """The report: headline table vs published points, full tables, efficiency, plot."""
    curves = summary["curves"]
    settings = sorted({k.rsplit("/", 1)[0] for k in curves}, key=SETTINGS.index)
    lines = [
        "# Search: every algorithm on the benchmark tables",
        "",
        f"Command: `{summary['command']}`",
        "",
        "Quality at q queries = the architecture a user would pick after q queries (best by the noisy one-seed",
        "validation accuracy the search saw), measured by its **CIFAR-10 test accuracy** on NB-201 cifar10 and by",
        "its **mean validation accuracy** elsewhere (our data has no test accuracies for NB-201 cifar100 /",
        "ImageNet16-120; NB-101-20k has one validation run per cell). Mean over seeds, ± the 95% half-band.",
        "",
        f"![search traces]({png_name})",
        "",
    ]
    for setting in settings:
        lines += _setting_table(summary, setting)
    lines += _efficiency_table(summary, settings)
    lines += _published(summary)
    return "\n".join(lines) + "\n"


def _setting_table(summary: dict[str, Any], setting: str) -> list[str]:
    curves = {k.rsplit("/", 1)[1]: c for k, c in summary["curves"].items() if k.startswith(setting + "/")}
    metric = next(iter(curves.values()))["metric"]
    best = summary["optimum"][setting]
    top = best["test_acc"] if metric == "test_acc" else best["mean_val_acc"]
    longest = max(len(c["mean"]) for c in curves.values())
    qs = [q for q in TABLE_QUERIES if q <= longest]
    what = "test" if metric == "test_acc" else "mean validation"
    out = [
        f"## {setting}: {what} accuracy (%) of the best-by-val (table optimum {_pct(top)})",
        "",
        "| algorithm | seeds | s/run | " + " | ".join(f"q={q}" for q in qs) + " |",
        "|---|---|---|" + "---|" * len(qs),
    ]
    for name, c in curves.items():
        cells = [
            f"{_pct(c['mean'][q - 1])} ± {100 * (c['hi'][q - 1] - c['mean'][q - 1]):.2f}"
            if q <= len(c["mean"])
            else "-"
            for q in qs
        ]
        out.append(f"| {name} | {c['seeds']} | {c['seconds_per_run']:.1f} | " + " | ".join(cells) + " |")
    return [*out, ""]


def _efficiency_table(summary: dict[str, Any], settings: Sequence[str]) -> list[str]:
    out = [
        "## Sample efficiency vs regularized evolution",
        "",
        "Queries RE's mean curve needs to reach a level / queries the algorithm's mean curve needs (level = RE's",
        "mean after q queries). '-': not reached within the budget.",
        "",
    ]
    for setting in settings:
        rows = {k.rsplit("/", 1)[1]: v for k, v in summary["efficiency"].items() if k.startswith(setting + "/")}
        if not rows:
            continue
        qs = list(next(iter(rows.values())))
        out += [
            f"**{setting}**",
            "",
            "| algorithm | " + " | ".join(f"RE@{q}" for q in qs) + " |",
            "|---|" + "---|" * len(qs),
        ]
        for name, levels in rows.items():
            cells = [
                "-" if levels[q]["ratio"] is None else f"{levels[q]['ratio']:.2f}x ({levels[q]['queries']})" for q in qs
            ]
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
    return out


def _published(summary: dict[str, Any]) -> list[str]:
    curves = summary["curves"]
    out = ["## Ours beside published points (NB-201, test accuracy %, mean over runs)", ""]
    out += [
        "Published: secondary compilations, approximate. Their cifar100 / ImageNet16-120 numbers are TEST",
        "accuracies; ours for those two datasets are MEAN VALIDATION accuracies (our data has no test",
        "accuracies there), so only the cifar10 column compares like with like.",
        "",
        "| method | queries | cifar10 | cifar100 | ImageNet16-120 |",
        "|---|---|---|---|---|",
    ]
    for p in PUBLISHED["nb201"]:
        q = "-" if p["queries"] is None else p["queries"]
        out.append(
            f"| {p['method']} (published) | {q} | "
            + " | ".join("-" if p[d] is None else f"{p[d]:.2f}" for d in ("cifar10", "cifar100", "imagenet16-120"))
            + " |"
        )
    algorithms = sorted({k.rsplit("/", 1)[1] for k in curves if k.startswith("nb201/")})
    for q in (50, 100):
        for name in algorithms:
            cells = []
            for d in ("cifar10", "cifar100", "imagenet16-120"):
                c = curves.get(f"nb201/{d}/{name}")
                cells.append("-" if c is None or q > len(c["mean"]) else _pct(c["mean"][q - 1]))
            out.append(f"| {name} (ours) | {q} | " + " | ".join(cells) + " |")
    out.append("")
    nb101 = {k.rsplit("/", 1)[1]: c for k, c in curves.items() if k.startswith("nb101/")}
    if nb101:
        out += [
            "NB-101 at 150 queries. Published (full NB-101, test error %): "
            + ", ".join(f"{p['method']} {p['test_error']:.2f}" for p in PUBLISHED["nb101"])
            + ". Ours (NB-101-20k, validation error % of the best-by-val, not comparable in kind): "
            + ", ".join(
                f"{name} {100 - 100 * c['mean'][149]:.2f}" for name, c in nb101.items() if len(c["mean"]) >= 150
            )
            + ".",
            "",
        ]
    return out


def run_search(config: SearchBenchConfig) -> dict[str, Any]:
    """Run what is missing, then write ``out``.json / .md / .png and ``reference.json``."""
    if not config.render_only:
        complete_runs(config)
    summary = summarise(collect(config), config)
    config.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(config.out.with_suffix(".json"), json.dumps(summary, indent=1, sort_keys=True) + "\n")
    png = config.out.with_suffix(".png")
    plot(summary, png)
    write_reference(summary, config.out.parent / "reference.json")
    atomic_write_text(config.out.with_suffix(".md"), render_markdown(summary, png.name))
    print(f"bench search: wrote {config.out.with_suffix('.md')}", flush=True)
    return summary
