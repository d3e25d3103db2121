"""GENNAPE's CG local search: Pareto selection, the ask/tell contract, and a logged search that
resumes exactly where it was cut."""

import json

import numpy as np
import pytest

from archpred.errors import CheckpointError, InvalidOption
from archpred.networks import build_network
from archpred.search.cg_local import CGLocalSearch, pareto_ranks, run_cg_search
from archpred.spaces import get_space

CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
SHAPE = (1, 8, 8)


def start_net():
    arch = get_space("nb201").parse(CELL)
    return build_network(arch, "nb201", width=4, depth=1, input_size=8, in_channels=1, num_classes=10)


class NodeCountModel:
    """A stand-in predictor: more nodes, higher 'accuracy' (deterministic, so runs compare)."""

    def predict(self, graphs, member=None):
        return np.array([0.5 + 1e-3 * g.num_nodes for g in graphs])


def test_pareto_ranks_peel_fronts():
    #          a     b     c     d     e
    scores = [0.9, 0.8, 0.95, 0.7, 0.8]
    costs = [10.0, 5.0, 20.0, 5.0, 6.0]
    # front 0: a, b, c (nothing better and cheaper); d is beaten by b; e by b
    assert pareto_ranks(scores, costs) == [0, 0, 0, 1, 1]
    assert pareto_ranks([0.5, 0.5], [1.0, 1.0]) == [0, 0]  # equal points do not dominate each other


def test_ask_tell_rounds_make_new_networks_from_the_kept_ones():
    search = CGLocalSearch(start_net(), SHAPE, np.random.default_rng(0), top_k=2, children=3)
    model = NodeCountModel()
    first = search.ask()
    assert len(first) == 1 and first[0].edits == () and first[0].round == 0
    search.tell(first, model.predict([c.graph for c in first]))
    seen = {()}
    for round_ in (1, 2):
        asked = search.ask()
        assert 1 <= len(asked) <= 2 * 3 and all(c.round == round_ for c in asked)
        for c in asked:
            parent = search.pool[c.parent]
            assert c.edits[:-1] == parent.edits and len(c.edits) == len(parent.edits) + 1
            assert c.edits not in seen
            seen.add(c.edits)
        search.tell(asked, model.predict([c.graph for c in asked]))
    assert all(c.graph is None for c in search.pool)  # CGs are dropped once ranked
    best = search.best()
    assert best.flops <= search.pool[0].flops
    assert best.predicted == max(c.predicted for c in search.pool[1:] if c.flops <= search.pool[0].flops)


def test_tell_checks_what_it_is_told():
    search = CGLocalSearch(start_net(), SHAPE, np.random.default_rng(0))
    asked = search.ask()
    with pytest.raises(InvalidOption, match="finite"):
        search.tell(asked, [float("nan")])
    with pytest.raises(InvalidOption, match="last ask"):
        search.tell([], [])
    with pytest.raises(InvalidOption, match="tell the last round"):
        search.ask()
    with pytest.raises(InvalidOption, match="top_k"):
        CGLocalSearch(start_net(), SHAPE, np.random.default_rng(0), top_k=0)


def test_a_logged_search_resumes_to_the_same_result(tmp_path):
    model = NodeCountModel()
    whole = run_cg_search(model, start_net(), SHAPE, np.random.default_rng(3), iterations=3, top_k=2, children=2)
    log = tmp_path / "search.jsonl"
    run_cg_search(model, start_net(), SHAPE, np.random.default_rng(3), iterations=2, top_k=2, children=2, log=log)
    with open(log, "a") as f:
        f.write('{"round": 3, "cut by a k')  # a kill in the middle of the next line
    resumed = run_cg_search(
        model, start_net(), SHAPE, np.random.default_rng(3), iterations=3, top_k=2, children=2, log=log
    )
    assert [c.to_dict() for c in resumed.pool] == [c.to_dict() for c in whole.pool]
    rounds = [json.loads(line)["round"] for line in log.read_text().splitlines() if line.endswith("}")]
    assert rounds == [0, 1, 2, 3]


def test_a_log_of_other_settings_or_no_log_at_all_is_refused(tmp_path):
    model = NodeCountModel()
    log = tmp_path / "search.jsonl"
    run_cg_search(model, start_net(), SHAPE, np.random.default_rng(0), iterations=1, top_k=2, children=1, log=log)
    with pytest.raises(InvalidOption, match="other settings: top_k=2"):
        run_cg_search(model, start_net(), SHAPE, np.random.default_rng(0), iterations=2, top_k=3, children=1, log=log)
    foreign = tmp_path / "notes.jsonl"
    foreign.write_text("shopping list\nmilk\n")
    with pytest.raises(CheckpointError, match="not a cg-local search log"):
        run_cg_search(model, start_net(), SHAPE, np.random.default_rng(0), log=foreign)
