"""GENNAPE's CG local search beside the paper's Table 7 (``python -m archpred bench cg-search``).

For each start (the best CIFAR-10 cell of NB-101 and of NB-201 in our tables) the search of
``archpred.search.cg_local`` runs on the CIFAR-10-sized network, ranked by the CL+FCM+T member
(NB-101: the pretrained model, which learnt NB-101; NB-201: that model fine-tuned on 50 random
NB-201 cells, as the paper fine-tunes). The paper then trains the start and the found network
on CIFAR-10; that is out of this machine's reach, so both are trained here on scikit-learn's
digits (the same cell built for 8 x 8 images, the found network's edits replayed on it) for a
few seeds: a real measurement, on a much easier task than the paper's.

Each search logs its rounds (resumable, one log per settings); the JSON report is rewritten as
each start finishes, and a start finished with the same settings is not run again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archpred.artifacts import atomic_write_text

# Paper Table 7 (their FLOPs counting; CIFAR-10 top-1 after training).
PAPER = {
    "nb101": {"best": {"flops": 11.72e9, "acc": 94.97}, "search": {"flops": 9.49e9, "acc": 95.05}},
    "nb201": {"best": {"flops": 313e6, "acc": 93.27}, "search": {"flops": 283e6, "acc": 93.62}},
}
DIGITS_SHAPE = (1, 8, 8)
CIFAR_SHAPE = (3, 32, 32)


@dataclass(frozen=True)
class CGSearchBenchConfig:
    """What ``bench cg-search`` runs (defaults: the paper's 6 rounds)."""

    model: Path | None = None
    starts: tuple[str, ...] = ("nb201", "nb101")
    iterations: int = 6
    top_k: int = 5
    children: int = 4
    samples: int = 50  # fine-tuning cells for a start outside NB-101
    fine_tune_epochs: int = 100
    train_seeds: int = 3
    train_epochs: int = 15
    train_width: int = 16  # digits networks' stem channels (NB-201's own; NB-101's 128 would take hours here)
    workdir: Path | None = None  # the searches' round logs (None: $ARCHPRED_CACHE_DIR/gennape/cg-search)
    out: Path = Path("reports/gennape_search.json")
    device: str = "auto"
    command: str = ""


def start_cell(space: str) -> tuple[Any, float, str]:
    """The start: the family's best cell by its metric, that accuracy and the metric's name."""
    bench, metric, values = _family_table(space)
    best = int(np.nanargmax(values))
    return bench.archs[best], float(values[best]), metric


def _family_table(space: str) -> tuple[Any, str, np.ndarray]:
    """The family's benchmark, its metric (``family_metric``) and that metric's values."""
    from archpred.data import load_benchmark
    from archpred.gennape.families import FAMILIES, family_metric

    spec = FAMILIES[space]
    bench = load_benchmark(spec.benchmark)
    metric = family_metric(spec, bench)
    return bench, metric, np.asarray(bench.metrics[metric], dtype=np.float64)


def ranking_model(model: Any, space: str, samples: int, epochs: int, device: str) -> Any:
    """The model that ranks a start's mutants: as is for NB-101 (its training family), else
    fine-tuned on ``samples`` cells drawn at random (seed 0) from the family's whole table."""
    if space == "nb101":
        return model
    from archpred.gennape.inputs import to_graphs
    from archpred.gennape.model import FineTuneSettings

    bench, _, values = _family_table(space)
    rows = np.random.default_rng(0).choice(np.flatnonzero(np.isfinite(values)), samples, replace=False)
    graphs = to_graphs([bench.archs[r] for r in rows], space=bench.space.name)
    settings = FineTuneSettings(epochs=epochs)
    return model.fine_tune(graphs, values[rows], seed=0, settings=settings, device=device)


def digits_accuracy(network: Any, seeds: int, epochs: int, device: str) -> list[float]:
    """Test accuracies on digits of ``network`` trained from ``seeds`` initialisations."""
    import copy

    from archpred.networks.train import TrainConfig, train_classifier

    out = []
    for seed in range(seeds):
        config = TrainConfig(epochs=epochs, seed=seed, device=device)
        out.append(float(train_classifier(copy.deepcopy(network), config=config, progress=False)["test_acc"]))
    return out


def run_cg_search(config: CGSearchBenchConfig, log: Any = print) -> dict[str, Any]:
    """Run (or finish) every start's search and training; returns the report's data."""
    import torch

    from archpred.gennape.model import SHIPPED, load_gennape
    from archpred.gennape.mutations import apply_edits
    from archpred.networks import build_network
    from archpred.search import cg_local

    path = Path(config.model) if config.model is not None else SHIPPED
    model = load_gennape(path, device=config.device)
    out = Path(config.out)
    data = json.loads(out.read_text()) if out.is_file() else {}
    data["meta"] = {"model": str(path), "command": config.command, "config": _jsonable(config)}
    data.setdefault("results", {})
    for space in config.starts:
        settings = _settings(config, path, space)
        if data["results"].get(space, {}).get("settings") == settings:
            log(f"{space}: done already")
            continue
        t0 = time.time()
        arch, acc, metric = start_cell(space)
        ranker = ranking_model(model, space, config.samples, config.fine_tune_epochs, config.device)
        with torch.device("meta"):  # shapes only: the CIFAR-10-sized network is never trained here
            net = build_network(arch, space)
        searched = {k: v for k, v in settings.items() if not k.startswith("train_")}
        tag = hashlib.sha256(json.dumps(searched, sort_keys=True).encode()).hexdigest()[:10]  # one log per search
        search = cg_local.run_cg_search(
            ranker, net, CIFAR_SHAPE, np.random.default_rng(0), iterations=config.iterations, top_k=config.top_k,
            children=config.children, log=_workdir(config) / f"{space}-{tag}.jsonl",
            progress=lambda r, n, b, s=space: log(f"{s}: round {r}/{n}, best predicted {b.predicted:.4f} at {b.flops / 1e6:.1f} MFLOPs"),
        )  # fmt: skip
        start, found = search.pool[0], search.best()
        small = build_network(
            arch,
            space,
            in_channels=DIGITS_SHAPE[0],
            input_size=DIGITS_SHAPE[1],
            num_classes=10,
            width=config.train_width,
        )
        digits = {
            role: digits_accuracy(net_, config.train_seeds, config.train_epochs, config.device)
            for role, net_ in (("start", small), ("found", apply_edits(small, found.edits, DIGITS_SHAPE)))
        }
        data["results"][space] = {
            "settings": settings,
            "cell": arch.to_dict(),
            "metric": metric,
            "table_acc": acc,
            "networks_ranked": len(search.pool),
            "seconds": time.time() - t0,
            "start": start.to_dict(),
            "found": found.to_dict(),
            "digits": digits,
        }
        atomic_write_text(out, json.dumps(data, indent=1))
        log(f"{space}: done in {time.time() - t0:.0f} s")
    render_report(data, out.with_suffix(".md"))
    return data


def _workdir(config: CGSearchBenchConfig) -> Path:
    from archpred.paths import cache_dir

    return Path(config.workdir) if config.workdir is not None else cache_dir("gennape", "cg-search")


def _settings(config: CGSearchBenchConfig, model: Path, space: str) -> dict[str, Any]:
    """What a start's result depends on: a finished result with the same settings is kept."""
    fields = ("iterations", "top_k", "children", "train_seeds", "train_epochs", "train_width")
    tuned = {"samples": config.samples, "fine_tune_epochs": config.fine_tune_epochs} if space != "nb101" else {}
    return {"model": str(model), **{f: getattr(config, f) for f in fields}, **tuned}


def _jsonable(config: CGSearchBenchConfig) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v) for k, v in vars(config).items()
    }


def render_report(data: dict[str, Any], path: Path | None = None) -> str:
    """The Markdown report of ``run_cg_search``'s data (written to ``path`` too)."""
    meta, results = data.get("meta", {}), data.get("results", {})
    cfg = meta.get("config", {})
    lines = [
        "# GENNAPE's CG local search (paper Table 7)",
        "",
        f"Command: `{meta.get('command', '')}`  ",
        f"Model: `{meta.get('model', '')}`; {cfg.get('iterations')} rounds, top-k {cfg.get('top_k')}, "
        f"{cfg.get('children')} mutants per kept network, ranked by CL+FCM+T "
        f"(NB-201: fine-tuned on {cfg.get('samples')} random NB-201 cells).",
        "",
        "FLOPs are ours (multiply-adds of one 32 x 32 image, conv and linear layers); the paper counts",
        "differently (its NB-101 best has 11.72 G). Accuracy: the paper trains on CIFAR-10; here both",
        f"networks are trained on digits (8 x 8, stem width {cfg.get('train_width')}, {cfg.get('train_epochs')} epochs, "
        f"mean +- std over {cfg.get('train_seeds')} seeds): a real but much easier task.",
        "",
        "| start | network | FLOPs (ours) | params | predicted | digits test acc | paper FLOPs | paper CIFAR-10 top-1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for space, r in results.items():
        digits = r.get("digits", {})
        for role in ("start", "found"):
            n = r[role]
            paper = PAPER.get(space, {}).get("best" if role == "start" else "search", {})
            accs = digits.get(role, [])
            acc = f"{100 * np.mean(accs):.2f} +- {100 * np.std(accs):.2f}" if accs else "-"
            label = f"{space.upper()}-{'Best' if role == 'start' else 'Search'}"
            lines.append(
                f"| {space} | {label} ({len(n['edits'])} edits) | {n['flops'] / 1e6:.1f} M | {n['params'] / 1e6:.2f} M | "
                f"{100 * n['predicted']:.2f} | {acc} | {_flops(paper.get('flops'))} | {paper.get('acc', '-')} |"
            )
    lines.append("")
    for space, r in results.items():
        lines.append(
            f"**{space}**: start cell best by `{r['metric']}` ({100 * r['table_acc']:.2f} % in our table), "
            f"{r['networks_ranked']} networks ranked; {r['seconds']:.0f} s with the digits trainings. Found network's edits:"
        )
        lines.extend(f"- `{' -> '.join(e['nodes'])}` replaced by `{e['core']}`" for e in r["found"]["edits"])
        if not r["found"]["edits"]:
            lines.append("- none: no mutant with no more FLOPs was predicted better than the start")
        lines.append("")
    text = "\n".join(lines)
    if path is not None:
        atomic_write_text(Path(path), text)
    return text


def _flops(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v / 1e9:.2f} G" if v >= 1e9 else f"{v / 1e6:.0f} M"
