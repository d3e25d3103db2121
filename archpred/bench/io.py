"""``bench io``: the IO dataset and the IO / Accuracy models measured as Suchopárová & Neruda do.

Sections (``--what``, repeatable), each result merged into the JSON report the moment it is done:

- ``dataset``: networks per split, the accuracy distribution (the paper's Fig. 9), build time;
- ``clusters``: networks clustered by their outputs (mean squared difference over the same
  images; complete linkage cut at 0.4, the paper's Fig. 4), each cluster's accuracies;
- ``features``: the IO model's feature MSE on both test sets beside the mean-vector baseline
  (Table 5);
- ``recon`` / ``prior``: held-out reconstruction, validity and uniqueness of arch2vec, the IO
  and the Accuracy model (Table 4; ``bench vae``'s sections);
- ``rf``: random forests on each embedding of NB-101 cells with accuracy > 0.8, Pearson r and
  RMSE at 608 / 2,500 / 10,000 training cells (Tables 6-7);
- ``reinforce``: REINFORCE (``archpred.search.reinforce``) in each model's embedding on the
  NB-101-20k table, many seeds, through ``bench search``'s resumable run store: regret vs
  queries and vs simulated time (the queried cells' NB-101 training seconds; the IO models'
  curves shifted by the IO dataset's training time, as the paper's Fig. 6). It searches with
  ``load_vae``'s models (what ``train io-vae`` wrote, else the shipped ones).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from archpred.artifacts import atomic_write_text
from archpred.bench.vae import VaeBenchConfig, _merge, bench_prior, bench_recon, bench_rf
from archpred.errors import InvalidOption
from archpred.paths import cache_dir

SECTIONS = ("dataset", "clusters", "features", "recon", "prior", "rf", "reinforce")
MODELS = ("arch2vec", "io", "io-accuracy")
# Table 4 (after epoch 10): validity, uniqueness, operator and adjacency accuracies. Their arch2vec
# row is the one trained beside the IO model, so it is the comparison here (not arch2vec's paper).
PAPER_TABLE4 = {
    "arch2vec": {"validity": 0.467, "uniqueness": 0.994, "type_accuracy_per_vertex": 0.978, "adjacency_accuracy_per_entry": 0.986},
    "io-accuracy": {"validity": 0.466, "uniqueness": 0.993, "type_accuracy_per_vertex": 0.978, "adjacency_accuracy_per_entry": 0.983},
    "io": {"validity": 0.474, "uniqueness": 0.993, "type_accuracy_per_vertex": 0.978, "adjacency_accuracy_per_entry": 0.985},
}  # fmt: skip
PAPER_FEATURES = {  # Table 5: MSE, baseline
    "test_unseen_networks": {"mse": 0.0279, "baseline": 0.0319},
    "test_seen_networks": {"mse": 0.0299, "baseline": 0.0361},
}


@dataclasses.dataclass(frozen=True)
class IOBenchConfig:
    """What ``run_io`` measures, and where it writes.

    Args:
        data: the IO dataset folder (None: default_io_dir()).
        models: the VAEs of ``recon``, ``prior`` and ``rf``.
        paths: a model file per kind (absent kinds: ``load_vae``'s search).
        what: the sections, in this order.
        samples: prior samples; eval_size: held-out NB-101 cells reconstructed;
        rf_sizes, seeds: the forests' training sizes and seeds;
        threshold: the clusters' distance cut; out: the JSON report.
        reinforce_runs, reinforce_budget: REINFORCE runs per model and queries per run;
        store: their run store; workers: processes running them.
    """

    data: Path | None = None
    models: tuple[str, ...] = MODELS
    paths: tuple[tuple[str, Path], ...] = ()
    what: tuple[str, ...] = SECTIONS
    samples: int = 10_000
    eval_size: int | None = 10_000
    rf_sizes: tuple[int, ...] = (608, 2500, 10_000)
    seeds: int = 10
    threshold: float = 0.4
    reinforce_runs: int = 100
    reinforce_budget: int = 150
    store: Path = dataclasses.field(default_factory=lambda: cache_dir("bench", create=False) / "io_reinforce.db")
    workers: int = 1
    out: Path = Path("reports/io.json")
    device: str = "auto"
    command: str = ""

    def __post_init__(self) -> None:
        for name, given, known in (("section", self.what, SECTIONS), ("model", self.models, MODELS)):
            unknown = [w for w in given if w not in known]
            if unknown:
                raise InvalidOption(f"unknown {name}(s) {', '.join(unknown)}; choose from {', '.join(known)}")
        if "reinforce" in self.what and self.paths:
            raise InvalidOption(
                "reinforce searches with load_vae's models; drop --io-model/--accuracy-model or --what reinforce"
            )

    def path(self, kind: str) -> Path | None:
        return dict(self.paths).get(kind)

    def vae_config(self, kind: str) -> VaeBenchConfig:
        return VaeBenchConfig(
            kinds=(kind,), space="nb101", samples=self.samples, eval_size=self.eval_size, rf_sizes=self.rf_sizes,
            seeds=self.seeds, model=self.path(kind), out=self.out, device=self.device, command=self.command,
        )  # fmt: skip


def bench_dataset(dataset: Any, config: IOBenchConfig) -> None:
    acc = dataset.accuracy
    seconds = np.array([n.train_seconds for n in dataset.networks])
    params = np.array([n.params for n in dataset.networks])
    counts, edges = np.histogram(acc, bins=10, range=(0.0, 1.0))
    _merge(
        config.out,
        "io/dataset",
        {
            "networks": len(dataset),
            "seen": len(dataset.split("train")),
            "diverged": [{"split": n.split, "accuracy": n.accuracy} for n in dataset.diverged],
            "unseen": len(dataset.split("val")),
            "seen_images": len(dataset.seen_images),
            "unseen_images": len(dataset.unseen_images),
            "accuracy_min": float(acc.min()),
            "accuracy_q25": float(np.quantile(acc, 0.25)),
            "accuracy_median": float(np.median(acc)),
            "accuracy_q75": float(np.quantile(acc, 0.75)),
            "accuracy_max": float(acc.max()),
            "accuracy_histogram": {"counts": counts.tolist(), "edges": edges.round(2).tolist()},
            "train_hours": float(seconds.sum() / 3600),
            "train_seconds_median": float(np.median(seconds)),
            "params_min": int(params.min()),
            "params_max": int(params.max()),
            "recipe": dataset.manifest.get("recipe"),
            "network": dataset.manifest.get("network"),
            "source": dataset.manifest.get("dataset"),
            "command": config.command,
        },
    )


def bench_clusters(dataset: Any, config: IOBenchConfig) -> None:
    from archpred.data.io_dataset import output_clusters, output_distances

    start = time.perf_counter()
    labels = output_clusters(dataset, config.threshold)
    dist = output_distances(dataset)
    acc = dataset.accuracy
    clusters = sorted(
        (
            {
                "size": int((labels == c).sum()),
                "accuracy_mean": float(acc[labels == c].mean()),
                "accuracy_std": float(acc[labels == c].std()),
            }
            for c in np.unique(labels)
        ),
        key=lambda c: -c["size"],
    )
    iu = np.triu_indices(len(dist), 1)
    _merge(
        config.out,
        "io/clusters",
        {
            "threshold": config.threshold,
            "clusters": len(clusters),
            "largest": clusters[:10],
            "distance_median": float(np.median(dist[iu])),
            "distance_max": float(dist[iu].max()),
            # does output similarity follow accuracy? Spearman of distance vs accuracy gap over all pairs
            "distance_vs_accuracy_gap_spearman": _spearman(dist[iu], np.abs(acc[:, None] - acc[None, :])[iu]),
            "seconds": time.perf_counter() - start,
            "command": config.command,
        },
    )


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def bench_features(dataset: Any, config: IOBenchConfig) -> None:
    from archpred.bench.vae import _model_info
    from archpred.vae.io_train import feature_errors
    from archpred.vae.model import load_vae

    vae = load_vae("io", "nb101", path=config.path("io"), device=config.device)
    for name, value in feature_errors(vae, dataset).items():
        _merge(
            config.out,
            f"io/features/{name}",
            {**value, "paper": PAPER_FEATURES[name], "model": _model_info(vae), "command": config.command},
        )


REINFORCE_QUERIES = (10, 25, 50, 100, 150, 200, 300)
REINFORCE_HOURS = (10, 20, 40, 60, 80)  # simulated NB-101 training hours (the paper's runs: 10^6 s = 278 h)
PAPER_SHIFT_SECONDS = 1.3e5  # their 608 CIFAR-10 networks' training time, added to the IO models' clock


def bench_reinforce(dataset: Any, config: IOBenchConfig) -> None:
    """REINFORCE in each model's embedding (paper: Fig. 6): runs finished in the store are read
    back, the rest run (resumable), then the regret curves are merged into the report."""
    from archpred.bench.search import SearchBenchConfig, collect, complete_runs, optima

    # the IO models cost the IO dataset's training first (arch2vec needs no dataset)
    shift = float(sum(n.train_seconds for n in dataset.networks)) if dataset is not None else 0.0
    best = optima(["nb101/cifar10"])["nb101/cifar10"]["mean_val_acc"]
    for kind in config.models:
        search = SearchBenchConfig(
            settings=("nb101/cifar10",), algorithms=("reinforce",), seeds=config.reinforce_runs,
            budget=config.reinforce_budget, options={"reinforce": {"vae": kind}}, store=config.store,
            workers=config.workers,
        )  # fmt: skip
        complete_runs(search)
        runs = collect(search).get("nb101/cifar10/reinforce")
        if runs is None:
            continue
        regret = best - np.vstack(runs["traces"])  # (runs, budget)
        cost = np.vstack(runs["costs"]).cumsum(axis=1)  # simulated seconds after each query
        queries = [q for q in REINFORCE_QUERIES if q <= regret.shape[1]]
        paper_shift = 0.0 if kind == "arch2vec" else PAPER_SHIFT_SECONDS
        _merge(
            config.out,
            f"reinforce/{kind}",
            {
                "runs": len(regret),
                "budget": regret.shape[1],
                "regret": {q: _mean_ci(regret[:, q - 1]) for q in queries},
                "simulated_hours": {q: float(np.median(cost[:, q - 1]) / 3600) for q in queries},
                "shift_hours": 0.0 if kind == "arch2vec" else shift / 3600,
                # the paper's Fig. 6: regret against simulated time, the IO models starting late
                "regret_at_hours": {h: regret_at(regret, cost + paper_shift, 3600 * h) for h in REINFORCE_HOURS},
                "paper_shift_hours": paper_shift / 3600,
                "seconds_per_run": float(np.mean(runs["seconds"])),
                "command": config.command,
            },
        )


def regret_at(regret: np.ndarray, clock: np.ndarray, seconds: float) -> list[float] | None:
    """Mean regret (percentage points), 95 % half-width and runs counted at simulated time
    ``seconds``: each run's regret after its last query finished by then. Runs with no query
    finished yet, or that spent their budget before then, are not counted (``None``: no run).

    Shapes: regret, clock (runs, budget): the trace and the simulated seconds after each query.
    """
    done = (clock <= seconds).sum(axis=1)  # queries finished by then, per run
    seen = (done > 0) & (clock[:, -1] >= seconds)
    if not seen.any():
        return None
    values = regret[seen, done[seen] - 1]
    return [*_mean_ci(values), int(seen.sum())]


def _mean_ci(x: np.ndarray) -> list[float]:
    """Mean and 95 % half-width (1.96 standard errors), in percentage points."""
    from archpred.bench.search import ci95_half_width

    return [float(100 * x.mean()), float(100 * ci95_half_width(x))]


# -- the Markdown report ----------------------------------------------------------------------------
def _f(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_markdown(report: dict[str, Any]) -> str:
    """``reports/io.md`` from the JSON report: ours beside the paper's, section by section."""
    lines = ["# arch2vec with input-output information: the IO dataset and the IO / Accuracy models", ""]
    commands = sorted({v.get("command", "") for v in report.values() if isinstance(v, dict)} - {""})
    lines += ["Commands (every number below comes from one of them):", ""]
    lines += [f"    {c}" for c in commands] + [""]
    data = report.get("io/dataset")
    if data:
        hist = data["accuracy_histogram"]
        lines += [
            "## The dataset (paper: Fig. 9, CIFAR-10 at 12 epochs; ours: digits)", "",
            f"{data['networks']} networks ({data['seen']} seen, {data['unseen']} unseen)"
            + _diverged_text(data.get("diverged", [])) + ", "
            f"{data['seen_images']} seen and {data['unseen_images']} unseen held-out images; "
            f"{data['train_hours']:.2f} h of training (median {data['train_seconds_median']:.1f} s a network); "
            f"parameters {data['params_min']:,} to {data['params_max']:,}. Recipe: {data['recipe']}, network "
            f"{data['network']}, images {data['source']}.", "",
            "| accuracy | min | 25 % | median | 75 % | max |", "|---|---|---|---|---|---|",
            f"| ours | {_f(data['accuracy_min'])} | {_f(data['accuracy_q25'])} | {_f(data['accuracy_median'])} "
            f"| {_f(data['accuracy_q75'])} | {_f(data['accuracy_max'])} |", "",
            "Histogram (bins of 0.1 from 0 to 1): " + ", ".join(str(c) for c in hist["counts"]), "",
        ]  # fmt: skip
    clusters = report.get("io/clusters")
    if clusters:
        lines += [
            "## Networks clustered by their outputs (paper: Fig. 4)", "",
            f"Complete linkage on the mean squared output difference, cut at {clusters['threshold']}: "
            f"{clusters['clusters']} clusters (median pair distance {clusters['distance_median']:.3f}). Spearman "
            f"of output distance vs accuracy gap over all pairs: {clusters['distance_vs_accuracy_gap_spearman']:.3f}.",
            "", "| cluster size | mean accuracy | std |", "|---|---|---|",
            *[f"| {c['size']} | {c['accuracy_mean']:.3f} | {c['accuracy_std']:.3f} |" for c in clusters["largest"]],
            "",
        ]  # fmt: skip
    feats = {k.split("/")[-1]: v for k, v in report.items() if k.startswith("io/features/")}
    if feats:
        lines += ["## IO model: feature MSE on the test sets (paper: Table 5)", "",
                  "| test set | pairs | MSE | 95 % CI | mean baseline | paper MSE | paper baseline |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        for name, v in sorted(feats.items()):
            lines.append(
                f"| {name.replace('_', ' ')} | {v['pairs']:,} | {v['mse']:.4f} | {v['ci95']:.4f} | {v['baseline']:.4f} "
                f"| {v['paper']['mse']} | {v['paper']['baseline']} |"
            )
        lines.append("")
    vae_rows = [(k, v) for k, v in sorted(report.items()) if k.startswith(("recon/", "prior/"))]
    if vae_rows:
        lines += ["## Reconstruction and prior samples (paper: Table 4)", "",
                  "Held-out NB-101 cells reconstructed (`reconstruction`: the whole cell exact; the paper gives the "
                  "per-entry accuracies only) and prior samples decoded. Paper: its Table 4, whose arch2vec was "
                  "trained beside the IO model.", "",
                  "| model | measure | ours | paper |", "|---|---|---|---|"]  # fmt: skip
        for key, v in vae_rows:
            section, kind = key.split("/")[:2]
            names = ("reconstruction", "adjacency_accuracy_per_entry", "type_accuracy_per_vertex")
            for name in names if section == "recon" else ("validity", "uniqueness"):
                paper = PAPER_TABLE4.get(kind, {}).get(name)
                lines.append(f"| {kind} | {name} | {_f(v.get(name))} | {_f(paper)} |")
        lines.append("")
    rf = [(k, v) for k, v in report.items() if k.startswith("rf/")]
    if rf:
        lines += ["## Random forest on each embedding, NB-101 cells above 80 % (paper: Tables 6-7)", "",
                  "Pearson r and RMSE, mean +- std over seeds (ours: validation accuracy of our 20,001-cell table).", "",
                  "| embedding | train cells | r | paper r | RMSE | paper RMSE |", "|---|---|---|---|---|---|"]  # fmt: skip
        for key, v in sorted(rf, key=lambda kv: (kv[0].split("/")[1], int(kv[0].split("/")[-1]))):
            paper = v.get("paper", {})
            lines.append(
                f"| {key.split('/')[1]} | {v['train']:,} | {v['pearson']:.3f} +- {v['pearson_std']:.3f} "
                f"| {_f(paper.get('pearson'))} | {v['rmse']:.4f} +- {v['rmse_std']:.4f} | {_f(paper.get('rmse'), 4)} |"
            )
        lines.append("")
    lines += _reinforce_markdown(report)
    return "\n".join(lines)


def _diverged_text(diverged: list[dict[str, Any]]) -> str:
    if not diverged:
        return ""
    accs = ", ".join(f"{d['accuracy']:.3f}" for d in diverged)
    return f" plus {len(diverged)} whose training diverged (accuracy {accs}; outputs set aside, not learned from)"


def _reinforce_markdown(report: dict[str, Any]) -> list[str]:
    runs = {k.split("/", 1)[1]: v for k, v in report.items() if k.startswith("reinforce/")}
    if not runs:
        return []
    queries = sorted({int(q) for v in runs.values() for q in v["regret"]})
    lines = [
        "## REINFORCE in each embedding, NB-101-20k (paper: Fig. 6)", "",
        "Regret of the best-by-validation cell (the table's best mean validation accuracy minus the pick's, "
        "percentage points), mean +- 95 % half-width over runs; simulated hours = the queried cells' "
        "NB-101 training time (median over runs). The IO models pay the IO dataset's training first "
        "(shift; ours trained on digits, the paper's on CIFAR-10).", "",
        "| embedding | runs | shift h | " + " | ".join(f"{q} queries" for q in queries) + " |",
        "|---|---|---|" + "---|" * len(queries),
    ]  # fmt: skip
    for kind, v in runs.items():
        cells = [f"{v['regret'][str(q)][0]:.2f} +- {v['regret'][str(q)][1]:.2f}" for q in queries]
        lines.append(f"| {kind} | {v['runs']} | {v['shift_hours']:.2f} | " + " | ".join(cells) + " |")
    hours = next(iter(runs.values()))["simulated_hours"]
    lines += ["", "Simulated hours at those queries (median over runs, before any shift): "
              + ", ".join(f"{q}: {hours[str(q)]:.1f}" for q in queries if str(q) in hours), ""]  # fmt: skip
    grid = sorted({int(h) for v in runs.values() for h in v.get("regret_at_hours", {})})
    if grid:
        lines += [
            "Against simulated time, the IO models' clocks starting at the paper's IO-dataset training "
            f"time ({PAPER_SHIFT_SECONDS:.1e} s = {PAPER_SHIFT_SECONDS / 3600:.0f} h; the paper's Fig. 6). Mean regret "
            "+- 95 % half-width (runs counted: those with a query finished by then and budget left).", "",
            "| embedding | " + " | ".join(f"{h} h" for h in grid) + " |", "|---|" + "---|" * len(grid),
        ]  # fmt: skip
        for kind, v in runs.items():
            cells = [_regret_cell(v.get("regret_at_hours", {}).get(str(h))) for h in grid]
            lines.append(f"| {kind} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _regret_cell(value: list[float] | None) -> str:
    return "-" if value is None else f"{value[0]:.2f} +- {value[1]:.2f} ({int(value[2])})"


def write_markdown(config: IOBenchConfig) -> Path:
    import json

    report = json.loads(config.out.read_text()) if config.out.exists() else {}
    return atomic_write_text(config.out.with_suffix(".md"), render_markdown(report))


def run_io(config: IOBenchConfig) -> None:
    """Run the sections of ``config.what`` in order, merging each result into ``config.out``
    (and its Markdown beside it) the moment it is done."""
    from archpred.data.io_dataset import load_io_dataset
    from archpred.vae.model import load_vae

    searches_io = "reinforce" in config.what and set(config.models) - {"arch2vec"}
    needs_data = {"dataset", "clusters", "features"} & set(config.what) or searches_io
    dataset = load_io_dataset(config.data) if needs_data else None
    for section in config.what:
        if section == "dataset":
            bench_dataset(dataset, config)
        elif section == "clusters":
            bench_clusters(dataset, config)
        elif section == "features":
            bench_features(dataset, config)
        elif section == "reinforce":
            bench_reinforce(dataset, config)
        elif section == "rf":
            for kind in config.models:
                for embedding in (None,) if kind == "arch2vec" else ("mean", "flatten"):
                    bench_rf(config.vae_config(kind), kind, embedding)
        else:
            for kind in config.models:
                vae = load_vae(kind, "nb101", path=config.path(kind), device=config.device)
                {"recon": bench_recon, "prior": bench_prior}[section](vae, config.vae_config(kind), f"{kind}/nb101")
        write_markdown(config)
