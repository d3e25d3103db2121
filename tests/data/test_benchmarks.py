"""Benchmark loaders on the real shared data."""

import numpy as np
import pytest

from archpred import DataNotFound, load_benchmark
from archpred.spaces import get_space
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def nb101():
    shared_file("nb101", "nb101_20k.json.gz")
    return load_benchmark("nb101")


def test_nb101_table(nb101):
    assert len(nb101) == 20_001 and nb101.target == "val_acc_108"
    assert nb101.accuracy.max() == pytest.approx(0.9491, abs=1e-4)
    assert 0.90 < nb101.accuracy.mean() < 0.92
    assert set(nb101.metric_names) >= {"val_acc_4", "val_acc_36", "train_time_108", "params"}


def test_nb101_lookup_by_arch_and_hash(nb101):
    space = get_space("nb101")
    i = 1234
    assert nb101.index(nb101.archs[i]) == i == nb101.index(nb101.keys[i])
    assert space.hash(nb101.archs[i]) == nb101.keys[i]
    assert nb101.lookup(nb101.archs[i])["val_acc_108"] == nb101.accuracy[i]
    assert nb101.lookup("0" * 32) is None


def test_subset_and_target(nb101):
    sub = nb101.subset([3, 1])
    assert len(sub) == 2 and sub.keys == [nb101.keys[3], nb101.keys[1]]
    assert np.array_equal(nb101.with_target("val_acc_36").accuracy, nb101["val_acc_36"])
    with pytest.raises(KeyError, match="unknown metric"):
        nb101["test_acc"]


def test_nb101_tfrecord_official_format():
    bench = load_benchmark("nb101", path=shared_file("nb101", "ecnas_energy_4V9E.tfrecord"))
    assert len(bench) == 91 and bench.target == "val_acc_108"
    assert "test_acc_108" in bench.metrics and np.all((bench.accuracy > 0) & (bench.accuracy <= 1))
    space = get_space("nb101")
    assert all(space.hash(a) == k for a, k in zip(bench.archs, bench.keys))


def test_foreign_tfrecord_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.tfrecord"
    bad.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00hello\x00\x00\x00\x00")
    with pytest.raises(Exception, match="not a NAS-Bench-101 tfrecord"):
        load_benchmark("nb101", path=bad)


@pytest.mark.parametrize("dataset,best", [("cifar10", 0.916), ("cifar100", 0.73), ("imagenet16-120", 0.467)])
def test_nb201_all_datasets(dataset, best):
    bench = load_benchmark("nb201", dataset=dataset)
    assert len(bench) == 15_625 and bench.target == "val_acc"
    assert bench.accuracy.max() == pytest.approx(best, abs=0.01)
    assert set(np.unique(bench["n_seeds"])) <= {2.0, 3.0}


def test_nb201_joins_cifar10_test_accuracy():
    shared_file("nb201", "nasbench_vis_nas-201-arch.json")
    bench = load_benchmark("nb201")
    test = bench["test_acc_cifar10"]
    assert np.isfinite(test).all() and test.max() == pytest.approx(0.943733, abs=1e-5)
    assert sorted(bench["index"].astype(int)) == list(range(15_625))


def test_enas_table():
    shared_file("enas", "dvae_final_structures6.txt")
    bench = load_benchmark("enas")
    assert len(bench) == 20_015 and 0.70 < bench.accuracy.mean() < 0.75


def test_missing_data_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHPRED_DATA_DIR", str(tmp_path))
    with pytest.raises(DataNotFound, match=str(tmp_path / "nb101" / "nb101_20k.json.gz")):
        load_benchmark("nb101")
    with pytest.raises(DataNotFound, match="ARCHPRED_DATA_DIR"):
        load_benchmark("enas")


def test_nb201_works_without_shared_data(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHPRED_DATA_DIR", str(tmp_path))
    bench = load_benchmark("nb201")
    assert len(bench) == 15_625 and "test_acc_cifar10" not in bench.metrics


def test_unknown_benchmark_and_dataset():
    with pytest.raises(ValueError, match="unknown benchmark"):
        load_benchmark("nb301")
    with pytest.raises(ValueError, match="unknown NAS-Bench-201 dataset"):
        load_benchmark("nb201", dataset="mnist")


def test_nb201_params_equal_the_network_for_every_cell():
    from archpred.networks import expected_params

    bench = load_benchmark("nb201")
    counted = np.array([expected_params(a) for a in bench.archs])
    assert np.array_equal(np.round(bench["params"] * 1e6), counted)


def test_random_split_is_seeded_disjoint_and_capped():
    from archpred.data import load_benchmark

    bench = load_benchmark("nb201")
    train, test = bench.random_split(100, 50, seed=3)
    assert len(train) == 100 and len(test) == 50 and not set(train) & set(test)
    again = bench.random_split(100, 50, seed=3)
    assert (again[0] == train).all() and (again[1] == test).all()
    _, rest = bench.random_split(len(bench) - 10, 1000, seed=3)
    assert len(rest) == 10  # the test part never reaches past the table
