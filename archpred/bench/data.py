"""``bench data``: load time of every benchmark and NB-101 enumeration time and cache size."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="benchmark load times; NB-101 enumeration time and cache size")
    p.add_argument("--enumerate", action="store_true", help="also enumerate NB-101 from scratch into a temporary cache")
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os
    import platform
    import tempfile

    import torch

    from archpred.data import BENCHMARKS, load_benchmark
    from archpred.errors import ArchpredError

    results: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "torch_threads": torch.get_num_threads(),
        "load_seconds": {},
    }
    for name in BENCHMARKS:
        try:
            start = time.perf_counter()
            bench = load_benchmark(name)
            results["load_seconds"][name] = round(time.perf_counter() - start, 3)
            print(f"load {name:6s} {len(bench):6d} records in {results['load_seconds'][name]:.2f}s")
        except (ArchpredError, ModuleNotFoundError) as err:
            print(f"load {name:6s} unavailable: {err}")
    if args.enumerate:
        from archpred.spaces.nb101_enumerate import CACHE_NAME, load_or_enumerate

        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            _, _, hashes = load_or_enumerate(progress=True, directory=Path(tmp))
            seconds = time.perf_counter() - start
            size = (Path(tmp) / CACHE_NAME).stat().st_size
            start = time.perf_counter()
            load_or_enumerate(progress=False, directory=Path(tmp))
            reload = time.perf_counter() - start
        results["nb101_enumeration"] = {
            "cells": int(len(hashes)),
            "seconds": round(seconds, 1),
            "cache_bytes": size,
            "reload_seconds": round(reload, 3),
        }
        print(
            f"enumerated {len(hashes):,} NB-101 cells in {seconds:.1f}s; cache {size / 1e6:.1f} MB, "
            f"reloaded in {reload:.2f}s"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0
