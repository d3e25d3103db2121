"""``bench vae``: measure trained graph VAEs as the SVGe and arch2vec papers do.

Sections (``--what``, repeatable): ``recon`` (held-out reconstruction), ``prior`` (validity /
uniqueness / novelty of decoded prior samples), ``iso`` (isomorphic NB-101 pairs mapped to one
point), ``predictor`` (SVGe fine-tuned with an MLP on labelled NB-101 cells, MSE and Kendall tau;
also the extrapolation to 8-vertex cells), ``rf`` (arch2vec embeddings + random forest on cells
with accuracy > 0.8, Pearson r and RMSE), ``speed`` (training / encode / decode graphs per
second). Every finished result is merged into the JSON report at once.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

PAPER = {
    "recon/svge/nb101": {"reconstruction": 0.9957},
    "prior/svge/nb101": {"validity": 0.7916, "uniqueness": 0.321, "novelty": 0.1637},
    "recon/svge/nb201": {"reconstruction": 0.9999},
    "prior/svge/nb201": {"validity": 1.0, "uniqueness": 0.0828, "novelty": 0.1024},
    "recon/arch2vec/nb101": {"reconstruction": 0.9884},
    "prior/arch2vec/nb101": {"validity": 0.4370, "uniqueness": 0.10, "novelty": 0.8284},
    "iso/svge/nb101": {"same_point": 1.0, "pairs": 11606},
    "predictor/svge/nb101/1000": {"mse": 0.0028},
    "predictor/svge/nb101/10000": {"mse": 0.0023},
    "rf/arch2vec/nb101/608": {"pearson": 0.699, "rmse": 0.0170},
    "rf/arch2vec/nb101/2500": {"pearson": 0.688, "rmse": 0.0204},
    "rf/arch2vec/nb101/10000": {"pearson": 0.701, "rmse": 0.0209},
    "extrapolation/svge/nb101": {"candidates": 1384},
}
SECTIONS = ("recon", "prior", "iso", "predictor", "rf", "speed")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("vae", help="graph VAEs: reconstruction, prior samples, isomorphism, predictors, speed")
    p.add_argument("--kind", choices=["svge", "arch2vec"], action="append", help="repeatable (default: both)")
    p.add_argument("--space", choices=["nb101", "nb201", "enas"], default="nb201")
    p.add_argument("--what", choices=SECTIONS, action="append", help="repeatable (default: recon, prior, speed)")
    p.add_argument("--samples", type=int, default=10_000, help="prior samples")
    p.add_argument("--eval-size", type=int, default=None, help="held-out graphs for recon (default: all)")
    p.add_argument("--pairs", type=int, default=11_606, help="isomorphic pairs")
    p.add_argument("--labelled", type=int, action="append", help="predictor training sizes (default 1000)")
    p.add_argument("--pred-epochs", type=int, default=100, help="fine-tuning epochs of the SVGe predictor")
    p.add_argument("--rf-sizes", type=int, action="append", help="default 608 and 2500")
    p.add_argument("--seeds", type=int, default=10, help="seeds of the random-forest runs")
    p.add_argument("--model", type=Path, default=None, help="VAE file (default: load_vae's search)")
    p.add_argument("--out", type=Path, default=Path("reports/vae.json"))
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.set_defaults(func=run)


# -- helpers ----------------------------------------------------------------------------------
def _merge(path: Path, key: str, value: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    report = json.loads(path.read_text()) if path.exists() else {}
    if key in PAPER:
        value = {**value, "paper": PAPER[key]}
    report[key] = value
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)
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


def isomorphic_pairs(n_pairs: int, seed: int = 0):
    """Pairs of distinct upper-triangular labellings of one 7-vertex NB-101 cell (interior vertices permuted)."""
    from archpred.vae.data import GraphArrays, nb101_all

    graphs, _ = nb101_all()
    rng = np.random.default_rng(seed)
    rows = rng.permutation(np.flatnonzero(graphs.n == 7))
    perms = np.array([(0, *p, 6) for p in itertools.permutations(range(1, 6))])
    a_adj, a_types, b_adj, b_types = [], [], [], []
    for r in rows:
        adj, types = graphs.adj[r], graphs.types[r]
        cand = adj[perms[:, :, None], perms[:, None, :]]  # (120, 7, 7)
        upper = ~np.tril(cand).any((1, 2))
        ctypes = types[perms]
        differs = (cand != adj).any((1, 2)) | (ctypes != types).any(1)
        ok = np.flatnonzero(upper & differs)
        if len(ok) == 0:
            continue
        k = ok[rng.integers(len(ok))]
        a_adj.append(adj)
        a_types.append(types)
        b_adj.append(cand[k])
        b_types.append(ctypes[k])
        if len(a_adj) >= n_pairs:
            break
    n = np.full(len(a_adj), 7, dtype=np.int64)
    return (
        GraphArrays(np.array(a_adj), np.array(a_types), n),
        GraphArrays(np.array(b_adj), np.array(b_types), n.copy()),
    )


def expand_by_one_vertex(adj: np.ndarray, types: np.ndarray, ops: int = 3) -> tuple[np.ndarray, np.ndarray, int]:
    """All cells made by inserting one interior vertex (any op, >= 1 in-edge from an earlier vertex,
    >= 1 out-edge to a later one) into a cell, keeping its edges and upper-triangular order;
    isomorphic duplicates removed (NB-101 hash). Returns (N, V+1, V+1), (N, V+1) and the number
    of graphs before duplicates were removed."""
    from archpred.spaces.hashing import graph_hash

    v = len(types)
    seen, out_adj, out_types, made = set(), [], [], 0
    for pos in range(1, v):  # the new vertex sits before old vertex `pos`
        old = [i if i < pos else i + 1 for i in range(v)]
        for op in range(1, ops + 1):  # node-type ids of the interior ops
            for ins in itertools.product((0, 1), repeat=pos):
                if not any(ins):
                    continue
                for outs in itertools.product((0, 1), repeat=v - pos):
                    if not any(outs):
                        continue
                    a = np.zeros((v + 1, v + 1), dtype=np.int8)
                    a[np.ix_(old, old)] = adj
                    a[:pos, pos] = ins
                    a[pos, pos + 1 :] = outs
                    t = np.empty(v + 1, dtype=np.int64)
                    t[old] = types
                    t[pos] = op
                    labels = [-1 if x == 0 else -2 if x == ops + 1 else x - 1 for x in t]
                    made += 1
                    h = graph_hash(a.tolist(), labels)
                    if h in seen:
                        continue
                    seen.add(h)
                    out_adj.append(a)
                    out_types.append(t)
    return np.array(out_adj), np.array(out_types), made


# -- sections -----------------------------------------------------------------------------------
def bench_recon(vae, args, key_base: str, command: str) -> None:
    from archpred.vae.metrics import reconstruction

    graphs, _, _, val_rows = training_keys(args.space, vae)
    if args.eval_size:
        val_rows = np.sort(np.random.default_rng(1).choice(val_rows, min(args.eval_size, len(val_rows)), replace=False))
    start = time.perf_counter()
    held_out = graphs.take(val_rows)
    result = reconstruction(vae, held_out)
    if vae.kind == "svge":  # the paper's rule alone: union, or the forward graph where the sides disagree
        strict = reconstruction(vae, held_out, choose_valid=False)
        result.update({f"{k}_union_rule": v for k, v in strict.items()})
    _merge(
        args.out,
        f"recon/{key_base}",
        {
            **result,
            "held_out": len(val_rows),
            "seconds": time.perf_counter() - start,
            "command": command,
            "model": _model_info(vae),
        },
    )


def bench_prior(vae, args, key_base: str, command: str) -> None:
    from archpred.vae.metrics import prior_quality

    _, keys, train_rows, _ = training_keys(args.space, vae)
    train_keys = {keys[i] for i in train_rows}
    start = time.perf_counter()
    result = prior_quality(vae, args.samples, train_keys, np.random.default_rng(0))
    if vae.kind == "svge":  # the same prior points decoded by the paper's rule alone, and each side
        strict = prior_quality(vae, args.samples, train_keys, np.random.default_rng(0), choose_valid=False)
        result.update({f"{k}_union_rule": v for k, v in strict.items() if k != "samples"})
        result.update(svge_sides(vae, vae.prior(args.samples, np.random.default_rng(0))))
    _merge(
        args.out,
        f"prior/{key_base}",
        {
            **result,
            "training_set": len(train_keys),
            "seconds": time.perf_counter() - start,
            "command": command,
            "model": _model_info(vae),
        },
    )


def svge_sides(vae, z: np.ndarray) -> dict[str, float]:
    """How often SVGe's forward and backward decoders agree on the vertices, and how often each
    side's graph alone is a valid cell."""
    import torch

    forward, backward, same = vae.module.decode_sides(torch.as_tensor(z, device=vae.device))
    return {
        "sides_agree": float(same.float().mean()),
        "forward_valid": float(vae.valid_mask(*forward).float().mean()),
        "backward_valid": float(vae.valid_mask(*backward).float().mean()),
    }


def bench_iso(vae, args, key_base: str, command: str) -> None:
    if args.space != "nb101":
        raise ValueError("the isomorphism test uses 7-vertex NB-101 cells: pass --space nb101")
    a, b = isomorphic_pairs(args.pairs)
    za, zb = vae.embed_arrays(a), vae.embed_arrays(b)
    scale = np.maximum(np.abs(za).max(1), 1.0)
    gap = np.abs(za - zb).max(1) / scale
    spread = float(np.median(np.linalg.norm(za - za[np.random.default_rng(0).permutation(len(za))], axis=1)))
    _merge(
        args.out,
        f"iso/{key_base}",
        {
            "pairs": len(gap),
            "same_point": float(np.mean(gap < 1e-5)),
            "max_relative_gap": float(gap.max()),
            "median_distance_random_pairs": spread,
            "tolerance": 1e-5,
            "command": command,
        },
    )


def bench_predictor(args, command: str) -> None:
    from archpred.data import load_benchmark
    from archpred.metrics import kendall_tau, mse, spearman
    from archpred.vae.data import GraphArrays
    from archpred.vae.predictors import SVGePredictor

    if args.space != "nb101":
        raise ValueError("the latent-predictor experiment is on NB-101: pass --space nb101")
    bench = load_benchmark("nb101")
    y = bench.accuracy
    for size in args.labelled or [1000]:
        rows = np.random.default_rng(0).permutation(len(bench))
        train, test = rows[:size], rows[size:]
        start = time.perf_counter()
        model = SVGePredictor(seed=0, device=args.device, progress=True, epochs=args.pred_epochs)
        model.fit([bench.archs[i] for i in train], y[train])
        fit_s = time.perf_counter() - start
        pred = model.predict([bench.archs[i] for i in test])
        _merge(
            args.out,
            f"predictor/svge/nb101/{size}",
            {
                "train": size,
                "test": len(test),
                "mse": mse(y[test], pred),
                "kendall_tau": kendall_tau(y[test], pred),
                "spearman": spearman(y[test], pred),
                "fit_seconds": fit_s,
                "epochs": args.pred_epochs,
                "target": "val_acc_108 (one run)",
                "pretrained": model.pretrained_,
                "command": command,
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
        args.out,
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
            "predictor_train_size": int((args.labelled or [1000])[-1]),
            "command": command,
        },
    )


def bench_rf(args, command: str) -> None:
    from sklearn.ensemble import RandomForestRegressor

    from archpred.data import load_benchmark
    from archpred.metrics import pearson, rmse
    from archpred.vae.model import load_vae

    if args.space != "nb101":
        raise ValueError("the arch2vec + random forest experiment is on NB-101: pass --space nb101")
    bench = load_benchmark("nb101")
    vae = load_vae("arch2vec", "nb101", path=args.model)
    good = np.flatnonzero(bench.accuracy > 0.8)
    x = vae.embed([bench.archs[i] for i in good])
    y = bench.accuracy[good]
    for size in args.rf_sizes or [608, 2500]:
        rs, es = [], []
        for seed in range(args.seeds):
            perm = np.random.default_rng(seed).permutation(len(good))
            tr, te = perm[:size], perm[size:]
            forest = RandomForestRegressor(n_estimators=200, max_features=4, random_state=seed, n_jobs=1)
            pred = forest.fit(x[tr], y[tr]).predict(x[te])
            rs.append(pearson(y[te], pred))
            es.append(rmse(y[te], pred))
        _merge(
            args.out,
            f"rf/arch2vec/nb101/{size}",
            {
                "train": size,
                "test": len(good) - size,
                "pool_acc_gt_0.8": len(good),
                "seeds": args.seeds,
                "pearson": float(np.mean(rs)),
                "pearson_std": float(np.std(rs)),
                "rmse": float(np.mean(es)),
                "rmse_std": float(np.std(es)),
                "model": _model_info(vae),
                "command": command,
            },
        )


def bench_speed(vae, args, key_base: str, command: str) -> None:
    import torch

    from archpred.vae.model import build_module

    graphs, _, train_rows, _ = training_keys(args.space, vae)
    sample = graphs.take(np.random.default_rng(0).choice(train_rows, 2048, replace=False))
    config = {k: v for k, v in vars(vae.module.config).items() if k != "space"}
    device = vae.device
    module = build_module(vae.kind, args.space, **config).to(device)
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
        args.out,
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
            "command": command,
        },
    )


def run(args: argparse.Namespace) -> int:
    import torch

    from archpred.vae.model import load_vae

    if args.threads:
        torch.set_num_threads(args.threads)
    from archpred.vae.cli import command_line

    command = command_line("bench vae", args)
    what = args.what or ["recon", "prior", "speed"]
    kinds = args.kind or ["svge", "arch2vec"]
    for section in what:
        if section == "predictor":
            bench_predictor(args, command)
            continue
        if section == "rf":
            bench_rf(args, command)
            continue
        for kind in kinds:
            vae = load_vae(kind, args.space, path=args.model, device=args.device)
            fn = {"recon": bench_recon, "prior": bench_prior, "iso": bench_iso, "speed": bench_speed}[section]
            fn(vae, args, f"{kind}/{args.space}", command)
    return 0
