"""The NAS-Bench-Macro space and its benchmark table."""

from __future__ import annotations

import numpy as np
import pytest

from archpred.errors import InvalidArchitecture
from archpred.spaces import get_space
from archpred.spaces.macro import MACRO_OPS, MacroArch
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def space():
    return get_space("macro")


def test_cell_from_key_and_forms(space):
    arch = space.cell("02012100")
    assert arch == MacroArch((0, 2, 0, 1, 2, 1, 0, 0))
    assert space.key(arch) == "02012100"
    assert space.cell([0, 2, 0, 1, 2, 1, 0, 0]) == arch
    assert space.cell(layers=["identity", "ir_5x5_t6", "id", "ir_3x3_t3", "ir_5x5_t6", "ir_3x3_t3", 0, 0]) == arch
    assert space.cell(adjacency=arch.adjacency, ops=arch.ops) == arch
    assert space.parse("02012100") == arch
    assert space.parse('"02012100"') == arch
    assert space.parse('{"arch": "02012100"}') == arch
    assert space.parse(arch.to_json()) == arch
    assert arch.ops[0] == "input" and arch.ops[-1] == "output" and arch.num_vertices == 10
    assert arch.matrix.sum() == 9  # a chain


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("0201210", "a macro key has 8 digits, got 7: '0201210'"),
        ("02012103", "macro key digit 7 is '3'; each digit must be 0, 1 or 2"),
        ("0201210x", "macro key digit 7 is 'x'; each digit must be 0, 1 or 2"),
        ([0, 1], "a macro network has 8 layers, got 2"),
        ([0, 1, 2, 0, 1, 2, 0, "conv"], "unknown op 'conv' in layer 7; choose from identity, ir_3x3_t3, ir_5x5_t6"),
        ([0, 1, 2, 0, 1, 2, 0, 5], "layer 7 choice 5 must be 0, 1 or 2 (or an op name)"),
        ([0, 1, 2, 0, 1, 2, 0, True], "layer 7 choice True must be 0, 1 or 2 (or an op name)"),
    ],
)
def test_invalid(space, spec, message):
    with pytest.raises(InvalidArchitecture) as err:
        space.cell(spec)
    assert str(err.value) == message


def test_invalid_graph_and_fields(space):
    arch = space.cell("00000000")
    adj = [list(r) for r in arch.adjacency]
    adj[0][2] = 1
    with pytest.raises(InvalidArchitecture, match="not the 10-vertex chain"):
        space.cell(adjacency=adj, ops=arch.ops)
    with pytest.raises(InvalidArchitecture, match="unexpected field"):
        space.cell("00000000", bogus=1)
    with pytest.raises(InvalidArchitecture, match="needs an 8-digit key"):
        space.cell()


def test_exploration(space):
    rng = np.random.default_rng(0)
    arch = space.sample(rng)
    assert isinstance(arch, MacroArch)
    child = space.mutate(arch, rng)
    assert child != arch and sum(a != b for a, b in zip(arch.choices, child.choices)) == 1
    nbrs = space.neighbours(arch)
    assert len(nbrs) == 16 and len(set(nbrs)) == 16 and arch not in nbrs
    every = space.enumerate()
    assert len(every) == 3**8 == space.size and len(set(every)) == 3**8
    assert space.key(every[0]) == "00000000" and space.key(every[-1]) == "22222222"
    assert len({space.hash(a) for a in every[:500]}) == 500


def test_encodings(space):
    arch = space.cell("02012100")
    assert space.encode(arch, "onehot").shape == (45 + 8 * len(MACRO_OPS),)
    data = space.encode(arch, "graph")
    assert data.num_nodes == 10 and data.edge_index.shape == (2, 9)
    assert space.encode(arch, "path").sum() == 1


def test_load_macro():
    from archpred.data import load_benchmark

    shared_file("macro", "nas-bench-macro_cifar10.json")
    bench = load_benchmark("macro")
    assert len(bench) == 6561 and bench.target == "test_acc"
    rec = bench.lookup("02012100")
    assert rec["params"] == 890666 and rec["flops"] == 47327744
    assert rec["test_acc"] == pytest.approx(0.8919666, abs=1e-6)
    assert set(bench.metric_names) == {"test_acc", "std", "params", "flops"}
    assert bench.accuracy.min() > 0 and bench.accuracy.max() < 1
    assert bench.index(get_space("macro").cell("22222222")) is not None


def test_load_macro_errors(tmp_path):
    from archpred.data.macro import load_macro
    from archpred.errors import DataNotFound, InvalidData

    with pytest.raises(DataNotFound, match="not found"):
        load_macro(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidData, match="not a NAS-Bench-Macro JSON table"):
        load_macro(bad)
    bad.write_text('{"0000000": {"mean_acc": 1}}')
    with pytest.raises(InvalidData, match="not a NAS-Bench-Macro table"):
        load_macro(bad)
    with pytest.raises(InvalidData, match="IsADirectoryError"):
        load_macro(tmp_path)
