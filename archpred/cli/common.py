"""Argument helpers shared by commands: spaces, cells, ``KEY=VALUE`` options, the runtime options
every command takes (``--device``, ``--threads``) and the command line recorded in reports.

Nothing here imports torch: ``--help`` must stay instant.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from pathlib import Path
from typing import Any

from archpred.spaces.base import MAX_CELL_CHARS

# Namespace entries argparse or ``main`` adds that are not options of a command.
_NOT_OPTIONS = frozenset({"func", "command", "train_command", "bench_command", "data_command", "argv"})


def add_space(parser: argparse.ArgumentParser, default: str | None = None, choices: list[str] | None = None) -> None:
    """``--space``, one of the registered search spaces (or of ``choices``, a subset of them)."""
    from archpred.spaces import SPACES

    parser.add_argument(
        "--space",
        choices=sorted(choices or SPACES),
        default=default,
        required=default is None,
        help="search space",
    )


def read_cell_text(value: str) -> str:
    """``--cell`` takes JSON text, ``@file`` for a file, or ``-`` for standard input."""
    if value == "-":
        return sys.stdin.read()
    if value.startswith("@"):
        path = Path(value[1:])
        if not path.is_file():
            raise FileNotFoundError(f"no such cell file: {path}")
        if path.stat().st_size > MAX_CELL_CHARS:
            raise ValueError(f"{path} holds {path.stat().st_size:,} bytes; no cell needs more than {MAX_CELL_CHARS:,}")
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not a text file (a cell is JSON or an NB-201 string)") from None
    return value


def add_cell(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cell",
        required=True,
        help='cell as JSON, e.g. \'{"adjacency": [[0,1],[0,0]], "ops": ["input","output"]}\', '
        "an NB-201 string, @FILE or - (stdin)",
    )


def parse_key_values(pairs: list[str], flag: str, *, as_json: bool = True) -> dict[str, Any]:
    """``KEY=VALUE`` pairs of a repeatable option (``flag`` names it in errors) as a dict.

    Keys are stripped and ``-`` becomes ``_`` (field names). With ``as_json`` a value is read as
    JSON when it parses (numbers, booleans, lists, null) and kept as text otherwise; without it
    every value stays text (network options, whose run ids hash the text as given).
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ValueError(f"{flag} must be KEY=VALUE, got {pair!r}")
        value = value.strip()
        if as_json:
            try:
                out[key] = json.loads(value)
                continue
            except json.JSONDecodeError:
                pass
            except RecursionError:
                raise ValueError(f"{flag} {key}: the value is nested too deeply") from None
        out[key] = value
    return out


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    return _int_at_least(text, 0)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0 (a learning rate, say)."""
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """An argparse type: a finite number >= 0."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def add_runtime(parser: argparse.ArgumentParser, threads: int | None = None) -> None:
    """``--device`` and ``--threads``, which every command takes; ``archpred.cli.main`` checks
    the device and sets torch's thread count once, before the command runs."""
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda or cuda:N (default auto)"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=threads,
        help=f"torch CPU threads (default {threads if threads else 'torch: one per core'})",
    )


def command_line(words: str, args: argparse.Namespace) -> str:
    """The command that reproduces ``args`` (options as given or defaulted), for reports."""
    parts = ["python", "-m", "archpred", *words.split()]
    for key, value in vars(args).items():
        if key in _NOT_OPTIONS or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            parts.append(flag)
        elif isinstance(value, list):
            for item in value:
                parts += [flag, str(item)]
        else:
            parts += [flag, str(value)]
    return shlex.join(parts)


def given_command(args: argparse.Namespace) -> str:
    """The command line exactly as typed (``main`` keeps its ``argv``)."""
    return shlex.join(["python", "-m", "archpred", *getattr(args, "argv", [])])
