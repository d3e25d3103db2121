"""A whole search space as arrays: the padded graphs of every architecture and its key.

Scoring every cell of NB-101 should not build 423,624 ``Architecture`` objects (about 20 s on
this CPU, longer than the scoring itself): ``SpaceArrays`` holds the padded form
(``SearchSpace.padded``) of every architecture in the space's ``enumerate`` order, which
graph predictors read directly, and builds architecture objects only for the rows asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from archpred.spaces.base import Architecture


@dataclass(frozen=True, eq=False)
class SpaceArrays:
    """Every architecture of one space, row-aligned.

    Args:
        space: the space's name.
        keys: the ids benchmark tables use (``space.key``).
        adjacency, types: the padded graphs (``space.padded``; type -1 = padding vertex).
        to_arch: builds the architecture of one row from its padded graph, or
        listed: the architectures themselves (spaces small enough to keep them).

    Shapes:
        keys (N,) str; adjacency (N, M, M) int8; types (N, M) int8
    """

    space: str
    keys: np.ndarray
    adjacency: np.ndarray
    types: np.ndarray
    to_arch: Callable[[np.ndarray, np.ndarray], Architecture] | None = field(default=None, repr=False)
    listed: Sequence[Architecture] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.keys)

    def archs(self, rows: slice | Sequence[int] | np.ndarray) -> list[Architecture]:
        """The architectures at ``rows``."""
        if self.listed is not None:
            return [self.listed[i] for i in np.arange(len(self))[rows]]
        assert self.to_arch is not None
        return [self.to_arch(a, t) for a, t in zip(self.adjacency[rows], self.types[rows])]


def listed_arrays(space, archs: Sequence[Architecture]) -> SpaceArrays:  # noqa: ANN001 (SearchSpace)
    """``SpaceArrays`` of a space small enough to list: padded one by one, objects kept."""
    adjs, types = zip(*(space.padded(a) for a in archs))
    return SpaceArrays(
        space=space.name,
        keys=np.asarray([space.key(a) for a in archs]),
        adjacency=np.stack(adjs).astype(np.int8),
        types=np.stack(types).astype(np.int8),
        listed=list(archs),
    )
