"""``bench networks``: parameter counts of built networks against every benchmark record, and a
training run on digits.

    python -m archpred bench networks                   # analytic over all records + 200 built each
    python -m archpred bench networks --build all       # also build every record (meta device)
    python -m archpred bench networks --train-epochs 30 # plus an NB-101 cell trained on digits
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DEFAULT_CELL = {
    "adjacency": [[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
    "ops": ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu", "output"],
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("networks", help="network parameter counts vs NB-101/NB-201/Macro records; digits training")
    p.add_argument(
        "--benchmarks", default="nb101,nb201,macro", help="comma-separated subset of nb101,nb201,macro (or 'none')"
    )
    p.add_argument(
        "--build", default="200", help="records per benchmark also built on the meta device and counted, or 'all'"
    )
    p.add_argument("--train-epochs", type=int, default=0, help="also train an NB-101 cell on digits (0: skip)")
    p.add_argument("--width", type=int, default=16, help="stem channels of the trained NB-101 network")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_networks)


def cmd_networks(args: argparse.Namespace) -> int:
    import torch

    from archpred.networks.check import BENCHMARKS, check_benchmark

    torch.set_num_threads(max(1, args.threads))
    names = [] if args.benchmarks == "none" else [b.strip() for b in args.benchmarks.split(",") if b.strip()]
    for name in names:
        if name not in BENCHMARKS:
            raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    if args.build != "all" and not args.build.isdigit():
        raise ValueError(f"--build must be a number or 'all', got {args.build!r}")
    build = 10**9 if args.build == "all" else int(args.build)
    results: dict = {"counts": []}
    for name in names:
        r = check_benchmark(name, build=build, progress=not args.no_progress)
        results["counts"].append(r)
        flops = f", flops {r['flops_matched']}/{r['records']}" if "flops_matched" in r else ""
        print(
            f"{name}: params {r['params_matched']}/{r['records']}{flops} matched (analytic {r['analytic_s']}s); "
            f"built {r['built_matched']}/{r['built_checked']} matched ({r['build_s']}s); load {r['load_s']}s"
        )
    if args.train_epochs > 0:
        from archpred.networks.train import TrainConfig, train_classifier

        cfg = TrainConfig(epochs=args.train_epochs, seed=0, device="cpu")
        r = train_classifier(DEFAULT_CELL, "nb101", cfg, network={"width": args.width}, progress=not args.no_progress)
        results["training"] = {k: v for k, v in r.items() if k != "history"}
        print(
            f"digits: NB-101 cell, width {args.width}, {r['params']} params, {args.train_epochs} epochs: "
            f"test acc {r['test_acc']:.4f}, val {r['val_acc']:.4f}, train {r['train_acc']:.4f} "
            f"in {r['train_seconds']:.1f}s"
        )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0
