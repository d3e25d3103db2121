"""The latent space searchers share: a trained VAE and the table of its embeddings of the
cells a run can evaluate, and the nearest not-yet-proposed cell to a point of that space.

``latent-bo`` and ``reinforce`` move through a VAE's latent space but may propose only cells
the oracle can evaluate (NB-201: all 15,625; NB-101: the 20,001 cells of our table, which are
``Candidates``). Both need those cells' embeddings; encoding them costs seconds (on one CPU
thread of our shared machine: NB-201's 15,625 cells arch2vec 2.3 s, SVGe 8.0 s; NB-101's
20,001 arch2vec 8.7 s, SVGe 36 s, under twice the load), so a table is built once per process
and per (VAE kind, space, kind of vector, cells) and shared by every searcher of the process.

The VAE runs on the CPU here, whatever GPU there is: the embeddings decide which cells are
proposed, so a run resumed on another machine must see exactly the same numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property

import numpy as np

from archpred.errors import InvalidOption
from archpred.search.base import Candidates
from archpred.spaces import Architecture, SearchSpace

VAE_KINDS = ("arch2vec", "svge", "io", "io-accuracy")  # io kinds: NB-101 only (archpred.vae.io)
VECTORS = ("latent", "embedding")
# a box side of zero width (a latent coordinate every evaluable cell shares) is widened to this
_MIN_WIDTH = 1e-6


@dataclass(frozen=True)
class LatentTable:
    """The vectors of the evaluable cells, row-aligned with their cells and keys.

    Attributes:
        kind: the VAE (``arch2vec`` or ``svge``).
        vector: ``latent`` (``GraphVAE.encode``: what ``decode`` reads) or ``embedding``
            (``GraphVAE.embed``: arch2vec's 16-d mean of node latents; SVGe's latent).
        archs, keys: the evaluable cells and their ``space.key``.
        z: (N, d) float64 vectors.
        lower, upper: the box the vectors span (per coordinate min and max, never zero-wide).
    """

    kind: str
    vector: str
    archs: Sequence[Architecture]
    keys: Sequence[str]
    z: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    index: dict[str, int] = field(repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def dim(self) -> int:
        return int(self.z.shape[1])

    @cached_property
    def standardised(self) -> LatentTable:
        """The same cells with each coordinate scaled to mean 0 and standard deviation 1 over
        the table, so distances and step sizes mean the same whatever the VAE's scale."""
        mean, std = self.z.mean(0), self.z.std(0)
        std = np.where(std < _MIN_WIDTH, 1.0, std)
        z = (self.z - mean) / std
        return LatentTable(self.kind, self.vector, self.archs, self.keys, z, z.min(0), z.max(0), self.index)

    def rows(self, keys: Collection[str]) -> np.ndarray:
        """The rows of those ``keys`` that are in the table."""
        return np.array([self.index[k] for k in keys if k in self.index], dtype=np.int64)

    def nearest_unseen(self, point: np.ndarray, exclude: Collection[str]) -> tuple[int, float] | None:
        """The row nearest to ``point`` (Euclidean) whose key is not in ``exclude``, and its
        distance; ``None`` when every cell is excluded. Ties go to the lower row."""
        dist = np.linalg.norm(self.z - np.asarray(point, dtype=np.float64)[None, :], axis=1)
        excluded = self.rows(exclude)
        if len(excluded):
            dist[excluded] = np.inf
        row = int(np.argmin(dist))
        return None if not np.isfinite(dist[row]) else (row, float(dist[row]))


def check_vae_kind(kind: str) -> str:
    """``kind`` if it is a VAE the latent searchers can use, else a one-line ``InvalidOption``."""
    if kind not in VAE_KINDS:
        raise InvalidOption(f"unknown vae {kind!r}; choose from {', '.join(VAE_KINDS)}")
    return kind


@cache
def search_vae(kind: str, space: str):  # -> GraphVAE (imported lazily: search sits above vae)
    """The trained ``kind`` VAE of ``space`` on the CPU, loaded once per process."""
    from archpred.vae import load_vae

    return load_vae(check_vae_kind(kind), space, device="cpu")


def evaluable_cells(space: SearchSpace, candidates: Candidates | None) -> tuple[list[Architecture], list[str]]:
    """The cells a run can evaluate: its candidates, or every cell of an enumerable space."""
    if candidates is not None:
        return list(candidates.archs), list(candidates.keys)
    return _enumerated(space.name)


@cache
def _enumerated(space_name: str) -> tuple[list[Architecture], list[str]]:
    from archpred.spaces import get_space

    space = get_space(space_name)
    try:
        archs = list(space.enumerate(progress=False))
    except NotImplementedError:
        raise InvalidOption(
            f"{space_name} cannot be enumerated: a latent search needs the cells it may propose (candidates)"
        ) from None
    return archs, [space.key(a) for a in archs]


def latent_table(kind: str, vector: str, space: SearchSpace, candidates: Candidates | None) -> LatentTable:
    """The (cached) table of ``kind``'s ``vector`` for the cells a run with ``candidates`` can evaluate."""
    if vector not in VECTORS:
        raise InvalidOption(f"unknown latent vector {vector!r}; choose from {', '.join(VECTORS)}")
    if kind == "svge":
        vector = "latent"  # SVGe's embedding is its latent: one table serves both
    archs, keys = evaluable_cells(space, candidates)
    digest = hashlib.sha1("\n".join(keys).encode()).hexdigest()
    table = _TABLES.get((kind, vector, space.name, digest))
    if table is None:
        table = _build_table(kind, vector, space.name, archs, keys)
        _TABLES[(kind, vector, space.name, digest)] = table
    return table


_TABLES: dict[tuple[str, str, str, str], LatentTable] = {}


def _build_table(kind: str, vector: str, space: str, archs: list[Architecture], keys: list[str]) -> LatentTable:
    vae = search_vae(kind, space)
    z = vae.encode(archs) if vector == "latent" else vae.embed(archs)
    z = np.asarray(z, dtype=np.float64)
    lower, upper = z.min(0), z.max(0)
    narrow = upper - lower < _MIN_WIDTH
    lower = np.where(narrow, lower - _MIN_WIDTH / 2, lower)
    upper = np.where(narrow, upper + _MIN_WIDTH / 2, upper)
    return LatentTable(kind, vector, archs, keys, z, lower, upper, {k: i for i, k in enumerate(keys)})
