"""``data info``: which benchmarks are found, their sizes and best accuracies."""

from __future__ import annotations

import argparse
from pathlib import Path

from archpred.cli.common import add_runtime


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
