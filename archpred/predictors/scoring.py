"""Every cell of a space scored by one predictor: ``score_space(predictor)``.

Graph predictors (``reads_padded``) read the space's padded arrays in batches, so all 423,624
NB-101 cells are scored without building a cell object; others are given the architectures of
one batch at a time. Memory stays bounded by ``batch_size`` rows of features.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from archpred.errors import InvalidOption, NotFittedError
from archpred.predictors.base import Predictor
from archpred.spaces import SearchSpace
from archpred.spaces.arrays import SpaceArrays


@dataclass(frozen=True)
class SpaceScores:
    """A predictor's estimate for every cell of a space, row-aligned with ``space.arrays()``.

    Shapes:
        keys (N,) str; predictions (N,) float64
    """

    space: str
    predictor: str
    keys: np.ndarray
    predictions: np.ndarray
    seconds: float  # the scoring alone (not reading the space's arrays)

    def __len__(self) -> int:
        return len(self.keys)

    def top(self, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` cells of highest prediction as (key, prediction), best first."""
        rows = np.argsort(-self.predictions, kind="stable")[:k]
        return [(str(self.keys[r]), float(self.predictions[r])) for r in rows]


def score_space(
    predictor: Predictor,
    space: SearchSpace | str | None = None,
    *,
    arrays: SpaceArrays | None = None,
    batch_size: int = 32_768,
    progress: bool = False,
) -> SpaceScores:
    """``predictor``'s prediction for every architecture of ``space`` (default: the space it
    was fitted on), in batches of ``batch_size`` with a progress bar if asked.

    Args:
        arrays: the space's ``space.arrays()`` when the caller already holds them (the app
            keeps them in its cache).
    """
    from tqdm.auto import tqdm

    if not predictor.is_fitted:
        raise NotFittedError(f"this {predictor.name} predictor is not fitted yet; call fit(archs, y) first")
    if isinstance(space, str):
        from archpred.spaces import get_space

        space = get_space(space)
    space = space or predictor.space_
    if space.name != predictor.space_.name:
        raise InvalidOption(f"this {predictor.name} predictor was fitted on {predictor.space_.name}, not {space.name}")
    if int(batch_size) < 1:
        raise InvalidOption(f"batch_size must be >= 1, got {batch_size}")
    arrays = arrays if arrays is not None else space.arrays(progress=progress)
    if arrays.space != space.name:
        raise InvalidOption(f"the arrays hold {arrays.space} cells, not {space.name}")
    fast = getattr(predictor, "reads_padded", False)
    out = np.empty(len(arrays), dtype=np.float64)
    started = time.perf_counter()
    with tqdm(total=len(arrays), desc=f"scoring {space.name}", unit="cell", disable=not progress) as bar:
        for start in range(0, len(arrays), int(batch_size)):
            rows = slice(start, min(start + int(batch_size), len(arrays)))
            if fast:
                out[rows] = predictor.predict_padded(arrays.adjacency[rows], arrays.types[rows])
            else:
                out[rows] = predictor.predict(arrays.archs(rows))
            bar.update(rows.stop - rows.start)
    return SpaceScores(space.name, predictor.name, arrays.keys, out, time.perf_counter() - started)
