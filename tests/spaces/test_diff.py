"""cell_diff: per-edge op differences of NB-201 cells, fewest-edit pairings of NB-101 cells
(isomorphic cells differ in nothing; cells of different sizes), and hand-checked counts."""

import numpy as np
import pytest

from archpred import InvalidArchitecture
from archpred.spaces import get_space
from archpred.spaces.diff import cell_diff

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
NB101 = get_space("nb101")
NB201 = get_space("nb201")
BASE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def nb101(edges: list[tuple[int, int]], ops: list[str]):
    n = len(ops) + 2
    m = [[0] * n for _ in range(n)]
    for u, v in edges:
        m[u][v] = 1
    return NB101.cell(adjacency=m, ops=["input", *ops, "output"])


def test_nb201_diff_is_per_edge():
    a = NB201.parse(BASE)
    b = NB201.parse(BASE.replace("|nor_conv_3x3~1|+|skip", "|avg_pool_3x3~1|+|skip"))  # edge 1->2
    d = cell_diff(a, b)
    assert d.ops_a == d.ops_b == (3,)  # vertex 1 + edge index 2
    assert d.edges_a == d.edges_b == ()
    assert d.changes == ("edge 1→2: nor_conv_3x3 → avg_pool_3x3",)
    assert d.distance == 1 and not d.identical
    assert cell_diff(a, a).identical


def test_nb201_six_changes():
    a = NB201.cell(ops=["none"] * 6)
    b = NB201.cell(ops=["skip_connect"] * 6)
    assert cell_diff(a, b).distance == 6


def test_isomorphic_nb101_cells_do_not_differ():
    a = nb101([(0, 1), (0, 2), (1, 3), (2, 3)], [C3, MP])
    b = nb101([(0, 1), (0, 2), (1, 3), (2, 3)], [MP, C3])  # the same cell, vertices swapped
    assert NB101.hash(a) == NB101.hash(b)
    assert cell_diff(a, b, align="index").distance == 2  # numbering alone says two ops differ
    d = cell_diff(a, b)
    assert d.identical and d.mapping == (0, 2, 1, 3)


def test_nb101_cells_of_different_sizes():
    a = nb101([(0, 1), (1, 2), (2, 3)], [C3, C1])  # input -> C3 -> C1 -> output
    b = nb101([(0, 1), (1, 2), (2, 3), (3, 4)], [C3, MP, C1])  # an MP vertex inserted
    d = cell_diff(a, b)
    assert d.mapping == (0, 1, 3, 4)
    assert d.ops_a == () and d.ops_b == (2,)
    assert d.edges_a == ((1, 2),) and d.edges_b == ((1, 2), (2, 3))
    assert d.distance == 4  # one vertex and two edges added, one edge removed
    assert "vertex 2 (maxpool3x3) only in B" in d.changes
    back = cell_diff(b, a)
    assert back.distance == 4 and back.ops_a == (2,) and back.mapping == (0, 1, None, 2, 3)


def test_a_mutation_differs():
    """An NB-201 or Macro mutation changes one op; an NB-101 one may prune vertices too."""
    rng = np.random.default_rng(0)
    for space, most in ((NB201, 1), (get_space("macro"), 1), (NB101, 2 * 9 + 7)):
        for _ in range(10):
            a = space.sample(rng)
            b = space.mutate(a, rng)
            assert 1 <= cell_diff(a, b).distance <= most, (a, b)


def test_different_spaces_are_refused():
    with pytest.raises(InvalidArchitecture, match="cannot compare"):
        cell_diff(NB201.parse(BASE), nb101([(0, 1), (1, 2)], [C3]))
    with pytest.raises(ValueError, match="unknown alignment"):
        cell_diff(NB201.parse(BASE), NB201.parse(BASE), align="nope")
