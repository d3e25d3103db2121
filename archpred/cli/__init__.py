"""``python -m archpred`` / ``archpred``: one command module per front, registered here.

A command module defines ``register(subparsers)``, which adds its parser(s) and sets ``func``
(``args -> int``). Heavy imports stay inside ``func`` so ``--help`` is instant. Every command
takes ``--device`` and ``--threads`` (``common.add_runtime``); ``main`` checks the device and
sets torch's thread count here, once, so no command or library function does.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every command module of ``archpred.cli`` registers itself."""
    from archpred.cli import bench, cells, data, predict, search, train, train_arch

    parser = argparse.ArgumentParser(
        prog="archpred", description="Neural-architecture performance prediction and exploration."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (data, cells, bench, train, train_arch, search, predict):
        module.register(sub)
    return parser


def _version() -> str:
    from archpred import __version__

    return __version__


def fail(message: str) -> int:
    print(f"archpred: error: {message}", file=sys.stderr)
    return 2


def apply_runtime(args: argparse.Namespace) -> None:
    """Check ``--device`` and set ``--threads``: the one place the command line touches torch's
    process-wide settings. Torch is imported only when a value needs it."""
    device = getattr(args, "device", "auto")
    if device is not None and str(device).strip().lower() != "auto":
        from archpred.training import resolve_device

        resolve_device(device)  # a bad or absent device is a one-line InvalidOption
    threads = getattr(args, "threads", None)
    if threads:
        import torch

        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    from archpred.errors import ArchpredError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # reports record the command as typed
    try:
        apply_runtime(args)
        return int(args.func(args) or 0)
    except (ArchpredError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as err:
        return fail(str(err).splitlines()[0] if str(err) else type(err).__name__)
    except NotImplementedError as err:
        return fail(str(err))
    except KeyboardInterrupt:
        print("archpred: interrupted; finished results are saved", file=sys.stderr)
        return 130
