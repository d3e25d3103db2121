"""``hash``, ``validate`` and ``enumerate``: single cells and whole spaces."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from archpred.cli.common import add_cell, add_runtime, add_space, read_cell_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hash", help="print a cell's hash (NB-101: the official one)")
    add_space(p)
    add_cell(p)
    add_runtime(p)
    p.set_defaults(func=cmd_hash)

    p = sub.add_parser("validate", help="check a cell; print its pruned form or what is wrong")
    add_space(p)
    add_cell(p)
    p.add_argument("--no-prune", action="store_true", help="NB-101: a vertex on no input-output path is an error")
    add_runtime(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("enumerate", help="write every cell of a space (NB-101: 423,624; NB-201: 15,625)")
    add_space(p)
    p.add_argument("--out", required=True, type=Path, help="output file: .jsonl (one cell a line) or .npz")
    p.add_argument("--no-progress", action="store_true")
    add_runtime(p)
    p.set_defaults(func=cmd_enumerate)


def _parse(args: argparse.Namespace, prune: bool = True):
    from archpred.spaces import get_space

    space = get_space(args.space)
    text = read_cell_text(args.cell)
    if args.space == "nb101" and not prune:
        from archpred.spaces.base import parse_json

        spec = parse_json(text)
        if not isinstance(spec, dict):
            raise ValueError("an nb101 cell must be a JSON object with 'adjacency' and 'ops'")
        return space, space.cell(**spec, prune=False)
    return space, space.parse(text)


def cmd_hash(args: argparse.Namespace) -> int:
    space, arch = _parse(args)
    print(space.hash(arch))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    space, arch = _parse(args, prune=not args.no_prune)
    pruned = getattr(arch, "pruned", ())
    note = f" (pruned vertices {list(pruned)} on no input-output path)" if pruned else ""
    print(f"valid {args.space} cell{note}: {arch.to_json()}")
    print(f"hash: {space.hash(arch)}")
    return 0


def cmd_enumerate(args: argparse.Namespace) -> int:
    import numpy as np

    from archpred.spaces import get_space

    space = get_space(args.space)
    suffix = args.out.suffix
    if suffix not in (".jsonl", ".npz"):
        raise ValueError(f"--out must end in .jsonl or .npz, got {args.out.name!r}")
    if not args.out.parent.exists():
        raise FileNotFoundError(f"no such folder: {args.out.parent}")
    hashed = space.enumerate_hashed(progress=not args.no_progress)
    archs = [arch for arch, _ in hashed]
    if suffix == ".jsonl":
        with open(args.out, "w") as f:
            for arch, key in hashed:
                f.write(json.dumps({"hash": key, **arch.to_dict()}) + "\n")
    else:
        adjacency, types = zip(*(space.padded(a) for a in archs))
        np.savez_compressed(
            args.out,
            adjacency=np.stack(adjacency),
            node_types=np.stack(types),
            hashes=np.array([key for _, key in hashed]),
        )
    print(f"wrote {len(archs)} {args.space} cells to {args.out}", file=sys.stderr)
    return 0
