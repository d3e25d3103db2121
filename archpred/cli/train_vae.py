"""``train vae``: train SVGe or arch2vec on a search space (checkpoint every epoch, resume)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archpred.cli.common import (
    add_runtime,
    command_line,
    non_negative_float,
    non_negative_int,
    parse_key_values,
    positive_float,
    positive_int,
)
from archpred.vae import VAE_KINDS, VAE_SPACES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "vae",
        help="train a graph VAE (SVGe or arch2vec) on a search space",
        description="Unsupervised training on the space's cells (NB-101: all 423,624; NB-201: all 15,625; "
        "ENAS: D-VAE's 20,015), 90/10 split. Checkpoints every epoch; rerunning resumes.",
    )
    p.add_argument("--kind", choices=VAE_KINDS, required=True)
    p.add_argument("--space", choices=VAE_SPACES, required=True)
    p.add_argument("--epochs", type=positive_int, default=20, help="total epochs (a resumed run continues to this)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="default: 256 (svge), 64 (arch2vec)")
    p.add_argument("--lr", type=positive_float, default=1e-3)
    p.add_argument(
        "--lr-min", type=non_negative_float, default=None, help="cosine-decay the learning rate to this over --epochs"
    )
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--train-size", type=positive_int, default=None, help="train on a random subset of the 90%% split")
    p.add_argument("--val-size", type=non_negative_int, default=1000, help="held-out graphs checked after each epoch")
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="model option (repeatable)")
    p.add_argument("--checkpoint", type=Path, default=None, help="training state (default: cache dir)")
    p.add_argument("--out", type=Path, default=None, help="model file (default: cache dir, read by load_vae)")
    p.add_argument("--half", action="store_true", help="store float16 weights in --out (smaller files)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    p.add_argument("--no-progress", action="store_true")
    add_runtime(p)
    p.set_defaults(func=run)


def _log_epoch(epoch: int, logs: dict[str, float]) -> None:
    text = ", ".join(f"{k}={v:.4g}" for k, v in logs.items() if k != "epoch")
    print(f"epoch {epoch + 1}: {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Train (or resume) on the space's 90% split and save the model with its history."""
    import numpy as np

    from archpred.paths import cache_dir
    from archpred.vae.model import model_filename
    from archpred.vae.train import space_graphs, split, train_vae, training_rows

    options = parse_key_values(args.config, "--config")
    batch_size = args.batch_size if args.batch_size is not None else (256 if args.kind == "svge" else 64)
    name = model_filename(args.kind, args.space)
    checkpoint = args.checkpoint or cache_dir("vae") / name.replace(".pt", ".train.pt")
    out = args.out or cache_dir("vae") / name
    if args.fresh and checkpoint.exists():
        checkpoint.unlink()
    graphs, _ = space_graphs(args.space)
    train_rows, val_rows = split(len(graphs), seed=0)
    train_rows = training_rows(train_rows, args.train_size, args.seed)
    if args.val_size is not None and args.val_size < len(val_rows):  # a random, not the first (smallest), part
        val_rows = np.sort(np.random.default_rng(1).choice(val_rows, args.val_size, replace=False))
    print(
        f"{args.kind} on {args.space}: {len(train_rows)} training graphs, {len(val_rows)} held-out checked per epoch, "
        f"checkpoint {checkpoint}",
        file=sys.stderr,
    )
    vae, history = train_vae(
        args.kind,
        args.space,
        graphs.take(train_rows),
        val=graphs.take(val_rows),
        epochs=args.epochs,
        batch_size=batch_size,
        lr=args.lr,
        lr_min=args.lr_min,
        seed=args.seed,
        checkpoint=checkpoint,
        device=args.device,
        progress=not args.no_progress,
        on_epoch=_log_epoch if args.no_progress else None,
        **options,
    )
    vae.meta.update(
        command=command_line("train vae", args),
        train_size=len(train_rows),
        split="90/10, numpy default_rng(0) permutation",
        history=history,
    )
    vae.save(out, half=args.half)
    last = history[-1] if history else {}
    summary = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k != "epoch")
    print(f"saved {out} after {len(history)} epochs: {summary}")
    return 0
