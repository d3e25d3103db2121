"""``train KIND ...``: train models; each KIND registers itself from its own module."""

from __future__ import annotations

import argparse
from importlib import import_module

TRAIN_MODULES = (
    "archpred.predictors.cli",
    "archpred.vae.cli",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a predictor or a graph VAE")
    tsub = p.add_subparsers(dest="train_command", metavar="KIND", required=True)
    for name in TRAIN_MODULES:
        try:
            module = import_module(name)
        except ModuleNotFoundError as err:
            if err.name in (name, name.rsplit(".", 1)[0]):
                continue
            raise
        module.register(tsub)
