"""``bench gennape``: GENNAPE pretrained on NB-101, measured zero-shot and fine-tuned on unseen
families, beside the paper (Mills et al., AAAI 2023, Tables 1 and 3-10).

For every test family: each member alone (CL, CL+T, CL+FCM, CL+FCM+T, the two pairwise
classifiers, the k-GNN, FLOPs) and the GENNAPE ensemble; baselines params-only and, on the
NB-201 cells NASLib scored, the zero-cost proxies. Zero-shot on every cell; fine-tuned on 50
random cells per seed (the same cells for every member), evaluated on the rest. NB-201 is also
reported on the 4,096 cells without ``none``, the subset the paper uses. Every finished result is
merged into the JSON report at once, and a rerun skips what it holds (same model file).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from archpred.artifacts import atomic_write_text
from archpred.errors import InvalidOption

# Paper numbers (Mills et al. 2023): NB-101 Table 3; NB-201 Tables 1, 5, 6, 8-10.
PAPER: dict[str, dict[str, float]] = {
    "nb101/cl+fcm+t": {"mae": 0.0059, "srcc": 0.930},
    "nb101/cl+t": {"mae": 0.0065, "srcc": 0.921},
    "nb101/cl+fcm": {"mae": 0.0119, "srcc": 0.896},
    "nb101/cl": {"mae": 0.0151, "srcc": 0.874},
    "nb101/kgnn": {"mae": 0.0161, "srcc": 0.814},
    "zero_shot/nb201/gennape": {"srcc": 0.8146, "kendall_tau": 0.6202, "ndcg@10": 0.9793, "ndcg@50": 0.9836},
    "zero_shot/nb201/kgnn": {"srcc": 0.4930, "kendall_tau": 0.3382, "ndcg@10": 0.9270, "ndcg@50": 0.9495},
    "zero_shot/nb201/cl": {"srcc": 0.8520, "kendall_tau": 0.6554, "ndcg@10": 0.9845, "ndcg@50": 0.9848},
    "zero_shot/nb201/cl+t": {"srcc": 0.7834, "kendall_tau": 0.5855, "ndcg@10": 0.9856, "ndcg@50": 0.9859},
    "zero_shot/nb201/cl+fcm+t": {"srcc": 0.7647, "kendall_tau": 0.5719, "ndcg@10": 0.9868, "ndcg@50": 0.9847},
    "zero_shot/nb201/cl+pairwise": {"srcc": 0.8151, "kendall_tau": 0.6253, "ndcg@10": 0.9755, "ndcg@50": 0.9793},
    "zero_shot/nb201/cl+fcm+pairwise": {"srcc": 0.8503, "kendall_tau": 0.6572, "ndcg@10": 0.9858, "ndcg@50": 0.9872},
    "zero_shot/nb201/flops": {"srcc": 0.001},
    "zero_shot/nb201/synflow": {"srcc": 0.823},
    "zero_shot/nb201/jacov": {"srcc": 0.859},
    "zero_shot/nb201/fisher": {"srcc": 0.687},
    "zero_shot/nb201/snip": {"srcc": 0.718},
    "fine_tuned/nb201/gennape": {"srcc": 0.9103, "kendall_tau": 0.7415, "ndcg@10": 0.9855, "ndcg@50": 0.9885},
    "fine_tuned/nb201/kgnn": {"srcc": 0.8606, "kendall_tau": 0.6772, "ndcg@10": 0.9751, "ndcg@50": 0.9819},
    "fine_tuned/nb201/cl+fcm+t": {"srcc": 0.8281, "kendall_tau": 0.6376, "ndcg@10": 0.9834, "ndcg@50": 0.9848},
    "fine_tuned/nb201/cl+t": {"srcc": 0.8309, "kendall_tau": 0.6430, "ndcg@10": 0.9818, "ndcg@50": 0.9822},
}
FAMILY_NOTES = {
    "enas": [
        "ENAS is a proxy family: its accuracies are the weight-sharing supernet's (the D-VAE data, std 0.6 %),",
        "not trained networks'; `--built-only` measured the cells whose CGs were cached: the first 1,000 of its",
        "20,015 in file order.",
        "",
    ],
    "io": [
        "The networks we trained ourselves (the IO dataset, `python -m archpred data io-build`): NB-101 cells",
        "trained on digits, their accuracy on held-out digits. The cells are of GENNAPE's training space, the",
        "task is not: this measures transfer to another dataset, not to another space. The paper has no such",
        "family; its MAE compares CIFAR-10-scale predictions with digits accuracies (read SRCC and NDCG).",
        "",
    ],
}
AIMS = {"zero_shot/nb201/gennape": {"srcc": 0.86, "ndcg@10": 0.98}, "fine_tuned/nb201/gennape": {"srcc": 0.92}}
METRICS = ("mae", "srcc", "kendall_tau", "ndcg@10", "ndcg@50", "ndcg@10 (2^rel)")


@dataclasses.dataclass(frozen=True)
class GennapeBenchConfig:
    """What ``run_gennape`` measures.

    Args:
        model: a GENNAPE file (None: the shipped one).
        families: test families (``families.FAMILIES`` minus nb101, and ``io``: the IO dataset's
            networks, NB-101 cells trained here on digits).
        limit: evaluate on a random subset of this many cells per family (None: every cell).
        built_only: only the cells whose CGs are cached (building all of NB-201 and ENAS takes
            hours on two cores); the report says how many cells each number covers.
        seeds: fine-tuning seeds; samples: labelled cells per fine-tuning; epochs: its epochs.
        fine_tune: run the fine-tuned protocol (slow: every member is trained per seed).
        out: JSON report (the Markdown beside it).
    """

    model: Path | None = None
    families: tuple[str, ...] = ("nb201", "macro", "enas")
    limit: int | None = None
    seeds: int = 5
    samples: int = 50
    epochs: int = 100
    fine_tune: bool = True
    speed: bool = True
    built_only: bool = False
    out: Path = Path("reports/gennape.json")
    device: str = "auto"
    command: str = ""


def ndcg_exp(y_true: np.ndarray, y_pred: np.ndarray, k: int = 10) -> float:
    """NDCG@k exactly as the paper computes it: relevance = accuracy rescaled to [0, 20], gain
    2^rel - 1 (scikit-learn's ``ndcg_score`` uses the relevance itself as the gain)."""
    from sklearn.metrics import ndcg_score

    span = y_true.max() - y_true.min()
    rel = np.zeros_like(y_true) if span == 0 else 20.0 * (y_true - y_true.min()) / span
    return float(ndcg_score((2.0**rel - 1.0)[None, :], np.asarray(y_pred)[None, :], k=k))


def score_metrics(y_true: np.ndarray, y_pred: np.ndarray, accuracy: bool) -> dict[str, float]:
    from archpred.metrics import kendall_tau, mae, ndcg_at_k, spearman

    out = {
        "n": float(len(y_true)),
        "srcc": spearman(y_true, y_pred),
        "kendall_tau": kendall_tau(y_true, y_pred),
        "ndcg@10": ndcg_at_k(y_true, y_pred, 10),
        "ndcg@50": ndcg_at_k(y_true, y_pred, 50),
        "ndcg@10 (2^rel)": ndcg_exp(y_true, y_pred, 10),
    }
    if accuracy:
        out["mae"] = mae(y_true, y_pred)
    return out


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


class _Report:
    """The JSON report: results merged and written the moment each is finished."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        data = json.loads(path.read_text()) if path.exists() else {}
        held = data.get("meta", {})
        if data.get("results") and held.get("model_digest") != meta["model_digest"]:
            # a report of another model is never overwritten: its results took hours
            raise InvalidOption(
                f"{path} holds the results of another model ({held.get('model')}, sha256 "
                f"{held.get('model_digest')}); pass --model for that one, or --out for a new report"
            )
        commands = [c for c in data.get("meta", {}).get("commands", []) if c != meta.get("command")]
        data["meta"] = {**data.get("meta", {}), **meta, "commands": [*commands, meta.get("command", "")]}
        self.data = data
        self.data.setdefault("results", {})
        atomic_write_text(self.path, json.dumps(self.data, indent=1))  # the command, even if nothing is new

    def has(self, key: str) -> bool:
        return key in self.data["results"]

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.data["results"][key] = value
        atomic_write_text(self.path, json.dumps(self.data, indent=1))


def _baselines(name: str, family: Any, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Params-only everywhere; NASLib's zero-cost proxies on the NB-201 cells they cover (NaN elsewhere)."""
    out = {"params": np.log10(family.graphs.params[rows] + 1.0)}
    if name == "nb201":
        from archpred.data.zero_cost import load_nb201_zero_cost
        from archpred.errors import DataNotFound

        try:
            zc = load_nb201_zero_cost("cifar10")
        except DataNotFound:  # a fresh machine: no NASLib file, no proxies
            return out
        keys = [family.graphs.keys[r] for r in rows]  # NB-201 keys are the official arch strings
        for proxy in ("synflow", "jacov", "fisher", "snip"):
            out[proxy] = np.array([zc.get(k, {}).get(proxy, np.nan) for k in keys])
    return out


def _subsets(name: str, family: Any, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Positions (into ``rows``) of each reported subset: all, and NB-201 without ``none``."""
    subsets = {"": np.arange(len(rows))}
    if name == "nb201":
        no_none = np.array(["none" not in family.graphs.keys[r] for r in rows])
        subsets["/no-none"] = np.flatnonzero(no_none)
    return subsets


def run_gennape(config: GennapeBenchConfig, log: Any = print) -> dict[str, Any]:
    """Measure (or finish measuring) the model; returns the report's data."""
    from archpred.gennape.families import IO_FAMILY, io_family, load_family
    from archpred.gennape.model import SHIPPED, load_gennape

    path = Path(config.model) if config.model is not None else SHIPPED
    model = load_gennape(path, device=config.device)
    report = _Report(
        Path(config.out),
        {
            "model": str(path),
            "model_digest": _file_digest(path),
            "command": config.command,
            "info": model.info,
            "fine_tune": {"samples": config.samples, "epochs": config.epochs},
        },
    )
    if config.speed and not report.has("speed"):
        report.put("speed", measure_speed(model, config.device))
    for name in config.families:
        t0 = time.time()
        if name == IO_FAMILY:
            family = io_family()
        else:
            family = load_family(
                name, progress=lambda d, n, name=name: log(f"{name}: CGs {d}/{n}"), built_only=config.built_only
            )
        rows = np.arange(len(family))
        if config.limit is not None and config.limit < len(rows):
            rows = np.sort(np.random.default_rng(0).choice(rows, config.limit, replace=False))
        acc = family.accuracy[rows]
        feats = model.features(family.graphs.subset(rows))
        log(f"{name}: {len(rows)} CGs embedded in {time.time() - t0:.0f} s")
        _zero_shot(name, family, rows, acc, feats, model, report)
        if config.fine_tune:
            _fine_tuned(name, family, rows, acc, feats, model, report, config, log)
    render_report(report.data, Path(config.out).with_suffix(".md"))
    return report.data


def measure_speed(model: Any, device: str = "auto", cells: int = 8) -> dict[str, float]:
    """Rates on this machine, with its matmul speed to compare machines by: CGs built per second
    per space (network built + traced + packed), CL embeddings per second, and CL training
    throughput (two dropout views, loss, backward) in CGs per second."""
    import torch

    from archpred.bench.machine import matmul_gflops
    from archpred.gennape.contrastive import contrastive_loss
    from archpred.gennape.families import build_graph
    from archpred.gennape.graphs import GraphSet
    from archpred.spaces import get_space
    from archpred.training import resolve_device

    out: dict[str, float] = {"threads": float(torch.get_num_threads())}
    out["matmul_gflops"] = matmul_gflops("cpu")
    rng = np.random.default_rng(0)
    graphs = {}
    for space in ("nb101", "nb201", "macro", "enas"):
        archs = [get_space(space).sample(rng) for _ in range(cells)]
        start = time.perf_counter()
        graphs[space] = GraphSet.from_graphs([build_graph(x, space) for x in archs])
        out[f"cgs_per_s/{space}"] = cells / (time.perf_counter() - start)
    sample = GraphSet.concat([graphs["nb201"]] * 8)  # 64 NB-201 CGs
    dev = resolve_device(device)
    encoder = model.encoder.to(dev)
    model.features(sample)  # warm-up
    start = time.perf_counter()
    model.features(sample)
    out["embed_cgs_per_s"] = len(sample) / (time.perf_counter() - start)
    encoder.train()
    batch = sample.batch(np.arange(len(sample))).to(dev)
    spectrum = torch.as_tensor(sample.spectrum, device=dev).repeat(2, 1)
    start = time.perf_counter()
    z = torch.cat([encoder.project(encoder(batch)), encoder.project(encoder(batch))])
    contrastive_loss(z, spectrum).backward()
    out["train_cgs_per_s"] = len(sample) / (time.perf_counter() - start)
    encoder.zero_grad(set_to_none=True)
    encoder.eval().cpu()
    out["device"] = str(dev)
    return out


def _zero_shot(name, family, rows, acc, feats, model, report) -> None:  # noqa: ANN001
    key = f"zero_shot/{name}"
    if report.has(f"{key}/gennape"):
        return
    scores = model.member_scores(feats)
    scores["gennape"] = model.combine(scores)
    accuracy_like = {n for n, m in model.members.items() if m.returns_accuracy} | {"gennape"}
    baselines = _baselines(name, family, rows)
    for subset, pos in _subsets(name, family, rows).items():
        for member, pred in {**scores, **baselines}.items():
            p, t = np.asarray(pred)[pos], acc[pos]
            ok = np.isfinite(p)
            if ok.sum() < 10:
                continue
            result = score_metrics(t[ok], p[ok], member in accuracy_like)
            report.put(f"{key}{subset}/{member}", result)


def _fine_tuned(name, family, rows, acc, feats, model, report, config, log) -> None:  # noqa: ANN001
    from archpred.gennape.model import FineTuneSettings

    settings = FineTuneSettings(epochs=config.epochs)
    for seed in range(config.seeds):
        key = f"fine_tuned/{name}/seed{seed}"
        if report.has(f"{key}/gennape"):
            continue
        t0 = time.time()
        picked = np.sort(np.random.default_rng(seed).choice(len(rows), config.samples, replace=False))
        rest = np.setdiff1d(np.arange(len(rows)), picked)
        tuned = model.fine_tune(
            feats.graphs.subset(picked), acc[picked], seed=seed, settings=settings, device=config.device
        )
        held = feats.subset(rest)
        scores = tuned.member_scores(held)
        scores["gennape"] = tuned.combine(scores)
        accuracy_like = {n for n, m in tuned.members.items() if m.returns_accuracy} | {"gennape"}
        for member, pred in scores.items():
            report.put(f"{key}/{member}", score_metrics(acc[rest], pred, member in accuracy_like))
        report.put(f"{key}/weights", dict(tuned.weights))
        log(f"{name}: fine-tuned seed {seed} in {time.time() - t0:.0f} s")


def _mean_over_seeds(results: dict[str, Any], prefix: str, member: str) -> dict[str, tuple[float, float, int]]:
    runs = [v for k, v in results.items() if k.startswith(prefix + "/seed") and k.endswith("/" + member)]
    out = {}
    for metric in METRICS:
        vals = [r[metric] for r in runs if metric in r]
        if vals:
            out[metric] = (float(np.mean(vals)), float(np.std(vals)), len(vals))
    return out


def _fmt(v: Any, metric: str) -> str:
    if v is None:
        return "-"
    if isinstance(v, tuple):
        mean, std, _ = v
        return f"{100 * mean:.2f} ± {100 * std:.2f} %" if metric == "mae" else f"{mean:.4f} ± {std:.4f}"
    return f"{100 * v:.2f} %" if metric == "mae" else f"{v:.4f}"


def render_report(data: dict[str, Any], path: Path) -> Path:
    """The Markdown report: NB-101 validation, then per family zero-shot and fine-tuned tables."""
    results, meta = data.get("results", {}), data.get("meta", {})
    lines = [
        "# GENNAPE: pretrained on NB-101, transferred to unseen families",
        "",
        "Commands (each result comes from one of them; a rerun skips what the report holds):",
        "",
        *[f"    {c}" for c in meta.get("commands", [meta.get("command", "")])],
        "",
        f"Model: `{meta.get('model', '')}` (sha256 {meta.get('model_digest', '')})",
        "",
    ]
    lines += _about(meta.get("info", {}))
    lines += _nb101_section(meta.get("info", {}))
    if "speed" in results:
        sp = results["speed"]
        lines += [
            f"## Speed ({sp.get('device', 'cpu')}, {int(sp.get('threads', 1))} thread(s); this machine's 1024x1024 "
            f"fp32 matmul: {sp.get('matmul_gflops', 0):.1f} GFLOP/s)",
            "",
            "| what | per second |",
            "|---|---|",
        ]
        lines += [f"| {k.replace('_per_s', '').replace('_', ' ')} | {v:.1f} |" for k, v in sp.items() if "per_s" in k]
        lines.append("")
    families = sorted({k.split("/")[1] for k in results if "/" in k})
    for fam in families:
        for subset in ("", "/no-none"):
            prefix = f"zero_shot/{fam}{subset}/"
            zs = {
                k[len(prefix) :]: v for k, v in results.items() if k.startswith(prefix) and "/" not in k[len(prefix) :]
            }
            if not zs:
                continue
            label = " (the 4,096 cells without `none`: the paper's subset)" if subset else ""
            paper = fam != "nb201" or subset == "/no-none"  # the paper's NB-201 numbers are on that subset
            lines += [f"## {fam}{label}: zero-shot", "", *FAMILY_NOTES.get(fam, [])]
            lines += [_table(zs, f"zero_shot/{fam}", paper), ""]
        ft_members = sorted({k.split("/")[-1] for k in results if k.startswith(f"fine_tuned/{fam}/seed")} - {"weights"})
        if ft_members:
            ft = {m: _mean_over_seeds(results, f"fine_tuned/{fam}", m) for m in ft_members}
            n = max(v["srcc"][2] for v in ft.values() if "srcc" in v)
            ft_meta = meta.get("fine_tune", {})
            lines += [
                f"## {fam}: fine-tuned on {ft_meta.get('samples', 50)} cells, {ft_meta.get('epochs', 100)} epochs "
                f"({n} seeds, mean ± std, on the rest)",
                "",
            ]
            lines += [_table(ft, f"fine_tuned/{fam}", True), ""]
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def _about(info: dict[str, Any]) -> list[str]:
    """What the model was trained on and how the tables read (from the model file's own record)."""
    if not info:
        return []
    split = info.get("split", {})
    config = json.loads(info["config"]) if isinstance(info.get("config"), str) else info.get("config", {})
    return [
        f"The model was pretrained on {info.get('cells', '?')} NB-101 cells ({split.get('train', '?')} train, "
        f"{split.get('validation_2', '?')} validation 2; the CL encoder on {split.get('cl', '?')} of them for "
        f"{config.get('cl_epochs', '?')} epochs; heads {config.get('head_epochs', '?')} epochs, k-GNN "
        f"{config.get('kgnn_epochs', '?')}, {config.get('seeds', '?')} seed(s) per member). A family's `n` counts "
        "the cells whose computation graphs were built when the bench ran (`--built-only`); NB-201's first "
        "4,096 are the cells without `none`. `ndcg@10` is scikit-learn's (gain = accuracy rescaled to [0, 20]); "
        "`ndcg@10 (2^rel)` is the paper's formula with gain 2^rel - 1. MAE rows are accuracy members only; "
        "pairwise members score by sort position, FLOPs and params by log size. Zero-cost proxies (NASLib) "
        "cover only the NB-201 cells NASLib scored.",
        "",
        "GENNAPE's CG local search (paper Table 7) has its own report: `gennape_search.md` beside this one "
        "(`python -m archpred bench cg-search`).",
        "",
    ]


def _nb101_section(info: dict[str, Any]) -> list[str]:
    raw = info.get("validation_2")
    if not raw:
        return []
    val = json.loads(raw) if isinstance(raw, str) else raw
    lines = [
        "## NB-101 validation 2 (cells >= 80 % accuracy; best of the seeds by SRCC), paper Table 3",
        "",
        "| member | MAE | SRCC | paper MAE | paper SRCC |",
        "|---|---|---|---|---|",
    ]
    for name, rec in val.items():
        best = rec["best"]
        paper = PAPER.get(f"nb101/{name}", {})
        lines.append(
            f"| {name} | {_fmt(best.get('mae'), 'mae')} | {_fmt(best.get('srcc'), 'srcc')} | "
            f"{_fmt(paper.get('mae'), 'mae')} | {_fmt(paper.get('srcc'), 'srcc')} |"
        )
    return [*lines, ""]


def _table(rows: dict[str, Any], paper_prefix: str, with_paper: bool) -> str:
    order = ["gennape", "cl+fcm+t", "cl+t", "cl+fcm", "cl", "cl+fcm+pairwise", "cl+pairwise", "kgnn", "flops"]
    names = [n for n in order if n in rows] + sorted(n for n in rows if n not in order)
    head = "| predictor | n | " + " | ".join(METRICS) + (" | paper SRCC | paper NDCG@10 |" if with_paper else " |")
    sep = "|---" * (2 + len(METRICS) + (2 if with_paper else 0)) + "|"
    out = [head, sep]
    for name in names:
        rec = rows[name]
        n = rec.get("n", rec.get("srcc", (0, 0, 0)))
        n_text = f"{int(n)}" if isinstance(n, float) else f"{n[2]} seeds"
        cells = [_fmt(rec.get(m), m) for m in METRICS]
        row = f"| {name} | {n_text} | " + " | ".join(cells)
        if with_paper:
            paper = PAPER.get(f"{paper_prefix}/{name}", {})
            row += f" | {_fmt(paper.get('srcc'), 'srcc')} | {_fmt(paper.get('ndcg@10'), 'ndcg@10')}"
        out.append(row + " |")
    return "\n".join(out)
