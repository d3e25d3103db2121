"""``train-arch``: build cells as real networks and train them (digits by default).

    python -m archpred train-arch --space nb101 --cell @cell.json --epochs 15 --width 16
    python -m archpred train-arch --space macro --cells keys.txt --workers 2 --out results.jsonl
    python -m archpred train-arch --space nb201 --cell '|nor_conv_3x3~0|+|...|' --dataset npz:data.npz

Results are appended to ``--out`` (JSON lines) as each network finishes; a rerun skips cells
already there and resumes unfinished ones from their per-epoch checkpoints.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from archpred.cli.common import add_runtime, add_space, parse_key_values, read_cell_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-arch", help="train cells as real PyTorch networks (digits, .npz, CIFAR-10)")
    add_space(p)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--cell", help="one cell: JSON, an NB-201 string, a Macro key, @FILE or - (stdin)")
    which.add_argument("--cells", type=Path, help="a file of cells, one per line (JSON, string or key)")
    p.add_argument("--dataset", default="digits", help="digits (default), npz:PATH or cifar10:DIR")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=None, help="network width (NB-101 stem channels, NB-201 C, ...)")
    p.add_argument("--depth", type=int, default=None, help="cells per stack/stage (NB-101, NB-201)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="any other network config field")
    p.add_argument("--out", type=Path, default=Path("train_arch_results.jsonl"), help="results, one JSON line each")
    p.add_argument("--checkpoint-dir", type=Path, default=None, help="per-epoch checkpoints (default: beside --out)")
    p.add_argument("--io-dir", type=Path, default=None, help="also save IO features (arch2vec) as HASH.npz here")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes for --cells")
    p.add_argument("--no-progress", action="store_true")
    add_runtime(p)
    p.set_defaults(func=cmd_train_arch)


def _options(args: argparse.Namespace) -> dict:
    """Network config fields: ``--width``, ``--depth`` and every ``--option`` (values as text,
    which ``make_config`` converts and the run id hashes as given)."""
    options: dict = {}
    if args.width is not None:
        options["width"] = args.width
    if args.depth is not None:
        options["depth"] = args.depth
    options.update(parse_key_values(args.option, "--option", as_json=False))
    return options


def cmd_train_arch(args: argparse.Namespace) -> int:
    """Train one cell or a file of cells; skip what ``--out`` already holds."""
    from archpred.networks import make_config
    from archpred.networks.train import TrainConfig, train_classifier, train_many
    from archpred.spaces import get_space

    space = get_space(args.space)
    options = _options(args)
    make_config(args.space, **options)  # bad options fail before any work
    if args.cell is not None:
        archs = [space.parse(read_cell_text(args.cell))]
    else:
        if not args.cells.is_file():
            raise FileNotFoundError(f"no such cells file: {args.cells}")
        lines = [ln.strip() for ln in args.cells.read_text().splitlines() if ln.strip()]
        if not lines:
            raise ValueError(f"{args.cells}: no cells")
        archs = []
        for number, line in enumerate(lines, start=1):
            try:
                archs.append(space.parse(line))
            except ValueError as err:
                raise ValueError(f"{args.cells}:{number}: {err}") from None
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        seed=args.seed,
        device=args.device,
    )
    checkpoints = args.checkpoint_dir or args.out.with_name(args.out.stem + "_checkpoints")
    if len(archs) == 1:
        from archpred.networks.runs import read_results, run_id

        run = run_id(args.space, space.key(archs[0]), args.dataset, config, options)
        done = [r for r in read_results(args.out) if r.get("run") == run]
        result = done[-1] if done else None
        if result is None:
            result = train_classifier(
                archs[0],
                args.space,
                config,
                network=options,
                dataset=args.dataset,
                checkpoint_dir=checkpoints,
                results=args.out,
                io_dir=args.io_dir,
                progress=not args.no_progress,
            )
        results = [result]
    else:
        results = train_many(
            archs,
            args.space,
            config,
            out=args.out,
            workers=args.workers,
            network=options,
            dataset=args.dataset,
            checkpoint_dir=checkpoints,
            io_dir=args.io_dir,
            progress=not args.no_progress,
        )
    for r in results:
        summary = {k: r[k] for k in ("key", "params", "epochs", "train_acc", "val_acc", "test_acc", "train_seconds")}
        print(json.dumps(summary))
    print(f"results in {args.out}")
    return 0
