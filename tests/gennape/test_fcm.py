"""Fuzzy c-means clusters (scikit-fuzzy) on [embedding, z-scored log FLOPs]."""

from __future__ import annotations

import numpy as np
import pytest
import skfuzzy
import torch

from archpred.errors import CheckpointError, InvalidOption, NotFittedError
from archpred.gennape.fcm import FuzzyClusters


def _family(n: int = 120, d: int = 8, blobs: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Well-separated blobs in the embedding; FLOPs spread over three orders of magnitude."""
    rng = np.random.default_rng(seed)
    label = np.arange(n) % blobs
    centres = rng.normal(0.0, 10.0, (blobs, d))
    emb = centres[label] + rng.normal(0.0, 0.3, (n, d))
    flops = 10.0 ** rng.uniform(6, 9, n)
    return emb, flops, label


@pytest.mark.parametrize("n_clusters", [2, 5, 11])
@pytest.mark.parametrize("m", [2.0, 3.5])
def test_memberships_sum_to_one(n_clusters, m):
    emb, flops, _ = _family()
    fcm = FuzzyClusters(n_clusters=n_clusters, m=m, n_components=4, max_iter=300, error=1e-6).fit(emb, flops)
    other, other_flops, _ = _family(n=30, seed=7)
    u = fcm.memberships(other, other_flops)
    assert u.shape == (30, n_clusters)
    assert np.all(u > 0)
    np.testing.assert_allclose(u.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert fcm.centers_.shape == (n_clusters, 4)


def test_training_memberships_are_cmeans_own_u():
    emb, flops, _ = _family()
    fcm = FuzzyClusters(n_clusters=4, m=2.0, n_components=5).fit(emb, flops)
    np.testing.assert_allclose(fcm.memberships(emb, flops), fcm.train_memberships_, atol=1e-8)
    # ... and cmeans on the same points from the same start finds the same partition
    points = fcm.transform(emb, flops)
    init = np.random.default_rng(fcm.seed).random((4, len(points)))
    init /= init.sum(axis=0)
    _, u, *_ = skfuzzy.cmeans(points.T, 4, 2.0, error=1e-9, maxiter=10000, init=init)
    np.testing.assert_allclose(fcm.train_memberships_, u.T, atol=1e-12)


def test_separated_blobs_are_recovered():
    emb, flops, label = _family(blobs=3)
    hard = FuzzyClusters(n_clusters=3, m=2.0, n_components=4).fit(emb, flops).hard_labels(emb, flops)
    # one cluster per blob: the contingency table is a permutation
    table = np.zeros((3, 3), int)
    np.add.at(table, (label, hard), 1)
    assert sorted(table.max(axis=1)) == [40, 40, 40]
    assert len(set(table.argmax(axis=1))) == 3


def test_same_seed_same_clusters_and_global_rng_untouched():
    emb, flops, _ = _family(blobs=6)
    np.random.seed(123)  # the caller's own stream
    before = np.random.get_state()[1].copy()
    a = FuzzyClusters(n_clusters=5, m=2.5, n_components=4, seed=3).fit(emb, flops)
    b = FuzzyClusters(n_clusters=5, m=2.5, n_components=4, seed=3).fit(emb, flops)
    a.memberships(emb, flops)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.testing.assert_array_equal(a.centers_, b.centers_)
    np.testing.assert_array_equal(a.memberships(emb, flops), b.memberships(emb, flops))


def test_state_round_trip_through_a_weights_only_file(tmp_path):
    emb, flops, _ = _family()
    fcm = FuzzyClusters(n_clusters=4, m=3.0, n_components=6, max_iter=500).fit(emb, flops)
    torch.save({"fcm": fcm.state_dict()}, tmp_path / "fcm.pt")
    state = torch.load(tmp_path / "fcm.pt", weights_only=True)["fcm"]
    back = FuzzyClusters.from_state(state)
    other, other_flops, _ = _family(n=25, seed=9)
    np.testing.assert_array_equal(back.memberships(other, other_flops), fcm.memberships(other, other_flops))
    assert (back.n_clusters, back.m, back.n_components_) == (4, 3.0, 6)


def test_state_with_lists_and_broken_state():
    emb, flops, _ = _family()
    fcm = FuzzyClusters(n_clusters=3, n_components=3, max_iter=200).fit(emb, flops)
    state = {k: v.tolist() if isinstance(v, torch.Tensor) else v for k, v in fcm.state_dict().items()}
    np.testing.assert_allclose(FuzzyClusters.from_state(state).memberships(emb, flops), fcm.memberships(emb, flops))
    with pytest.raises(CheckpointError):
        FuzzyClusters.from_state({k: v for k, v in state.items() if k != "centers"})
    with pytest.raises(CheckpointError):
        FuzzyClusters.from_state({**state, "centers": [[0.0, 1.0]]})


def test_log_flops_are_z_scored_with_training_statistics():
    emb, flops, _ = _family()
    fcm = FuzzyClusters(n_clusters=3, n_components=3, max_iter=200).fit(emb, flops)
    assert fcm.flops_mean_ == pytest.approx(np.log10(flops + 1).mean())
    assert fcm.flops_std_ == pytest.approx(np.log10(flops + 1).std())


def test_unfitted_raises():
    fcm = FuzzyClusters()
    emb, flops, _ = _family(n=10)
    with pytest.raises(NotFittedError):
        fcm.memberships(emb, flops)
    with pytest.raises(NotFittedError):
        fcm.state_dict()


@pytest.mark.parametrize("options", [{"n_clusters": 1}, {"m": 1.0}, {"n_clusters": 200}, {"n_components": 0}])
def test_bad_options_are_refused_at_fit(options):
    emb, flops, _ = _family(n=50)
    with pytest.raises(InvalidOption):
        FuzzyClusters(**options).fit(emb, flops)


def test_bad_rows_are_refused():
    emb, flops, _ = _family(n=50)
    with pytest.raises(InvalidOption):
        FuzzyClusters(n_clusters=3).fit(emb, flops[:-1])
    bad = emb.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InvalidOption):
        FuzzyClusters(n_clusters=3).fit(bad, flops)
    fcm = FuzzyClusters(n_clusters=3, n_components=3, max_iter=100).fit(emb, flops)
    with pytest.raises(InvalidOption):
        fcm.memberships(emb[:, :4], flops)


def test_kmeans_start_avoids_the_uniform_fixed_point():
    """Twelve clear blobs in 32-d: from a random start FCM ends with every membership 1/C."""
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(480, 32)) + np.repeat(rng.normal(0, 3, (12, 32)), 40, axis=0)
    flops = np.full(480, 1e8)
    random = FuzzyClusters(n_clusters=12, m=2.0).fit(emb, flops)
    kmeans = FuzzyClusters(n_clusters=12, m=2.0, init="kmeans").fit(emb, flops)
    assert random.partition_coefficient_ == pytest.approx(1 / 12, abs=1e-3)
    assert kmeans.partition_coefficient_ > 0.3
    again = FuzzyClusters.from_state(kmeans.state_dict())
    assert again.init == "kmeans"
    np.testing.assert_array_equal(again.memberships(emb, flops), kmeans.memberships(emb, flops))
    with pytest.raises(InvalidOption):
        FuzzyClusters(n_clusters=3, init="grid").fit(emb, flops)
