"""Random search: uniform samples of the space (or of the table's cells), never one twice.

The baseline of every NAS benchmark paper (NAS-Bench-101, Ying et al. 2019; Li and Talwalkar
2019): each query is a cell drawn uniformly with the run's generator, de-duplicated.
"""

from __future__ import annotations

from typing import Any

from archpred.search.base import Searcher
from archpred.spaces import Architecture


class RandomSearch(Searcher):
    """Uniform random search (no options beyond the base's)."""

    name = "random"

    def _propose(self) -> tuple[Architecture, str, dict[str, Any]]:
        arch, key = self._random()
        return arch, key, {"phase": "random"}
