"""The ask/tell contract of every searcher, on both table spaces, with tiny budgets."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archpred.errors import ArchpredError, InvalidOption
from archpred.search import SEARCHERS, Evaluation, make_searcher, searcher_options
from archpred.spaces import get_space

from .conftest import small_options, table_oracle


def drive(searcher, oracle, steps: int, batch: int = 1) -> list[Evaluation]:
    """Ask ``batch`` cells at a time, tell their results (in reverse order, to be unkind)."""
    out = []
    while len(out) < steps:
        archs = searcher.ask(batch)
        for arch in reversed(archs):
            ev = oracle.query(arch)
            searcher.tell(ev)
            out.append(ev)
    return out


def new(algorithm: str, space: str, seed: int = 1):
    oracle = table_oracle(space, seed)
    searcher = make_searcher(
        algorithm,
        oracle.space,
        np.random.default_rng(seed),
        candidates=oracle.candidates(),
        **small_options(algorithm, space),
    )
    return searcher, oracle


@pytest.mark.parametrize("batch", [1, 4])
def test_no_cell_twice_and_n_asked_is_n(algorithm, space_name, batch):
    searcher, oracle = new(algorithm, space_name)
    history = drive(searcher, oracle, 24, batch)
    keys = [e.key for e in history]
    assert len(history) == 24 and len(set(keys)) == 24
    assert all(oracle.contains(e.arch) for e in history)  # NB-101: only table cells
    assert searcher.n_told == 24 and searcher.pending == []


def test_no_cell_twice_where_repeats_are_likely(algorithm, space_name):
    """A 40-cell pool used up to 35 queries (random draws collide), and evolution's mutants on
    the whole NB-201 space (tournament winners are mutated again and again)."""
    from archpred.search.base import Candidates

    oracle = table_oracle(space_name)
    space = oracle.space
    pool = oracle.candidates() or Candidates.from_table(*zip(*((a, space.key(a)) for a in space.enumerate())))
    pool = Candidates.from_table(list(pool.archs)[:40], list(pool.keys)[:40])
    searcher = make_searcher(
        algorithm, space, np.random.default_rng(0), candidates=pool, **small_options(algorithm, space_name)
    )
    keys = [space.key(a) for a in searcher.ask(35)]
    assert len(set(keys)) == 35 and set(keys) <= set(pool.keys)
    if space_name == "nb201":
        searcher, oracle = new(algorithm, "nb201")
        assert len({e.key for e in drive(searcher, oracle, 80)}) == 80


def test_same_seed_same_proposals(algorithm, space_name):
    runs = [[e.key for e in drive(*new(algorithm, space_name, seed=5), 20)] for _ in range(2)]
    assert runs[0] == runs[1]
    other = [e.key for e in drive(*new(algorithm, space_name, seed=6), 20)]
    assert other != runs[0]


def test_state_dict_round_trip_through_json(algorithm, space_name):
    """A searcher rebuilt from its JSON state (mid-run, with asks pending) continues identically."""
    a, oracle_a = new(algorithm, space_name)
    drive(a, oracle_a, 13)
    pending = a.ask(2)
    state = json.loads(json.dumps(a.state_dict()))
    oracle_state = json.loads(json.dumps(oracle_a.state_dict()))

    b, oracle_b = new(algorithm, space_name, seed=99)  # different generators: state must win
    b.load_state_dict(state)
    oracle_b.load_state_dict(oracle_state)
    assert [x.to_dict() for x in b.pending] == [x.to_dict() for x in pending]
    for searcher, oracle in ((a, oracle_a), (b, oracle_b)):
        for arch in pending:
            searcher.tell(oracle.query(arch))
    assert [e.key for e in drive(a, oracle_a, 12)] == [e.key for e in drive(b, oracle_b, 12)]


def test_evolution_ages_its_population():
    searcher, oracle = new("evolution", "nb201")
    history = drive(searcher, oracle, 30)
    population = searcher.state_dict()["population"]
    assert [m["key"] for m in population] == [e.key for e in history[-6:]]  # the newest 6 remain


def test_evolution_phases():
    searcher, oracle = new("evolution", "nb201")
    seen = {}
    for _ in range(20):
        [arch] = searcher.ask()
        info = searcher.info(arch)
        ev = oracle.query(arch)
        if info["phase"] == "mutation":
            assert info["parent"] in seen  # the parent was evaluated
            parent = get_space("nb201").parse(seen[info["parent"]])
            assert arch in get_space("nb201").neighbours(parent)  # NB-201 mutation: one edge
        seen[ev.key] = arch.to_dict()
        searcher.tell(ev)
    assert searcher.state_dict()["init_asked"] == 6


def test_local_search_evaluates_the_whole_neighbourhood_before_moving():
    space = get_space("nb201")
    searcher, oracle = new("local", "nb201")
    [start] = searcher.ask()
    assert searcher.info(start) == {"phase": "init"}
    here = oracle.query(start)
    searcher.tell(here)
    scan = drive(searcher, oracle, 24)
    assert {e.key for e in scan} == {space.key(n) for n in space.neighbours(start)}
    assert all(e.extra == {} for e in scan)
    [nxt] = searcher.ask()
    best = max(scan, key=lambda e: e.val_acc)
    if best.val_acc > here.val_acc:  # moves to the best neighbour and scans its neighbourhood
        assert searcher.info(nxt) == {"phase": "neighbour", "parent": best.key}
        assert nxt in space.neighbours(best.arch)
    else:  # a local optimum: a new random start
        assert searcher.info(nxt) == {"phase": "restart"}


def test_local_search_restarts_at_a_local_optimum():
    searcher, oracle = new("local", "nb201", seed=2)
    phases = []
    for _ in range(120):
        [arch] = searcher.ask()
        phases.append(searcher.info(arch)["phase"])
        searcher.tell(oracle.query(arch))
    assert phases[0] == "init" and "restart" in phases and set(phases) == {"init", "neighbour", "restart"}


def test_unknown_names_and_bad_options_are_one_line_errors(rng):
    space = get_space("nb201")
    cases = [
        lambda: make_searcher("annealing", space, rng),
        lambda: make_searcher("evolution", space, rng, population=10),
        lambda: make_searcher("evolution", space, rng, population_size=0),
        lambda: make_searcher("evolution", space, rng, population_size=5, sample_size=10),
        lambda: make_searcher("local", space, rng, num_neighbours=2.5),
        lambda: make_searcher("random", space, 0),
    ]
    for case in cases:
        with pytest.raises(InvalidOption) as err:
            case()
        assert isinstance(err.value, ArchpredError) and "\n" not in str(err.value)
    assert "choose from random, evolution, local" in str(pytest.raises(InvalidOption, cases[0]).value)


def test_searcher_options_lists_defaults():
    assert searcher_options("evolution") == {"population_size": 50, "sample_size": 10, "max_tries": 100}
    assert {"random", "evolution", "local"} <= set(SEARCHERS)


def test_telling_a_result_twice_is_refused():
    searcher, oracle = new("random", "nb201")
    [arch] = searcher.ask()
    ev = oracle.query(arch)
    searcher.tell(ev)
    with pytest.raises(InvalidOption, match="already told"):
        searcher.tell(ev)


def test_a_used_up_pool_is_an_error_not_a_hang(space_name):
    """Every cell of a small pool is proposed once, then asking again is an InvalidOption."""
    from archpred.search.base import Candidates

    space = table_oracle(space_name).space
    archs = list({space.key(a): a for a in (space.sample(np.random.default_rng(i)) for i in range(30))}.values())
    pool = Candidates.from_table(archs, [space.key(a) for a in archs])
    searcher = make_searcher("random", space, np.random.default_rng(0), candidates=pool)
    assert sorted(space.key(a) for a in searcher.ask(len(pool))) == sorted(pool.keys)
    with pytest.raises(InvalidOption, match="has been proposed"):
        searcher.ask()
