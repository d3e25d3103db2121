"""``train KIND ...``: train models; each KIND registers itself from its own module."""

from __future__ import annotations

import argparse

from archpred.cli.common import register_modules

TRAIN_MODULES = (
    "archpred.predictors.cli",
    "archpred.vae.cli",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a predictor or a graph VAE")
    tsub = p.add_subparsers(dest="train_command", metavar="KIND", required=True)
    register_modules(tsub, TRAIN_MODULES)
