"""arch2vec with input-output information: the alternating schedule, the paper's splits, the
IO and Accuracy models' shapes and embeddings, training end to end on the shipped IO sample,
files and resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archpred.data.io_dataset import load_io_dataset
from archpred.errors import CheckpointError, InvalidData, InvalidOption
from archpred.spaces import get_space
from archpred.vae import load_vae
from archpred.vae.data import from_archs
from archpred.vae.io import IOVAEConfig, alternating, io_images, io_splits, pairs
from archpred.vae.io_train import feature_errors, train_io_vae
from archpred.vae.model import build_module
from tests.conftest import IO_SAMPLE, TINY_IO, tiny_io_model


@pytest.fixture(scope="module")
def sample():
    return load_io_dataset(IO_SAMPLE)


def cells(n: int, seed: int = 0):
    space = get_space("nb101")
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


@pytest.mark.parametrize(("n_labelled", "batch", "runs"), [(100, 10, (3, 2)), (95, 8, (4, 1)), (64, 32, (300, 200))])
def test_the_schedule_alternates_runs_and_uses_every_labelled_row_once(n_labelled, batch, runs):
    seq = list(alternating(n_labelled, 1000, batch, seed=0, epoch=0, labelled_run=runs[0], unlabelled_run=runs[1]))
    kinds = [k for k, _ in seq]
    labelled = np.concatenate([rows for k, rows in seq if k == "labelled"])
    assert sorted(labelled.tolist()) == list(range(n_labelled))  # each once
    n_batches = -(-n_labelled // batch)
    expected = []
    for start in range(0, n_batches, runs[0]):
        expected += ["labelled"] * min(runs[0], n_batches - start) + ["unlabelled"] * runs[1]
    assert kinds == expected
    unl = [rows for k, rows in seq if k == "unlabelled"]
    assert all(len(r) == batch and r.max() < 1000 for r in unl)
    again = list(alternating(n_labelled, 1000, batch, seed=0, epoch=1, labelled_run=runs[0], unlabelled_run=runs[1]))
    assert not np.array_equal(seq[0][1], again[0][1])  # another epoch, another shuffle


def test_splits_follow_the_papers_table_2(sample):
    s = io_splits(sample)
    seen = {i for i, n in enumerate(sample.networks) if n.split == "train"}
    unseen = {i for i, n in enumerate(sample.networks) if n.split == "val"}
    seen_img, unseen_img = set(sample.seen_images), set(sample.unseen_images)
    assert set(s.train.net) == seen and set(s.train.image) == seen_img
    assert set(s.val_networks.net) == unseen and set(s.val_networks.image) == seen_img
    assert set(s.test_unseen_networks.net) == unseen and set(s.test_unseen_networks.image) == unseen_img
    val, test = set(s.val_images.net), set(s.test_seen_networks.net)
    assert val | test == seen and not val & test and len(val) == 1  # 10% of 6, at least one
    assert set(s.val_images.image) == set(s.test_seen_networks.image) == unseen_img
    assert len(s.train) == len(seen) * len(seen_img)
    p = pairs(np.array([3, 5]), np.array([0, 1, 2]))
    assert list(zip(p.net, p.image)) == [(3, 0), (3, 1), (3, 2), (5, 0), (5, 1), (5, 2)]


def test_the_images_are_the_held_out_ones_the_features_were_computed_on(sample):
    images = io_images(sample)
    assert images.shape == (len(sample.networks[0].labels), 1, 8, 8) and images.dtype == np.float32


@pytest.mark.parametrize(("target", "out"), [("features", (5, 10)), ("accuracy", (5,))])
def test_module_shapes_and_both_embeddings(target, out):
    torch.manual_seed(0)
    module = build_module("io" if target == "features" else "io-accuracy", "nb101", **TINY_IO).eval()
    assert module.config.target == target
    adj, types, n = from_archs(get_space("nb101"), cells(5)).tensors()
    mu, _ = module.encode(adj, types, n)
    images = torch.randn(5, 1, 8, 8)
    assert module.predict(mu, images).shape == out
    assert module.graph_embedding(mu, "mean").shape == (5, 4)
    assert torch.allclose(module.graph_embedding(mu, "mean"), module.vae.graph_embedding(mu))
    assert module.graph_embedding(mu, "flatten").shape == (5, 16)
    loss, parts = module.train().labelled_loss(
        adj, types, n, images, torch.zeros(out) if target == "accuracy" else torch.zeros(5, 10)
    )
    assert torch.isfinite(loss) and {"recon", "kl", "head"} <= set(parts)


def test_the_io_model_needs_images():
    module = build_module("io", "nb101", **TINY_IO)
    mu, _ = module.encode(*from_archs(get_space("nb101"), cells(2)).tensors())
    with pytest.raises(InvalidOption, match="pass them"):
        module.predict(mu)


@pytest.mark.parametrize(
    "config", [{"target": "loss"}, {"embedding": "sum"}, {"image_shape": (1, 8)}, {"image_shape": (0, 8, 8)}]
)
def test_bad_configs_are_one_line_errors(config):
    with pytest.raises(InvalidOption):
        IOVAEConfig(**config)


@pytest.mark.parametrize("kind", ["io", "io-accuracy"])
def test_train_save_load_and_use(kind, sample, tmp_path):
    path = tiny_io_model(kind, tmp_path)
    vae = load_vae(kind, "nb101", path=path, device="cpu")
    assert vae.kind == kind and vae.meta["networks"] == 8 and vae.meta["labelled_pairs"] == 6 * 179
    test = cells(6, seed=3)
    emb = vae.embed(test)
    assert emb.shape == (6, vae.embedding_dim) == (6, 4) and np.all(np.isfinite(emb))  # the mean of node latents
    z = vae.encode(test)
    assert z.shape == (6, 7 * 4)
    assert len(vae.decode(z)) == 6 and len(vae.sample(3, np.random.default_rng(0))) == 3
    with pytest.raises(CheckpointError, match="not arch2vec"):
        load_vae("arch2vec", "nb101", path=path)


def test_feature_errors_report_both_test_sets_and_the_baseline(sample, tmp_path):
    vae = load_vae("io", "nb101", path=tiny_io_model("io", tmp_path), device="cpu")
    errors = feature_errors(vae, sample)
    assert set(errors) == {"test_unseen_networks", "test_seen_networks"}
    assert errors["test_unseen_networks"]["pairs"] == 2 * 180 and errors["test_seen_networks"]["pairs"] == 5 * 180
    for e in errors.values():
        assert e["mse"] > 0 and e["baseline"] > 0 and e["ci95"] > 0
    with pytest.raises(InvalidOption, match="need an IO model"):
        feature_errors(load_vae("io-accuracy", "nb101", path=tiny_io_model("io-accuracy", tmp_path)), sample)


def test_training_logs_validation_beside_the_baseline_and_resumes(sample, tmp_path):
    unlabelled = from_archs(get_space("nb101"), cells(100))
    common = dict(unlabelled=unlabelled, labelled_run=4, unlabelled_run=2, device="cpu", progress=False, **TINY_IO)
    ckpt = tmp_path / "io.train.pt"
    _, first = train_io_vae("io", sample, epochs=1, checkpoint=ckpt, **common)
    assert {"loss", "val_networks_mse", "val_networks_baseline", "val_images_mse", "val_images_baseline"} <= set(
        first[0]
    )
    _, both = train_io_vae("io", sample, epochs=2, checkpoint=ckpt, **common)
    assert len(both) == 2 and both[0]["loss"] == first[0]["loss"]  # the first epoch came from the checkpoint
    with pytest.raises(CheckpointError):  # another recipe is refused, not mixed in
        train_io_vae("io", sample, epochs=3, checkpoint=ckpt, lr=5e-4, **common)


@pytest.mark.parametrize(
    ("kind", "options"),
    [("arch2vec", {}), ("io", {"epochs": 0}), ("io", {"batch_size": 1}), ("io", {"lr": -1.0}), ("io", {"seed": "a"})],
)
def test_bad_training_options_are_one_line_errors(kind, options, sample):
    with pytest.raises((InvalidOption, TypeError, ValueError)):
        train_io_vae(kind, sample, unlabelled=from_archs(get_space("nb101"), cells(10)), progress=False, **options)


def test_no_trained_model_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr("archpred.vae.model.default_paths", lambda kind, space: [tmp_path / "none.pt"])
    with pytest.raises(CheckpointError, match="train io-vae --kind io-accuracy"):
        load_vae("io-accuracy", "nb101")


def test_images_of_another_split_are_refused(sample):
    """Features computed on other images (another version of the image set) are not paired with these."""
    import dataclasses

    first = sample.networks[0]
    shifted = dataclasses.replace(first, labels=np.roll(first.labels, 1))
    other = dataclasses.replace(sample, networks=(shifted, *sample.networks[1:]))
    with pytest.raises(InvalidData, match="not the ones"):
        io_images(other)
