"""Graphs as padded arrays, the input of both graph VAEs.

The *compact* layout keeps a cell's vertices in their (topological) order at the front,
the output vertex last among them, and padding after it:
``adj`` (N, M, M) 0/1 with ``adj[u, v] = 1`` for an edge u -> v, ``types`` (N, M) node-type
ids into ``space.node_types`` (-1 for padding), ``n`` (N,) vertex counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from archpred.errors import InvalidArchitecture
from archpred.spaces import Architecture, SearchSpace

# a batch of decoded graphs (types, adj, n) -> a bool mask of the rows that are valid cells
ValidityCheck = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class GraphArrays:
    """A set of graphs in the compact layout (module docstring), as numpy arrays."""

    adj: np.ndarray  # (N, M, M) int8
    types: np.ndarray  # (N, M) int64, -1 padding
    n: np.ndarray  # (N,) int64

    def __len__(self) -> int:
        return len(self.n)

    def take(self, rows: np.ndarray | Sequence[int]) -> GraphArrays:
        """The graphs at ``rows``, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        return GraphArrays(self.adj[rows], self.types[rows], self.n[rows])

    def tensors(self, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(adj float32, types long, n long) on ``device``, the models' input."""
        return (
            torch.as_tensor(self.adj, dtype=torch.float32, device=device),
            torch.as_tensor(self.types, dtype=torch.long, device=device),
            torch.as_tensor(self.n, dtype=torch.long, device=device),
        )

    @property
    def max_vertices(self) -> int:
        """The padded size M."""
        return self.adj.shape[1]


def from_archs(space: SearchSpace, archs: Sequence[Architecture], max_vertices: int | None = None) -> GraphArrays:
    """Compact arrays of architectures (of at most ``max_vertices`` vertices)."""
    m = max_vertices or space.max_vertices
    adj = np.zeros((len(archs), m, m), dtype=np.int8)
    types = np.full((len(archs), m), -1, dtype=np.int64)
    n = np.zeros(len(archs), dtype=np.int64)
    for i, arch in enumerate(archs):
        v = arch.num_vertices
        if v > m:
            raise InvalidArchitecture(f"a cell of {v} vertices does not fit a model of {m} vertices")
        adj[i, :v, :v] = arch.matrix
        types[i, :v] = space.node_type_ids(arch)
        n[i] = v
    return GraphArrays(adj, types, n)


def nb101_all() -> tuple[GraphArrays, np.ndarray]:
    """All 423,624 NB-101 cells (cached enumeration) as compact arrays, and their hashes."""
    from archpred.spaces.nb101_enumerate import load_or_enumerate

    adjacency, codes, hashes = load_or_enumerate(progress=True)
    # codes: -1 input, 0..2 ops, -2 output, -3 padding -> ids of (input, op0, op1, op2, output)
    lut = np.array([-1, 4, 0, 1, 2, 3], dtype=np.int64)  # index code + 3
    types = lut[codes.astype(np.int64) + 3]
    n = (codes != -3).sum(1).astype(np.int64)
    return GraphArrays(adjacency.astype(np.int8), types, n), hashes


def to_archs(space: SearchSpace, types: np.ndarray, adj: np.ndarray, n: np.ndarray) -> list[Architecture | None]:
    """Decoded arrays back to validated architectures; an invalid graph becomes ``None``."""
    names = space.node_types
    out: list[Architecture | None] = []
    for t, a, v in zip(types, adj, n):
        v = int(v)
        if v < 2 or np.any(t[:v] < 0) or np.any(t[:v] >= len(names)):
            out.append(None)
            continue
        ops = [names[int(x)] for x in t[:v]]
        matrix = np.triu(a[:v, :v], 1).astype(int).tolist()
        try:
            out.append(space.cell(adjacency=matrix, ops=ops))
        except (InvalidArchitecture, ValueError, TypeError, KeyError, IndexError):
            out.append(None)
    return out


def reverse_graphs(adj: torch.Tensor, types: torch.Tensor, n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each graph with its edges reversed and its real vertices renumbered V-1..0 (still upper-triangular)."""
    m = adj.shape[1]
    idx = torch.arange(m, device=adj.device).expand(len(n), m)
    perm = torch.where(idx < n[:, None], n[:, None] - 1 - idx, idx)  # an involution
    rtypes = torch.gather(types, 1, perm)
    rows = torch.gather(adj, 1, perm[:, :, None].expand(-1, -1, m))
    permuted = torch.gather(rows, 2, perm[:, None, :].expand(-1, m, -1))
    return permuted.transpose(1, 2).contiguous(), rtypes
