"""Analyses of graph VAEs and their cells, used by ``bench vae`` and open to any caller.

* ``isomorphic_pairs``: two labellings of the same NB-101 cell, to test that a model maps them to one point;
* ``expand_by_one_vertex``: every cell grown from a cell by one interior vertex (extrapolation);
* ``svge_sides``: how SVGe's forward and backward decoders agree, and how often each alone is valid.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from archpred.vae.data import GraphArrays
    from archpred.vae.model import GraphVAE


def isomorphic_pairs(n_pairs: int, seed: int = 0) -> tuple[GraphArrays, GraphArrays]:
    """Pairs of distinct upper-triangular labellings of one 7-vertex NB-101 cell (interior vertices
    permuted), at most ``n_pairs``, cells in a seeded random order.

    Shapes:
        each side: ``adj`` (P, 7, 7), ``types`` (P, 7), ``n`` (P,).
    """
    from archpred.vae.data import GraphArrays, nb101_all

    graphs, _ = nb101_all()
    rng = np.random.default_rng(seed)
    rows = rng.permutation(np.flatnonzero(graphs.n == 7))
    perms = np.array([(0, *p, 6) for p in itertools.permutations(range(1, 6))])
    a_adj, a_types, b_adj, b_types = [], [], [], []
    for r in rows:
        adj, types = graphs.adj[r], graphs.types[r]
        cand = adj[perms[:, :, None], perms[:, None, :]]  # (120, 7, 7)
        upper = ~np.tril(cand).any((1, 2))
        ctypes = types[perms]
        differs = (cand != adj).any((1, 2)) | (ctypes != types).any(1)
        ok = np.flatnonzero(upper & differs)
        if len(ok) == 0:
            continue
        k = ok[rng.integers(len(ok))]
        a_adj.append(adj)
        a_types.append(types)
        b_adj.append(cand[k])
        b_types.append(ctypes[k])
        if len(a_adj) >= n_pairs:
            break
    n = np.full(len(a_adj), 7, dtype=np.int64)
    return (
        GraphArrays(np.array(a_adj), np.array(a_types), n),
        GraphArrays(np.array(b_adj), np.array(b_types), n.copy()),
    )


def expand_by_one_vertex(adj: np.ndarray, types: np.ndarray, ops: int = 3) -> tuple[np.ndarray, np.ndarray, int]:
    """All cells made by inserting one interior vertex (any op, >= 1 in-edge from an earlier vertex,
    >= 1 out-edge to a later one) into a cell, keeping its edges and upper-triangular order;
    isomorphic duplicates removed (NB-101 hash).

    Shapes:
        adj: (V, V); types: (V,) node-type ids (0 input, 1..ops the ops, ops + 1 output).
        Returns (N, V+1, V+1), (N, V+1) and the number of graphs before duplicates were removed.
    """
    from archpred.spaces.hashing import graph_hash

    v = len(types)
    seen, out_adj, out_types, made = set(), [], [], 0
    for pos in range(1, v):  # the new vertex sits before old vertex `pos`
        old = [i if i < pos else i + 1 for i in range(v)]
        for op in range(1, ops + 1):  # node-type ids of the interior ops
            for ins in itertools.product((0, 1), repeat=pos):
                if not any(ins):
                    continue
                for outs in itertools.product((0, 1), repeat=v - pos):
                    if not any(outs):
                        continue
                    a = np.zeros((v + 1, v + 1), dtype=np.int8)
                    a[np.ix_(old, old)] = adj
                    a[:pos, pos] = ins
                    a[pos, pos + 1 :] = outs
                    t = np.empty(v + 1, dtype=np.int64)
                    t[old] = types
                    t[pos] = op
                    labels = [-1 if x == 0 else -2 if x == ops + 1 else x - 1 for x in t]
                    made += 1
                    h = graph_hash(a.tolist(), labels)
                    if h in seen:
                        continue
                    seen.add(h)
                    out_adj.append(a)
                    out_types.append(t)
    return np.array(out_adj), np.array(out_types), made


def svge_sides(vae: GraphVAE, z: np.ndarray) -> dict[str, float]:
    """How often SVGe's forward and backward decoders agree on the vertices, and how often each
    side's graph alone is a valid cell.

    Shapes:
        z: (N, latent) latent points.
    """
    import torch

    forward, backward, same = vae.module.decode_sides(torch.as_tensor(z, device=vae.device))
    return {
        "sides_agree": float(same.float().mean()),
        "forward_valid": float(vae.valid_mask(*forward).float().mean()),
        "backward_valid": float(vae.valid_mask(*backward).float().mean()),
    }
