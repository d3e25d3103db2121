"""The official NAS-Bench-101 hash: every hash in the shared data is ground truth."""

import gzip
import json

import numpy as np
import pytest

from archpred.spaces import get_space
from archpred.spaces.hashing import graph_hash
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def vis_1k():
    with open(shared_file("nb101", "nasbench_vis_data-1k.json")) as f:
        return json.load(f)


def test_official_hash_on_all_1000_cells(vis_1k):
    space = get_space("nb101")
    for adjacency, codes, key in zip(vis_1k["adjacency"], vis_1k["operations"], vis_1k["key"]):
        assert space.hash(space.from_codes(adjacency, codes)) == key


def test_official_hash_on_all_20001_records():
    with gzip.open(shared_file("nb101", "nb101_20k.json.gz"), "rt") as f:
        records = json.load(f)
    space = get_space("nb101")
    wrong = [r["hash"] for r in records if space.hash(space.cell(r["adjacency"], r["ops"])) != r["hash"]]
    assert wrong == []


@pytest.mark.parametrize("seed", range(5))
def test_hash_invariant_under_any_vertex_permutation(vis_1k, seed):
    """graph_hash is a function of the labelled graph, whatever the vertex numbering."""
    rng = np.random.default_rng(seed)
    space = get_space("nb101")
    for i in rng.choice(len(vis_1k["key"]), 50, replace=False):
        cell = space.from_codes(vis_1k["adjacency"][i], vis_1k["operations"][i])
        perm = rng.permutation(cell.num_vertices)
        matrix = cell.matrix[np.ix_(perm, perm)]
        labels = [space.labels(cell)[p] for p in perm]
        assert graph_hash(matrix.tolist(), labels) == vis_1k["key"][i]


def test_isomorphic_upper_triangular_cells_hash_equal():
    """Two numberings of the same cell (vertices 1 and 2 swapped) are both valid and hash equal."""
    space = get_space("nb101")
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    a = space.cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ops)
    b = space.cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [ops[0], ops[2], ops[1], ops[3]])
    assert a != b and space.hash(a) == space.hash(b)


def test_different_cells_hash_differently():
    space = get_space("nb101")
    a = space.cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    b = space.cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv1x1-bn-relu", "output"])
    assert space.hash(a) != space.hash(b)
