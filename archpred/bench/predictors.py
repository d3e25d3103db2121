"""``bench predictors``: the predictor papers' protocols on our real data, every predictor in
the same run, as a JSON report and a markdown table.

    python -m archpred bench predictors --out reports/predictors

Protocols (``--protocols``, comma-separated, run in this order):

- ``split``: GNN paper, NB-101 70/20/10 random split, RMSE on the 10% test part;
- ``zeroshot``: GNN paper, train on cells of 2,3,4,5,7 vertices and test on 6; train on 2-6, test on 7;
- ``np172``: Neural Predictor, NB-101, N = 172, one- vs two-stage (threshold 91%) over random splits;
- ``sizes``: Kendall tau / Spearman vs training-set size on NB-201 and NB-101, tested on all others;
- ``tricks``: what ranking loss, ensembling, isomorphic augmentation and tuned optimisation add.

Every finished fit is written to the JSON at once; a rerun skips what the JSON already holds
(``--fresh`` starts over). Fit time and prediction throughput are recorded for every fit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

PROTOCOLS = ("split", "zeroshot", "np172", "sizes", "tricks")
BASE = ("random-forest-wd", "random-forest-onehot", "mlp", "lstm", "neural-predictor", "gnn")
SIZES = {"nb201": (78, 156, 469, 781, 1563), "nb101": (100, 172, 424, 4236)}

# Published numbers the report sets ours beside.
PAPER = {
    "split_rmse": {"gnn": 0.0486, "best baseline": 0.061},
    "zeroshot_rmse": {"test6": 0.0523, "test7": 0.0573},
    "np172_mse": {"one-stage": 1.95, "two-stage": 0.66},
    "sizes_tau": {
        "nb201": {
            "Neural Predictor (paper)": (0.343, 0.413, 0.584, 0.634, 0.646),
            "TNASP": (0.539, 0.589, 0.640, 0.689, 0.724),
            "PINAT": (0.549, 0.631, 0.706, 0.761, 0.784),
        },
        "nb101": {
            "Neural Predictor (paper)": (0.391, 0.545, 0.679, 0.769),
            "TNASP": (0.600, 0.669, 0.705, 0.820),
            "PINAT": (0.679, 0.715, 0.772, 0.846),
        },
    },
}

# variant name -> (predictor, config); the harness adds the epochs for the training-set size.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "gnn": ("gnn", {}),
    "gnn+rank": ("gnn", {"loss": "mse+rank"}),
    "neural-predictor": ("neural-predictor", {}),
    "neural-predictor+rank": ("neural-predictor", {"loss": "mse+rank"}),
    "neural-predictor+ens5": ("neural-predictor", {"ensemble": 5}),
    "neural-predictor+rank+ens5": ("neural-predictor", {"loss": "mse+rank", "ensemble": 5}),
    "neural-predictor+tuned": ("neural-predictor", {"lr": 3e-3, "weight_decay": 0.0, "_visits": 40_000}),
    "gnn-d64": ("gnn", {"d_node": 64, "_visits": 30_000}),
    "gnn-d64-long": ("gnn", {"d_node": 64, "_visits": 100_000}),
    "gnn-d64+rank": ("gnn", {"d_node": 64, "loss": "mse+rank", "_visits": 30_000}),
    "gnn-d64+ens5": ("gnn", {"d_node": 64, "ensemble": 5, "_visits": 30_000}),
    "neural-predictor+cv": ("neural-predictor", {"cv_folds": 3}),
    "random-forest-wd": ("random-forest", {"features": "wide-depth"}),
    "random-forest-onehot": ("random-forest", {"features": "onehot"}),
    "mlp": ("mlp", {}),
    "mlp+aug4": ("mlp", {"augment": 4}),
    "mlp+rank": ("mlp", {"loss": "mse+rank"}),
    "lstm": ("lstm", {}),
    "lstm+aug4": ("lstm", {"augment": 4}),
}
TRICKS = (
    ("neural-predictor", None),
    ("neural-predictor+tuned", "neural-predictor"),
    ("neural-predictor+cv", "neural-predictor"),
    ("neural-predictor+rank", "neural-predictor"),
    ("neural-predictor+ens5", "neural-predictor"),
    ("neural-predictor+rank+ens5", "neural-predictor"),
    ("gnn", None),
    ("gnn+rank", "gnn"),
    ("gnn-d64", "gnn"),
    ("gnn-d64-long", "gnn-d64"),
    ("gnn-d64+rank", "gnn-d64"),
    ("gnn-d64+ens5", "gnn-d64"),
    ("mlp", None),
    ("mlp+aug4", "mlp"),
    ("mlp+rank", "mlp"),
    ("lstm", None),
    ("lstm+aug4", "lstm"),
)
TRICK_SIZES = {"nb201": 156, "nb101": 172}


def epochs_for(name: str, n: int, quick: bool | str, visits: int | None = None) -> dict[str, Any]:
    """Training length by size: about ``visits`` graph presentations, within [low, high] epochs.
    The paper profile uses the predictors' own defaults (100 / 300 epochs)."""
    if quick == "smoke":  # for tests: one epoch, five trees
        return {"n_estimators": 5} if name == "random-forest" else {"epochs": 1, "batch_size": 64}
    if not quick or name == "random-forest":
        return {}
    default, low, high = {
        "gnn": (6_000, 5, 60),
        "neural-predictor": (12_000, 10, 150),
        "mlp": (30_000, 10, 200),
        "lstm": (12_000, 5, 100),
    }[name]
    if visits:  # a variant's own budget may use more epochs on small sets
        high = max(high, 200)
    visits = visits or default
    batch = 32 if n < 1000 else 128
    return {"epochs": int(min(high, max(low, round(visits / n)))), "batch_size": batch}


# -- the run ----------------------------------------------------------------------------------------
class Harness:
    def __init__(self, args: argparse.Namespace) -> None:
        import numpy as np

        self.np = np
        self.args = args
        self.quick = {"quick": True, "paper": False, "smoke": "smoke"}[args.profile]
        self.json_path = Path(args.out).with_suffix(".json")
        self.md_path = Path(args.out).with_suffix(".md")
        self.report: dict[str, Any] = {"results": {}}
        if self.json_path.exists() and not args.fresh:
            self.report = json.loads(self.json_path.read_text())
        commands = self.report.setdefault("commands", [])
        if args.command_line not in commands:
            commands.append(args.command_line)
        self.report["meta"] = {
            "profile": args.profile,
            "seeds": args.seeds,
            "threads": args.threads,
            "device": args.device,
            "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        }
        self.benchmarks: dict[str, Any] = {}

    def bench(self, name: str):
        if name not in self.benchmarks:
            from archpred.data import load_benchmark

            self.benchmarks[name] = load_benchmark(name)
        return self.benchmarks[name]

    def save(self) -> None:
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.json_path.with_name(self.json_path.name + ".tmp")
        tmp.write_text(json.dumps(self.report, indent=1, sort_keys=True))
        os.replace(tmp, self.json_path)
        self.md_path.write_text(render_markdown(self.report))

    def fit_eval(
        self, key: str, space: str, variant: str, train, test, seed: int, extra=None, report_above=None
    ) -> dict | None:
        """Fit one variant on rows ``train`` of a benchmark, score on rows ``test``; cached by key.
        ``report_above``: also the MSE on the test cells at or above this accuracy."""
        cached = self.report["results"].get(key)
        if cached is not None and (report_above is None or "mse_above_threshold" in cached):
            return cached
        from archpred.metrics import evaluate
        from archpred.predictors import make_predictor

        np = self.np
        bench = self.bench(space)
        name, config = VARIANTS[variant]
        config = dict(config)
        visits = config.pop("_visits", None)
        config = {**epochs_for(name, len(train), self.quick, visits), **config, **(extra or {})}
        model = make_predictor(name, seed=seed, device=self.args.device, progress=self.args.progress, **config)
        archs = [bench.archs[i] for i in train]
        start = time.perf_counter()
        model.fit(archs, bench.accuracy[train])
        fit_s = time.perf_counter() - start
        test_archs = [bench.archs[i] for i in test]
        start = time.perf_counter()
        pred = model.predict(test_archs)
        predict_s = time.perf_counter() - start
        y = bench.accuracy[test]
        record = {
            "space": space,
            "variant": variant,
            "predictor": name,
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()},
            "seed": seed,
            "n_train": len(train),
            "n_test": len(test),
            "fit_s": fit_s,
            "predict_per_s": len(test) / predict_s,
            **evaluate(y, pred, ["rmse", "mse", "mae", "kendall_tau", "spearman", "pearson"]),
        }
        above = config.get("threshold") or report_above
        if above is not None:
            top = y >= above
            record["mse_above_threshold"] = float(np.mean((y[top] - pred[top]) ** 2))
            record["n_above_threshold"] = int(top.sum())
        self.report["results"][key] = record
        self.save()
        print(
            f"{key}: tau {record['kendall_tau']:.3f} rmse {record['rmse']:.4f} fit {fit_s:.1f}s",
            file=sys.stderr,
            flush=True,
        )
        return record

    def variants(self, default: tuple[str, ...]) -> tuple[str, ...]:
        if self.args.predictors == "all":
            return default
        chosen = tuple(v.strip() for v in self.args.predictors.split(","))
        unknown = [v for v in chosen if v not in VARIANTS]
        if unknown:
            raise ValueError(f"unknown predictor variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
        return chosen

    # -- protocols ------------------------------------------------------------------------------------
    def split(self) -> None:
        np = self.np
        bench = self.bench("nb101")
        order = np.random.default_rng(0).permutation(len(bench))
        n_train, n_val = int(0.7 * len(bench)), int(0.2 * len(bench))
        train, test = order[:n_train], order[n_train + n_val :]
        for variant in self.variants(BASE):
            self.fit_eval(f"split/nb101/{variant}/s0", "nb101", variant, train, test, 0)

    def zeroshot(self) -> None:
        np = self.np
        bench = self.bench("nb101")
        size = np.array([a.num_vertices for a in bench.archs])
        for variant in self.variants(BASE):
            for held in (6, 7):
                train = np.flatnonzero(size != held) if held == 6 else np.flatnonzero(size < 7)
                test = np.flatnonzero(size == held)
                self.fit_eval(f"zeroshot/test{held}/{variant}/s0", "nb101", variant, train, test, 0)

    def np172(self) -> None:
        np = self.np
        bench = self.bench("nb101")
        cv = {"cv_folds": 3, "cv_hidden": [64, 144], "cv_lr": [1e-3], "cv_epochs": 100} if self.args.np_cv else {}
        for split in range(self.args.np_splits):
            order = np.random.default_rng(100 + split).permutation(len(bench))
            train, test = order[:172], order[172:]
            for mode, threshold in (("one-stage", None), ("two-stage", 0.91)):
                self.fit_eval(
                    f"np172/{mode}/s{split}",
                    "nb101",
                    "neural-predictor",
                    train,
                    test,
                    split,
                    {"threshold": threshold, **cv},
                    report_above=0.91,
                )

    def sizes(self) -> None:
        np = self.np
        for space in self.args.spaces.split(","):
            bench = self.bench(space)
            for n in SIZES[space]:
                for seed in range(self.args.seeds):
                    order = np.random.default_rng(1000 + seed).permutation(len(bench))
                    train, test = order[:n], order[n:]
                    for variant in self.variants(BASE):
                        self.fit_eval(f"sizes/{space}/{n}/{variant}/s{seed}", space, variant, train, test, seed)

    def tricks(self) -> None:
        np = self.np
        names = [v for v, _ in TRICKS]
        chosen = self.variants(tuple(names))
        for space, n in TRICK_SIZES.items():
            bench = self.bench(space)
            for seed in range(self.args.seeds):
                order = np.random.default_rng(1000 + seed).permutation(len(bench))  # the sizes protocol's splits
                train, test = order[:n], order[n:]
                for variant in chosen:
                    key = f"sizes/{space}/{n}/{variant}/s{seed}"  # shared with ``sizes`` when it ran it
                    self.fit_eval(key, space, variant, train, test, seed)

    def run(self) -> None:
        for protocol in self.args.protocols.split(","):
            if protocol not in PROTOCOLS:
                raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
        self.save()
        for protocol in self.args.protocols.split(","):
            getattr(self, protocol)()
        self.save()


# -- the markdown ---------------------------------------------------------------------------------------
def _group(results: dict[str, dict], prefix: str) -> dict[str, list[dict]]:
    """Records under ``prefix`` grouped by their key without the trailing ``/s{seed}``."""
    out: dict[str, list[dict]] = {}
    for key, record in results.items():
        if key.startswith(prefix):
            out.setdefault(key.rsplit("/", 1)[0], []).append(record)
    return out


def _ms(records: list[dict], metric: str, fmt: str = ".3f", scale: float = 1.0) -> str:
    import numpy as np

    values = np.array([r[metric] for r in records if metric in r], dtype=np.float64) * scale
    if not len(values):
        return "-"
    bad = int(np.sum(~np.isfinite(values)))
    note = f", {bad} constant" if bad else ""  # a collapsed fit predicts one value: no rank correlation
    values = values[np.isfinite(values)]
    if not len(values):
        return f"nan (n={bad}, constant predictions)"
    if len(values) == 1 and not bad:
        return format(values[0], fmt)
    return f"{format(values.mean(), fmt)} ± {format(values.std(), fmt)} (n={len(values)}{note})"


def _mean(res: dict[str, dict], prefix: str, metric: str) -> float | None:
    import numpy as np

    values = [r[metric] for k, r in res.items() if k.rsplit("/", 1)[0] == prefix and metric in r]
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else None


def headlines(res: dict[str, dict]) -> list[str]:
    """Our headline numbers beside the papers'."""
    out = []
    gnn = _mean(res, "split/nb101/gnn", "rmse")
    others = {
        v: _mean(res, f"split/nb101/{v}", "rmse") for v in BASE if v != "gnn" and _mean(res, f"split/nb101/{v}", "rmse")
    }
    if gnn is not None:
        best = min(others, key=others.get) if others else None
        tail = f", best baseline {best} {others[best]:.4f}" if best else ""
        out.append(
            f"- NB-101 70/20/10: GNN RMSE **{gnn:.4f}**{tail} (paper: GNN {PAPER['split_rmse']['gnn']}, "
            f"best baseline {PAPER['split_rmse']['best baseline']})."
        )
    z6, z7 = _mean(res, "zeroshot/test6/gnn", "rmse"), _mean(res, "zeroshot/test7/gnn", "rmse")
    if z6 is not None or z7 is not None:
        f6 = f"{z6:.4f}" if z6 is not None else "-"
        f7 = f"{z7:.4f}" if z7 is not None else "-"
        out.append(
            f"- Zero-shot by cell size, GNN RMSE: test on 6 vertices **{f6}**, on 7 **{f7}** "
            f"(paper {PAPER['zeroshot_rmse']['test6']} / {PAPER['zeroshot_rmse']['test7']})."
        )
    one = _mean(res, "np172/one-stage", "mse_above_threshold")
    two = _mean(res, "np172/two-stage", "mse_above_threshold")
    one_all, two_all = _mean(res, "np172/one-stage", "mse"), _mean(res, "np172/two-stage", "mse")
    if one is not None and two is not None:
        out.append(
            f"- Neural Predictor, NB-101, N = 172: MSE on the cells >= 91%, one-stage **{one * 1e4:.2f}** vs "
            f"two-stage **{two * 1e4:.2f}** %^2 (paper 1.95 vs 0.66); on all cells {one_all * 1e4:.2f} vs "
            f"{two_all * 1e4:.2f} %^2 (a few NB-101 cells near 10% accuracy dominate the all-cell MSE)."
        )
    for space in ("nb201", "nb101"):
        cells = []
        for i, n in enumerate(SIZES[space]):
            best, which = None, None
            for key in {k.rsplit("/", 1)[0] for k in res if k.startswith(f"sizes/{space}/{n}/")}:
                value = _mean(res, key, "kendall_tau")
                if value is not None and (best is None or value > best):
                    best, which = value, key.split("/")[3]
            if best is not None:
                pinat = PAPER["sizes_tau"][space]["PINAT"][i]
                cells.append(f"N={n}: **{best:.3f}** ({which}) vs PINAT {pinat:.3f}")
        if cells:
            out.append(f"- Kendall tau, {space.upper()}, best of ours vs the best published: " + "; ".join(cells) + ".")
    if not out:
        return []
    return ["## Headlines", "", *out, ""]


def render_markdown(report: dict[str, Any]) -> str:
    import numpy as np

    res = report.get("results", {})
    meta = report.get("meta", {})
    lines = [
        "# Accuracy predictors: reproduction report",
        "",
        "Produced by (in this order; a rerun skips the fits its JSON already holds):",
        "",
        "```",
        *report.get("commands", ["python -m archpred bench predictors"]),
        "```",
        "",
        f"Profile `{meta.get('profile')}`; seeds per cell as `n` in each table (size sweeps 5, tricks 3, "
        "70/20/10 and zero-shot 1 split each); torch threads "
        f"{meta.get('threads')}, device `{meta.get('device')}` ({meta.get('cpu_count')} CPUs, Python "
        f"{meta.get('python')}). No GPU was available for this run. Data: our NB-101 is a uniform "
        "4.7% sample of the benchmark (20,001 of 423,624 cells, one training run's `val_acc_108` each); "
        "NB-201 is all 15,625 cells (CIFAR-10 validation accuracy, mean over 2-3 seeds). All numbers are "
        "ours unless a column says *paper*.",
        "",
    ]
    names = {
        "random-forest-wd": "RF (wide/depth)",
        "random-forest-onehot": "RF (one-hot)",
    }
    lines += headlines(res)

    split = _group(res, "split/")
    if split:
        lines += [
            "## GNN paper: NB-101 supervised 70/20/10 split",
            "",
            "Train 14,000 cells, test on the 10% part (2,001 cells); the 20% validation part is not used "
            "(fixed epochs, no early stopping). Paper (trained on 70% of all 423,624 cells): "
            f"GNN RMSE {PAPER['split_rmse']['gnn']}, best baseline {PAPER['split_rmse']['best baseline']}.",
            "",
            "| predictor | RMSE | MAE | Kendall tau | Spearman | fit (s) | predict (archs/s) | epochs |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for key, recs in split.items():
            v = key.split("/")[2]
            lines.append(
                f"| {names.get(v, v)} | {_ms(recs, 'rmse', '.4f')} | {_ms(recs, 'mae', '.4f')} | "
                f"{_ms(recs, 'kendall_tau')} | {_ms(recs, 'spearman')} | {_ms(recs, 'fit_s', '.0f')} | "
                f"{_ms(recs, 'predict_per_s', '.0f')} | {recs[0]['config'].get('epochs', '-')} |"
            )
        lines.append("")

    zs = _group(res, "zeroshot/")
    if zs:
        lines += [
            "## GNN paper: zero-shot by cell size (NB-101)",
            "",
            "RMSE on cells of a size never seen in training. *test 6*: train on cells of 2, 3, 4, 5 and 7 "
            "vertices, test on the 6-vertex ones; *test 7*: train on 2-6, test on 7. Paper GNN: "
            f"{PAPER['zeroshot_rmse']['test6']} / {PAPER['zeroshot_rmse']['test7']}.",
            "",
            "| predictor | test 6: n train / n test | RMSE | Kendall tau | test 7: n train / n test | RMSE | Kendall tau |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        variants = sorted({k.split("/")[2] for k in zs}, key=lambda v: BASE.index(v) if v in BASE else 99)
        for v in variants:
            cells = []
            for held in (6, 7):
                recs = zs.get(f"zeroshot/test{held}/{v}", [])
                if recs:
                    cells += [
                        f"{recs[0]['n_train']} / {recs[0]['n_test']}",
                        _ms(recs, "rmse", ".4f"),
                        _ms(recs, "kendall_tau"),
                    ]
                else:
                    cells += ["-", "-", "-"]
            lines.append(f"| {names.get(v, v)} | " + " | ".join(cells) + " |")
        lines.append("")

    np172 = _group(res, "np172/")
    if np172:
        lines += [
            "## Neural Predictor: NB-101, N = 172, one- vs two-stage",
            "",
            "Validation MSE in %^2 on all other cells (and on those at or above 91%), mean ± std over "
            f"random splits. Paper: one-stage {PAPER['np172_mse']['one-stage']}, two-stage "
            f"{PAPER['np172_mse']['two-stage']}.",
            "",
            "| mode | MSE (%^2), all | MSE (%^2), >= 91% | Kendall tau | paper MSE |",
            "| --- | --- | --- | --- | --- |",
        ]
        for key, recs in np172.items():
            mode = key.split("/")[1]
            lines.append(
                f"| {mode} | {_ms(recs, 'mse', '.2f', 1e4)} | {_ms(recs, 'mse_above_threshold', '.2f', 1e4)} | "
                f"{_ms(recs, 'kendall_tau')} | {PAPER['np172_mse'][mode]} |"
            )
        lines.append("")

    for space in ("nb201", "nb101"):
        sizes = _group(res, f"sizes/{space}/")
        if not sizes:
            continue
        ns = SIZES[space]
        variants: list[str] = []
        for key in sizes:
            v = key.split("/")[3]
            if v not in variants:
                variants.append(v)
        title = "NB-201 (CIFAR-10)" if space == "nb201" else "NB-101"
        for metric, label in (("kendall_tau", "Kendall tau"), ("spearman", "Spearman")):
            lines += [
                f"## {label} vs training-set size: {title}",
                "",
                "Tested on all other cells; mean ± std over seeds (n = seeds).",
                "",
                "| predictor | " + " | ".join(str(n) for n in ns) + " |",
                "| --- |" + " --- |" * len(ns),
            ]
            best = {}
            for v in variants:
                cells = []
                for n in ns:
                    recs = sizes.get(f"sizes/{space}/{n}/{v}", [])
                    cells.append(_ms(recs, metric) if recs else "-")
                    finite = [r[metric] for r in recs if np.isfinite(r[metric])]
                    if finite:
                        best[n] = max(best.get(n, -1), float(np.mean(finite)))
                lines.append(f"| {names.get(v, v)} | " + " | ".join(cells) + " |")
            if metric == "kendall_tau":
                for paper, values in PAPER["sizes_tau"][space].items():
                    lines.append(f"| *{paper}* | " + " | ".join(f"*{x:.3f}*" for x in values) + " |")
                lines.append(
                    "| **best of ours** | " + " | ".join(f"**{best[n]:.3f}**" if n in best else "-" for n in ns) + " |"
                )
            lines.append("")

    tricks = []
    for variant, base in TRICKS:
        row = []
        for space, n in TRICK_SIZES.items():
            recs = _group(res, f"sizes/{space}/{n}/").get(f"sizes/{space}/{n}/{variant}", [])
            base_recs = _group(res, f"sizes/{space}/{n}/").get(f"sizes/{space}/{n}/{base}", []) if base else []
            if recs:
                # the delta pairs the seeds both variants ran (same training cells)
                ours = {r["seed"]: r["kendall_tau"] for r in recs if np.isfinite(r["kendall_tau"])}
                theirs = {r["seed"]: r["kendall_tau"] for r in base_recs if np.isfinite(r["kendall_tau"])}
                common = sorted(set(ours) & set(theirs))
                if not base_recs:
                    delta = "(base)"
                elif common:
                    delta = f"{np.mean([ours[k] - theirs[k] for k in common]):+.3f} (n={len(common)})"
                else:
                    delta = "n/a"
                row += [_ms(recs, "kendall_tau"), delta]
            else:
                row += ["-", "-"]
        if any(c != "-" for c in row):
            tricks.append(f"| {variant} | " + " | ".join(row) + " |")
    if tricks:
        lines += [
            "## What each trick adds (Kendall tau, same splits as the size sweep)",
            "",
            "NB-201 at N = 156 and NB-101 at N = 172; delta against the plain variant on the same seeds (same "
            "training cells). *rank*: MSE plus a "
            "pairwise hinge ranking loss; *ens5*: mean of 5 networks trained with different seeds; *aug4*: "
            "4 isomorphic copies of every training cell (random topological relabelings); *tuned*: lr 3e-3, "
            "no weight decay, about 40k graph presentations instead of 12k (Neural Predictor CV, ``--np-cv``, was "
            "not run for lack of CPU time); *gnn-d64*: the GNN with d_n = 64 "
            "(everything else as in the paper) trained for about 30k presentations instead of 6k; *long*: 100k. The GNN and the Neural "
            "Predictor are permutation invariant, so isomorphic augmentation cannot change them: it is "
            "measured on the one-hot models.",
            "",
            "| variant | NB-201 N=156 tau | delta | NB-101 N=172 tau | delta |",
            "| --- | --- | --- | --- | --- |",
            *tricks,
            "",
        ]

    speed = {}
    for rec in res.values():
        v = rec["variant"]
        speed.setdefault(v, []).append(rec)
    if speed:
        lines += [
            "## Fit time and prediction throughput (CPU)",
            "",
            "Over every fit of this report: median fit time per training cell and epoch where it applies, and "
            "median prediction throughput (architectures per second, batches of 2,048). GPU: not available "
            "to this run.",
            "",
            "| variant | fits | median fit (s) | median fit per 1k cells (s) | median predict (archs/s) |",
            "| --- | --- | --- | --- | --- |",
        ]
        for v, recs in speed.items():
            fit = np.median([r["fit_s"] for r in recs])
            per_k = np.median([1000 * r["fit_s"] / r["n_train"] for r in recs])
            thr = np.median([r["predict_per_s"] for r in recs])
            lines.append(f"| {names.get(v, v)} | {len(recs)} | {fit:.1f} | {per_k:.2f} | {thr:,.0f} |")
        lines.append("")
    lines += [
        "## Reading these numbers",
        "",
        "- The GNN paper's RMSEs come from 70/20/10 splits of the whole NB-101 (about 21 times our training "
        "data) and are higher than ours for every model, baselines included: our 4.7% sample and its single-run "
        "`val_acc_108` make a different target, so compare the ordering of the models, not absolute RMSEs.",
        "- Zero-shot *test 7* trains on the 3,054 smaller cells only and is scored on the 16,947 seven-vertex "
        "cells, whose few failed runs (accuracy near 10%) weigh heavily on the RMSE; Kendall tau is the fairer "
        "view of the transfer.",
        "- Neural Predictor, N = 172: the MSE over all cells is dominated by those failed runs, which neither "
        "stage can foresee; on the cells at or above 91% (the region the two-stage design is for), the two-stage "
        "predictor cuts the MSE by about half, as in the paper.",
        "- The `quick` profile gives the Neural Predictor only about 12k graph presentations, so it falls behind "
        "as N grows (its tau even drops); `neural-predictor+tuned` (40k presentations, lr 3e-3) shows how much "
        "of that is training length on NB-201; on NB-101 the same setting collapses to a constant prediction "
        "in every seed (an instability we did not chase), so the paper-style lr 1e-3 with weight decay stays "
        "the default. Likewise the GNN at d_n = 250 gets only 5 epochs on the large splits.",
        "- Fit times are wall-clock on a CPU shared with other jobs (2 cores, 4 developers): compare them within "
        "this report only.",
        "",
        "## Configurations",
        "",
        "Profile `quick` (the CPU here is 2 cores shared by 4 developers) trains each network for about a "
        "fixed number of graph presentations (GNN 6k, Neural Predictor 12k, MLP 30k, LSTM 12k), clipped to an "
        "epoch range (GNN 5-60, NP 10-150, MLP 10-200, LSTM 5-100), batch 32 below 1,000 training cells and "
        "128 above, Adam with a cosine schedule; random forests use 100 trees. The GNN keeps the paper's "
        "sizes (d_n = 250, d_g = 56, T = 2). The exact config of every fit is in the JSON.",
        "",
    ]
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predictors", help="reproduce the GNN-surrogate and Neural Predictor papers' protocols")
    p.add_argument("--out", default="reports/predictors", help="report path without suffix (.json and .md)")
    p.add_argument("--protocols", default=",".join(PROTOCOLS), help=f"comma list of {', '.join(PROTOCOLS)}")
    p.add_argument("--predictors", default="all", help=f"comma list of variants: {', '.join(VARIANTS)}")
    p.add_argument("--spaces", default="nb201,nb101", help="spaces of the size sweep")
    p.add_argument("--seeds", type=int, default=5, help="seeds of the size sweep and the tricks")
    p.add_argument("--np-splits", type=int, default=10, help="random splits of the N=172 experiment")
    p.add_argument("--np-cv", action="store_true", help="N=172: choose hidden size by 3-fold CV (slower)")
    p.add_argument("--profile", choices=["quick", "paper", "smoke"], default="quick", help="training lengths")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--fresh", action="store_true", help="ignore results already in the JSON")
    p.add_argument("--progress", action="store_true", help="progress bars of every fit")
    p.add_argument("--render-only", action="store_true", help="rewrite the markdown from the JSON and stop")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(args.threads)
    from_cli = Path(sys.argv[0]).parent.name == "archpred" or Path(sys.argv[0]).name == "archpred"
    args.command_line = "python -m archpred " + " ".join(sys.argv[1:]) if from_cli else ""
    if not args.command_line:
        args.command_line = "python -m archpred bench predictors " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k in ("out", "protocols", "seeds")
        )
    if args.render_only:
        path = Path(args.out).with_suffix(".json")
        report = json.loads(path.read_text())
        Path(args.out).with_suffix(".md").write_text(render_markdown(report))
        return 0
    Harness(args).run()
    return 0
