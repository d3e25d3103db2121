"""``bench NAME ...``: reproducible measurements; each NAME lives in ``archpred.bench.NAME``."""

from __future__ import annotations

import argparse
from importlib import import_module

BENCH_MODULES = (
    "archpred.bench.data",
    "archpred.bench.predictors",
    "archpred.bench.vae",
    "archpred.bench.networks",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks and paper reproductions (write reports)")
    bsub = p.add_subparsers(dest="bench_command", metavar="NAME", required=True)
    for name in BENCH_MODULES:
        try:
            module = import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        module.register(bsub)
