"""Oracles: the benchmark tables (what a query returns, the optimum the issue quotes), real
training on digits, a shipped predictor, and bad options as one line."""

from __future__ import annotations

import re

import numpy as np
import pytest

from archpred.data.loaders import nb201_table
from archpred.errors import InvalidArchitecture, InvalidOption
from archpred.paths import PROJECT_ROOT, data_dir
from archpred.predictors.store import SHIPPED_DIR
from archpred.search.oracles import TableOracle
from archpred.spaces import get_space

NB201 = get_space("nb201")
BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def has_nb201_test_file() -> bool:
    return (data_dir() / "nb201" / "nasbench_vis_nas-201-arch.json").is_file()


@pytest.mark.skipif(not has_nb201_test_file(), reason="needs the shared nb201/nasbench_vis_nas-201-arch.json")
def test_nb201_cifar10_optimum_is_94_37_test():
    """The best cell by mean validation accuracy has test accuracy 94.37 %, the issue's oracle."""
    best = TableOracle("nb201", "cifar10").optimum()
    assert best["key"] == BEST_C10
    assert round(100 * best["test_acc"], 2) == 94.37
    assert round(100 * best["mean_val_acc"], 2) == 91.61


@pytest.mark.parametrize("dataset", ["cifar100", "imagenet16-120"])
def test_nb201_other_datasets_have_no_test_accuracy(dataset):
    oracle = TableOracle("nb201", dataset, np.random.default_rng(0))
    ev = oracle.query(NB201.parse(BEST_C10))
    assert ev.test_acc is None and 0 < ev.val_acc < 1
    assert oracle.optimum()["test_acc"] is None


def test_a_query_returns_one_seed_drawn_with_the_rng():
    arch = NB201.parse(BEST_C10)
    raw = nb201_table("cifar10")[arch.index_key]
    seeds = {v / 100 for v in raw["val_acc"]}
    oracle = TableOracle("nb201", "cifar10", np.random.default_rng(0))
    seen = [oracle.query(arch) for _ in range(30)]
    assert {e.val_acc for e in seen} == seeds  # 3 seeds, each drawn at some point
    assert all(e.mean_val_acc == pytest.approx(np.mean(raw["val_acc"]) / 100) for e in seen)
    assert seen[0].cost == pytest.approx(raw["train_time"][0]) and seen[0].key == BEST_C10
    again = TableOracle("nb201", "cifar10", np.random.default_rng(0))
    assert [again.query(arch).val_acc for _ in range(30)] == [e.val_acc for e in seen]


def test_nb201_every_cell_is_queryable():
    oracle = TableOracle("nb201", "cifar10")
    assert oracle.candidates() is None and len(oracle) == 15_625
    assert oracle.contains(NB201.sample(np.random.default_rng(3)))


def test_nb101_only_table_cells(nb101_data):
    oracle = TableOracle("nb101", "cifar10", np.random.default_rng(0))
    pool = oracle.candidates()
    assert pool is not None and len(pool) == len(oracle) in (300, 20_001)
    ev = oracle.query(pool.archs[0])
    assert ev.key == pool.keys[0] and ev.test_acc is None and ev.val_acc == ev.mean_val_acc
    space = get_space("nb101")
    outside = next(a for a in (space.sample(np.random.default_rng(i)) for i in range(100)) if not oracle.contains(a))
    with pytest.raises(InvalidArchitecture, match="not in the nb101 table"):
        oracle.query(outside)
    assert round(100 * oracle.optimum()["mean_val_acc"], 2) == 94.91  # the fixture keeps the best cell


@pytest.mark.parametrize(("bench", "dataset"), [("nb201", "svhn"), ("nb101", "cifar100"), ("enas", "cifar10")])
def test_bad_benchmark_or_dataset_is_one_line(bench, dataset):
    with pytest.raises(InvalidOption, match="choose from"):
        TableOracle(bench, dataset)


# -- the train oracle: real training on digits, tiny --------------------------------------------
TINY_TRAIN = {"epochs": 1, "width": 4, "depth": 1, "device": "cpu"}


@pytest.fixture
def one_torch_thread():
    """One torch thread while the test trains (what the CLI's --threads 1 does): on a shared,
    busy machine torch's default thread pool makes a one-second epoch take tens of seconds."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("one_torch_thread")
def test_train_oracle_trains_the_cell_on_digits_and_reruns_reproduce():
    """A query trains the cell's network: validation and test accuracy of the trained network,
    training seconds as cost, the seed drawn from the oracle's rng (so a rerun is the same)."""
    from archpred.search.oracles import TrainOracle

    arch = NB201.parse(BEST_C10)
    oracle = TrainOracle("nb201", "digits", np.random.default_rng(0), **TINY_TRAIN)
    assert oracle.candidates() is None and len(oracle) == 15_625 and oracle.contains(arch)
    ev = oracle.query(arch)
    seed = int(np.random.default_rng(0).integers(2**31 - 1))
    assert ev.key == BEST_C10 and ev.extra["seed"] == seed and ev.extra["epochs"] == 1
    assert ev.extra["params"] > 0 and ev.cost > 0 and ev.test_acc is not None
    assert 0.2 < ev.val_acc <= 1 and ev.mean_val_acc == ev.val_acc  # digits: chance is 0.1
    again = TrainOracle("nb201", "digits", np.random.default_rng(99), **TINY_TRAIN).query(arch, seed=seed)
    assert (again.val_acc, again.test_acc, again.extra) == (ev.val_acc, ev.test_acc, ev.extra)
    assert "digits" in oracle.label and "1 epoch" in oracle.label


# -- the predictor oracle: a shipped model -------------------------------------------------------
def test_predictor_oracle_answers_with_a_shipped_model_labelled_as_predicted():
    from archpred.predictors import load_predictor
    from archpred.search.oracles import PredictorOracle

    oracle = PredictorOracle("nb201", model="nb201-gnn", device="cpu")
    archs = [NB201.sample(np.random.default_rng(i)) for i in range(3)]
    answers = [oracle.query(a) for a in archs]
    expected = load_predictor(str(SHIPPED_DIR / "nb201-gnn.pt"), device="cpu").predict(archs)
    assert [e.val_acc for e in answers] == pytest.approx(list(expected))
    assert all(e.test_acc is None and e.cost == 0 and e.mean_val_acc == e.val_acc for e in answers)
    assert answers[0].extra == {"predicted": True, "predictor": "nb201-gnn"}
    assert "predicted" in oracle.label and len(oracle) == 15_625
    by_path = PredictorOracle("nb201", path=str(SHIPPED_DIR / "nb201-gnn.pt"), device="cpu")
    assert by_path.query(archs[0]).val_acc == answers[0].val_acc


def test_predictor_oracle_default_is_the_recommended_else_the_best_shipped_model(monkeypatch):
    import archpred.predictors
    from archpred.predictors.store import saved_models
    from archpred.search.oracles import PredictorOracle

    shipped = [m for m in saved_models("nb201") if m.shipped]
    recommended = PredictorOracle("nb201", device="cpu").path.stem
    assert recommended == f"nb201-{archpred.predictors.RECOMMENDED}"
    monkeypatch.setattr(archpred.predictors, "RECOMMENDED", "lstm")  # nothing shipped under that name
    best = max(shipped, key=lambda m: m.held_out_tau)
    assert PredictorOracle("nb201", device="cpu").path.stem == best.path.stem


# -- bad options: one line ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "space", "dataset", "options", "message"),
    [
        ("train", "nb201", None, {"epochs": 0}, "epochs must be a whole number >= 1"),
        ("train", "nb201", None, {"batch_size": 2.5}, "batch_size must be"),
        ("train", "nb201", None, {"lr": 0}, "lr must be a number > 0"),
        ("train", "nb201", None, {"dataset": "digits"}, "the training data is the run's dataset"),
        ("train", "nb201", "svhn", {}, "has no dataset 'svhn'"),
        ("train", "nb201", "npz:/no/such.npz", {}, "no dataset file"),
        ("train", "enas", None, {"depth": 2}, "depth of a enas network is fixed"),
        ("train", "nb201", None, {"device": "tpu"}, "unknown device"),
        ("predictor", "nb201", None, {"model": "nb201-oracle"}, "no saved nb201 predictor 'nb201-oracle'"),
        ("predictor", "nb201", None, {"model": "nb101-gnn"}, "choose from nb201-"),
        ("predictor", "nb201", None, {"path": str(SHIPPED_DIR / "nb101-gnn.pt")}, "predicts nb101 cells, not nb201"),
        ("predictor", "nb201", None, {"path": str(PROJECT_ROOT / "README.md")}, "not a saved archpred predictor"),
        ("predictor", "nb201", None, {"model": "nb201-gnn", "path": "x.pt"}, "not both"),
        ("predictor", "nb201", None, {"epochs": 3}, "unknown option(s) epochs for the predictor oracle"),
        ("table", "nb201", None, {"epochs": 3}, "takes no options"),
        ("gennape", "nb201", None, {}, "unknown oracle 'gennape'"),
    ],
)
def test_bad_oracle_options_are_one_line(name, space, dataset, options, message):
    from archpred.search.oracles import make_oracle

    with pytest.raises(InvalidOption, match=re.escape(message)) as err:
        make_oracle(name, space, dataset, np.random.default_rng(0), **options)
    assert "\n" not in str(err.value)
