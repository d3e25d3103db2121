"""Regularized evolution (Real, Aggarwal, Huang and Le, AAAI 2019), as NAS-Bench-101 ran it.

Settings of the NAS-Bench-101 paper (Ying et al. 2019, supplementary): population 50,
tournament (sample) size 10, NB-101's mutation (each edge bit flipped with probability 1/7, each
interior op changed with probability 1/5, ``space.mutate``); NB-201's mutation gives one edge a
different op. The first ``population_size`` queries are uniform random cells; then each query
is a mutant of the best of ``sample_size`` population members drawn without replacement, and
the oldest member leaves when the child joins ("aging", which is what regularizes).

De-duplication: a child already evaluated in the run (or not in the table, on NB-101-20k) is
mutated again, up to ``max_tries`` times; after that a uniformly random new cell is used and
its ``phase`` says ``random-fallback``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.search.base import Candidates, Evaluation, Searcher
from archpred.search.options import positive_int
from archpred.spaces import Architecture, SearchSpace


class RegularizedEvolution(Searcher):
    """Aging evolution with tournament selection.

    Args:
        population_size: P, the population (and the number of random initial cells).
        sample_size: S, the tournament size (at most P).
        max_tries: mutations tried for a new admissible child.
    """

    name = "evolution"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        candidates: Candidates | None = None,
        population_size: int = 50,
        sample_size: int = 10,
        max_tries: int = 100,
    ) -> None:
        super().__init__(space, rng, candidates, max_tries)
        self.population_size = positive_int("population_size", population_size)
        self.sample_size = positive_int("sample_size", sample_size)
        if self.sample_size > self.population_size:
            raise InvalidOption(
                f"sample_size ({self.sample_size}) cannot exceed population_size ({self.population_size})"
            )
        self._population: list[tuple[Architecture, str, float]] = []  # oldest first
        self._init_asked = 0

    def _propose(self) -> tuple[Architecture, str, dict[str, Any]]:
        if self._init_asked < self.population_size or not self._population:
            # the initial population (or, with many pending asks, nothing to select from yet)
            self._init_asked += 1
            arch, key = self._random()
            return arch, key, {"phase": "init"}
        size = min(self.sample_size, len(self._population))
        picks = self.rng.choice(len(self._population), size=size, replace=False)
        parent, parent_key, _ = max((self._population[int(i)] for i in picks), key=lambda m: m[2])
        child = self._mutant(parent)
        if child is None:
            arch, key = self._random()
            return arch, key, {"phase": "random-fallback", "parent": parent_key}
        return child[0], child[1], {"phase": "mutation", "parent": parent_key}

    def _observe(self, evaluation: Evaluation, info: dict[str, Any]) -> None:
        self._population.append((evaluation.arch, evaluation.key, evaluation.val_acc))
        if len(self._population) > self.population_size:
            self._population.pop(0)  # the oldest dies, however good it is

    def _state(self) -> dict[str, Any]:
        return {
            "population": [{"arch": a.to_dict(), "key": k, "val_acc": v} for a, k, v in self._population],
            "init_asked": self._init_asked,
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        self._population = [(self._cell(m["arch"]), m["key"], float(m["val_acc"])) for m in state["population"]]
        self._init_asked = int(state["init_asked"])
