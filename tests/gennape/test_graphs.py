"""GraphSet: packing, exact FLOPs/params off the CG, files; families: cached shards that resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archpred.errors import CheckpointError, InvalidOption
from archpred.gennape.graphs import N_SPECTRUM, NODE_FEATURES, GraphSet
from archpred.networks import build_network, count_flops, count_params, to_computation_graph
from archpred.spaces import get_space


def _cells(space: str, n: int) -> list:
    rng = np.random.default_rng(0)
    return [get_space(space).sample(rng) for _ in range(n)]


@pytest.mark.parametrize("space", ["nb101", "nb201", "macro", "enas"])
def test_flops_and_params_read_off_the_graph_equal_the_network_counts(space: str) -> None:
    nets = [build_network(a) for a in _cells(space, 2)]
    graphs = GraphSet.from_graphs([to_computation_graph(n) for n in nets])
    assert graphs.flops.tolist() == [count_flops(n) for n in nets]
    assert graphs.params.tolist() == [count_params(n) for n in nets]


def test_grouped_and_biased_layers_are_counted_like_torch() -> None:
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.Conv2d(8, 8, 3, groups=8, bias=False),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 5),
    )
    graphs = GraphSet.from_graphs([to_computation_graph(net, (3, 16, 16))])
    assert graphs.flops[0] == count_flops(net, (3, 16, 16))
    assert graphs.params[0] == count_params(net)


@pytest.fixture(scope="module")
def small_set() -> GraphSet:
    nets = [build_network(a) for a in _cells("nb201", 4)]
    return GraphSet.from_graphs([to_computation_graph(n) for n in nets], keys=["a", "b", "c", "d"])


def test_subset_concat_and_batch_keep_every_graph(small_set: GraphSet) -> None:
    part = small_set.subset([2, 0])
    assert part.keys == ("c", "a")
    assert np.array_equal(part.spectrum[1], small_set.spectrum[0])
    both = GraphSet.concat([part, small_set.subset([3])])
    assert both.keys == ("c", "a", "d") and len(both) == 3
    batch = both.batch([0, 2])
    assert batch.num_graphs == 2 and batch.x.shape[1] == NODE_FEATURES
    g = small_set.graph(3)
    assert batch.x[batch.batch == 1].shape == g.x.shape and torch.equal(batch.x[batch.batch == 1], g.x)
    assert small_set.spectrum.shape == (4, N_SPECTRUM)


def test_file_round_trip_and_bad_files(small_set: GraphSet, tmp_path) -> None:
    path = small_set.save(tmp_path / "g.npz")
    back = GraphSet.load(path)
    assert back.keys == small_set.keys
    for name in ("op_type", "numeric", "edges", "node_ptr", "edge_ptr", "flops", "params", "spectrum"):
        assert np.array_equal(getattr(back, name), getattr(small_set, name))
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an npz")
    with pytest.raises(CheckpointError, match="not a readable graph file"):
        GraphSet.load(junk)
    with pytest.raises(CheckpointError, match="no such graph file"):
        GraphSet.load(tmp_path / "missing.npz")


def test_family_shards_are_cached_and_a_missing_one_is_rebuilt(tmp_path, monkeypatch) -> None:
    from archpred.gennape import families

    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path))
    calls = []
    real = families.build_graph
    monkeypatch.setattr(families, "build_graph", lambda a, s: calls.append(1) or real(a, s))
    fam = families.load_family("nb201", limit=5, shard_size=3)
    assert len(fam) == 5 and len(calls) == 6  # two whole shards of 3
    assert fam.graphs.keys == tuple(families.load_family("nb201", limit=5, shard_size=3).graphs.keys)
    assert len(calls) == 6  # the second load built nothing
    (families.family_dir("nb201") / "shard_0001.npz").unlink()
    again = families.load_family("nb201", limit=5, shard_size=3)
    assert len(calls) == 9 and np.array_equal(again.graphs.numeric, fam.graphs.numeric)
    assert fam.accuracy.min() > 0 and fam.accuracy.max() <= 1


def test_family_built_by_worker_processes_equals_the_serial_build(tmp_path, monkeypatch) -> None:
    from archpred.gennape import families

    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path / "pool"))
    seen = []
    pooled = families.load_family("nb201", limit=5, shard_size=2, workers=2, progress=lambda d, n: seen.append(d))
    assert sorted(seen)[-1] >= 5 and len(list(families.family_dir("nb201").glob("shard_*.npz"))) == 3
    monkeypatch.setenv("ARCHPRED_CACHE_DIR", str(tmp_path / "serial"))
    serial = families.load_family("nb201", limit=5, shard_size=2)
    assert pooled.graphs.keys == serial.graphs.keys
    assert np.array_equal(pooled.graphs.numeric, serial.graphs.numeric)
    assert np.array_equal(pooled.accuracy, serial.accuracy)
    with pytest.raises(InvalidOption, match="workers"):
        families.load_family("nb201", limit=5, workers=0)
