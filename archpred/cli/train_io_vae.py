"""``train io-vae``: the IO model or the Accuracy model (arch2vec with input-output
information) on an IO dataset (checkpoint every epoch, resume)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archpred.cli.common import (
    add_runtime,
    command_line,
    non_negative_int,
    parse_key_values,
    positive_float,
    positive_int,
)
from archpred.vae import IO_VAE_KINDS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "io-vae",
        help="train the IO model or the Accuracy model (arch2vec + input-output information)",
        description="Semi-supervised, as Suchoparova & Neruda: 300 labelled batches of (network, image) pairs of "
        "the IO dataset (python -m archpred data io-build), then 200 unlabelled batches of NB-101 cells, and "
        "again. Checkpoints every epoch; rerunning resumes.",
    )
    p.add_argument("--kind", choices=IO_VAE_KINDS, required=True)
    p.add_argument("--data", type=Path, default=None, help="IO dataset folder (default: the data io-build default)")
    p.add_argument("--epochs", type=positive_int, default=10, help="paper: 10")
    p.add_argument("--batch-size", type=positive_int, default=32, help="paper: 32")
    p.add_argument("--lr", type=positive_float, default=1e-3)
    p.add_argument("--seed", type=non_negative_int, default=1, help="paper: 1, 2, 3")
    p.add_argument("--embedding", choices=("mean", "flatten"), default="mean",
                   help="what the model's embed() gives: the flatten layer ('model 2') or the node mean ('model 1')")  # fmt: skip
    p.add_argument("--unlabelled-size", type=positive_int, default=None,
                   help="a random subset of the unlabelled cells (default: all 381,262, the 90%% split of NB-101 arch2vec trains on)")  # fmt: skip
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="model option (repeatable)")
    p.add_argument("--checkpoint", type=Path, default=None, help="training state (default: cache dir)")
    p.add_argument("--out", type=Path, default=None, help="model file (default: cache dir, read by load_vae)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    p.add_argument("--half", action="store_true", help="store float16 weights in --out (the shipped models)")
    p.add_argument("--no-progress", action="store_true")
    add_runtime(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from archpred.cli.train_vae import _log_epoch
    from archpred.data.io_dataset import load_io_dataset
    from archpred.paths import cache_dir
    from archpred.vae.io_train import default_unlabelled, train_io_vae
    from archpred.vae.model import model_filename

    options = parse_key_values(args.config, "--config")
    dataset = load_io_dataset(args.data)
    unlabelled = default_unlabelled()
    if args.unlabelled_size is not None and args.unlabelled_size < len(unlabelled):
        rows = np.random.default_rng(args.seed).choice(len(unlabelled), args.unlabelled_size, replace=False)
        unlabelled = unlabelled.take(np.sort(rows))
    name = model_filename(args.kind, "nb101")
    out = args.out or cache_dir("vae") / name
    checkpoint = args.checkpoint or out.with_name(out.name.replace(".pt", ".train.pt"))
    if args.fresh and checkpoint.exists():
        checkpoint.unlink()
    print(f"{args.kind} model on {len(dataset)} networks, checkpoint {checkpoint}", file=sys.stderr)
    vae, history = train_io_vae(
        args.kind,
        dataset,
        unlabelled=unlabelled,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        checkpoint=checkpoint,
        device=args.device,
        progress=not args.no_progress,
        on_epoch=_log_epoch if args.no_progress else None,
        **{"embedding": args.embedding, **options},
    )
    vae.meta.update(command=command_line("train io-vae", args), history=history)
    vae.save(out, half=args.half)
    last = history[-1] if history else {}
    print(f"saved {out} after {len(history)} epochs: " + ", ".join(f"{k}={v:.4g}" for k, v in last.items()))
    return 0
