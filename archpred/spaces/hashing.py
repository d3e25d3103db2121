"""The NAS-Bench-101 graph hash (Ying et al. 2019, ``nasbench/lib/graph_util.py``).

A Weisfeiler-Lehman style fingerprint: every vertex starts from md5((out-degree, in-degree,
label)) and, for V rounds, is rehashed with the sorted hashes of its in- and out-neighbours.
Isomorphic labelled graphs hash equal. The string formats below must match the original
byte for byte, since the benchmark's records are keyed by this value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def graph_hash(adjacency: Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """Official NB-101 fingerprint of a labelled DAG.

    Args:
        adjacency: V x V 0/1 matrix, ``adjacency[u][v] == 1`` for an edge u -> v.
        labels: V integer labels (NB-101: -1 input, -2 output, op index otherwise).
    """
    n = len(labels)
    rows = [[int(x) for x in row] for row in adjacency]
    out_deg = [sum(row) for row in rows]
    in_deg = [sum(rows[u][v] for u in range(n)) for v in range(n)]
    preds = [[u for u in range(n) if rows[u][v]] for v in range(n)]
    succs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    # str() of a tuple of Python ints, exactly as the original's zip(...) of lists.
    hashes = [_md5(str((out_deg[v], in_deg[v], int(labels[v])))) for v in range(n)]
    for _ in range(n):
        hashes = [
            _md5(
                "".join(sorted(hashes[u] for u in preds[v]))
                + "|"
                + "".join(sorted(hashes[w] for w in succs[v]))
                + "|"
                + hashes[v]
            )
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))
