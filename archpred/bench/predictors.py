"""``bench predictors``: the predictor papers' protocols on our real data, every predictor in
the same run, as a JSON report and a markdown table.

    python -m archpred bench predictors --out reports/predictors

The protocols are data in ``predictor_protocols``; the markdown is ``predictor_report``. This
module is the harness: ``run_predictors(config)`` fits what the protocols list, writes every
finished fit to the JSON at once and skips what the JSON already holds (``fresh`` starts over).
Fit time and prediction throughput are recorded for every fit, and the machine facts (device,
threads, CPUs, versions) in the report's ``meta``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from archpred.bench import predictor_protocols as protocols
from archpred.bench.predictor_protocols import BASE, PROFILES, PROTOCOLS, SIZES, TRICKS, VARIANTS, Fit, epochs_for
from archpred.bench.predictor_report import render_markdown
from archpred.errors import InvalidOption
from archpred.paths import cache_dir


@dataclasses.dataclass(frozen=True)
class PredictorsBenchConfig:
    """What ``run_predictors`` fits, and where it writes.

    Args:
        out: report path without suffix (``.json`` and ``.md`` are written).
        protocols: run in this order, from ``PROTOCOLS``.
        predictors: variants (``VARIANTS`` names) of every protocol; None: each protocol's own.
        spaces: spaces of the size sweep; seeds: seeds of the size sweep and the tricks.
        np_splits: random splits of the N = 172 experiment; np_cv: choose its hidden size by CV.
        profile: training lengths, ``quick``, ``paper`` or ``smoke`` (tests).
        device: auto, cpu, cuda or cuda:N; fresh: ignore results already in the JSON;
        progress: progress bars of every fit; command: the command line the report records.
    """

    out: Path = Path("reports/predictors")
    protocols: tuple[str, ...] = PROTOCOLS
    predictors: tuple[str, ...] | None = None
    spaces: tuple[str, ...] = ("nb201", "nb101")
    seeds: int = 5
    np_splits: int = 10
    np_cv: bool = False
    profile: str = "quick"
    device: str = "auto"
    fresh: bool = False
    progress: bool = False
    command: str = "python -m archpred bench predictors"

    def __post_init__(self) -> None:
        _check("protocol", self.protocols, PROTOCOLS)
        _check("predictor variant", self.predictors or (), tuple(VARIANTS))
        _check("size-sweep space", self.spaces, tuple(SIZES))
        _check("profile", (self.profile,), PROFILES)


def _check(what: str, given: tuple[str, ...], known: tuple[str, ...]) -> None:
    unknown = [g for g in given if g not in known]
    if unknown:
        raise InvalidOption(f"unknown {what}(s) {', '.join(unknown)}; choose from {', '.join(known)}")


def run_predictors(config: PredictorsBenchConfig) -> dict[str, Any]:
    """Fit every protocol of ``config`` (resuming from its JSON); returns the report."""
    harness = _Harness(config)
    harness.save()
    for fit in _fits(config, harness.bench):
        harness.fit_eval(fit)
    harness.save()
    return harness.report


def render_report(out: str | Path) -> Path:
    """Rewrite ``out``.md from ``out``.json alone; returns the markdown's path."""
    from archpred.artifacts import atomic_write_text
    from archpred.bench.predictor_report import CURVES, plot_learning_curves, select_winners

    report = json.loads(Path(out).with_suffix(".json").read_text())
    if select_winners(report.get("results", {})):
        plot_learning_curves(report["results"], Path(out).parent / CURVES)
    return atomic_write_text(Path(out).with_suffix(".md"), render_markdown(report))


def fit_folder(fit: Fit) -> Path:
    """Where a resumable fit keeps its networks' checkpoints until it is recorded."""
    return cache_dir("bench", "predictor-fits", re.sub(r"[^A-Za-z0-9_.-]+", "_", fit.key))


def _fits(config: PredictorsBenchConfig, load: protocols.Loader) -> Iterator[Fit]:
    """The fits of every protocol of ``config``, in order."""
    for protocol in config.protocols:
        if protocol == "split":
            yield from protocols.split_fits(load, config.predictors or BASE)
        elif protocol == "zeroshot":
            yield from protocols.zeroshot_fits(load, config.predictors or BASE)
        elif protocol == "np172":
            yield from protocols.np172_fits(load, config.np_splits, config.np_cv)
        elif protocol == "sizes":
            yield from protocols.sizes_fits(load, config.spaces, config.seeds, config.predictors or BASE)
        elif protocol == "tricks":
            variants = config.predictors or tuple(v for v, _ in TRICKS)
            yield from protocols.tricks_fits(load, config.seeds, variants)
        elif protocol == "select":
            variants = config.predictors or tuple(v for vs in protocols.SELECT_CANDIDATES.values() for v in vs)
            yield from protocols.select_fits(load, config.spaces, variants)


def machine_facts(config: PredictorsBenchConfig) -> dict[str, Any]:
    """Where this run happens, as the report states it: profile, device, threads, CPUs, versions."""
    import torch

    from archpred.training import resolve_device

    device = resolve_device(config.device)
    meta: dict[str, Any] = {
        "profile": config.profile,
        "seeds": config.seeds,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    if device.type == "cuda":
        meta["gpu"] = torch.cuda.get_device_name(device)
    return meta


class _Harness:
    """The report being built: loads each benchmark once, fits, saves after every fit."""

    def __init__(self, config: PredictorsBenchConfig) -> None:
        self.config = config
        self.json_path = Path(config.out).with_suffix(".json")
        self.md_path = Path(config.out).with_suffix(".md")
        self.report: dict[str, Any] = {"results": {}}
        if self.json_path.exists() and not config.fresh:
            self.report = json.loads(self.json_path.read_text())
        commands = self.report.setdefault("commands", [])
        if config.command not in commands:
            commands.append(config.command)
        self.report["meta"] = machine_facts(config)
        self.benchmarks: dict[str, Any] = {}

    def bench(self, name: str) -> Any:
        if name not in self.benchmarks:
            from archpred.data import load_benchmark

            self.benchmarks[name] = load_benchmark(name)
        return self.benchmarks[name]

    def save(self) -> None:
        """Write the report, merged with what other runs wrote to the same file since this one
        started (two long runs may share a report: neither may drop the other's fits)."""
        import fcntl

        from archpred.artifacts import atomic_write_text

        with open(self.json_path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.json_path.exists() and not self.config.fresh:
                on_disk = json.loads(self.json_path.read_text())
                self.report["results"] = {**on_disk.get("results", {}), **self.report["results"]}
                on_disk_commands = on_disk.get("commands", [])
                self.report["commands"] = on_disk_commands + [
                    c for c in self.report["commands"] if c not in on_disk_commands
                ]
            atomic_write_text(self.json_path, json.dumps(self.report, indent=1, sort_keys=True))
            atomic_write_text(self.md_path, render_markdown(self.report))

    def fit_eval(self, fit: Fit) -> dict[str, Any]:
        """Fit one variant and score it, unless the report holds it already."""
        cached = self.report["results"].get(fit.key)
        if (
            cached is not None
            and (fit.report_above is None or "mse_above_threshold" in cached)
            and (fit.also_all is None or "all_cells" in cached)
        ):
            return cached
        record = self._fit(fit)
        self.report["results"][fit.key] = record
        self.save()
        if record.get("resumable"):  # recorded: its checkpoints are no longer needed
            shutil.rmtree(fit_folder(fit), ignore_errors=True)
        print(
            f"{fit.key}: tau {record['kendall_tau']:.3f} rmse {record['rmse']:.4f} fit {record['fit_s']:.1f}s",
            file=sys.stderr,
            flush=True,
        )
        return record

    def _fit(self, fit: Fit) -> dict[str, Any]:
        from archpred.metrics import evaluate
        from archpred.predictors import make_predictor

        bench = self.bench(fit.space)
        name, config = VARIANTS[fit.variant]
        config = dict(config)
        visits = config.pop("_visits", None)
        resumable = config.pop("_resumable", False)
        # a variant with its own step budget keeps it (the quick profile's epochs shrink with N)
        budget = (
            {}
            if config.get("steps") and self.config.profile != "smoke"
            else epochs_for(name, len(fit.train), self.config.profile, visits)
        )
        config = {**budget, **config, **(fit.extra or {})}
        # a long fit checkpoints every epoch under the cache and resumes there after a kill
        folder = fit_folder(fit) if resumable else None
        extra = {"checkpoint_dir": folder} if folder is not None else {}
        model = make_predictor(
            name, seed=fit.seed, device=self.config.device, progress=self.config.progress, **config, **extra
        )
        start = time.perf_counter()
        model.fit([bench.archs[i] for i in fit.train], bench.accuracy[fit.train])
        fit_s = time.perf_counter() - start  # of this run only, when it resumed
        start = time.perf_counter()
        pred = model.predict([bench.archs[i] for i in fit.test])
        predict_s = time.perf_counter() - start
        y = bench.accuracy[fit.test]
        record = {
            "space": fit.space,
            "variant": fit.variant,
            "predictor": name,
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()},
            "seed": fit.seed,
            "n_train": len(fit.train),
            "n_test": len(fit.test),
            "fit_s": fit_s,
            "predict_per_s": len(fit.test) / predict_s,
            **evaluate(y, pred, ["rmse", "mse", "mae", "kendall_tau", "spearman", "pearson"]),
        }
        if fit.also_all is not None and fit.also_all in bench.metrics:
            y_all = np.asarray(bench.metrics[fit.also_all], dtype=np.float64)
            y_all = y_all / 100.0 if np.nanmax(y_all) > 1.5 else y_all
            pred_all = np.empty(len(bench))
            pred_all[fit.test] = pred
            pred_all[fit.train] = model.predict([bench.archs[i] for i in fit.train])
            ok = np.isfinite(y_all)
            record["all_cells"] = {
                "metric": fit.also_all,
                "n": int(ok.sum()),
                **evaluate(y_all[ok], pred_all[ok], ["kendall_tau", "spearman"]),
            }
        if folder is not None:
            record["resumable"] = True
        above = config.get("threshold") or fit.report_above
        if above is not None:
            top = y >= above
            record["mse_above_threshold"] = float(np.mean((y[top] - pred[top]) ** 2))
            record["n_above_threshold"] = int(top.sum())
        return record
