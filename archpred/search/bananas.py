"""BANANAS (White, Neiswanger and Savani, "BANANAS: Bayesian Optimization with Neural
Architectures for Neural Architecture Search", AAAI 2021).

Bayesian optimisation with a neural ensemble as the model:
- encoding: the path encoding (``space.encode(arch, "path")``: one bit per input-to-output
  sequence of ops), the paper's main finding;
- model: an ensemble of ``ensemble`` (5) feed-forward networks of 10 layers of width 20
  (``MLPNet``), each trained from its own seed with Adam at lr 0.01, batch 32, on the mean
  absolute error (the authors' code: MAE; the paper: MAPE) of standardised accuracies;
- acquisition: independent Thompson sampling (``its``): one draw per candidate from a normal
  with the ensemble's mean and standard deviation of that candidate (``ucb``: mean +
  ``ucb_kappa`` x deviation instead);
- acquisition optimisation: mutation: ``num_candidates`` (100) new cells made by mutating the
  best evaluated cells (up to ``max_mutations`` edits each; their quota is shared by the best
  ``num_parents``, further parents take over when a neighbourhood is used up, random cells
  top up what mutation cannot fill); the ``top_k`` (10) best by acquisition are evaluated;
- ``n_initial`` (10) random cells start the run (the paper's 10 and 10).

Our ``mlp`` predictor reads the one-hot encoding, not paths, so the ensemble is built here from
``MLPNet`` and ``fit_regressor``. Each network trains about ``train_steps`` (200) optimiser
steps per refit (the paper: 150-200 epochs, i.e. 150-200 steps at its 10-30 cells; 20
epochs at 300 told cells): a round at 300 told NB-201 cells took 6.7 s on one thread of a
busy 2-core machine.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from archpred.errors import InvalidOption
from archpred.search.base import Candidates
from archpred.search.guided import Cell, GuidedSearcher, epochs_for
from archpred.search.options import optional_positive_int, positive_int
from archpred.spaces import Architecture, SearchSpace

ACQUISITIONS = ("its", "ucb")


class Bananas(GuidedSearcher):
    """Path-encoded neural ensemble, Thompson sampling, mutation of the best cells.

    Args:
        n_initial: random cells before the first model (paper: 10).
        top_k: cells evaluated per round, best acquisition first (paper: 10).
        num_candidates: mutated cells scored per round (paper: 100).
        num_parents: best evaluated cells whose mutants share the candidates.
        max_mutations: a candidate is 1 to this many ``space.mutate`` edits from its parent.
        acquisition: ``its`` (independent Thompson sampling) or ``ucb``.
        ucb_kappa: the deviation's weight in ``ucb``.
        ensemble: networks in the ensemble (paper: 5).
        layers, width: each network's hidden layers and their width (paper: 10 x 20).
        lr, batch_size: Adam's learning rate and the mini-batch (paper: 0.01, 32).
        train_steps: about this many optimiser steps per network per refit.
        epochs: a fixed number of epochs per refit instead (``None``: from ``train_steps``).
        max_tries: mutations tried per wanted candidate (a parent whose new mutants run out
            hands over to the next best after that many tries per missing candidate).
    """

    name = "bananas"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        candidates: Candidates | None = None,
        n_initial: int = 10,
        top_k: int = 10,
        num_candidates: int = 100,
        num_parents: int = 2,
        max_mutations: int = 2,
        acquisition: str = "its",
        ucb_kappa: float = 0.5,
        ensemble: int = 5,
        layers: int = 10,
        width: int = 20,
        lr: float = 0.01,
        batch_size: int = 32,
        train_steps: int = 200,
        epochs: int | None = None,
        max_tries: int = 20,
    ) -> None:
        super().__init__(space, rng, candidates, n_initial, None, max_tries)
        self.top_k = positive_int("top_k", top_k)
        self.num_candidates = positive_int("num_candidates", num_candidates)
        self.num_parents = positive_int("num_parents", num_parents)
        self.max_mutations = positive_int("max_mutations", max_mutations)
        if acquisition not in ACQUISITIONS:
            raise InvalidOption(f"unknown acquisition {acquisition!r}; choose from {', '.join(ACQUISITIONS)}")
        self.acquisition = acquisition
        self.ucb_kappa = _non_negative("ucb_kappa", ucb_kappa)
        self.ensemble = positive_int("ensemble", ensemble)
        self.layers = positive_int("layers", layers)
        self.width = positive_int("width", width)
        self.lr = _non_negative("lr", lr)
        if self.lr == 0:
            raise InvalidOption("lr must be > 0")
        self.batch_size = positive_int("batch_size", batch_size)
        self.train_steps = positive_int("train_steps", train_steps)
        self.epochs = optional_positive_int("epochs", epochs)

    # -- one round --------------------------------------------------------------------------
    def _next_batch(self, round_: int) -> list[tuple[Architecture, str, dict[str, Any]]]:
        pool = self._candidates()
        if not pool:
            return []
        mean, std = self._ensemble_predict([a for a, _, _ in pool])
        if self.acquisition == "its":
            score = self.rng.normal(mean, std)
        else:
            score = mean + self.ucb_kappa * std
        order = np.argsort(-score, kind="stable")[: self.top_k]
        return [
            (
                pool[i][0],
                pool[i][1],
                {
                    "phase": "predicted",
                    "predicted": float(mean[i]),
                    "std": float(std[i]),
                    "round": round_,
                    "parent": pool[i][2],
                },
            )
            for i in (int(j) for j in order)
        ]

    def _candidates(self) -> list[tuple[Architecture, str, str | None]]:
        """New cells to score: mutants of the best told cells, topped up with random cells;
        each with its parent's key (``None`` for a random one). A round tries at most
        ``num_candidates * max_tries`` mutations (NB-101-20k: ~7% of mutants are in the table)."""
        ranked = sorted(self._told, key=lambda t: -t[2])  # stable: the earliest of ties first
        quota = math.ceil(self.num_candidates / self.num_parents)
        found: dict[str, tuple[Architecture, str | None]] = {}
        tries = self.num_candidates * self.max_tries
        for parent, parent_key, _ in ranked:
            if len(found) >= self.num_candidates or tries <= 0:
                break
            wanted = min(quota, self.num_candidates - len(found))
            mutants, used = self._mutants(parent, wanted, found, min(tries, wanted * self.max_tries))
            tries -= used
            for arch, key in mutants:
                found[key] = (arch, parent_key)
        for _ in range(self.num_candidates - len(found)):
            try:
                arch, key = self._random_excluding(found)
            except InvalidOption:  # every evaluable cell is told, pending or found
                break
            found[key] = (arch, None)
        return [(arch, key, parent) for key, (arch, parent) in found.items()]

    def _mutants(self, parent: Architecture, n: int, taken: dict[str, Any], tries: int) -> tuple[list[Cell], int]:
        """Up to ``n`` new admissible cells 1 to ``max_mutations`` edits from ``parent`` in at
        most ``tries`` mutations; and the mutations used."""
        out: dict[str, Architecture] = {}
        used = 0
        while len(out) < n and used < tries:
            used += 1
            child = parent
            for _ in range(int(self.rng.integers(1, self.max_mutations + 1))):
                child = self.space.mutate(child, self.rng)
            key = self.space.key(child)
            if key not in taken and key not in out and self._admissible(key):
                out[key] = child
        return [(a, k) for k, a in out.items()], used

    def _random_excluding(self, taken: dict[str, Any]) -> Cell:
        """A random admissible cell not in ``taken`` (a few draws, then the explicit rest)."""
        for _ in range(100):
            arch, key = self._random()
            if key not in taken:
                return arch, key
        rest = [(a, k) for a, k in self._pool() if k not in taken]
        if not rest:
            raise InvalidOption("no cell left to propose")
        return rest[int(self.rng.integers(len(rest)))]

    # -- the model --------------------------------------------------------------------------
    def _ensemble_predict(self, archs: list[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        """Fit the ensemble on every told result; the mean and deviation of its predictions."""
        from archpred.predictors.baselines import MLPNet
        from archpred.predictors.torch_common import predict_network
        from archpred.training import fit_regressor, seeded

        told, y = self._training_data()
        x = torch.from_numpy(self.space.encode_many(told, "path"))
        x_new = torch.from_numpy(self.space.encode_many(archs, "path"))
        mu, sigma = float(y.mean()), float(y.std()) or 1.0
        target = torch.as_tensor((y - mu) / sigma, dtype=torch.float32)
        epochs = epochs_for(len(y), self.batch_size, self.train_steps, self.epochs)
        base = self._torch_seed()
        preds = []
        for k in range(self.ensemble):
            with seeded(base + k):
                net = MLPNet(x.shape[1], (self.width,) * self.layers, 0.0)
                fit_regressor(
                    net,
                    _forward,
                    {"x": x},
                    target,
                    epochs=epochs,
                    batch_size=self.batch_size,
                    lr=self.lr,
                    seed=base + k,
                    device="cpu",
                    loss=torch.nn.functional.l1_loss,
                    desc=f"bananas member {k}",
                )
            preds.append(predict_network(net, _forward, {"x": x_new}, torch.device("cpu")))
        stacked = np.stack(preds) * sigma + mu
        return stacked.mean(axis=0), stacked.std(axis=0)


def _forward(module: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return module(batch["x"])


def _non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidOption(f"{name} must be a number >= 0, got {value!r}")
    return float(value)
