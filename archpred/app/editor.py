"""Logic of the cell editor page: defaults, form values <-> cells, benchmark lookups."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from archpred.errors import InvalidArchitecture
from archpred.spaces import Architecture, get_space

# The benchmark that scores each space's cells in the editor.
SPACE_BENCHMARK = {"nb101": "nb101", "nb201": "nb201", "enas": "enas", "macro": "macro"}

DEFAULT_CELLS = {
    # The best cell of the 20,001-cell NB-101 sample (val_acc_108 = 0.9491).
    "nb101": {
        "adjacency": [
            [0, 1, 0, 0, 0, 1, 1],
            [0, 0, 1, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0, 0],
            [0, 0, 0, 0, 1, 1, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0] * 7,
        ],
        "ops": [
            "input",
            "conv3x3-bn-relu",
            "maxpool3x3",
            "conv3x3-bn-relu",
            "conv1x1-bn-relu",
            "conv3x3-bn-relu",
            "output",
        ],
    },
    "nb201": {
        "arch": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    },
    # The best ENAS architecture of the D-VAE file (weight-sharing accuracy 0.7502).
    "enas": {"layers": [[1], [3, 0], [2, 0, 0], [4, 1, 0, 1], [5, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]]},
    "macro": {"arch": "11111221"},
}


def default_text(space: str) -> str:
    return json.dumps(DEFAULT_CELLS.get(space, {}))


def parse_cell(space: str, text: str) -> Architecture:
    """Parse the editor's JSON; raises ``InvalidArchitecture`` with the exact problem."""
    if not text or not text.strip():
        raise InvalidArchitecture("the cell is empty: paste JSON or use the form")
    return get_space(space).parse(text)


def nb101_from_form(ops: list[str], edges: np.ndarray) -> str:
    """JSON of an NB-101 cell from interior op choices and an edge matrix."""
    n = len(ops) + 2
    matrix = np.triu(np.asarray(edges, dtype=int)[:n, :n], 1)
    return json.dumps({"adjacency": matrix.tolist(), "ops": ["input", *ops, "output"]})


def random_text(space: str, seed: int) -> str:
    arch = get_space(space).sample(np.random.default_rng(seed))
    return arch.to_json()


def mutate_text(space: str, text: str, seed: int) -> str:
    arch = parse_cell(space, text)
    return get_space(space).mutate(arch, np.random.default_rng(seed)).to_json()


def summary(space: str, arch: Architecture) -> dict[str, Any]:
    s = get_space(space)
    out: dict[str, Any] = {"hash": s.hash(arch), "vertices": arch.num_vertices, "edges": int(arch.matrix.sum())}
    pruned = getattr(arch, "pruned", ())
    if pruned:
        out["pruned vertices"] = list(pruned)
    return out
