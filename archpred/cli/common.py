"""Argument helpers shared by commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_space(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    from archpred.spaces import SPACES

    parser.add_argument(
        "--space", choices=sorted(SPACES), default=default, required=default is None, help="search space"
    )


def read_cell_text(value: str) -> str:
    """``--cell`` takes JSON text, ``@file`` for a file, or ``-`` for standard input."""
    if value == "-":
        return sys.stdin.read()
    if value.startswith("@"):
        path = Path(value[1:])
        if not path.is_file():
            raise FileNotFoundError(f"no such cell file: {path}")
        return path.read_text()
    return value


def add_cell(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cell",
        required=True,
        help='cell as JSON, e.g. \'{"adjacency": [[0,1],[0,0]], "ops": ["input","output"]}\', '
        "an NB-201 string, @FILE or - (stdin)",
    )


def register_modules(sub: argparse._SubParsersAction, module_names: tuple[str, ...]) -> None:
    """Call ``register(sub)`` of each command module; a module (or package) not present is skipped."""
    from importlib import import_module

    for name in module_names:
        try:
            module = import_module(name)
        except ModuleNotFoundError as err:
            if err.name not in (name, name.rsplit(".", 1)[0]):
                raise  # a missing dependency inside the module is a real error
            continue
        module.register(sub)
