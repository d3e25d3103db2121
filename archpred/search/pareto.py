"""Accuracy against size: the Neural Predictor's soft-Pareto search (Wen et al., ECCV 2020,
sec. 4.2) and the true Pareto front of what was evaluated.

The paper's multi-objective mode: predict the accuracy of many cells, sort them by increasing
cost (there inference time; here parameters or FLOPs, ``objective``), and keep a cell when its
predicted accuracy is higher than the minimum of the previous J kept cells (J = 6): with J = 1
this is the exact Pareto front of the predictions; a larger J tolerates the predictor's errors
by keeping a band below the front (the paper kept 137 of 112,000 cells, then evaluated them and
drew the true front of the evaluated ones). "Previous J" counts kept cells: counting every
previous cell would keep about J / (J + 1) of all of them.

As a search (like ``neural-predictor``, of which it is the multi-objective mode): ``n_initial``
random cells, then rounds of: refit the Neural Predictor on every result, apply the soft rule to
the unseen pool, evaluate ``top_k`` of the kept cells spread evenly along the cost axis (when
fewer are kept, the rule is applied again to the rest, front after front). Every proposal's info
carries its objective (``{"params": 1234567}``), so each history row has both axes, and
``pareto_front`` gives the evaluated front. Objectives are exact: analytic parameter counts
(``expected_params``: nb101, nb201) and FLOPs (``expected_flops``: analytic on nb201 only;
NB-101 FLOPs need a forward pass, about 1 s a cell, too slow for a pool, so they are refused).
NB-201 counts are those of the CIFAR-10 network: other datasets change the classifier only, by
the same amount for every cell, so the order is the same.

What to expect on NB-201: parameters take 28 values there (they count the convolutions), so
the front is the best cell of each count, and the soft rule relies on the predictor ranking
cells of equal cost; the Neural Predictor fitted on 30-100 cells does that poorly (Kendall tau
0.14-0.27 within a cost, 0.44-0.53 overall), and at 100 queries the evaluated front is no
better than random search's (hypervolume 0.855 against 0.858 over 5 seeds; the table's own
front: 0.864). Given the true accuracies, it finds the front at once (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.search.base import Candidates
from archpred.search.guided import Cell
from archpred.search.neural_predictor import NeuralPredictorSearch
from archpred.search.options import positive_int
from archpred.spaces import Architecture, SearchSpace

OBJECTIVES = ("params", "flops")
# Where each objective is analytic (a pool of thousands is counted in well under a second).
ANALYTIC = {"params": ("nb101", "nb201", "macro"), "flops": ("nb201", "macro")}

_objective_cache: dict[tuple[str, str], dict[str, int]] = {}  # (space, objective) -> key -> value


def objective_value(space: SearchSpace, arch: Architecture, key: str, objective: str) -> int:
    """The exact parameter count or FLOPs of a cell's benchmark network (cached per process)."""
    cache = _objective_cache.setdefault((space.name, objective), {})
    if key not in cache:
        from archpred.networks import expected_flops, expected_params

        count = expected_params if objective == "params" else expected_flops
        cache[key] = int(count(arch, space.name))
    return cache[key]


def soft_pareto(costs: Sequence[float], scores: Sequence[float], j: int = 6) -> list[int]:
    """Indices of the soft-Pareto-optimal points, in order of increasing cost.

    Points are visited by increasing cost (ties: higher score first); a point is kept when its
    score is higher than the minimum score of the last ``j`` kept points (the first is always
    kept). ``j = 1`` gives the exact Pareto front (strictly better than every cheaper point).
    """
    costs, scores = np.asarray(costs, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    kept: list[int] = []
    for i in np.lexsort((-scores, costs)):
        if not kept or scores[i] > min(scores[k] for k in kept[-j:]):
            kept.append(int(i))
    return kept


def pareto_front(points: Sequence[Sequence[float]]) -> list[int]:
    """Indices of the non-dominated points, by increasing cost.

    ``points``: one ``(accuracy, cost)`` per evaluation; accuracy is maximised and cost
    minimised. A point is dominated when another has accuracy >= and cost <=, one of them
    strictly; identical non-dominated points are all kept.
    """
    arr = np.asarray(points, dtype=np.float64) if len(points) else np.zeros((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InvalidOption(f"pareto_front needs (accuracy, cost) pairs, got an array of shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidOption("pareto_front needs finite accuracies and costs")
    acc, cost = arr[:, 0], arr[:, 1]
    front: list[int] = []
    best = -np.inf  # the best accuracy of any strictly cheaper point
    for c in np.unique(cost):
        group = np.flatnonzero(cost == c)
        top = acc[group].max()
        if top > best:
            front.extend(int(i) for i in group if acc[i] == top)
            best = top
    return front


class SoftPareto(NeuralPredictorSearch):
    """The Neural Predictor's multi-objective search: accuracy against parameters or FLOPs.

    Args:
        objective: ``params`` or ``flops``: the cost minimised beside accuracy.
        j: J of the soft rule (paper: 6; 1 is the exact front of the predictions).
        n_initial, top_k, two_stage, threshold_quantile, train_steps, epochs, pool_size,
            predictor_options, max_tries: as ``neural-predictor``'s.
    """

    name = "soft-pareto"
    whole_spaces = ()  # each ranked cell needs its cost too: listed or random pools only

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        candidates: Candidates | None = None,
        objective: str = "params",
        j: int = 6,
        n_initial: int = 20,
        top_k: int = 10,
        two_stage: bool = False,
        threshold_quantile: float = 0.5,
        train_steps: int = 300,
        epochs: int | None = None,
        pool_size: int | None = None,
        predictor_options: dict[str, Any] | None = None,
        max_tries: int = 100,
    ) -> None:
        if objective not in OBJECTIVES:
            raise InvalidOption(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
        if space.name not in ANALYTIC[objective]:
            where = ", ".join(ANALYTIC[objective])
            raise InvalidOption(f"{objective} is counted exactly and fast only on {where}, not on {space.name}")
        self.objective = objective
        self.j = positive_int("j", j)
        super().__init__(
            space,
            rng,
            candidates,
            n_initial,
            top_k,
            two_stage,
            threshold_quantile,
            train_steps,
            epochs,
            pool_size,
            predictor_options,
            max_tries,
        )

    def _initial_info(self, arch: Architecture, key: str) -> dict[str, Any]:
        return {self.objective: objective_value(self.space, arch, key, self.objective)}

    def _next_batch(self, round_: int) -> list[tuple[Architecture, str, dict[str, Any]]]:
        batch = super()._next_batch(round_)
        return [(a, k, {**info, **self._initial_info(a, k)}) for a, k, info in batch]

    def _choose(self, pool: list[Cell], predicted: np.ndarray) -> list[int]:
        """``top_k`` cells of the soft-Pareto front of the predictions, spread evenly along the
        cost axis; when the front is smaller, the next front of the rest, and so on."""
        costs = np.array([objective_value(self.space, a, k, self.objective) for a, k in pool], dtype=np.float64)
        rest = np.arange(len(pool))
        chosen: list[int] = []
        while len(chosen) < self.top_k and rest.size:
            front = rest[soft_pareto(costs[rest], predicted[rest], self.j)]
            need = self.top_k - len(chosen)
            if len(front) > need:
                front = front[np.linspace(0, len(front) - 1, need).round().astype(int)]
            chosen.extend(int(i) for i in front)
            rest = np.setdiff1d(rest, front)
        return chosen
