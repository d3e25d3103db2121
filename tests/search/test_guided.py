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
from archpred.search.guided import enumeration, epochs_for
from archpred.search.pareto import SoftPareto, objective_value, pareto_front, soft_pareto
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


# -- soft-pareto ----------------------------------------------------------------------------------
def test_soft_pareto_rule_on_a_hand_made_set():
    """Sorted by cost, a point is kept when it beats the lowest of the last J kept scores."""
    costs = [1, 2, 3, 4, 5, 6, 7]
    scores = [0.5, 0.7, 0.6, 0.55, 0.8, 0.75, 0.9]
    assert soft_pareto(costs, scores, j=1) == [0, 1, 4, 6]  # the exact front
    assert soft_pareto(costs, scores, j=2) == [0, 1, 2, 4, 5, 6]  # 3 is below both of 1 and 2
    assert soft_pareto(costs[::-1], scores[::-1], j=1) == [6, 5, 2, 0]  # visited by cost, not by index
    assert soft_pareto([1, 1, 2], [0.3, 0.9, 0.8], j=1) == [1]  # same cost: the better first


def test_pareto_front_on_a_hand_made_set():
    points = [
        (0.90, 100),  # 0 front
        (0.80, 50),  # 1 front
        (0.85, 120),  # 2 dominated by 0
        (0.95, 300),  # 3 front
        (0.80, 60),  # 4 dominated by 1 (same accuracy, dearer)
        (0.90, 100),  # 5 the same point as 0: kept too
        (0.70, 50),  # 6 dominated by 1 (same cost, worse)
        (0.95, 400),  # 7 dominated by 3
    ]
    assert pareto_front(points) == [1, 0, 5, 3]
    assert pareto_front([]) == []
    for bad in ([(0.9, 1, 2)], [(float("nan"), 1.0)], [(0.9,)]):
        with pytest.raises(InvalidOption):
            pareto_front(bad)


def table_truth(objective: str = "params") -> dict[str, tuple[float, int]]:
    """Every NB-201 cell's key -> (mean validation accuracy on cifar10, objective)."""
    oracle, space = table_oracle("nb201"), get_space("nb201")
    archs, keys = enumeration("nb201")
    return {k: (oracle.query(a).mean_val_acc, objective_value(space, a, k, objective)) for a, k in zip(archs, keys)}


def test_soft_pareto_with_a_perfect_predictor_evaluates_the_true_front(monkeypatch):
    """The selection is right: told the true accuracies, J = 1 proposes exactly the Pareto front
    of the unseen cells, cheapest first, then the next front; J = 6 spreads K over the costs."""
    truth = table_truth()
    monkeypatch.setattr(SoftPareto, "_fit_predict", lambda self, pool: np.array([truth[k][0] for _, k in pool]))
    searcher, oracle = new("soft-pareto", {"n_initial": 5, "top_k": 30, "j": 1})
    seen = {i["key"] for i in step(searcher, oracle, 5)}
    unseen = [k for k in truth if k not in seen]
    front = [unseen[i] for i in pareto_front([truth[k] for k in unseen])]
    info = step(searcher, oracle, 30)
    assert [i["key"] for i in info[: len(front)]] == front and 5 < len(front) < 30
    assert all(i["params"] == truth[i["key"]][1] for i in info)
    second = [i["params"] for i in info[len(front) :]]
    assert second[0] == min(second) and second != sorted(second)  # the next fronts, each from the cheapest

    searcher, oracle = new("soft-pareto", {"n_initial": 5, "top_k": 10, "j": 6})
    start = step(searcher, oracle, 5)
    chosen = step(searcher, oracle, 10)
    costs = [i["params"] for i in chosen]
    assert costs == sorted(costs) and costs[0] == min(c for _, c in truth.values())
    assert costs[-1] > 1_000_000  # from the cheapest cell to the large ones
    random_15 = run_search("nb201", "random", 15, 0).history
    ours = hypervolume([truth[i["key"]] for i in start + chosen])
    assert ours > hypervolume([truth[e.key] for e in random_15]) + 0.01


def hypervolume(points: list[tuple[float, int]], worst_cost: float = 1_531_546) -> float:
    """Area (accuracy x cost share) the points dominate, from accuracy 0 and the dearest cell."""
    front = sorted((points[i] for i in pareto_front(points)), key=lambda p: p[1])
    edges = [c for _, c in front[1:]] + [worst_cost]
    return sum(a * (nxt - c) for (a, c), nxt in zip(front, edges)) / worst_cost


def test_soft_pareto_proposals_carry_their_objective():
    """Every history row has the objective beside its accuracy (the app's Pareto plot)."""
    from archpred.networks import expected_flops, expected_params

    options = {**TINY_NP, "n_initial": 6, "top_k": 6}
    for objective, count in (("params", expected_params), ("flops", expected_flops)):
        result = run_search("nb201", "soft-pareto", 12, 0, options={**options, "objective": objective})
        assert [e.extra["phase"] for e in result.history] == ["init"] * 6 + ["predicted"] * 6
        assert all(e.extra[objective] == count(e.arch, "nb201") for e in result.history)
        front = pareto_front([(e.val_acc, e.extra[objective]) for e in result.history])
        assert front and all(0 <= i < 12 for i in front)


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
        ("soft-pareto", {"objective": "latency"}),
        ("soft-pareto", {"j": 0}),
        ("soft-pareto", {"top_k": 0}),
    ],
)
def test_bad_options_are_one_line_errors(name, options):
    with pytest.raises(InvalidOption) as err:
        make_searcher(name, get_space("nb201"), np.random.default_rng(0), **options)
    assert isinstance(err.value, ArchpredError) and "\n" not in str(err.value)


def test_flops_are_refused_where_they_are_not_analytic():
    """NB-101 FLOPs need a forward pass per cell (~1 s): too slow for a pool of thousands."""
    with pytest.raises(InvalidOption, match="flops is counted exactly and fast only on"):
        make_searcher("soft-pareto", get_space("nb101"), np.random.default_rng(0), objective="flops")


def test_neural_predictor_ranks_every_nb101_cell_when_no_table_restricts_it(tmp_path, monkeypatch):
    """With an oracle that is not a table and no pool size, each round ranks the whole NB-101
    space from its arrays (``score_space``): proposals are the unseen cells of highest prediction."""
    from archpred.search import guided
    from archpred.search.base import Evaluation
    from tests.conftest import write_nb101_enumeration

    space = get_space("nb101")
    rng = np.random.default_rng(3)
    cells = list({space.hash(c): c for c in (space.sample(rng) for _ in range(400))}.values())[:300]
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    write_nb101_enumeration(tmp_path, cells)
    guided.space_arrays.cache_clear()
    scored = []
    real = guided.space_arrays
    searcher = make_searcher(
        "neural-predictor",
        space,
        np.random.default_rng(0),
        n_initial=5,
        top_k=4,
        train_steps=20,
        predictor_options={"hidden": 8},
    )
    monkeypatch.setattr("archpred.search.neural_predictor.space_arrays", lambda name: scored.append(name) or real(name))

    def accuracy(arch) -> float:  # a learnable stand-in for training: more 3x3 convolutions, better
        return 0.8 + 0.02 * arch.ops.count("conv3x3-bn-relu")

    told = []
    for _ in range(13):
        [arch] = searcher.ask()
        key = space.key(arch)
        told.append((key, searcher.info(arch)))
        searcher.tell(Evaluation(arch, key, accuracy(arch), accuracy(arch), None, 0.0))
    try:
        keys = [k for k, _ in told]
        assert len(set(keys)) == 13 and scored == ["nb101", "nb101"]  # two rounds, each the whole space
        enumerated = {space.hash(c) for c in cells}
        proposed = [(k, i) for k, i in told if i["phase"] == "predicted"]
        assert len(proposed) == 8 and all(k in enumerated for k, _ in proposed)
        first = [i["predicted"] for _, i in proposed[:4]]
        assert first == sorted(first, reverse=True)
    finally:
        guided.space_arrays.cache_clear()
