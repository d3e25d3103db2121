"""Datasets, the training recipe (checkpoint/resume), train_many, IO features, the train-arch CLI."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import torch

from archpred.networks.datasets import load_dataset, read_cifar_batch
from archpred.networks.io_features import io_features, load_io_features
from archpred.networks.runs import read_results
from archpred.networks.train import TrainConfig, train_classifier, train_many

TINY = TrainConfig(epochs=2, batch_size=128, seed=0, device="cpu")
NET = {"width": 4}


def test_digits_dataset():
    data = load_dataset("digits", seed=0)
    assert data.shape == (1, 8, 8) and data.num_classes == 10
    assert len(data.x_train) + len(data.x_val) + len(data.x_test) == 1797
    assert len(data.x_test) == 359
    assert abs(float(data.x_train.mean())) < 1e-4
    again = load_dataset("digits", seed=0)
    assert torch.equal(data.x_val, again.x_val)


def test_npz_dataset(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(
        path,
        x_train=rng.random((40, 6, 6, 3)),
        y_train=rng.integers(0, 3, 40),
        x_test=rng.random((10, 6, 6, 3)),
        y_test=rng.integers(0, 3, 10),
    )
    data = load_dataset(f"npz:{path}", val_fraction=0.25)
    assert data.shape == (3, 6, 6) and len(data.x_train) == 30 and len(data.x_val) == 10
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="missing array"):
        load_dataset(str(tmp_path / "bad.npz"))
    np.savez(
        tmp_path / "obj.npz",
        x_train=np.array([None, 1], dtype=object),
        y_train=np.zeros(2),
        x_test=np.zeros(2),
        y_test=np.zeros(2),
    )
    with pytest.raises(ValueError, match="never unpickled"):
        load_dataset(str(tmp_path / "obj.npz"))
    with pytest.raises(FileNotFoundError):
        load_dataset("npz:/no/such.npz")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("mnist")


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def _write_batch(path, n, rng, protocol):
    batch = {
        b"batch_label": b"x",
        b"labels": rng.integers(0, 10, n).tolist(),
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
    }
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=protocol)


def test_cifar_batches_read_safely(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    _write_batch(folder / "data_batch_1", 20, rng, 2)
    _write_batch(folder / "data_batch_2", 20, rng, 5)
    _write_batch(folder / "test_batch", 10, rng, 4)
    x, y = read_cifar_batch(folder / "data_batch_1")
    assert x.shape == (20, 3, 32, 32) and x.dtype == np.uint8 and y.shape == (20,)
    data = load_dataset(f"cifar10:{tmp_path}")
    assert data.shape == (3, 32, 32) and len(data.x_train) + len(data.x_val) == 40 and len(data.x_test) == 10
    evil = tmp_path / "evil"
    with open(evil, "wb") as f:
        pickle.dump({b"data": _Evil()}, f)
    with pytest.raises(ValueError, match="refusing to load posix.system|refusing to load nt.system"):
        read_cifar_batch(evil)
    with open(evil, "wb") as f:
        pickle.dump({b"data": [1, 2], b"labels": [0, 1]}, f)
    with pytest.raises(ValueError, match="'data' must be a uint8 array"):
        read_cifar_batch(evil)


def test_train_network_resume_and_results(tmp_path):
    out = tmp_path / "r.jsonl"

    def interrupt_in_second_epoch(epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt  # after epoch 0's checkpoint, before epoch 1's

    with pytest.raises(KeyboardInterrupt):
        train_classifier(
            "00120012",
            "macro",
            TINY,
            network=NET,
            checkpoint_dir=tmp_path / "ck",
            on_epoch=interrupt_in_second_epoch,
            progress=False,
        )
    assert read_results(out) == [] and len(list((tmp_path / "ck").glob("*.pt"))) == 1
    seen = []
    result = train_classifier(
        "00120012",
        "macro",
        TINY,
        network=NET,
        checkpoint_dir=tmp_path / "ck",
        results=out,
        on_epoch=lambda epoch, logs: seen.append(epoch),
        progress=False,
    )
    assert seen == [1]  # resumed after epoch 0
    assert result["epochs"] == 2 and len(result["history"]) == 2
    assert 0 <= result["test_acc"] <= 1 and result["train_seconds"] > 0 and result["params"] > 0
    assert result["key"] == "00120012" and len(result["hash"]) == 32
    assert read_results(out)[0]["test_acc"] == result["test_acc"]
    again = train_classifier("00120012", "macro", TINY, network=NET, progress=False)
    assert again["test_acc"] == pytest.approx(result["test_acc"])  # seeded: the same numbers


def test_user_module_trains():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    result = train_classifier(net, config=TINY, progress=False)
    assert result["space"] == "module" and result["test_acc"] > 0.5


def test_io_features(tmp_path):
    torch.manual_seed(0)
    from archpred.networks import build_network

    net = build_network("01200120", "macro", width=4, in_channels=1, input_size=8).eval()
    x, y = torch.randn(5, 1, 8, 8), torch.tensor([0, 3, 3, 9, 1])
    values, indices = io_features(net, x, y)
    assert values.shape == (5, 10) and indices.shape == (5, 10)
    feats = []
    net.classifier.register_forward_pre_hook(lambda m, i: feats.append(i[0]))
    with torch.no_grad():
        net(x)
    w = net.classifier.weight.detach()
    for n in range(5):
        order = torch.argsort(w[y[n]], descending=True)[:10]
        assert indices[n].tolist() == order.tolist()
        assert np.allclose(values[n], (feats[0][n, order] * w[y[n], order]).numpy(), atol=1e-6)
    result = train_classifier("01200120", "macro", TINY, network=NET, io_dir=tmp_path, progress=False)
    saved = load_io_features(result["io_features"])
    assert str(saved["hash"]) == result["hash"] and saved["features"].shape == (359, 10)


@pytest.mark.pool
def test_train_many_parallel_and_resumable(tmp_path):
    out = tmp_path / "many.jsonl"
    archs = ["00000012", "10000000", "00000012"]
    results = train_many(archs, "macro", TINY, out=out, workers=2, network=NET, progress=False)
    assert [r["key"] for r in results] == archs
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 2 and {r["key"] for r in lines} == {"00000012", "10000000"}
    again = train_many(archs[:2], "macro", TINY, out=out, workers=2, network=NET, progress=False)
    assert len(out.read_text().splitlines()) == 2 and again[0]["test_acc"] == results[0]["test_acc"]
    with pytest.raises(ValueError, match="workers must be >= 1"):
        train_many(archs, "macro", TINY, out=out, workers=0)


def test_cli_train_arch(tmp_path, capsys):
    from archpred.cli import main

    out = tmp_path / "cli.jsonl"
    args = ["train-arch", "--space", "macro", "--cell", "02012100", "--epochs", "1", "--width", "4"]
    assert main([*args, "--out", str(out), "--no-progress", "--threads", "1"]) == 0
    printed = json.loads(capsys.readouterr().out.splitlines()[0])
    assert printed["key"] == "02012100" and printed["epochs"] == 1
    cells = tmp_path / "cells.txt"
    cells.write_text("02012100\n0201210\n")
    assert main(["train-arch", "--space", "macro", "--cells", str(cells), "--out", str(out)]) == 2
    assert "cells.txt:2: a macro key has 8 digits" in capsys.readouterr().err
    assert main([*args, "--option", "nope"]) == 2
    assert "--option must be KEY=VALUE" in capsys.readouterr().err
    assert main([*args, "--depth", "2"]) == 2
    assert "fixed by its architecture" in capsys.readouterr().err


@pytest.mark.slow
def test_nb101_cell_reaches_90_percent_on_digits():
    from archpred.bench.networks import DEFAULT_CELL

    result = train_classifier(
        DEFAULT_CELL, "nb101", TrainConfig(epochs=15, seed=0, device="cpu"), network={"width": 16}, progress=False
    )
    assert result["test_acc"] >= 0.90


class _Permuted(torch.nn.Module):
    """``net`` with its pooled features permuted by ``perm`` before the last dense layer, whose
    weight columns are permuted alike: the same function, another feature order."""

    def __init__(self, net, perm):
        super().__init__()
        self.body = torch.nn.Sequential(*list(net.children())[:-1])
        self.perm = perm
        old = net.classifier
        self.classifier = torch.nn.Linear(old.in_features, old.out_features)
        with torch.no_grad():
            self.classifier.weight.copy_(old.weight[:, perm])
            self.classifier.bias.copy_(old.bias)

    def forward(self, x):
        return self.classifier(self.body(x)[:, self.perm])


def test_io_features_do_not_depend_on_the_order_of_the_pooled_features():
    """The paper's preprocessing: ordered by the true class's dense weights, so a network that
    computes the same features in another order gives the same IO features."""
    torch.manual_seed(0)
    net = torch.nn.Sequential()
    net.add_module("conv", torch.nn.Conv2d(1, 24, 3, padding=1))
    net.add_module("pool", torch.nn.AdaptiveAvgPool2d(1))
    net.add_module("flat", torch.nn.Flatten())
    net.add_module("classifier", torch.nn.Linear(24, 10))
    net.eval()
    perm = torch.randperm(24)
    x, y = torch.randn(7, 1, 8, 8), torch.tensor([0, 1, 2, 3, 4, 5, 9])
    permuted = _Permuted(net, perm).eval()
    assert torch.allclose(permuted(x), net(x), atol=1e-6)
    a, ia = io_features(net, x, y)
    b, ib = io_features(permuted, x, y)
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.array_equal(ia, ib)  # the same features, found at other positions
