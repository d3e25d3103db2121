"""GENNAPE's contrastive loss (paper Eq. 1), soft spectral positives and encoder training."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from archpred.errors import InvalidOption
from archpred.gennape.contrastive import (
    CLTrainConfig,
    contrastive_loss,
    embed,
    flops_target,
    soft_positive_weights,
    train_encoder,
)
from archpred.gennape.encoder import CLEncoder, EncoderConfig
from archpred.gennape.graphs import N_SPECTRUM, GraphSet
from archpred.networks import build_network
from archpred.networks.graph import laplacian_eigenvalues, to_computation_graph
from archpred.spaces import get_space
from archpred.training import Callback

SMALL = EncoderConfig(gnn_layers=2, gnn_dim=16, tf_dim=16, proj_dim=8)
QUICK = CLTrainConfig(epochs=2, batch_size=4, lr=1e-3)


@pytest.fixture(scope="module")
def graphs() -> GraphSet:
    """Eight NB-201 networks of one cell per stage (54-84 nodes each)."""
    space, rng = get_space("nb201"), np.random.default_rng(0)
    return GraphSet.from_graphs([to_computation_graph(build_network(space.sample(rng), N=1)) for _ in range(8)])


def unit(rows: int, dim: int, seed: int) -> torch.Tensor:
    return nn.functional.normalize(torch.randn(rows, dim, generator=torch.Generator().manual_seed(seed)), dim=1)


def spectra(n: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.rand(n, N_SPECTRUM, generator=torch.Generator().manual_seed(seed))


# -- soft positives ---------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 5, 16])
@pytest.mark.parametrize("seed", [0, 1])
def test_soft_weights_are_distributions(n: int, seed: int) -> None:
    alpha = soft_positive_weights(spectra(n, seed).repeat(2, 1))
    assert alpha.shape == (2 * n, 2 * n)
    assert torch.all(alpha.diagonal() == 0)
    assert torch.allclose(alpha.sum(1), torch.ones(2 * n), atol=1e-6)
    assert torch.all(alpha >= 0)


@pytest.mark.parametrize("n", [3, 8])
@pytest.mark.parametrize("spectral_temperature", [1.0, 0.1])
def test_identical_spectrum_gets_the_largest_weight(n: int, spectral_temperature: float) -> None:
    """Each view's twin (distance 0) outweighs every other graph; nearer spectra weigh more."""
    spectrum = spectra(n, 3).repeat(2, 1)
    alpha = soft_positive_weights(spectrum, spectral_temperature)
    for i in range(2 * n):
        twin = (i + n) % (2 * n)
        others = [j for j in range(2 * n) if j not in (i, twin)]
        assert alpha[i, twin] > alpha[i, others].max()
        sigma = (spectrum[i] - spectrum[others]).norm(dim=1)
        order = torch.argsort(sigma)
        assert torch.all(alpha[i, others][order].diff() <= 1e-7)  # weights fall as distance grows


def test_soft_weights_are_the_softmax_of_minus_sigma() -> None:
    spectrum = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    alpha = soft_positive_weights(spectrum)
    expected = torch.softmax(torch.tensor([-5.0, -1.0]), 0)  # row 0: distances 5 and 1
    assert torch.allclose(alpha[0, 1:], expected)


def test_soft_weights_bad_input() -> None:
    with pytest.raises(InvalidOption):
        soft_positive_weights(torch.zeros(1, N_SPECTRUM))
    with pytest.raises(InvalidOption):
        soft_positive_weights(torch.zeros(4, N_SPECTRUM), spectral_temperature=0.0)


# -- the loss ---------------------------------------------------------------------------------
def eq1_by_hand(z: torch.Tensor, spectrum: torch.Tensor, tau: float) -> float:
    """Paper Eq. 1 written out with loops, divided by the number of anchors."""
    n = len(z)
    total = 0.0
    for i in range(n):
        dist = [float((spectrum[i] - spectrum[j]).norm()) for j in range(n)]
        norm_a = sum(math.exp(-dist[j]) for j in range(n) if j != i)
        norm_p = sum(math.exp(float(z[i] @ z[r]) / tau) for r in range(n) if r != i)
        for j in range(n):
            if j != i:
                total -= math.exp(-dist[j]) / norm_a * math.log(math.exp(float(z[i] @ z[j]) / tau) / norm_p)
    return total / n


@pytest.mark.parametrize("n,dim,tau", [(2, 4, 0.5), (4, 8, 0.2), (6, 16, 0.1)])
def test_loss_is_eq1(n: int, dim: int, tau: float) -> None:
    z, spectrum = unit(2 * n, dim, n).double(), spectra(n, n).repeat(2, 1).double()
    assert contrastive_loss(z, spectrum, tau).item() == pytest.approx(eq1_by_hand(z, spectrum, tau), rel=1e-5)


@pytest.mark.parametrize("n", [4, 16])
@pytest.mark.parametrize("seed", [0, 1])
def test_coinciding_views_beat_random_projections(n: int, seed: int) -> None:
    """With well separated spectra the soft positive is the twin view: z_i = z_{i+N} wins."""
    spectrum = spectra(n, seed, scale=20.0).repeat(2, 1)
    same = unit(n, 32, seed).repeat(2, 1)
    random = unit(2 * n, 32, seed + 100)
    assert contrastive_loss(same, spectrum) < contrastive_loss(random, spectrum)


def test_loss_of_equal_projections_is_log_of_the_others() -> None:
    """All similarities equal: softmax over r != i is uniform, so the loss is log(2N - 1)."""
    z = unit(1, 8, 0).repeat(10, 1)
    assert contrastive_loss(z, spectra(5, 0).repeat(2, 1)).item() == pytest.approx(math.log(9), rel=1e-5)


def test_loss_has_gradients_and_rejects_bad_input() -> None:
    z = unit(8, 8, 0).requires_grad_()
    contrastive_loss(z, spectra(4, 0).repeat(2, 1)).backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    with pytest.raises(InvalidOption):
        contrastive_loss(z, spectra(3, 0), temperature=0.05)
    with pytest.raises(InvalidOption):
        contrastive_loss(z, spectra(4, 0).repeat(2, 1), temperature=0.0)


# -- isomorphic CGs ---------------------------------------------------------------------------
def test_isomorphic_cgs_have_spectral_distance_zero(graphs: GraphSet) -> None:
    arch = get_space("nb201").sample(np.random.default_rng(5))
    first = to_computation_graph(build_network(arch, N=1))
    again = to_computation_graph(build_network(arch, N=1))
    perm = np.random.default_rng(0).permutation(first.num_nodes)  # relabel the nodes
    adj = np.zeros((first.num_nodes, first.num_nodes))
    adj[first.edge_index[0].numpy(), first.edge_index[1].numpy()] = 1
    relabelled = adj[np.ix_(perm, perm)]
    assert not np.array_equal(relabelled, adj)
    base = laplacian_eigenvalues(first)
    for other in (laplacian_eigenvalues(again), laplacian_eigenvalues(relabelled)):
        assert np.linalg.norm(base - other) < 1e-9
    spectrum = torch.from_numpy(np.stack([base, laplacian_eigenvalues(relabelled), *graphs.spectrum[:3]]))
    alpha = soft_positive_weights(spectrum)
    assert alpha[0, 1] == alpha[0].max() and alpha[1, 0] == alpha[1].max()


# -- training ---------------------------------------------------------------------------------
def weights(encoder: CLEncoder) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in encoder.state_dict().items()}


class EpochsRun(Callback):
    def __init__(self) -> None:
        self.epochs: list[int] = []

    def on_epoch_start(self, epoch: int) -> None:
        self.epochs.append(epoch)


def test_train_runs_and_logs_finite_losses(graphs: GraphSet) -> None:
    before = torch.random.get_rng_state()
    encoder, history = train_encoder(graphs, SMALL, QUICK, seed=0, device="cpu", progress=False)
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's RNG is untouched
    assert [h["epoch"] for h in history] == [0.0, 1.0]
    for h in history:
        assert {"loss", "cl_loss", "flops_loss"} <= set(h)
        assert all(math.isfinite(v) for v in h.values())
        assert h["loss"] == pytest.approx(h["cl_loss"] + QUICK.flops_weight * h["flops_loss"], rel=1e-5)
    assert not encoder.training
    _, mean, std = flops_target(graphs)
    assert torch.allclose(encoder.flops_stats, torch.tensor([mean, std]))


def test_same_seed_same_weights(graphs: GraphSet) -> None:
    a, _ = train_encoder(graphs, SMALL, QUICK, seed=3, device="cpu", progress=False)
    b, _ = train_encoder(graphs, SMALL, QUICK, seed=3, device="cpu", progress=False)
    c, _ = train_encoder(graphs, SMALL, QUICK, seed=4, device="cpu", progress=False)
    wa, wb, wc = weights(a), weights(b), weights(c)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_training_moves_the_weights(graphs: GraphSet) -> None:
    from archpred.training import seeded

    with seeded(0):
        init = weights(CLEncoder(SMALL))
    trained = weights(train_encoder(graphs, SMALL, QUICK, seed=0, device="cpu", progress=False)[0])
    assert not torch.equal(init["gnn.0.lin_rel.weight"], trained["gnn.0.lin_rel.weight"])
    assert not torch.equal(init["transformer.layers.0.linear1.weight"], trained["transformer.layers.0.linear1.weight"])


def test_resume_runs_only_the_missing_epoch(graphs: GraphSet, tmp_path: Path) -> None:
    ckpt = tmp_path / "cl.pt"
    _, first = train_encoder(graphs, SMALL, QUICK, seed=0, device="cpu", progress=False, checkpoint=ckpt)
    assert ckpt.exists()
    seen = EpochsRun()
    longer = CLTrainConfig(epochs=3, batch_size=4, lr=1e-3)
    encoder, history = train_encoder(
        graphs, SMALL, longer, seed=0, device="cpu", progress=False, checkpoint=ckpt, callbacks=[seen]
    )
    assert seen.epochs == [2]
    assert history[:2] == first and len(history) == 3 and math.isfinite(history[2]["loss"])


def test_without_flops_head(graphs: GraphSet) -> None:
    config = EncoderConfig(gnn_layers=1, gnn_dim=8, tf_dim=8, proj_dim=4, flops_head=False)
    _, history = train_encoder(graphs, config, CLTrainConfig(epochs=1, batch_size=4), seed=0, progress=False)
    assert "flops_loss" not in history[0] and history[0]["loss"] == pytest.approx(history[0]["cl_loss"])


def test_embed_is_deterministic(graphs: GraphSet) -> None:
    encoder, _ = train_encoder(graphs, SMALL, CLTrainConfig(epochs=1, batch_size=4), seed=0, progress=False)
    encoder.train()
    first = embed(encoder, graphs, batch_size=3, device="cpu")
    assert encoder.training  # the mode is restored
    second = embed(encoder, graphs, batch_size=8, device="cpu")
    assert first.shape == (len(graphs), SMALL.embed_dim) and first.dtype == np.float32
    np.testing.assert_allclose(first, second, atol=1e-5)
    np.testing.assert_array_equal(first, embed(encoder, graphs, batch_size=3, device="cpu"))
    assert embed(encoder, graphs.subset([]), device="cpu").shape == (0, SMALL.embed_dim)


BAD_TRAIN = [
    {"epochs": 0},
    {"batch_size": 0},
    {"lr": 0.0},
    {"temperature": -1.0},
    {"flops_weight": -0.5},
    {"weight_decay": -1e-3},
    {"spectral_temperature": 0.0},
]


@pytest.mark.parametrize("options", BAD_TRAIN, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_bad_train_config(options: dict) -> None:
    with pytest.raises(InvalidOption):
        CLTrainConfig(**options)


def test_bad_training_input(graphs: GraphSet) -> None:
    with pytest.raises(InvalidOption, match="at least 2"):
        train_encoder(graphs.subset([0]), SMALL, QUICK, seed=0, progress=False)
    with pytest.raises(InvalidOption, match="device"):
        train_encoder(graphs, SMALL, QUICK, seed=0, device="tpu", progress=False)
    with pytest.raises(InvalidOption):
        embed(CLEncoder(SMALL), graphs, batch_size=0)
