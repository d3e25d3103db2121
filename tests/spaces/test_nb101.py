"""NB-101 rules, one test per rule, plus pruning, exploration and encodings."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archpred import InvalidArchitecture
from archpred.spaces import get_space

SPACE = get_space("nb101")
C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
CHAIN3 = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]


def full(n: int, edges: list[tuple[int, int]]) -> list[list[int]]:
    m = [[0] * n for _ in range(n)]
    for u, v in edges:
        m[u][v] = 1
    return m


INVALID = {
    "cycle": (full(4, [(0, 1), (1, 2), (2, 1), (2, 3)]), ["input", C3, C3, "output"], "cycle: 1 -> 2 -> 1"),
    "backward edge": (full(3, [(0, 2), (2, 1)]), ["input", C3, "output"], "not upper-triangular"),
    "self-loop": (full(3, [(0, 1), (1, 1), (1, 2)]), ["input", C3, "output"], "self-loop at vertex 1"),
    "unknown op": (CHAIN3, ["input", "conv5x5", "output"], "unknown op 'conv5x5' at vertex 1"),
    "too many vertices": (
        full(8, [(i, i + 1) for i in range(7)]),
        ["input", *[C3] * 6, "output"],
        "too many vertices: 8 > 7",
    ),
    "too many edges": (
        full(7, [(0, j) for j in range(1, 7)] + [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (1, 6)]),
        ["input", *[C3] * 5, "output"],
        "too many edges: 12 > 9",
    ),
    "size mismatch": (CHAIN3, ["input", "output"], "size mismatch: adjacency is 3x3 but 2 ops"),
    "not square": ([[0, 1, 0], [0, 0], [0, 0, 0]], ["input", C3, "output"], "not square"),
    "entry not 0/1": ([[0, 2, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"], "adjacency[0][1] = 2"),
    "first not input": (CHAIN3, [C3, C3, "output"], "vertex 0 must be 'input'"),
    "last not output": (CHAIN3, ["input", C3, C3], "last vertex must be 'output'"),
    "disconnected": (full(3, [(0, 1)]), ["input", C3, "output"], "input is not connected to output"),
    "ops not strings": (CHAIN3, ["input", 3, "output"], "ops must be a list of operation names"),
    "output inside the cell": (CHAIN3, ["input", "output", "output"], "vertex 1 is 'output' inside the cell"),
    "input inside the cell": (
        full(4, [(0, 1), (1, 3), (0, 2), (2, 3)]),
        ["input", C3, "input", "output"],
        "vertex 2 is 'input' inside the cell",
    ),
    "adjacency not a matrix": ("0,1,0", ["input", C3, "output"], "adjacency must be a square matrix"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_each_rule_has_its_message(case):
    adjacency, ops, message = INVALID[case]
    with pytest.raises(InvalidArchitecture, match=re.escape(message)):
        SPACE.cell(adjacency, ops)


def test_a_pruned_vertex_may_carry_any_known_name_as_in_nb101():
    """NB-101's ModelSpec prunes first and checks the ops left: a dangling vertex's name does not
    matter there (decoders produce such vertices); an unknown name is still an error."""
    adjacency = full(4, [(0, 1), (1, 3), (0, 2)])  # vertex 2 leads nowhere
    for name in ("output", "input", C3):
        cell = SPACE.cell(adjacency, ["input", C3, name, "output"])
        assert cell.ops == ("input", C3, "output") and cell.num_vertices == 3
    with pytest.raises(InvalidArchitecture, match="unknown op 'conv5x5' at vertex 2"):
        SPACE.cell(adjacency, ["input", C3, "conv5x5", "output"])


def test_invalid_architecture_is_a_value_error():
    assert issubclass(InvalidArchitecture, ValueError)


def test_dangling_vertex_is_pruned_or_rejected():
    matrix = full(4, [(0, 1), (1, 3), (0, 2)])  # vertex 2 never reaches the output
    cell = SPACE.cell(matrix, ["input", C3, MP, "output"])
    assert cell.ops == ("input", C3, "output") and cell.pruned == (2,)
    with pytest.raises(InvalidArchitecture, match="vertex 2 is not on an input->output path"):
        SPACE.cell(matrix, ["input", C3, MP, "output"], prune=False)


def test_edges_counted_after_pruning_as_nb101_does():
    # 10 edges, but two belong to a vertex on no path: 8 remain, so the cell is valid.
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 6), (0, 6), (0, 5), (1, 5), (2, 6), (1, 6)]
    cell = SPACE.cell(full(7, edges), ["input", *[C3] * 5, "output"])
    assert cell.num_edges == 8


def test_parse_json_and_malformed_json():
    cell = SPACE.parse('{"adjacency": [[0,1],[0,0]], "ops": ["input", "output"]}')
    assert cell.num_vertices == 2
    with pytest.raises(InvalidArchitecture, match="malformed JSON"):
        SPACE.parse('{"adjacency": [[0,1]')
    with pytest.raises(InvalidArchitecture, match="unexpected field"):
        SPACE.parse('{"adjacency": [[0,1],[0,0]], "ops": ["input", "output"], "colour": 1}')


def test_aliases_and_immutability():
    cell = SPACE.cell(CHAIN3, ["input", "conv3x3", "output"])
    assert cell.ops[1] == C3
    with pytest.raises(AttributeError):
        cell.ops_ = ()
    assert hash(cell) == hash(SPACE.cell(CHAIN3, ["input", C3, "output"]))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_sample_and_mutate_always_valid(seed):
    rng = np.random.default_rng(seed)
    cell = SPACE.sample(rng)
    assert SPACE.is_valid(cell.adjacency, cell.ops)
    child = SPACE.mutate(cell, rng)
    assert SPACE.is_valid(child.adjacency, child.ops)
    assert SPACE.hash(child) != SPACE.hash(cell)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_hash_invariant_under_topological_relabelling(seed):
    """Permute the interior vertices; when the result is still upper-triangular it is a valid
    cell of the same graph, so it must hash equal."""
    rng = np.random.default_rng(seed)
    cell = SPACE.sample(rng)
    n = cell.num_vertices
    for _ in range(20):
        perm = np.concatenate([[0], 1 + rng.permutation(n - 2), [n - 1]])
        matrix = cell.matrix[np.ix_(perm, perm)]
        if np.all(np.tril(matrix) == 0):
            other = SPACE.cell(matrix, [cell.ops[p] for p in perm])
            assert SPACE.hash(other) == SPACE.hash(cell)


def test_sampling_is_reproducible():
    a = [SPACE.sample(np.random.default_rng(7)) for _ in range(2)]
    assert a[0] == a[1]


def test_neighbours_are_valid_distinct_and_one_edit_away(rng):
    cell = SPACE.sample(rng)
    found = SPACE.neighbours(cell)
    hashes = {SPACE.hash(c) for c in found}
    assert len(hashes) == len(found) > 0 and SPACE.hash(cell) not in hashes


@pytest.mark.parametrize("kind,size", [("onehot", 21 + 5 * 3), ("path", 1 + 3 + 9 + 27 + 81 + 243)])
def test_vector_encodings(rng, kind, size):
    x = SPACE.encode(SPACE.sample(rng), kind)
    assert x.shape == (size,) and set(np.unique(x)) <= {0.0, 1.0}


def test_path_encoding_counts_paths():
    # input -> conv3x3 -> output and input -> output: the empty path and the path (conv3x3,)
    cell = SPACE.cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    x = SPACE.encode(cell, "path")
    assert x[0] == 1 and x[1] == 1 and x.sum() == 2


def test_graph_encoding():
    cell = SPACE.cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", MP, "output"])
    data = SPACE.encode(cell, "graph")
    assert data.x.shape == (3, 5) and data.edge_index.tolist() == [[0, 0, 1], [1, 2, 2]]
    assert data.node_type.tolist() == [0, 3, 4]


def test_padded_keeps_output_last():
    cell = SPACE.cell(CHAIN3, ["input", C1, "output"])
    adj, types = SPACE.padded(cell)
    assert adj.shape == (7, 7) and adj[1, 6] == 1 and types.tolist() == [0, 2, -1, -1, -1, -1, 4]


@pytest.mark.slow
def test_enumerate_all_423624_cells():
    import gzip
    import json

    from tests.conftest import shared_file

    cells = SPACE.enumerate(progress=False)
    assert len(cells) == 423_624
    counts = np.bincount([c.num_vertices for c in cells])
    assert counts[:6].sum() == 2_532 and counts[:7].sum() == 64_542
    from archpred.spaces.nb101_enumerate import load_or_enumerate

    hashes = set(load_or_enumerate(progress=False)[2].tolist())
    hashed = SPACE.enumerate_hashed(progress=False)
    for i in np.random.default_rng(0).choice(len(hashed), 500, replace=False):
        assert SPACE.hash(hashed[i][0]) == hashed[i][1]
    with gzip.open(shared_file("nb101", "nb101_20k.json.gz"), "rt") as f:
        assert all(r["hash"] in hashes for r in json.load(f))
