"""NB-201 and ENAS spaces: construction, rules, identity, exploration, encodings."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archpred import InvalidArchitecture
from archpred.spaces import get_space

NB201 = get_space("nb201")
ENAS = get_space("enas")
STRING = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
LAYERS = [[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]]


def test_nb201_string_round_trip():
    cell = NB201.cell(STRING)
    assert cell.arch_string == STRING and NB201.parse(cell.to_json()) == cell
    assert cell.index_key == "334131"
    assert NB201.cell(ops=list(cell.edge_ops)) == cell


def test_nb201_node_form():
    cell = NB201.cell(STRING)
    assert cell.num_vertices == 8 and cell.ops[0] == "input" and cell.ops[-1] == "output"
    assert NB201.cell(adjacency=cell.adjacency, ops=cell.ops) == cell
    # edge (0->1) feeds edges (1->2) and (1->3): vertex 1 -> vertices 3 and 5
    assert cell.adjacency[1][3] == 1 and cell.adjacency[1][5] == 1 and sum(cell.adjacency[1]) == 2


@pytest.mark.parametrize(
    "bad,message",
    [
        (
            "|conv~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
            "unknown op 'conv'",
        ),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|", "malformed nb201 arch string"),
        (42, "must be text"),
    ],
)
def test_nb201_invalid(bad, message):
    with pytest.raises(InvalidArchitecture, match=message):
        NB201.cell(bad)


def test_nb201_wrong_edge_count_and_structure():
    with pytest.raises(InvalidArchitecture, match="6 edges"):
        NB201.cell(ops=["none"] * 5)
    cell = NB201.cell(STRING)
    adj = [list(r) for r in cell.adjacency]
    adj[0][7] = 1
    with pytest.raises(InvalidArchitecture, match="fixed 8-vertex structure"):
        NB201.cell(adjacency=adj, ops=cell.ops)


def test_nb201_hash_identifies_isomorphs():
    # with edge 1->2 'none', nodes 1 and 2 are interchangeable: swapping their edges gives an isomorph
    a = NB201.cell(ops=["nor_conv_3x3", "avg_pool_3x3", "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3"])
    b = NB201.cell(ops=["avg_pool_3x3", "nor_conv_3x3", "none", "skip_connect", "nor_conv_3x3", "nor_conv_1x1"])
    assert a != b and NB201.hash(a) == NB201.hash(b) and NB201.key(a) != NB201.key(b)
    assert NB201.hash(a) != NB201.hash(NB201.cell(STRING))


def test_nb201_enumerate_and_neighbours(rng):
    cells = NB201.enumerate()
    assert len(cells) == 15_625 == len(set(cells))
    nb = NB201.neighbours(NB201.sample(rng))
    assert len(nb) == 24 and len(set(nb)) == 24


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_nb201_and_enas_mutation_valid_and_different(seed):
    rng = np.random.default_rng(seed)
    for space in (NB201, ENAS):
        arch = space.sample(rng)
        child = space.mutate(arch, rng)
        assert child != arch and space.is_valid(adjacency=child.adjacency, ops=child.ops)


def test_enas_parse_and_graph():
    arch = ENAS.cell(LAYERS)
    assert ENAS.parse(str(LAYERS)) == arch == ENAS.parse(arch.to_json())
    adj = np.array(arch.adjacency)
    assert adj.shape == (8, 8) and all(adj[i, i + 1] for i in range(7))
    # D-VAE convention: skip bit j of layer i is an edge from vertex j to vertex i+1
    assert adj[0, 4] == adj[1, 4] == adj[2, 4] == 1 and adj[0, 3] == adj[1, 3] == 0 and adj[:, 7].sum() == 1
    assert ENAS.cell(adjacency=arch.adjacency, ops=arch.ops) == arch


@pytest.mark.parametrize(
    "layers,message",
    [
        (LAYERS[:5], "6 layers"),
        ([[1], [4], *LAYERS[2:]], r"layer 1 must be \[op, 1 skip bits\]"),
        ([[9], *LAYERS[1:]], "unknown op 9 in layer 0"),
        ([[1], [4, 2], *LAYERS[2:]], "skip bits of layer 1"),
    ],
)
def test_enas_invalid(layers, message):
    with pytest.raises(InvalidArchitecture, match=message):
        ENAS.cell(layers)


def test_enas_enumerate_refuses():
    with pytest.raises(NotImplementedError, match="too large"):
        ENAS.enumerate()


@pytest.mark.parametrize("space", [NB201, ENAS])
@pytest.mark.parametrize("kind", ["onehot", "path", "graph"])
def test_encodings_have_fixed_size(space, kind, rng):
    a, b = space.sample(rng), space.sample(rng)
    ea, eb = space.encode(a, kind), space.encode(b, kind)
    if kind == "graph":
        assert ea.x.shape == (8, len(space.node_types)) and ea.edge_index.shape[0] == 2
    else:
        assert ea.shape == eb.shape and ea.ndim == 1


def test_unknown_space_and_encoding():
    with pytest.raises(ValueError, match="unknown search space"):
        get_space("nb999")
    with pytest.raises(ValueError, match="unknown encoding"):
        NB201.encode(NB201.cell(STRING), "fourier")
