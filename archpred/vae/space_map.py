"""A graph VAE's embedding of every cell of its space (NB-101: all 423,624), computed once in
chunks and cached on disk.

Each finished chunk is written at once, so an interrupted run resumes at the first missing
chunk; the chunks become one file when all are done. Rows follow the space's enumeration order,
the order of ``space.arrays()`` and so of ``score_space``'s predictions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from archpred.artifacts import atomic_write
from archpred.errors import InvalidOption
from archpred.vae.data import GraphArrays, from_archs, nb101_all

CHUNK = 32_768
FINAL = "embedding.npy"


def space_graphs(space_name: str) -> tuple[GraphArrays, np.ndarray]:
    """Every cell of the space as the VAEs' compact arrays, and its key (``space.key``)."""
    if space_name == "nb101":
        return nb101_all()
    from archpred.spaces import get_space

    space = get_space(space_name)
    try:
        archs = space.enumerate(progress=False)
    except NotImplementedError:
        raise InvalidOption(f"the {space_name} space is too large to embed whole") from None
    return from_archs(space, archs), np.asarray([space.key(a) for a in archs])


def embed_space(
    vae,  # noqa: ANN001 (GraphVAE)
    folder: str | Path,
    *,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """(N, embedding_dim) float32 embeddings of every cell of ``vae``'s space.

    Args:
        folder: where the chunks and the result are kept (one folder per model file).
        progress: called with (cells done, cells in the space) after each chunk.
    """
    if chunk < 1:
        raise InvalidOption(f"chunk must be >= 1, got {chunk}")
    folder = Path(folder)
    graphs, _ = space_graphs(vae.space.name)
    n = len(graphs)
    final = folder / FINAL
    found = _load(final, n)
    if found is not None:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for index, start in enumerate(range(0, n, chunk)):
        stop = min(start + chunk, n)
        path = folder / f"part_{index:04d}_{start}_{stop}.npy"
        part = _load(path, stop - start)
        if part is None:
            part = vae.embed_arrays(graphs.take(np.arange(start, stop))).astype(np.float32)
            atomic_write(path, lambda tmp, part=part: np.save(tmp, part))
        parts.append(part)
        if progress is not None:
            progress(stop, n)
    out = np.concatenate(parts)
    atomic_write(final, lambda tmp: np.save(tmp, out))
    for path in folder.glob("part_*.npy"):
        path.unlink(missing_ok=True)
    return out


def _load(path: Path, rows: int) -> np.ndarray | None:
    """The array at ``path`` if it is readable and has ``rows`` rows, else ``None`` (redo it)."""
    if not path.is_file():
        return None
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return x if x.ndim == 2 and len(x) == rows else None
