"""Enumerate every unique NAS-Bench-101 cell (423,624) without hashing 500M labelled graphs.

NB-101's own generator hashes every (matrix, labelling) pair. We get the same set faster:
1. all upper-triangular matrices with <= 9 edges whose every vertex lies on an input-output
   path ("full DAGs"), vectorised with numpy;
2. one representative per isomorphism class of the unlabelled graph (min code over the
   permutations of interior vertices) and its automorphism group;
3. the labellings of each representative modulo its automorphisms;
4. the official hash of each survivor, deduplicated by hash as NB-101 does.
Each vertex count is checkpointed, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from archpred.artifacts import atomic_write
from archpred.paths import cache_dir
from archpred.spaces.hashing import graph_hash

MAX_V, MAX_E, N_OPS = 7, 9, 3
CACHE_NAME = "nb101_all_cells.npz"


def full_dags(n: int) -> np.ndarray:
    """All n x n upper-triangular 0/1 matrices, <= 9 edges, with no dangling vertex. (N, n, n)"""
    iu = np.triu_indices(n, 1)
    m = len(iu[0])
    codes = np.arange(2**m, dtype=np.int64)
    bits = ((codes[:, None] >> np.arange(m)) & 1).astype(np.int8)
    bits = bits[bits.sum(1) <= MAX_E]
    mats = np.zeros((len(bits), n, n), dtype=np.int8)
    mats[:, iu[0], iu[1]] = bits
    has_out = mats[:, :-1, :].any(2).all(1)
    has_in = mats[:, :, 1:].any(1).all(1)
    return mats[has_out & has_in]


def _interior_perms(n: int) -> np.ndarray:
    perms = [(0, *p, n - 1) for p in itertools.permutations(range(1, n - 1))]
    return np.array(perms, dtype=np.int64)


def _perm_codes(mats: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """Code of each matrix under each vertex permutation, shape (N, P)."""
    n = mats.shape[1]
    flat = mats.reshape(len(mats), n * n).astype(np.int64)
    weights = np.int64(1) << np.arange(n * n, dtype=np.int64)
    out = np.empty((len(mats), len(perms)), dtype=np.int64)
    for k, p in enumerate(perms):
        index = (p[:, None] * n + p[None, :]).ravel()
        out[:, k] = flat[:, index] @ weights
    return out


def _labelings_mod_automorphisms(n: int, automorphisms: np.ndarray) -> np.ndarray:
    """Interior labellings (K, n-2), one per orbit of the automorphism group."""
    labels = np.array(list(itertools.product(range(N_OPS), repeat=n - 2)), dtype=np.int64)
    labels = labels.reshape(N_OPS ** (n - 2), n - 2)
    if len(automorphisms) == 1:
        return labels
    weights = N_OPS ** np.arange(n - 2, dtype=np.int64)
    interior = automorphisms[:, 1:-1] - 1  # (G, n-2), vertex i takes the label of vertex p[i]
    orbit_codes = np.stack([labels[:, q] @ weights for q in interior], axis=1)
    canonical = orbit_codes.min(1)
    _, first = np.unique(canonical, return_index=True)
    return labels[np.sort(first)]


def enumerate_vertices(n: int, progress: bool = True) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Unique labelled cells with exactly n vertices: padded (N, 7, 7), codes (N, 7), hashes."""
    mats = full_dags(n)
    perms = _interior_perms(n)
    codes = _perm_codes(mats, perms)
    canonical = codes.min(1)
    _, reps = np.unique(canonical, return_index=True)
    adjs, labs, hashes, seen = [], [], [], set()
    for r in tqdm(reps, desc=f"NB-101 cells with {n} vertices", disable=not progress, leave=False):
        autos = perms[codes[r] == codes[r, 0]]  # perms[0] is the identity
        matrix = mats[r]
        rows = matrix.tolist()
        for interior in _labelings_mod_automorphisms(n, autos):
            labels = [-1, *interior.tolist(), -2]
            h = graph_hash(rows, labels)
            if h in seen:
                continue
            seen.add(h)
            padded = np.zeros((MAX_V, MAX_V), dtype=np.int8)
            padded[:n, :n] = matrix
            adjs.append(padded)
            labs.append(labels + [-3] * (MAX_V - n))
            hashes.append(h)
    return np.array(adjs, dtype=np.int8).reshape(-1, MAX_V, MAX_V), np.array(labs, dtype=np.int8), hashes


def _save(path: Path, **arrays: np.ndarray) -> None:
    atomic_write(path, lambda tmp: np.savez_compressed(tmp, **arrays))


def load_or_enumerate(
    progress: bool = True, directory: Path | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All unique NB-101 cells as (adjacency (N,7,7) int8, op codes (N,7) int8, hashes (N,) str).

    Op codes: -1 input, 0 conv3x3, 1 conv1x1, 2 maxpool, -2 output, -3 padding vertex.
    The result is cached in ``cache_dir('nb101')``; per-vertex-count parts are kept until the
    whole is written, so an interrupted enumeration resumes.
    """
    directory = directory or cache_dir("nb101")
    final = directory / CACHE_NAME
    if final.exists():
        with np.load(final) as z:
            return z["adjacency"], z["codes"], z["hashes"]
    parts = []
    for n in range(2, MAX_V + 1):
        part = directory / f"nb101_cells_{n}v.npz"
        if not part.exists():
            adj, codes, hashes = enumerate_vertices(n, progress)
            _save(part, adjacency=adj, codes=codes, hashes=np.array(hashes, dtype="U32"))
        with np.load(part) as z:
            parts.append((z["adjacency"], z["codes"], z["hashes"]))
    adjacency = np.concatenate([p[0] for p in parts])
    codes = np.concatenate([p[1] for p in parts])
    hashes = np.concatenate([p[2] for p in parts])
    _, first = np.unique(hashes, return_index=True)  # NB-101 dedupes by hash across sizes too
    first.sort()
    adjacency, codes, hashes = adjacency[first], codes[first], hashes[first]
    _save(final, adjacency=adjacency, codes=codes, hashes=hashes)
    for n in range(2, MAX_V + 1):
        (directory / f"nb101_cells_{n}v.npz").unlink(missing_ok=True)
    return adjacency, codes, hashes
