"""``train KIND ...``: train models; each KIND is a command module of its own."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from archpred.cli import train_gennape, train_io_vae, train_predictor, train_vae

    p = sub.add_parser("train", help="train a predictor, a graph VAE or GENNAPE")
    tsub = p.add_subparsers(dest="train_command", metavar="KIND", required=True)
    for module in (train_predictor, train_vae, train_io_vae, train_gennape):
        module.register(tsub)
