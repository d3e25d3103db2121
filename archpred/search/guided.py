"""What the predictor-guided searchers share: a random start, then batches chosen by a model.

``neural-predictor``, ``bananas`` and ``soft-pareto`` work in rounds: ``n_initial`` uniformly
random cells first; then, whenever their queue of chosen cells is empty, they fit a model on
every result told so far and fill the queue with the next batch. The run loop asks one cell at
a time and tells its result before the next ask, so a batch is handed out one cell per ask.

Nothing learned is kept: the told results and the queue are the state (``_state``), and each
refit draws its torch seed from the searcher's generator, so a resumed run refits the same
models from the same data and continues the same history, mid-batch or not.

Pools a model ranks (``_pool``): the unseen ``Candidates`` where a table restricts the run
(NB-101: the unseen cells of the 20,001), every unseen cell where the space is small enough to
list (NB-201: 15,625, listed once per process), otherwise ``pool_size`` (default 10,000) random
new cells. A ``pool_size`` also caps the listed pools (a random subset of them), which keeps
tiny test runs fast.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.search.base import Candidates, Evaluation, Searcher
from archpred.search.options import optional_positive_int, positive_int
from archpred.spaces import Architecture, SearchSpace, get_space

# Spaces whose every cell is ranked each round (NB-201's 15,625 cells predict in seconds).
ENUMERATED_SPACES = ("nb201",)
# Random cells ranked per round in a space that is neither listed nor restricted to a table.
DEFAULT_POOL = 10_000

Cell = tuple[Architecture, str]


@cache
def enumeration(space_name: str) -> tuple[list[Architecture], list[str]]:
    """Every cell of a small space and its key, listed once per process."""
    space = get_space(space_name)
    archs = space.enumerate(progress=False)
    return archs, [space.key(a) for a in archs]


@cache
def space_arrays(space_name: str) -> tuple[Any, dict[str, int]]:
    """Every cell of a space as padded arrays (``space.arrays()``) and each key's row, once per
    process: what a predictor scores when it ranks the whole space."""
    arrays = get_space(space_name).arrays(progress=False)
    return arrays, {str(k): i for i, k in enumerate(arrays.keys)}


def epochs_for(n: int, batch_size: int, train_steps: int, epochs: int | None) -> int:
    """Epochs that give about ``train_steps`` optimiser steps on ``n`` examples (``epochs`` wins
    when set): a refit costs about the same at 20 and at 300 told cells, and small data sets
    still get enough steps to fit."""
    if epochs is not None:
        return epochs
    return max(1, math.ceil(train_steps / math.ceil(n / max(1, min(batch_size, n)))))


def fraction(name: str, value: Any) -> float:
    """``value`` as a float strictly between 0 and 1, or an ``InvalidOption``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) < 1.0:
        raise InvalidOption(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def flag(name: str, value: Any) -> bool:
    """``value`` as a bool (``True``/``False`` only), or an ``InvalidOption``."""
    if not isinstance(value, bool):
        raise InvalidOption(f"{name} must be true or false, got {value!r}")
    return value


class GuidedSearcher(Searcher):
    """Base of the batch searchers: random start, then model-chosen batches from a queue.

    Subclasses implement ``_next_batch(round)``: new admissible cells with their info (a model
    fitted on ``self._told``), and may extend ``_initial_info``.

    Args:
        n_initial: random cells before the first model.
        pool_size: cells ranked per round: a random subset of that many of the listed pools
            (``None``: all of them), or that many random cells (``None``: ``DEFAULT_POOL``)
            where the space is neither restricted to candidates nor listed.
        max_tries: mutations tried for a new admissible cell.
    """

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        candidates: Candidates | None = None,
        n_initial: int = 20,
        pool_size: int | None = None,
        max_tries: int = 100,
    ) -> None:
        super().__init__(space, rng, candidates, max_tries)
        self.n_initial = positive_int("n_initial", n_initial)
        self.pool_size = optional_positive_int("pool_size", pool_size)
        self._told: list[tuple[Architecture, str, float]] = []  # every result, in order
        self._queue: list[tuple[Architecture, str, dict[str, Any]]] = []
        self._init_asked = 0
        self.round = 0

    # -- proposals --------------------------------------------------------------------------
    def _propose(self) -> tuple[Architecture, str, dict[str, Any]]:
        if self._init_asked < self.n_initial:
            self._init_asked += 1
            arch, key = self._random()
            return arch, key, {"phase": "init", **self._initial_info(arch, key)}
        while True:
            while self._queue:
                arch, key, info = self._queue.pop(0)
                if self._admissible(key):  # a queued cell may have been told from outside since
                    return arch, key, info
            if len(self._told) < 2:  # results still pending (ask(n) with n > 1): nothing to fit
                arch, key = self._random()
                return arch, key, {"phase": "random", **self._initial_info(arch, key)}
            self.round += 1
            self._queue = self._next_batch(self.round)
            if not self._queue:  # the model found nothing new: a random cell keeps the run going
                arch, key = self._random()
                return arch, key, {"phase": "random-fallback", **self._initial_info(arch, key)}

    def _next_batch(self, round_: int) -> list[tuple[Architecture, str, dict[str, Any]]]:
        """The next cells to evaluate, chosen by a model fitted on ``self._told``."""
        raise NotImplementedError

    def _initial_info(self, arch: Architecture, key: str) -> dict[str, Any]:
        """Fields every proposal carries besides its phase (soft-pareto: the objective)."""
        return {}

    def _observe(self, evaluation: Evaluation, info: dict[str, Any]) -> None:
        self._told.append((evaluation.arch, evaluation.key, evaluation.val_acc))

    # -- helpers ----------------------------------------------------------------------------
    def _torch_seed(self) -> int:
        """A seed for one refit, drawn from the run's generator (so resume refits the same)."""
        return int(self.rng.integers(2**31 - 1))

    def _training_data(self) -> tuple[list[Architecture], np.ndarray]:
        archs = [a for a, _, _ in self._told]
        return archs, np.array([v for _, _, v in self._told], dtype=np.float64)

    def _pool(self) -> list[Cell]:
        """The unseen cells a model ranks this round (see the module docstring)."""
        if self.candidates is not None:
            listed = zip(self.candidates.archs, self.candidates.keys)
        elif self.space.name in ENUMERATED_SPACES:
            listed = zip(*enumeration(self.space.name))
        else:
            return self._random_pool(self.pool_size or DEFAULT_POOL)
        pool = [(a, k) for a, k in listed if k not in self._seen]
        if self.pool_size is not None and len(pool) > self.pool_size:
            keep = np.sort(self.rng.choice(len(pool), size=self.pool_size, replace=False))
            pool = [pool[int(i)] for i in keep]
        return pool

    def _random_pool(self, size: int) -> list[Cell]:
        """Up to ``size`` distinct unseen random cells of the space."""
        pool: dict[str, Architecture] = {}
        for _ in range(size * 5):
            if len(pool) >= size:
                break
            arch = self.space.sample(self.rng)
            key = self.space.key(arch)
            if key not in self._seen:
                pool.setdefault(key, arch)
        return [(a, k) for k, a in pool.items()]

    # -- state ------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "told": [{"arch": a.to_dict(), "key": k, "val_acc": v} for a, k, v in self._told],
            "queue": [{"arch": a.to_dict(), "key": k, "info": i} for a, k, i in self._queue],
            "init_asked": self._init_asked,
            "round": self.round,
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        self._told = [(self._cell(t["arch"]), t["key"], float(t["val_acc"])) for t in state["told"]]
        self._queue = [(self._cell(q["arch"]), q["key"], dict(q["info"])) for q in state["queue"]]
        self._init_asked = int(state["init_asked"])
        self.round = int(state["round"])
