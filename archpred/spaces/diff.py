"""What differs between two cells of one space, on their node-labelled DAGs.

The diff pairs the vertices of cell A with those of cell B and lists what the pairing does not
explain: operations that differ, vertices with no partner, edges present on one side only. How
vertices are paired depends on what a vertex position means in the space:

- **by index** (``nb201``, ``enas``, ``macro``): a position is an edge of the NB-201 cell or a
  layer of the network, so vertex ``i`` of A is vertex ``i`` of B; the diff of two NB-201 cells
  is their per-edge op difference.
- **best** (``nb101``): vertex numbers carry no meaning (isomorphic cells are one cell), so the
  interior vertices are paired to make the fewest edits, whether or not the two pruned cells have
  as many vertices. Cells have at most 7 vertices, so every pairing is tried.

``diff.distance`` counts the edits (op changes, vertices and edges added or removed): 0 for
isomorphic NB-101 cells and for equal cells of the other spaces.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from archpred.errors import InvalidArchitecture, InvalidOption
from archpred.spaces.base import Architecture

INDEX_ALIGNED = ("nb201", "enas", "macro")  # spaces whose vertex positions mean something
MAX_BEST_INTERIOR = 7  # the larger cell's interior vertices tried exhaustively (7! pairings)


@dataclass(frozen=True)
class CellDiff:
    """The difference between cell A and cell B of one space (vertex numbers of each cell's
    node-labelled form).

    Attributes:
        mapping: for each vertex of A, its partner vertex in B, or ``None`` when it has none.
        ops_a: vertices of A whose op differs from their partner's, or that have no partner.
        ops_b: the same for B.
        edges_a: edges ``(u, v)`` of A whose paired edge is absent from B.
        edges_b: edges of B whose paired edge is absent from A.
        changes: one line per difference, for people (``"edge 1→2: nor_conv_3x3 → skip_connect"``).
    """

    mapping: tuple[int | None, ...]
    ops_a: tuple[int, ...]
    ops_b: tuple[int, ...]
    edges_a: tuple[tuple[int, int], ...]
    edges_b: tuple[tuple[int, int], ...]
    changes: tuple[str, ...]

    @property
    def distance(self) -> int:
        """Edits from A to B: op changes, vertices added or removed, edges added or removed."""
        substituted = sum(1 for v in self.ops_a if self.mapping[v] is not None)
        unmatched_a = sum(1 for v in self.mapping if v is None)
        unmatched_b = len(self.ops_b) - substituted
        return substituted + unmatched_a + unmatched_b + len(self.edges_a) + len(self.edges_b)

    @property
    def identical(self) -> bool:
        """Whether nothing differs (NB-101: the cells are isomorphic)."""
        return self.distance == 0


def vertex_name(space: str, v: int) -> str:
    """What vertex ``v`` of the node-labelled form is: an NB-201 edge, a layer, or a vertex."""
    if space == "nb201" and 1 <= v <= 6:
        from archpred.spaces.nb201 import EDGES

        src, dst = EDGES[v - 1]
        return f"edge {src}→{dst}"
    if space in ("enas", "macro"):
        return f"layer {v}"
    return f"vertex {v}"


def _edges(arch: Architecture) -> set[tuple[int, int]]:
    return {(u, v) for u, row in enumerate(arch.adjacency) for v, bit in enumerate(row) if bit}


def _cost(a: Architecture, b: Architecture, mapping: list[int | None], edges_a: set, edges_b: set) -> int:
    ops = sum(1 for u, w in enumerate(mapping) if w is None or a.ops[u] != b.ops[w])
    ops += b.num_vertices - sum(1 for w in mapping if w is not None)
    mapped = {(mapping[u], mapping[v]) for u, v in edges_a}
    return ops + len(mapped - edges_b) + len(edges_b - mapped)


def _index_mapping(a: Architecture, b: Architecture) -> list[int | None]:
    na, nb = a.num_vertices, b.num_vertices
    mapping: list[int | None] = [v if v < min(na, nb) - 1 else None for v in range(na)]
    mapping[-1] = nb - 1  # output to output
    return mapping


def _best_mapping(a: Architecture, b: Architecture) -> list[int | None]:
    """The pairing of interior vertices with the fewest edits (input and output pair up)."""
    na, nb = a.num_vertices, b.num_vertices
    inner_a, inner_b = list(range(1, na - 1)), list(range(1, nb - 1))
    if max(len(inner_a), len(inner_b)) > MAX_BEST_INTERIOR:
        return _index_mapping(a, b)
    edges_a, edges_b = _edges(a), _edges(b)
    best, best_cost = None, None
    small, large = (inner_a, inner_b) if len(inner_a) <= len(inner_b) else (inner_b, inner_a)
    for chosen in itertools.permutations(large, len(small)):
        pairs = dict(zip(small, chosen))
        if len(inner_a) > len(inner_b):  # pairs maps B's vertices to A's: invert
            pairs = {va: vb for vb, va in pairs.items()}
        mapping: list[int | None] = [0, *(pairs.get(v) for v in inner_a), nb - 1]
        cost = _cost(a, b, mapping, edges_a, edges_b)
        if best_cost is None or cost < best_cost:  # the first (identity-like) pairing wins ties
            best, best_cost = mapping, cost
    return best


def cell_diff(a: Architecture, b: Architecture, align: str = "auto") -> CellDiff:
    """The difference between two cells of one space.

    Args:
        a, b: cells of the same space.
        align: ``"index"`` (vertex i to vertex i), ``"best"`` (fewest edits over every pairing),
            or ``"auto"``: by index for NB-201, ENAS and Macro, best for the others.

    Raises ``InvalidArchitecture`` when the cells come from different spaces.
    """
    if a.space != b.space:
        raise InvalidArchitecture(f"cannot compare a {a.space} cell with a {b.space} cell")
    if align == "auto":
        align = "index" if a.space in INDEX_ALIGNED else "best"
    if align not in ("index", "best"):
        raise InvalidOption(f"unknown alignment {align!r}; choose from auto, index, best")
    mapping = _index_mapping(a, b) if align == "index" else _best_mapping(a, b)
    return _describe(a, b, mapping)


def _describe(a: Architecture, b: Architecture, mapping: list[int | None]) -> CellDiff:
    space = a.space
    partner_of_b = {w: u for u, w in enumerate(mapping) if w is not None}
    ops_a, ops_b, changes = [], [], []
    for u, w in enumerate(mapping):
        if w is None:
            ops_a.append(u)
            changes.append(f"{vertex_name(space, u)} ({a.ops[u]}) only in A")
        elif a.ops[u] != b.ops[w]:
            ops_a.append(u)
            ops_b.append(w)
            where = vertex_name(space, u) if u == w else f"{vertex_name(space, u)} (B: {w})"
            changes.append(f"{where}: {a.ops[u]} → {b.ops[w]}")
    for w in range(b.num_vertices):
        if w not in partner_of_b:
            ops_b.append(w)
            changes.append(f"{vertex_name(space, w)} ({b.ops[w]}) only in B")
    edges_a, edges_b = _edges(a), _edges(b)
    only_a = sorted(e for e in edges_a if (mapping[e[0]], mapping[e[1]]) not in edges_b)
    mapped_a = {(mapping[u], mapping[v]) for u, v in edges_a}
    only_b = sorted(e for e in edges_b if e not in mapped_a)
    changes += [f"edge {u}→{v} only in A" for u, v in only_a]
    changes += [f"edge {u}→{v} only in B" for u, v in only_b]
    return CellDiff(tuple(mapping), tuple(ops_a), tuple(sorted(ops_b)), tuple(only_a), tuple(only_b), tuple(changes))
