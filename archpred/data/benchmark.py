"""A table of real benchmark results over the architectures of one search space."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from archpred.errors import InvalidOption
from archpred.spaces import Architecture, SearchSpace

if TYPE_CHECKING:  # pandas loads only when a frame is asked for
    import pandas as pd


@dataclass
class Benchmark:
    """Real results: ``archs[i]`` scored ``metrics[m][i]``; ``accuracy`` is the default target.

    Attributes:
        name: benchmark name (``nb101``, ``nb201``, ``enas``, ``macro``).
        space: the search space of ``archs``.
        archs: the architectures, one per record.
        metrics: metric name -> float array of ``len(archs)`` (NaN where unknown).
        target: name of the default target metric (a fraction in [0, 1]).
        keys: the space's benchmark key of each architecture (NB-101: official hash).
        info: provenance (files read, options).
    """

    name: str
    space: SearchSpace
    archs: list[Architecture]
    metrics: dict[str, np.ndarray]
    target: str
    keys: list[str]
    info: dict[str, str] = field(default_factory=dict)
    _index: dict[str, int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.archs)

    def __getitem__(self, metric: str) -> np.ndarray:
        if metric not in self.metrics:
            raise KeyError(f"unknown metric {metric!r}; this benchmark has {', '.join(self.metrics)}")
        return self.metrics[metric]

    @property
    def accuracy(self) -> np.ndarray:
        """The ``target`` metric of every architecture."""
        return self.metrics[self.target]

    @property
    def metric_names(self) -> list[str]:
        """Names of the metrics, in table order."""
        return list(self.metrics)

    def index(self, arch_or_key: Architecture | str) -> int | None:
        """Row of an architecture (or of its key/hash), or ``None`` when it is not in the table."""
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self.keys)}
        key = arch_or_key if isinstance(arch_or_key, str) else self.space.key(arch_or_key)
        return self._index.get(key)

    def lookup(self, arch_or_key: Architecture | str) -> dict[str, float] | None:
        """All metrics of one architecture, or ``None`` when it is not in the table."""
        i = self.index(arch_or_key)
        return None if i is None else self.record(i)

    def record(self, i: int) -> dict[str, float]:
        """All metrics of row ``i``."""
        return {m: float(v[i]) for m, v in self.metrics.items()}

    def random_split(self, train_size: int, test_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``train_size`` random training cells and of up to ``test_size`` other cells
        to test on: the first rows of one seeded permutation of the table, then the next."""
        for name, size in (("train_size", train_size), ("test_size", test_size)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
                raise InvalidOption(f"{name} must be a whole number >= 0, got {size!r}")
        order = np.random.default_rng(seed).permutation(len(self))
        return order[:train_size], order[train_size : train_size + test_size]

    def subset(self, rows: Sequence[int] | np.ndarray) -> Benchmark:
        """A new table of the given rows, in that order (same space and target)."""
        rows = np.asarray(rows, dtype=np.int64)
        return Benchmark(
            self.name,
            self.space,
            [self.archs[i] for i in rows],
            {m: v[rows] for m, v in self.metrics.items()},
            self.target,
            [self.keys[i] for i in rows],
            dict(self.info),
        )

    def with_target(self, metric: str) -> Benchmark:
        """The same table with ``metric`` as the default target."""
        self[metric]  # raises a clear KeyError for an unknown metric
        return Benchmark(self.name, self.space, self.archs, self.metrics, metric, self.keys, dict(self.info))

    def to_frame(self) -> pd.DataFrame:
        """The metrics as a pandas ``DataFrame``, with the ``key`` column first."""
        import pandas as pd

        frame = pd.DataFrame(self.metrics)
        frame.insert(0, "key", self.keys)
        return frame

    def __repr__(self) -> str:
        return f"Benchmark({self.name!r}, {len(self)} archs, target={self.target!r})"
