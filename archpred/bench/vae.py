"""``bench vae``: measure trained graph VAEs as the SVGe and arch2vec papers do.

Sections (``--what``, repeatable): ``recon`` (held-out reconstruction), ``prior`` (validity /
uniqueness / novelty of decoded prior samples), ``iso`` (isomorphic NB-101 pairs mapped to one
point), ``predictor`` (SVGe fine-tuned with an MLP on labelled NB-101 cells, MSE and Kendall tau;
also the extrapolation to 8-vertex cells), ``rf`` (arch2vec embeddings + random forest on cells
with accuracy > 0.8, Pearson r and RMSE), ``speed`` (training / encode / decode graphs per
second). Every finished result is merged into the JSON report at once.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from archpred.artifacts import atomic_write_text
from archpred.errors import InvalidOption
from archpred.vae.analysis import expand_by_one_vertex, isomorphic_pairs, svge_sides

PAPER = {
    "recon/svge/nb101": {"reconstruction": 0.9957},
    "prior/svge/nb101": {"validity": 0.7916, "uniqueness": 0.321, "novelty": 0.1637},
    "recon/svge/nb201": {"reconstruction": 0.9999},
    "prior/svge/nb201": {"validity": 1.0, "uniqueness": 0.0828, "novelty": 0.1024},
    "recon/svge/enas": {"reconstruction": 0.9963},  # SVGe paper, Table I
    "prior/svge/enas": {"validity": 1.0, "uniqueness": 0.3903, "novelty": 1.0},
    "recon/arch2vec/nb101": {"reconstruction": 0.9884},
    "prior/arch2vec/nb101": {"validity": 0.4370, "uniqueness": 0.10, "novelty": 0.8284},
    "iso/svge/nb101": {"same_point": 1.0, "pairs": 11606},
    "predictor/svge/nb101/1000": {"mse": 0.0028},
    "predictor/svge/nb101/10000": {"mse": 0.0023},
    "rf/arch2vec/nb101/608": {"pearson": 0.699, "rmse": 0.0170},
    "rf/arch2vec/nb101/2500": {"pearson": 0.688, "rmse": 0.0204},
    "rf/arch2vec/nb101/10000": {"pearson": 0.701, "rmse": 0.0209},
    "extrapolation/svge/nb101": {"candidates": 1384},
    # Suchoparova & Neruda: Table 4 (validity, uniqueness), Tables 6-7 (Pearson r, RMSE; model 1:
    # the mean of node latents, model 2: the flatten layer)
    "prior/io/nb101": {"validity": 0.474, "uniqueness": 0.993},
    "prior/io-accuracy/nb101": {"validity": 0.466, "uniqueness": 0.993},
    **{
        f"rf/{label}/nb101/{size}": {"pearson": r, "rmse": e}
        for label, rows in {
            "io-accuracy-mean": ((0.669, 0.0164), (0.724, 0.0174), (0.758, 0.0177)),
            "io-accuracy-flatten": ((0.683, 0.0174), (0.679, 0.0203), (0.686, 0.0211)),
            "io-mean": ((0.686, 0.0167), (0.713, 0.0184), (0.732, 0.0191)),
            "io-flatten": ((0.653, 0.0201), (0.685, 0.0208), (0.690, 0.0214)),
        }.items()
        for size, (r, e) in zip((608, 2500, 10000), rows)
    },
}
SECTIONS = ("recon", "prior", "iso", "predictor", "rf", "speed")


@dataclasses.dataclass(frozen=True)
class VaeBenchConfig:
    """What ``run_vae`` measures, and where it writes.

    Args:
        kinds: the VAEs measured by the per-model sections (``recon``, ``prior``, ``iso``, ``speed``).
        space: the search space (``predictor``, ``rf`` and ``iso`` need ``nb101``).
        what: the sections, in this order.
        samples: prior samples; eval_size: held-out graphs for ``recon`` (None: all);
        pairs: isomorphic pairs; labelled: training sizes of the SVGe predictor;
        pred_epochs: its fine-tuning epochs; rf_sizes: training sizes of the arch2vec forest;
        seeds: seeds of each forest size; model: a VAE file instead of ``load_vae``'s search;
        out: the JSON report every finished result is merged into at once;
        device: auto, cpu, cuda or cuda:N; command: the command line recorded with each result.
    """

    kinds: tuple[str, ...] = ("svge", "arch2vec")
    space: str = "nb201"
    what: tuple[str, ...] = ("recon", "prior", "speed")
    samples: int = 10_000
    eval_size: int | None = None
    pairs: int = 11_606
    labelled: tuple[int, ...] = (1000,)
    pred_epochs: int = 100
    rf_sizes: tuple[int, ...] = (608, 2500)
    seeds: int = 10
    model: Path | None = None
    out: Path = Path("reports/vae.json")
    device: str = "auto"
    command: str = ""

    def __post_init__(self) -> None:
        unknown = [w for w in self.what if w not in SECTIONS]
        if unknown:
            raise InvalidOption(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")


# -- helpers ----------------------------------------------------------------------------------
def _merge(path: Path, key: str, value: dict[str, Any]) -> None:
    """Put one finished result (with the paper's numbers beside it) into the report at once."""
    report = json.loads(path.read_text()) if path.exists() else {}
    if key in PAPER:
        value = {**value, "paper": PAPER[key]}
    report[key] = value
    atomic_write_text(path, json.dumps(report, indent=1, sort_keys=True) + "\n")
    shown = {k: v for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    print(f"{key}: " + ", ".join(f"{k}={v:.4g}" for k, v in shown.items()), flush=True)


def _model_info(vae) -> dict[str, Any]:
    meta = {k: v for k, v in vae.meta.items() if k != "history"}
    history = vae.meta.get("history") or []
    if history:
        meta["final_epoch"] = {k: v for k, v in history[-1].items()}
    return meta


def training_keys(space: str, vae) -> tuple[Any, list[str], np.ndarray, np.ndarray]:
    """The space's graphs, keys, and the train / held-out rows the model was trained with."""
    from archpred.vae.train import space_graphs, split, training_rows

    graphs, keys = space_graphs(space)
    train_rows, val_rows = split(len(graphs), seed=0)
    size, seed = vae.meta.get("train_size"), vae.meta.get("seed", 0)
    train_rows = training_rows(train_rows, size, seed)
    return graphs, keys, train_rows, val_rows


# -- sections -----------------------------------------------------------------------------------
def bench_recon(vae, config: VaeBenchConfig, key_base: str) -> None:
    from archpred.vae.metrics import reconstruction

    graphs, _, _, val_rows = training_keys(config.space, vae)
    if config.eval_size:
        val_rows = np.sort(
            np.random.default_rng(1).choice(val_rows, min(config.eval_size, len(val_rows)), replace=False)
        )
    start = time.perf_counter()
    held_out = graphs.take(val_rows)
    result = reconstruction(vae, held_out)
    if vae.kind == "svge":  # the paper's rule alone: union, or the forward graph where the sides disagree
        strict = reconstruction(vae, held_out, choose_valid=False)
        result.update({f"{k}_union_rule": v for k, v in strict.items()})
    _merge(
        config.out,
        f"recon/{key_base}",
        {
            **result,
            "held_out": len(val_rows),
            "seconds": time.perf_counter() - start,
            "command": config.command,
            "model": _model_info(vae),
        },
    )


def bench_prior(vae, config: VaeBenchConfig, key_base: str) -> None:
    from archpred.vae.metrics import prior_quality

    _, keys, train_rows, _ = training_keys(config.space, vae)
    train_keys = {keys[i] for i in train_rows}
    start = time.perf_counter()
    result = prior_quality(vae, config.samples, train_keys, np.random.default_rng(0))
    if vae.kind == "svge":  # the same prior points decoded by the paper's rule alone, and each side
        strict = prior_quality(vae, config.samples, train_keys, np.random.default_rng(0), choose_valid=False)
        result.update({f"{k}_union_rule": v for k, v in strict.items() if k != "samples"})
        result.update(svge_sides(vae, vae.prior(config.samples, np.random.default_rng(0))))
    _merge(
        config.out,
        f"prior/{key_base}",
        {
            **result,
            "training_set": len(train_keys),
            "seconds": time.perf_counter() - start,
            "command": config.command,
            "model": _model_info(vae),
        },
    )


def bench_iso(vae, config: VaeBenchConfig, key_base: str) -> None:
    if config.space != "nb101":
        raise InvalidOption("the isomorphism test uses 7-vertex NB-101 cells: pass --space nb101")
    a, b = isomorphic_pairs(config.pairs)
    za, zb = vae.embed_arrays(a), vae.embed_arrays(b)
    scale = np.maximum(np.abs(za).max(1), 1.0)
    gap = np.abs(za - zb).max(1) / scale
    spread = float(np.median(np.linalg.norm(za - za[np.random.default_rng(0).permutation(len(za))], axis=1)))
    _merge(
        config.out,
        f"iso/{key_base}",
        {
            "pairs": len(gap),
            "same_point": float(np.mean(gap < 1e-5)),
            "max_relative_gap": float(gap.max()),
            "median_distance_random_pairs": spread,
            "tolerance": 1e-5,
            "command": config.command,
        },
    )


def bench_predictor(config: VaeBenchConfig) -> None:
    from archpred.data import load_benchmark
    from archpred.metrics import kendall_tau, mse, spearman
    from archpred.predictors.latent import SVGePredictor
    from archpred.vae.data import GraphArrays

    if config.space != "nb101":
        raise InvalidOption("the latent-predictor experiment is on NB-101: pass --space nb101")
    bench = load_benchmark("nb101")
    y = bench.accuracy
    for size in config.labelled:
        rows = np.random.default_rng(0).permutation(len(bench))
        train, test = rows[:size], rows[size:]
        start = time.perf_counter()
        model = SVGePredictor(seed=0, device=config.device, progress=True, epochs=config.pred_epochs)
        model.fit([bench.archs[i] for i in train], y[train])
        fit_s = time.perf_counter() - start
        pred = model.predict([bench.archs[i] for i in test])
        _merge(
            config.out,
            f"predictor/svge/nb101/{size}",
            {
                "train": size,
                "test": len(test),
                "mse": mse(y[test], pred),
                "kendall_tau": kendall_tau(y[test], pred),
                "spearman": spearman(y[test], pred),
                "fit_seconds": fit_s,
                "epochs": config.pred_epochs,
                "target": "val_acc_108 (one run)",
                "pretrained": model.pretrained_,
                "command": config.command,
            },
        )
    # extrapolation: the best labelled cell grown by one vertex, ranked by the last predictor
    best = int(np.argmax(y))
    cell = bench.archs[best]
    space = bench.space
    adj, types, made = expand_by_one_vertex(cell.matrix, np.array(space.node_type_ids(cell)))
    within = adj.sum((1, 2)) <= 9
    graphs = GraphArrays(adj, types, np.full(len(types), adj.shape[1], dtype=np.int64))
    pred = model.predict_arrays(graphs)
    order = np.argsort(-pred)[:5]
    top = [
        {
            "adjacency": adj[i].tolist(),
            "ops": [space.node_types[t] for t in types[i]],
            "predicted": float(pred[i]),
            "edges": int(adj[i].sum()),
        }
        for i in order
    ]
    _merge(
        config.out,
        "extrapolation/svge/nb101",
        {
            "best_cell": {
                **cell.to_dict(),
                "val_acc_108": float(y[best]),
                "predicted": float(model.predict([cell])[0]),
            },
            "candidates": len(adj),
            "candidates_before_removing_isomorphic": made,
            "candidates_within_9_edges": int(within.sum()),
            "top5": top,
            "predictor_train_size": int(config.labelled[-1]),
            "command": config.command,
        },
    )


def bench_rf(config: VaeBenchConfig, kind: str = "arch2vec", embedding: str | None = None) -> None:
    """Random forests on a VAE's embeddings of the NB-101 cells with accuracy > 0.8 (``rf/KIND``;
    the IO and Accuracy models' two embeddings: ``rf/KIND-mean`` and ``rf/KIND-flatten``)."""
    from archpred.data import load_benchmark
    from archpred.metrics import pearson, rmse
    from archpred.vae.model import load_vae
    from archpred.vae.regressor import fit_embedding_forest

    if config.space != "nb101":
        raise InvalidOption("the arch2vec + random forest experiment is on NB-101: pass --space nb101")
    bench = load_benchmark("nb101")
    vae = load_vae(kind, "nb101", path=config.model, device=config.device)
    if embedding is not None:
        from archpred.vae.io import use_embedding

        use_embedding(vae, embedding)
    label = kind if embedding is None else f"{kind}-{embedding}"
    good = np.flatnonzero(bench.accuracy > 0.8)
    x = vae.embed([bench.archs[i] for i in good])
    y = bench.accuracy[good]
    for size in config.rf_sizes:
        rs, es = [], []
        for seed in range(config.seeds):
            perm = np.random.default_rng(seed).permutation(len(good))
            tr, te = perm[:size], perm[size:]
            pred = fit_embedding_forest(x[tr], y[tr], seed=seed).predict(x[te])
            rs.append(pearson(y[te], pred))
            es.append(rmse(y[te], pred))
        _merge(
            config.out,
            f"rf/{label}/nb101/{size}",
            {
                "train": size,
                "test": len(good) - size,
                "pool_acc_gt_0.8": len(good),
                "seeds": config.seeds,
                "pearson": float(np.mean(rs)),
                "pearson_std": float(np.std(rs)),
                "rmse": float(np.mean(es)),
                "rmse_std": float(np.std(es)),
                "model": _model_info(vae),
                "command": config.command,
            },
        )


def bench_speed(vae, config: VaeBenchConfig, key_base: str) -> None:
    import torch

    from archpred.vae.model import build_module

    graphs, _, train_rows, _ = training_keys(config.space, vae)
    sample = graphs.take(np.random.default_rng(0).choice(train_rows, 2048, replace=False))
    options = {k: v for k, v in vars(vae.module.config).items() if k != "space"}
    device = vae.device
    module = build_module(vae.kind, config.space, **options).to(device)
    optimizer = torch.optim.Adam(module.parameters(), 1e-3)
    batch = sample.take(np.arange(256)).tensors(device)
    module.train()
    module.loss(*batch)[0].backward()  # warm-up

    def timed(fn) -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    def train_steps(steps: int = 4) -> None:
        for _ in range(steps):
            optimizer.zero_grad()
            module.loss(*batch)[0].backward()
            optimizer.step()

    train_rate = 256 * 4 / timed(train_steps)
    vae.encode_arrays(sample.take(np.arange(64)))  # warm-up
    encode_rate = len(sample) / timed(lambda: vae.encode_arrays(sample))
    z = vae.encode_arrays(sample)
    decode_rate = len(sample) / timed(lambda: vae.decode_arrays(z, choose_valid=False))
    checked_rate = len(sample) / timed(lambda: vae.decode_arrays(z))
    key = f"speed/{key_base}" + ("" if device.type == "cpu" else f"/{device.type}")
    _merge(
        config.out,
        key,
        {
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "threads": torch.get_num_threads(),
            "train_graphs_per_s": train_rate,
            "encode_graphs_per_s": encode_rate,
            "decode_graphs_per_s": decode_rate,
            "decode_choose_valid_graphs_per_s": checked_rate,
            "batch": 256,
            "load_average_1min": os.getloadavg()[0],
            "cpu_count": os.cpu_count(),
            "command": config.command,
        },
    )


def run_vae(config: VaeBenchConfig) -> None:
    """Run the sections of ``config.what`` in order, merging each result into ``config.out``."""
    from archpred.vae.model import load_vae

    per_model = {"recon": bench_recon, "prior": bench_prior, "iso": bench_iso, "speed": bench_speed}
    for section in config.what:
        if section == "predictor":
            bench_predictor(config)
        elif section == "rf":
            bench_rf(config)
        else:
            for kind in config.kinds:
                vae = load_vae(kind, config.space, path=config.model, device=config.device)
                per_model[section](vae, config, f"{kind}/{config.space}")
