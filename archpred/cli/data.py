"""``data info``: which benchmarks are found, their sizes and best accuracies; ``data download``;
``data io-build``: the IO dataset of networks trained here."""

from __future__ import annotations

import argparse
from pathlib import Path

from archpred.cli.common import add_runtime, non_negative_int, positive_float, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="benchmark data: what is found where")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    info = dsub.add_parser("info", help="list benchmarks, record counts and best accuracy")
    add_runtime(info)
    info.set_defaults(func=cmd_info)
    get = dsub.add_parser("download", help="download the official NAS-Bench-101 tfrecord (needs internet)")
    get.add_argument("name", choices=["nb101-only108", "nb101-full"], help="nb101-only108 is about 499 MB")
    get.add_argument("--dest", type=Path, help="file to write (default: the data folder)")
    add_runtime(get)
    get.set_defaults(func=cmd_download)
    io = dsub.add_parser(
        "io-build",
        help="train NB-101 networks and keep their outputs: the IO dataset (resumable)",
        description="Samples --train + --val NB-101 cells, trains each network on --dataset in --workers "
        "processes (each finished network is written at once; rerun the command to resume), keeps its "
        "output features on the held-out images, then writes manifest.json (load_io_dataset).",
    )
    io.add_argument(
        "--out", type=Path, default=None, help="dataset folder (default $ARCHPRED_CACHE_DIR/io/nb101-digits)"
    )
    io.add_argument("--train", type=positive_int, default=608, help="seen (training) networks (paper: 608)")
    io.add_argument("--val", type=positive_int, default=77, help="unseen (validation) networks (paper: 77)")
    io.add_argument("--dataset", default="digits", help="digits (default), npz:PATH or cifar10:DIR")
    io.add_argument("--epochs", type=positive_int, default=15)
    io.add_argument("--lr", type=positive_float, default=0.05)
    io.add_argument("--batch-size", type=positive_int, default=64)
    io.add_argument("--width", type=positive_int, default=16, help="stem channels (NB-101's own: 128)")
    io.add_argument("--workers", type=positive_int, default=2, help="training processes")
    io.add_argument("--seed", type=non_negative_int, default=0)
    add_runtime(io)
    io.set_defaults(func=cmd_io_build)


def cmd_info(args: argparse.Namespace) -> int:
    import time

    from archpred.data import BENCHMARKS, load_benchmark
    from archpred.errors import ArchpredError
    from archpred.paths import data_dir

    print(f"data folder: {data_dir()}  (set $ARCHPRED_DATA_DIR to change)")
    for name in BENCHMARKS:
        start = time.perf_counter()
        try:
            bench = load_benchmark(name)
        except (ArchpredError, ModuleNotFoundError) as err:
            print(f"  {name:6s} missing: {err}")
            continue
        seconds = time.perf_counter() - start
        best = bench.accuracy.max()
        print(
            f"  {name:6s} {len(bench):6d} archs  target {bench.target:12s} best {best:.4f}  "
            f"mean {bench.accuracy.mean():.4f}  loaded in {seconds:.2f}s  ({bench.info.get('source', '')})"
        )
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from archpred.data.download import DOWNLOADS, download
    from archpred.paths import data_dir

    url, relative = DOWNLOADS[args.name]
    dest = args.dest or data_dir() / relative
    path = download(url, dest)
    print(f"saved {path}; load it with load_benchmark('nb101', path='{path}')")
    return 0


def cmd_io_build(args: argparse.Namespace) -> int:
    import numpy as np

    from archpred.data.io_dataset import default_io_dir, load_io_dataset
    from archpred.networks.io_dataset import IOBuildConfig, build_io_dataset
    from archpred.networks.train import TrainConfig

    train = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, device=args.device)
    config = IOBuildConfig(
        n_train=args.train,
        n_val=args.val,
        seed=args.seed,
        train=train,
        network={"width": args.width},
        dataset=args.dataset,
        workers=args.workers,
    )
    folder = args.out or default_io_dir()
    path = build_io_dataset(folder, config)
    data = load_io_dataset(folder)
    acc, seconds = data.accuracy, sum(n.train_seconds for n in data.networks)
    diverged = f" (and {len(data.diverged)} whose training diverged, set aside)" if data.diverged else ""
    print(
        f"wrote {path}: {len(data)} networks{diverged}, accuracy {acc.min():.3f}-{acc.max():.3f} "
        f"(median {np.median(acc):.3f}), {seconds / 3600:.2f} h of training"
    )
    return 0
