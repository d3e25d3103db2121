"""``data info``: which benchmarks are found, their sizes and best accuracies."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="benchmark data: what is found where")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    info = dsub.add_parser("info", help="list benchmarks, record counts and best accuracy")
    info.set_defaults(func=cmd_info)


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
