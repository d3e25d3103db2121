"""``bench NAME ...``: reproducible measurements; each NAME lives in ``archpred.bench.NAME``."""

from __future__ import annotations

import argparse

from archpred.cli.common import register_modules

BENCH_MODULES = (
    "archpred.bench.data",
    "archpred.bench.predictors",
    "archpred.bench.vae",
    "archpred.bench.networks",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks and paper reproductions (write reports)")
    bsub = p.add_subparsers(dest="bench_command", metavar="NAME", required=True)
    register_modules(bsub, BENCH_MODULES)
