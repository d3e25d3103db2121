"""The predictor-guided searchers: neural-predictor, bananas and soft-pareto.

They are real (on NB-201 cifar10, from the PyPI table: no shared data needed), they resume
mid-batch without refitting, and a bad option is one line. The contract (determinism, resume,
no duplicates, candidates) is tested for them with every searcher in test_searchers/test_run.
Tiny settings keep each run to seconds.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from archpred.errors import ArchpredError, InvalidOption
from archpred.search import make_searcher, run_search
from archpred.search.guided import epochs_for
from archpred.spaces import get_space

from .conftest import table_oracle

# Small, short predictors (lr 1e-2 makes up for the few steps); 2,000 cells ranked per round.
TINY_NP = {
    "n_initial": 10,
    "top_k": 10,
    "train_steps": 100,
    "pool_size": 2000,
    "predictor_options": {"hidden": 16, "lr": 1e-2},
}

TINY_BANANAS = {"n_initial": 10, "top_k": 10, "train_steps": 50, "ensemble": 3}


def phase_means(history) -> dict[str, float]:
    """The table's mean validation accuracy, averaged per phase."""
    phases = {e.extra["phase"] for e in history}
    return {p: float(np.mean([e.mean_val_acc for e in history if e.extra["phase"] == p])) for p in phases}


def new(algorithm: str, options: dict, seed: int = 0):
    oracle = table_oracle("nb201", seed)
    return make_searcher(algorithm, oracle.space, np.random.default_rng(seed), **options), oracle


def step(searcher, oracle, n: int) -> list[dict]:
    """Ask, look at the info, tell, ``n`` times; the infos."""
    out = []
    for _ in range(n):
        [arch] = searcher.ask()
        out.append({**searcher.info(arch), "key": oracle.space.key(arch)})
        searcher.tell(oracle.query(arch))
    return out


# -- neural-predictor -----------------------------------------------------------------------------
def test_neural_predictor_proposals_beat_its_random_start():
    """The top-K of the refitted predictor are better cells than the N random ones."""
    result = run_search("nb201", "neural-predictor", 30, 0, options=TINY_NP)
    assert [e.extra["phase"] for e in result.history] == ["init"] * 10 + ["predicted"] * 20
    assert [e.extra["round"] for e in result.history[10:]] == [1] * 10 + [2] * 10
    means = phase_means(result.history)
    assert means["predicted"] > means["init"] + 0.02, means


def test_neural_predictor_takes_its_top_k_in_order():
    """A round's proposals come in decreasing predicted accuracy, inside the sigmoid's range."""
    searcher, oracle = new("neural-predictor", TINY_NP)
    info = step(searcher, oracle, 20)[10:]
    predicted = [i["predicted"] for i in info]
    assert predicted == sorted(predicted, reverse=True)
    assert all(0.1 <= p <= 1.0 for p in predicted) and {i["round"] for i in info} == {1}


def test_a_resumed_searcher_finishes_the_batch_without_refitting(monkeypatch):
    """Mid-batch, the queue is in the state: a searcher loaded from it hands out the same cells
    without fitting anything; the next round's refit is seeded from the saved generator."""
    options = {**TINY_NP, "n_initial": 4, "top_k": 5, "pool_size": 300}
    a, oracle_a = new("neural-predictor", options)
    step(a, oracle_a, 6)  # 4 random, 2 of the first batch of 5
    state = json.loads(json.dumps(a.state_dict()))
    oracle_state = json.loads(json.dumps(oracle_a.state_dict()))
    assert len(state["queue"]) == 3 and len(state["told"]) == 6 and state["round"] == 1
    assert "weights" not in json.dumps(state) and len(json.dumps(state)) < 20_000  # no model kept

    b, oracle_b = new("neural-predictor", options, seed=9)
    b.load_state_dict(state)
    oracle_b.load_state_dict(oracle_state)
    fits = []
    monkeypatch.setattr(type(b), "_fit_predict", lambda self, pool: fits.append(1) or 1 / 0)
    rest_b = step(b, oracle_b, 3)
    assert fits == [] and b.round == 1
    monkeypatch.undo()
    rest_a = step(a, oracle_a, 3)
    assert rest_b == rest_a
    assert step(a, oracle_a, 5) == step(b, oracle_b, 5)  # round 2: the same refit


def test_two_stage_threshold_is_a_quantile_of_the_told_accuracies():
    searcher, _ = new("neural-predictor", {**TINY_NP, "two_stage": True, "threshold_quantile": 0.25})
    y = np.array([0.2, 0.5, 0.8, 0.9, 0.91])
    model = searcher._predictor(seed=1, n=len(y), y=y)
    assert model.config.threshold == pytest.approx(np.quantile(y, 0.25))
    assert model.config.hidden == 16 and model.config.lr == 1e-2  # predictor_options reach it
    plain, _ = new("neural-predictor", TINY_NP)
    assert plain._predictor(seed=1, n=len(y), y=y).config.threshold is None
    result = run_search("nb201", "neural-predictor", 12, 0, options={**TINY_NP, "two_stage": True})
    assert [e.extra["phase"] for e in result.history][-2:] == ["predicted", "predicted"]


def test_epochs_follow_the_number_of_told_cells():
    """About ``train_steps`` optimiser steps whatever the data size; fixed epochs win."""
    assert epochs_for(20, 32, 300, None) == 300  # one batch per epoch
    assert epochs_for(300, 32, 300, None) == 30  # ten batches per epoch
    assert epochs_for(300, 32, 300, 7) == 7


# -- bananas ------------------------------------------------------------------------------------
def test_bananas_proposals_beat_its_random_start():
    """Thompson-sampled mutants of the best cells are better than the random start."""
    result = run_search("nb201", "bananas", 30, 0, options=TINY_BANANAS)
    assert [e.extra["phase"] for e in result.history] == ["init"] * 10 + ["predicted"] * 20
    means = phase_means(result.history)
    assert means["predicted"] > means["init"] + 0.02, means


def test_bananas_mutates_the_best_evaluated_cells():
    """With one edit per candidate, every proposal is a neighbour of an evaluated parent, and
    the round's first parent is the best cell told so far; UCB ranks by mean + kappa * std."""
    space = get_space("nb201")
    options = {**TINY_BANANAS, "max_mutations": 1, "acquisition": "ucb", "ucb_kappa": 0.5}
    searcher, oracle = new("bananas", options)
    told = {i["key"] for i in step(searcher, oracle, 10)}
    best = max(searcher._told, key=lambda t: t[2])[1]
    info = step(searcher, oracle, 10)
    assert all(i["phase"] == "predicted" and i["round"] == 1 for i in info)
    assert best in {i["parent"] for i in info}
    for i in info:
        assert i["parent"] in told
        assert space.parse(i["key"]) in space.neighbours(space.parse(i["parent"]))
    ucb = [i["predicted"] + 0.5 * i["std"] for i in info]
    assert ucb == sorted(ucb, reverse=True) and all(i["std"] >= 0 for i in info)


@pytest.mark.parametrize(
    "name, options",
    [
        ("neural-predictor", {"top_k": 0}),
        ("neural-predictor", {"n_initial": 2.5}),
        ("neural-predictor", {"two_stage": "yes"}),
        ("neural-predictor", {"threshold_quantile": 1.0}),
        ("neural-predictor", {"pool_size": -1}),
        ("neural-predictor", {"predictor_options": {"hiden": 16}}),
        ("neural-predictor", {"predictor_options": {"epochs": 3}}),
        ("neural-predictor", {"predictor_options": {"hidden": 16, "lr": -1.0}}),
        ("neural-predictor", {"predictor_options": [1, 2]}),
        ("neural-predictor", {"top_n": 5}),
        ("bananas", {"acquisition": "ei"}),
        ("bananas", {"ucb_kappa": -1}),
        ("bananas", {"ensemble": 0}),
        ("bananas", {"lr": 0}),
        ("bananas", {"num_candidates": "many"}),
        ("bananas", {"max_mutations": 0}),
    ],
)
def test_bad_options_are_one_line_errors(name, options):
    with pytest.raises(InvalidOption) as err:
        make_searcher(name, get_space("nb201"), np.random.default_rng(0), **options)
    assert isinstance(err.value, ArchpredError) and "\n" not in str(err.value)
