"""Local search (White, Nolen and Savani, "Exploring the loss landscape in neural architecture
search", UAI 2021; arXiv 2005.02960 "Local search is state of the art for NAS benchmarks").

The paper's algorithm: evaluate a random cell; evaluate all of its neighbours (cells one edit
away: ``space.neighbours``; NB-201: one edge's op changed, 24 cells; NB-101: one op changed or
one edge flipped); move to the best neighbour if it is better than the current cell and repeat;
at a local optimum start again from a new random cell. Neighbours are evaluated in a random
order (as NASLib's implementation does), so a budget that ends inside a neighbourhood sees a
random part of it. Options: ``num_init`` random cells before the first walk (the walk starts
from the best; the paper: 1, NASLib's config: 10) and ``num_neighbours`` (evaluate a random
subset of that many neighbours instead of all).

Neighbours already evaluated earlier in the run are not queried again: their known result
counts. On NB-101-20k only neighbours inside the table can be evaluated (about 1 of ~19 on
average), so walks there are short and restarts frequent.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archpred.search.base import Candidates, Evaluation, Searcher
from archpred.search.options import optional_positive_int, positive_int
from archpred.spaces import Architecture, SearchSpace


class LocalSearch(Searcher):
    """Best-improvement hill climbing with random restarts.

    Args:
        num_init: random cells evaluated before the first walk, which starts from their best.
        num_neighbours: evaluate a random subset of this many neighbours (``None``: all).
        max_tries: unused here (the base's mutation budget), kept for a uniform signature.
    """

    name = "local"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        candidates: Candidates | None = None,
        num_init: int = 1,
        num_neighbours: int | None = None,
        max_tries: int = 100,
    ) -> None:
        super().__init__(space, rng, candidates, max_tries)
        self.num_init = positive_int("num_init", num_init)
        self.num_neighbours = optional_positive_int("num_neighbours", num_neighbours)
        self._values: dict[str, float] = {}  # every told result: key -> val_acc
        self._current: tuple[Architecture, str] | None = None
        self._nbhd: list[tuple[Architecture, str]] = []  # the current cell's neighbourhood
        self._queue: list[str] = []  # its keys still to ask, in order
        self._start: list[tuple[Architecture, str]] = []  # random cells of this (re)start
        self._start_size = self.num_init
        self.restarts = 0

    # -- proposals ------------------------------------------------------------------------
    def _propose(self) -> tuple[Architecture, str, dict[str, Any]]:
        if self._current is None and len(self._start) < self._start_size:
            arch, key = self._random()
            self._start.append((arch, key))
            return arch, key, {"phase": "init" if self.restarts == 0 else "restart"}
        if self._current is not None:
            archs = dict((k, a) for a, k in self._nbhd)
            while self._queue:
                key = self._queue.pop(0)
                if key not in self._seen:
                    return archs[key], key, {"phase": "neighbour", "parent": self._current[1]}
        # waiting for pending results before the walk can go on (only with ask(n > 1))
        arch, key = self._random()
        return arch, key, {"phase": "random"}

    # -- the walk -------------------------------------------------------------------------
    def _observe(self, evaluation: Evaluation, info: dict[str, Any]) -> None:
        self._values[evaluation.key] = evaluation.val_acc
        self._advance()

    def _advance(self) -> None:
        """Take every step the known results allow: start a walk, move, or restart."""
        while True:
            if self._current is None:
                if len(self._start) < self._start_size or any(k not in self._values for _, k in self._start):
                    return
                self._move_to(max(self._start, key=lambda c: self._values[c[1]]))
                continue
            if any(k not in self._seen for k in self._queue):
                return  # neighbours left to ask
            if any(k not in self._values for _, k in self._nbhd):
                return  # neighbours asked, results pending
            here = self._values[self._current[1]]
            best = max(self._nbhd, key=lambda c: self._values[c[1]], default=None)
            if best is not None and self._values[best[1]] > here:
                self._move_to(best)
                continue
            self._restart()
            return

    def _move_to(self, cell: tuple[Architecture, str]) -> None:
        """Make ``cell`` current and queue its (sampled) neighbourhood in a random order."""
        self._current = cell
        nbhd = self._neighbours(cell[0])
        if self.num_neighbours is not None and len(nbhd) > self.num_neighbours:
            keep = sorted(self.rng.choice(len(nbhd), size=self.num_neighbours, replace=False))
            nbhd = [nbhd[int(i)] for i in keep]
        order = self.rng.permutation(len(nbhd))
        self._nbhd = [nbhd[int(i)] for i in order]
        self._queue = [k for _, k in self._nbhd if k not in self._seen]
        self._start = []

    def _restart(self) -> None:
        """A local optimum: the next walk starts from one new random cell."""
        self._current, self._nbhd, self._queue, self._start = None, [], [], []
        self._start_size = 1
        self.restarts += 1

    # -- state ----------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        def cells(cs: list[tuple[Architecture, str]]) -> list[dict[str, Any]]:
            return [{"arch": a.to_dict(), "key": k} for a, k in cs]

        return {
            "values": self._values,
            "current": None if self._current is None else cells([self._current])[0],
            "nbhd": cells(self._nbhd),
            "queue": self._queue,
            "start": cells(self._start),
            "start_size": self._start_size,
            "restarts": self.restarts,
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        def cells(specs: list[dict[str, Any]]) -> list[tuple[Architecture, str]]:
            return [(self._cell(s["arch"]), s["key"]) for s in specs]

        self._values = {k: float(v) for k, v in state["values"].items()}
        self._current = None if state["current"] is None else cells([state["current"]])[0]
        self._nbhd = cells(state["nbhd"])
        self._queue = list(state["queue"])
        self._start = cells(state["start"])
        self._start_size = int(state["start_size"])
        self.restarts = int(state["restarts"])
