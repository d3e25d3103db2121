"""NAS-Bench-101 (Ying et al., ICML 2019): cells of <= 7 vertices and <= 9 edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from archpred.errors import InvalidArchitecture
from archpred.spaces.base import (
    INPUT,
    OUTPUT,
    Architecture,
    SearchSpace,
    check_dag,
    check_matrix,
    on_path_vertices,
)

if TYPE_CHECKING:
    from archpred.spaces.arrays import SpaceArrays

NB101_OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
ALIASES = {
    "conv3x3": "conv3x3-bn-relu",
    "conv1x1": "conv1x1-bn-relu",
    "maxpool": "maxpool3x3",
    "maxpool3x3-bn-relu": "maxpool3x3",
}
MAX_VERTICES, MAX_EDGES = 7, 9


@dataclass(frozen=True)
class NB101Cell(Architecture):
    """A pruned NB-101 cell. ``pruned`` lists the vertices of the given matrix that were
    removed because they lie on no input->output path (it does not affect equality)."""

    space = "nb101"
    adjacency_: tuple[tuple[int, ...], ...]
    ops_: tuple[str, ...]
    pruned: tuple[int, ...] = field(default=(), compare=False)

    @property
    def adjacency(self) -> tuple[tuple[int, ...], ...]:
        return self.adjacency_

    @property
    def ops(self) -> tuple[str, ...]:
        return self.ops_

    @property
    def num_edges(self) -> int:
        """Number of edges (NB-101 allows at most 9)."""
        return sum(map(sum, self.adjacency_))

    def __repr__(self) -> str:
        return f"NB101Cell(adjacency={[list(r) for r in self.adjacency_]}, ops={list(self.ops_)})"


def _check_ops(ops: Any, n: int) -> list[str]:
    if not isinstance(ops, (list, tuple)) or not all(isinstance(o, str) for o in ops):
        raise InvalidArchitecture("ops must be a list of operation names (strings)")
    if len(ops) != n:
        raise InvalidArchitecture(f"size mismatch: adjacency is {n}x{n} but {len(ops)} ops were given")
    ops = [ALIASES.get(o, o) for o in ops]
    if ops[0] != INPUT:
        raise InvalidArchitecture(f"vertex 0 must be 'input', got {ops[0]!r}")
    if ops[-1] != OUTPUT:
        raise InvalidArchitecture(f"the last vertex must be 'output', got {ops[-1]!r}")
    for i, op in enumerate(ops[1:-1], start=1):
        # 'input' / 'output' inside the cell are known names: NB-101 rejects them only on a vertex
        # that survives pruning (its ModelSpec prunes first, then checks the ops left), as below
        if op not in NB101_OPS and op not in (INPUT, OUTPUT):
            raise InvalidArchitecture(f"unknown op {op!r} at vertex {i}; choose from {', '.join(NB101_OPS)}")
    return ops


class NB101Space(SearchSpace):
    """NAS-Bench-101 cell space; ``hash`` is the official graph hash of the benchmark."""

    name = "nb101"
    ops = NB101_OPS
    max_vertices = MAX_VERTICES
    max_edges = MAX_EDGES
    size = 423_624

    def cell(self, adjacency: Any = None, ops: Any = None, *, prune: bool = True, **extra: Any) -> NB101Cell:
        """Validate and prune a cell as NAS-Bench-101's ``ModelSpec`` does.

        Args:
            adjacency: V x V upper-triangular 0/1 matrix (lists or array).
            ops: V names, ``input`` first, ``output`` last.
            prune: drop vertices on no input->output path (as NB-101 does); with ``False``
                such a vertex is an error.
        """
        if extra:
            raise InvalidArchitecture(f"unexpected field(s) for an nb101 cell: {', '.join(map(repr, sorted(extra)))}")
        if (
            isinstance(adjacency, (list, tuple))
            and ops is None
            and len(adjacency) == 2
            and isinstance(adjacency[1], (list, tuple))
            and adjacency[1]
            and isinstance(adjacency[1][0], str)
        ):
            adjacency, ops = adjacency  # the [adjacency, ops] pair form
        if adjacency is None or ops is None:
            raise InvalidArchitecture("an nb101 cell needs both 'adjacency' and 'ops'")
        rows = check_matrix(adjacency)
        n = len(rows)
        if n < 2:
            raise InvalidArchitecture("a cell needs at least 2 vertices (input and output)")
        ops = _check_ops(ops, n)
        check_dag(rows)
        keep = sorted(on_path_vertices(rows))
        if 0 not in keep or n - 1 not in keep:
            raise InvalidArchitecture("input is not connected to output")
        dropped = tuple(v for v in range(n) if v not in keep)
        if dropped and not prune:
            raise InvalidArchitecture(f"vertex {dropped[0]} is not on an input->output path")
        inner = [v for v in keep[1:-1] if ops[v] not in NB101_OPS]
        if inner:
            raise InvalidArchitecture(
                f"vertex {inner[0]} is {ops[inner[0]]!r} inside the cell; choose from {', '.join(NB101_OPS)}"
            )
        rows = [[rows[i][j] for j in keep] for i in keep]
        ops = [ops[i] for i in keep]
        if len(ops) > MAX_VERTICES:
            raise InvalidArchitecture(f"too many vertices: {len(ops)} > {MAX_VERTICES}")
        edges = sum(map(sum, rows))
        if edges > MAX_EDGES:
            raise InvalidArchitecture(f"too many edges: {edges} > {MAX_EDGES}")
        return NB101Cell(tuple(map(tuple, rows)), tuple(ops), dropped)

    def trusted(self, adjacency: Any, ops: Any) -> NB101Cell:
        """Construct without validation (for records read from the benchmark itself)."""
        return NB101Cell(tuple(tuple(int(x) for x in r) for r in adjacency), tuple(ops))

    def from_codes(self, adjacency: Any, codes: Any) -> NB101Cell:
        """Build from NB-101's integer op codes (-1 input, 0/1/2 ops, -2 output, -3 padding)."""
        keep = [i for i, c in enumerate(codes) if c != -3]
        names = {-1: INPUT, -2: OUTPUT, 0: NB101_OPS[0], 1: NB101_OPS[1], 2: NB101_OPS[2]}
        rows = [[int(adjacency[i][j]) for j in keep] for i in keep]
        return self.cell(rows, [names[int(codes[i])] for i in keep])

    # -- exploration ----------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> NB101Cell:
        """Uniform over matrices and labels, rejecting invalid ones (NB-101's own sampler)."""
        while True:
            matrix = np.triu(rng.integers(0, 2, size=(MAX_VERTICES, MAX_VERTICES)), 1)
            ops = [INPUT, *rng.choice(NB101_OPS, size=MAX_VERTICES - 2).tolist(), OUTPUT]
            try:
                return self.cell(matrix, ops)
            except InvalidArchitecture:
                continue

    def _padded_spec(self, arch: NB101Cell, rng: np.random.Generator | None) -> tuple[np.ndarray, list[str]]:
        """The cell grown to 7 vertices with isolated interior vertices, so edits can add vertices."""
        adj, _ = self.padded(arch)
        ops = list(arch.ops[:-1])
        for _ in range(MAX_VERTICES - arch.num_vertices):
            ops.append(NB101_OPS[0] if rng is None else str(rng.choice(NB101_OPS)))
        return adj, ops + [OUTPUT]

    def mutate(self, arch: NB101Cell, rng: np.random.Generator, rate: float = 1.0) -> NB101Cell:
        """NB-101's evolution mutation: flip each edge bit with probability rate/7 and change
        each interior op with probability rate/5, until the result is valid and new."""
        own = self.hash(arch)
        for _ in range(10_000):
            adj, ops = self._padded_spec(arch, rng)
            flips = np.triu(rng.random(adj.shape) < rate / MAX_VERTICES, 1)
            adj = np.where(flips, 1 - adj, adj)
            for i in range(1, MAX_VERTICES - 1):
                if rng.random() < rate / (MAX_VERTICES - 2):
                    ops[i] = str(rng.choice([o for o in NB101_OPS if o != ops[i]]))
            try:
                child = self.cell(adj, ops)
            except InvalidArchitecture:
                continue
            if self.hash(child) != own:
                return child
        raise RuntimeError("mutation found no valid new cell")  # pragma: no cover

    def neighbours(self, arch: NB101Cell) -> list[NB101Cell]:
        """Valid cells one edit away, one per hash: an interior op changed, or one edge of the
        7-vertex padded form flipped (which can add a vertex, labelled conv3x3)."""
        adj, ops = self._padded_spec(arch, None)
        found: dict[str, NB101Cell] = {}
        own = self.hash(arch)

        def consider(a: np.ndarray, o: list[str]) -> None:
            try:
                c = self.cell(a, o)
            except InvalidArchitecture:
                return
            h = self.hash(c)
            if h != own:
                found.setdefault(h, c)

        real = set(range(arch.num_vertices - 1)) | {MAX_VERTICES - 1}
        for i in range(1, MAX_VERTICES - 1):
            if i in real:
                for op in NB101_OPS:
                    if op != ops[i]:
                        consider(adj, ops[:i] + [op] + ops[i + 1 :])
        for i in range(MAX_VERTICES):
            for j in range(i + 1, MAX_VERTICES):
                flipped = adj.copy()
                flipped[i, j] ^= 1
                consider(flipped, ops)
        return list(found.values())

    def enumerate(self, progress: bool = True) -> list[NB101Cell]:
        """All 423,624 unique cells (cached on disk after the first call, see ``nb101_enumerate``)."""
        from archpred.spaces.nb101_enumerate import load_or_enumerate

        adjacency, codes, _ = load_or_enumerate(progress=progress)
        return [self._from_padded(a, c) for a, c in zip(adjacency, codes)]

    def enumerate_hashed(self, progress: bool = True) -> list[tuple[NB101Cell, str]]:
        """All cells with their official hashes, read from the enumeration cache (not recomputed)."""
        from archpred.spaces.nb101_enumerate import load_or_enumerate

        adjacency, codes, hashes = load_or_enumerate(progress=progress)
        return [(self._from_padded(a, c), str(h)) for a, c, h in zip(adjacency, codes, hashes)]

    def arrays(self, progress: bool = True) -> SpaceArrays:
        """All 423,624 cells in ``padded`` form, converted array-wise from the enumeration cache
        (whose cells keep their vertices first and padding last; ``padded`` puts the padding
        before the output)."""
        from archpred.spaces.arrays import SpaceArrays
        from archpred.spaces.nb101_enumerate import load_or_enumerate

        adjacency, codes, hashes = load_or_enumerate(progress=progress)
        # type id by op code (0..2 the ops; negative codes index from the end: -1 input, -2 output)
        type_of_code = np.array([1, 2, 3, -1, -1, len(self.node_types) - 1, 0])
        adj = np.zeros_like(adjacency)
        types = np.full(codes.shape, -1, dtype=np.int8)
        sizes = (codes != -3).sum(1)
        for v in np.unique(sizes):
            rows = np.flatnonzero(sizes == v)
            order = np.r_[np.arange(v - 1), MAX_VERTICES - 1]  # where each real vertex goes
            adj[np.ix_(rows, order, order)] = adjacency[rows, :v, :v]
            types[np.ix_(rows, order)] = type_of_code[codes[rows, :v]]
        return SpaceArrays(self.name, hashes, adj, types, to_arch=self.from_padded)

    def from_padded(self, adjacency: np.ndarray, types: np.ndarray) -> NB101Cell:
        """The cell of a ``padded`` graph (trusted: not validated again)."""
        keep = np.flatnonzero(types >= 0)
        names = self.node_types
        return NB101Cell(
            tuple(map(tuple, adjacency[np.ix_(keep, keep)].tolist())), tuple(names[int(t)] for t in types[keep])
        )

    def _from_padded(self, adjacency: np.ndarray, codes: np.ndarray) -> NB101Cell:
        keep = np.flatnonzero(codes != -3)
        names = (NB101_OPS[0], NB101_OPS[1], NB101_OPS[2], OUTPUT, INPUT)  # index by code
        return NB101Cell(
            tuple(map(tuple, adjacency[np.ix_(keep, keep)].tolist())),
            tuple(names[int(c)] for c in codes[keep]),
        )
