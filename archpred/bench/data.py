"""``bench data``: load time of every benchmark and NB-101 enumeration time and cache size."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class DataBenchConfig:
    """Args:
    enumerate: also enumerate NB-101 from scratch into a temporary cache (minutes).
    out: write the results as JSON here (None: print only).
    """

    enumerate: bool = False
    out: Path | None = None


def run_data(config: DataBenchConfig) -> dict[str, Any]:
    """Time loading every benchmark (and enumerating NB-101); returns the results."""
    import os
    import platform

    import torch

    from archpred.artifacts import atomic_write_text

    results: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "torch_threads": torch.get_num_threads(),
        "load_seconds": _load_times(),
    }
    if config.enumerate:
        results["nb101_enumeration"] = _enumeration()
    if config.out:
        atomic_write_text(config.out, json.dumps(results, indent=2))
    return results


def _load_times() -> dict[str, float]:
    from archpred.data import BENCHMARKS, load_benchmark
    from archpred.errors import ArchpredError

    seconds: dict[str, float] = {}
    for name in BENCHMARKS:
        try:
            start = time.perf_counter()
            bench = load_benchmark(name)
            seconds[name] = round(time.perf_counter() - start, 3)
            print(f"load {name:6s} {len(bench):6d} records in {seconds[name]:.2f}s")
        except (ArchpredError, ModuleNotFoundError) as err:
            print(f"load {name:6s} unavailable: {err}")
    return seconds


def _enumeration() -> dict[str, Any]:
    import tempfile

    from archpred.spaces.nb101_enumerate import CACHE_NAME, load_or_enumerate

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        _, _, hashes = load_or_enumerate(progress=True, directory=Path(tmp))
        seconds = time.perf_counter() - start
        size = (Path(tmp) / CACHE_NAME).stat().st_size
        start = time.perf_counter()
        load_or_enumerate(progress=False, directory=Path(tmp))
        reload = time.perf_counter() - start
    print(
        f"enumerated {len(hashes):,} NB-101 cells in {seconds:.1f}s; cache {size / 1e6:.1f} MB, reloaded in {reload:.2f}s"
    )
    return {
        "cells": int(len(hashes)),
        "seconds": round(seconds, 1),
        "cache_bytes": size,
        "reload_seconds": round(reload, 3),
    }
