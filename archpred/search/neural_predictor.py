"""The Neural Predictor workflow (Wen, Liu, Chen, Li, Bender and Kindermans, ECCV 2020).

The paper's search: train N random architectures, fit the Neural Predictor (a bidirectional
GCN, ``make_predictor("neural-predictor")``; optionally two-stage: a classifier of "above the
threshold" and a regressor fitted on those above it) on their validation accuracies, predict a
large pool, and evaluate the top K; the best by validation is deployed. The paper ran it once
(N = 172, K = 20 on NAS-Bench-101). Here it iterates: after each K the predictor is refitted
on everything evaluated and the next K unseen cells with the highest predictions follow, so the
best-so-far at any query count is meaningful and the budget decides the number of rounds;
``top_k`` at least the budget minus ``n_initial`` is the paper's one-shot search.

Defaults for budgets of 50-300 queries on NB-201: N = 20 random cells, then K = 10 per round
(the paper's N = 172 would spend most of a 100-query budget at random). The pool is every
unseen NB-201 cell, the unseen table cells on NB-101-20k, every unseen NB-101 cell (all
423,624, scored from the space's arrays by ``score_space`` in a few seconds) with an oracle that
is not the table, else ``pool_size`` random cells.

The predictor is kept small and short so a refit takes seconds on a CPU (a round at 300 told
cells, refit and all 15,325 unseen NB-201 cells ranked: 5.4 s on one thread of a busy 2-core
machine):
hidden size 64 (the low end of our predictor's CV grid, 64 and 144; 144 costs ~3.5x the time
per step), batch 32, Adam at lr 1e-3, and about ``train_steps`` = 300 optimiser steps per
refit (epochs = 300 / batches per epoch: 300 epochs at 20 cells, 30 at 300). Fitted so on 10-50
random NB-201 cells it ranks all cells with Kendall tau 0.50-0.54 to their mean validation
accuracy (0.49 at 20 cells with 600 steps against 0.48 with 300: more steps buy little). Any other
field of the predictor's config goes in ``predictor_options``. The two-stage threshold is the
``threshold_quantile`` of the told accuracies (the paper's 91% on NB-101 is near its median;
an absolute value would not carry over between datasets).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.search.base import Candidates
from archpred.search.guided import Cell, GuidedSearcher, epochs_for, flag, fraction, space_arrays
from archpred.search.options import optional_positive_int, positive_int
from archpred.spaces import Architecture, SearchSpace

# The predictor's settings unless ``predictor_options`` says otherwise (see the docstring).
PREDICTOR_DEFAULTS: dict[str, Any] = {"hidden": 64, "batch_size": 32, "lr": 1e-3}


class NeuralPredictorSearch(GuidedSearcher):
    """Train N random cells, predict the pool, evaluate the top K; refit after every K.

    Args:
        n_initial: N, random cells before the first fit (default 20).
        top_k: K, cells evaluated per round, highest predictions first (default 10).
        two_stage: the paper's classifier + regressor (default: the regressor alone).
        threshold_quantile: the two-stage threshold as a quantile of the told accuracies.
        train_steps: about this many optimiser steps per refit (epochs follow from it).
        epochs: a fixed number of epochs per refit instead (``None``: from ``train_steps``).
        pool_size: cells ranked per round (``None``: every unseen cell where the space or table
            lists them, else 10,000 random ones; a number caps the listed pools too).
        predictor_options: more fields of the Neural Predictor's config (hidden, lr, ...).
        max_tries: kept for a uniform signature (the pool needs no mutation).
    """

    name = "neural-predictor"
    predictor_name = "neural-predictor"
    # Spaces whose every cell the predictor scores from arrays when no table restricts the pool
    # (NB-101: 423,624 cells, too many to rank as objects). Soft-Pareto needs each cell's cost
    # as well, so it keeps listed or random pools.
    whole_spaces: tuple[str, ...] = ("nb101",)

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        candidates: Candidates | None = None,
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
        super().__init__(space, rng, candidates, n_initial, pool_size, max_tries)
        self.top_k = positive_int("top_k", top_k)
        self.two_stage = flag("two_stage", two_stage)
        self.threshold_quantile = fraction("threshold_quantile", threshold_quantile)
        self.train_steps = positive_int("train_steps", train_steps)
        self.epochs = optional_positive_int("epochs", epochs)
        if predictor_options is not None and not isinstance(predictor_options, dict):
            raise InvalidOption(f"predictor_options must be a mapping of config fields, got {predictor_options!r}")
        self.predictor_config = {**PREDICTOR_DEFAULTS, **(predictor_options or {})}
        for reserved in ("epochs", "threshold"):
            if reserved in self.predictor_config:
                raise InvalidOption(f"set {reserved} through the searcher's options, not predictor_options")
        self._predictor(seed=0, n=2, y=np.zeros(2))  # a bad field fails now, in one line

    # -- one round --------------------------------------------------------------------------
    def _next_batch(self, round_: int) -> list[tuple[Architecture, str, dict[str, Any]]]:
        if self.candidates is None and self.pool_size is None and self.space.name in self.whole_spaces:
            return self._next_batch_of_the_space(round_)
        pool = self._pool()
        if not pool:
            return []
        predicted = self._fit_predict(pool)
        chosen = self._choose(pool, predicted)
        return [
            (pool[i][0], pool[i][1], {"phase": "predicted", "predicted": float(predicted[i]), "round": round_})
            for i in chosen
        ]

    def _next_batch_of_the_space(self, round_: int) -> list[tuple[Architecture, str, dict[str, Any]]]:
        """The ``top_k`` unseen cells of the whole space by ``score_space`` of the refitted model."""
        from archpred.predictors.scoring import score_space

        arrays, row_of = space_arrays(self.space.name)
        archs, y = self._training_data()
        model = self._predictor(self._torch_seed(), len(y), y)
        model.fit(archs, y)
        predicted = score_space(model, arrays=arrays).predictions
        predicted[[row_of[k] for k in self._seen if k in row_of]] = -np.inf
        rows = [int(r) for r in np.argsort(-predicted, kind="stable")[: self.top_k] if np.isfinite(predicted[r])]
        return [
            (arch, str(arrays.keys[r]), {"phase": "predicted", "predicted": float(predicted[r]), "round": round_})
            for r, arch in zip(rows, arrays.archs(rows))
        ]

    def _choose(self, pool: list[Cell], predicted: np.ndarray) -> list[int]:
        """Indices of the pool to evaluate next: the ``top_k`` highest predictions."""
        return [int(i) for i in np.argsort(-predicted, kind="stable")[: self.top_k]]

    def _fit_predict(self, pool: list[Cell]) -> np.ndarray:
        """Refit the predictor on every told result (seeded from the run's generator) and
        predict the pool's accuracies."""
        archs, y = self._training_data()
        model = self._predictor(self._torch_seed(), len(y), y)
        model.fit(archs, y)
        return model.predict([a for a, _ in pool])

    def _predictor(self, seed: int, n: int, y: np.ndarray) -> Any:
        """A new predictor for ``n`` told cells with accuracies ``y`` (unfitted)."""
        from archpred.predictors import make_predictor

        config = dict(self.predictor_config)
        config["epochs"] = epochs_for(n, int(config.get("batch_size", 32)), self.train_steps, self.epochs)
        if self.two_stage:
            threshold = float(np.quantile(y, self.threshold_quantile))
            if 0.0 < threshold < 1.0:
                config["threshold"] = threshold
                config.setdefault("loss", "mse")  # the two stages compare outputs with the threshold
        try:
            return make_predictor(self.predictor_name, seed=seed, device="cpu", progress=False, **config)
        except (TypeError, ValueError) as err:
            raise InvalidOption(f"predictor_options: {err}") from None
