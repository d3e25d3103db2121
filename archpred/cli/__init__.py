"""``python -m archpred`` / ``archpred``: one subcommand per module, registered here by name.

A command module defines ``register(subparsers)``, which adds its parser and sets
``func`` (``args -> int``). Heavy imports stay inside ``func`` so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import sys

COMMAND_MODULES = (
    "archpred.cli.data",
    "archpred.cli.cells",
    "archpred.cli.bench",
    "archpred.cli.train",
    "archpred.cli.train_arch",
)


def build_parser() -> argparse.ArgumentParser:
    from archpred.cli.common import register_modules

    parser = argparse.ArgumentParser(
        prog="archpred", description="Neural-architecture performance prediction and exploration."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_modules(sub, COMMAND_MODULES)
    return parser


def _version() -> str:
    from archpred import __version__

    return __version__


def fail(message: str) -> int:
    print(f"archpred: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    from archpred.errors import ArchpredError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ArchpredError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as err:
        return fail(str(err).splitlines()[0] if str(err) else type(err).__name__)
    except NotImplementedError as err:
        return fail(str(err))
    except KeyboardInterrupt:
        print("archpred: interrupted; finished results are saved", file=sys.stderr)
        return 130
