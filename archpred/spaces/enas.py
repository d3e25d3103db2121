"""The ENAS macro space (Pham et al. 2018) of 6 layers, in the form D-VAE and SVGe use.

A layer is ``[op, s_0, ..., s_{i-1}]``: an op type 0..5 and, for layer i, i skip bits. In the
D-VAE graph (vertex 0 input, vertex i+1 layer i, vertex 7 output) every layer is fed by the
vertex before it, skip bit j of layer i adds an edge from vertex j, and the output is fed by
the last layer alone (``decode_ENAS_to_igraph`` in D-VAE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from archpred.errors import InvalidArchitecture
from archpred.spaces.base import INPUT, OUTPUT, Architecture, SearchSpace, check_matrix, parse_json

ENAS_OPS = ("conv3x3", "sepconv3x3", "conv5x5", "sepconv5x5", "avgpool3x3", "maxpool3x3")
N_LAYERS = 6


@dataclass(frozen=True)
class ENASArch(Architecture):
    """An ENAS macro architecture: ``layers[i] = (op, s_0, ..., s_{i-1})``, op in 0..5, skip bits 0/1."""

    space = "enas"
    layers: tuple[tuple[int, ...], ...]

    @property
    def adjacency(self) -> tuple[tuple[int, ...], ...]:
        n = len(self.layers)
        adj = [[0] * (n + 2) for _ in range(n + 2)]
        for i, layer in enumerate(self.layers):
            adj[i][i + 1] = 1
            for j, bit in enumerate(layer[1:]):
                if bit:
                    adj[j][i + 1] = 1
        adj[n][n + 1] = 1
        return tuple(map(tuple, adj))

    @property
    def ops(self) -> tuple[str, ...]:
        return (INPUT, *(ENAS_OPS[layer[0]] for layer in self.layers), OUTPUT)

    @property
    def string(self) -> str:
        """The D-VAE text form, e.g. ``[[1], [4, 0], ...]``."""
        return "[" + ", ".join("[" + ", ".join(map(str, layer)) + "]" for layer in self.layers) + "]"

    def to_dict(self) -> dict[str, Any]:
        return {"layers": [list(layer) for layer in self.layers]}

    def __repr__(self) -> str:
        return f"ENASArch({self.string})"


class ENASSpace(SearchSpace):
    """The 6-layer ENAS macro space of D-VAE and SVGe; ``key`` is the D-VAE text form."""

    name = "enas"
    ops = ENAS_OPS
    max_vertices = N_LAYERS + 2
    size = 6**N_LAYERS * 2 ** (N_LAYERS * (N_LAYERS - 1) // 2)

    def cell(self, layers: Any = None, *, adjacency: Any = None, ops: Any = None, **extra: Any) -> ENASArch:
        """From nested layers (list or D-VAE text) or from the 8-vertex graph form."""
        if extra:
            raise InvalidArchitecture(f"unexpected field(s) for an enas cell: {', '.join(map(repr, sorted(extra)))}")
        if adjacency is not None:
            return self._from_graph(adjacency, ops)
        if layers is None:
            raise InvalidArchitecture("an enas architecture needs 'layers' (or 'adjacency' and 'ops')")
        if isinstance(layers, str):
            layers = parse_json(layers)
        if not isinstance(layers, (list, tuple)) or len(layers) != N_LAYERS:
            raise InvalidArchitecture(f"an enas architecture has {N_LAYERS} layers")
        out = []
        for i, layer in enumerate(layers):
            if not isinstance(layer, (list, tuple)) or len(layer) != i + 1:
                raise InvalidArchitecture(f"layer {i} must be [op, {i} skip bits]")
            if any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) for x in layer):
                raise InvalidArchitecture(f"layer {i} must hold integers")
            if not 0 <= layer[0] < len(ENAS_OPS):
                raise InvalidArchitecture(f"unknown op {layer[0]} in layer {i}; ops are 0..{len(ENAS_OPS) - 1}")
            if any(b not in (0, 1) for b in layer[1:]):
                raise InvalidArchitecture(f"skip bits of layer {i} must be 0 or 1")
            out.append(tuple(int(x) for x in layer))
        return ENASArch(tuple(out))

    def _from_graph(self, adjacency: Any, ops: Any) -> ENASArch:
        rows = check_matrix(adjacency)
        n = N_LAYERS + 2
        if len(rows) != n or not isinstance(ops, (list, tuple)) or len(ops) != n:
            raise InvalidArchitecture(f"size mismatch: an enas graph has {n} vertices and {n} ops")
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise InvalidArchitecture("the first vertex must be 'input' and the last 'output'")
        layers = []
        for i in range(N_LAYERS):
            op = ops[i + 1]
            if op not in ENAS_OPS:
                raise InvalidArchitecture(f"unknown op {op!r} at vertex {i + 1}; choose from {', '.join(ENAS_OPS)}")
            if not rows[i][i + 1]:
                raise InvalidArchitecture(f"vertex {i + 1} must be fed by vertex {i} (ENAS chain)")
            layers.append((ENAS_OPS.index(op), *(rows[j][i + 1] for j in range(i))))
        for u in range(n):
            for v in range(n):
                if rows[u][v] and not (u < v and (v <= N_LAYERS and u < v or (u, v) == (N_LAYERS, n - 1))):
                    raise InvalidArchitecture(f"edge {u} -> {v} is not allowed in the enas space")
        return ENASArch(tuple(layers))

    def key(self, arch: ENASArch) -> str:
        """The D-VAE text form of the layers (``ENASArch.string``)."""
        self.check_own(arch)
        return arch.string

    def sample(self, rng: np.random.Generator) -> ENASArch:
        """Uniform: every layer's op and every skip bit drawn independently."""
        return ENASArch(
            tuple((int(rng.integers(len(ENAS_OPS))), *rng.integers(0, 2, size=i).tolist()) for i in range(N_LAYERS))
        )

    def mutate(self, arch: ENASArch, rng: np.random.Generator) -> ENASArch:
        """A uniformly chosen one of ``neighbours(arch)``."""
        neighbours = self.neighbours(arch)
        return neighbours[int(rng.integers(len(neighbours)))]

    def neighbours(self, arch: ENASArch) -> list[ENASArch]:
        """Every architecture with one layer's op changed or one skip bit flipped."""
        out = []
        for i, layer in enumerate(arch.layers):
            for op in range(len(ENAS_OPS)):
                if op != layer[0]:
                    out.append(self._replace(arch, i, (op, *layer[1:])))
            for j in range(1, len(layer)):
                flipped = list(layer)
                flipped[j] ^= 1
                out.append(self._replace(arch, i, tuple(flipped)))
        return out

    @staticmethod
    def _replace(arch: ENASArch, i: int, layer: tuple[int, ...]) -> ENASArch:
        return ENASArch(arch.layers[:i] + (layer,) + arch.layers[i + 1 :])

    def path_length_limit(self) -> int:
        """Paths of up to 3 ops get bits; longer ones are left out."""
        return 3  # 6 ops: longer paths would give 6**6 features
