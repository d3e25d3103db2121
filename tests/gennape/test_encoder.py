"""GENNAPE's CL encoder: shapes, the projection, padding and node-order invariance, configs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn
from torch_geometric.data import Batch

from archpred.errors import InvalidOption
from archpred.gennape.encoder import CLEncoder, EncoderConfig
from archpred.gennape.graphs import NODE_FEATURES, GraphSet
from archpred.networks import build_network
from archpred.networks.graph import to_computation_graph
from archpred.spaces import get_space
from archpred.training import seeded

CONFIGS = {
    "paper": EncoderConfig(),
    "small": EncoderConfig(gnn_layers=1, gnn_dim=8, tf_layers=2, tf_heads=4, tf_dim=16, proj_dim=8),
    "no-dropout": EncoderConfig(gnn_dim=16, tf_dim=32, dropout=0.0, proj_dim=4),
    "no-flops-head": EncoderConfig(gnn_dim=16, tf_dim=16, flops_head=False),
}


def tiny_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    )


@pytest.fixture(scope="module")
def graphs() -> GraphSet:
    """Six NB-201 networks of one cell per stage (54-84 nodes) and one 7-node hand-made net."""
    space, rng = get_space("nb201"), np.random.default_rng(0)
    cgs = [to_computation_graph(build_network(space.sample(rng), N=1)) for _ in range(6)]
    return GraphSet.from_graphs([*cgs, to_computation_graph(tiny_net(), input_shape=(3, 8, 8))])


def make(config: EncoderConfig, seed: int = 0) -> CLEncoder:
    with seeded(seed):
        return CLEncoder(config)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_output_shapes(graphs: GraphSet, name: str) -> None:
    config = CONFIGS[name]
    encoder = make(config).eval()
    h = encoder(graphs.batch(range(len(graphs))))
    assert h.shape == (len(graphs), config.embed_dim) == (len(graphs), config.gnn_dim + config.tf_dim)
    assert torch.isfinite(h).all()
    assert encoder.project(h).shape == (len(graphs), config.proj_dim)
    if config.flops_head:
        assert encoder.predict_flops(h).shape == (len(graphs),)
    else:
        with pytest.raises(InvalidOption, match="FLOPs head"):
            encoder.predict_flops(h)


def test_paper_sizes() -> None:
    config = EncoderConfig()
    assert (config.in_dim, config.embed_dim, config.gnn_layers, config.tf_layers, config.tf_heads) == (
        NODE_FEATURES,
        128,
        4,
        1,
        2,
    )
    encoder = CLEncoder(config)
    assert len(encoder.gnn) == 4 and len(encoder.transformer.layers) == 1


@pytest.mark.parametrize("name", ["paper", "small"])
def test_projection_unit_norm(graphs: GraphSet, name: str) -> None:
    encoder = make(CONFIGS[name]).train()
    z = encoder.project(encoder(graphs.batch(range(len(graphs)))))
    assert torch.allclose(z.norm(dim=1), torch.ones(len(graphs)), atol=1e-5)


@pytest.mark.parametrize("name", ["paper", "small"])
def test_padding_does_not_leak(graphs: GraphSet, name: str) -> None:
    """A graph's embedding alone equals its row in a batch with larger graphs (masking works)."""
    encoder = make(CONFIGS[name]).eval()
    with torch.no_grad():
        together = encoder(graphs.batch(range(len(graphs))))
        for i in (0, len(graphs) - 1):  # the last one is the 7-node net, padded to ~84
            alone = encoder(graphs.batch([i]))
            assert torch.allclose(alone[0], together[i], atol=1e-5)


def test_node_order_invariance(graphs: GraphSet) -> None:
    """Relabelling a CG's nodes changes neither its spectrum nor its (eval) embedding."""
    encoder = make(CONFIGS["paper"]).eval()
    i = 2
    a, b, c, d = graphs.node_ptr[i], graphs.node_ptr[i + 1], graphs.edge_ptr[i], graphs.edge_ptr[i + 1]
    data = graphs.graph(i)
    perm = np.random.default_rng(1).permutation(b - a)
    inverse = np.argsort(perm)
    data.x, data.op_type = data.x[perm], data.op_type[perm]
    data.edge_index = torch.from_numpy(inverse[graphs.edges[:, c:d].astype(np.int64)])
    assert not torch.equal(data.x, graphs.graph(i).x)
    with torch.no_grad():
        h_orig = encoder(graphs.batch([i]))
        h_perm = encoder(Batch.from_data_list([data]))
    assert torch.allclose(h_orig, h_perm, atol=1e-5)


def test_gnn_follows_the_directed_edges(graphs: GraphSet) -> None:
    """Reversing every edge changes the k-GNN half of h; the Transformer half sees nodes only."""
    config = CONFIGS["paper"]
    encoder = make(config).eval()
    data = graphs.graph(1)
    flipped = data.clone()
    flipped.edge_index = data.edge_index.flip(0)
    with torch.no_grad():
        h, h_flipped = encoder(Batch.from_data_list([data])), encoder(Batch.from_data_list([flipped]))
    assert not torch.allclose(h[:, : config.gnn_dim], h_flipped[:, : config.gnn_dim], atol=1e-4)
    assert torch.allclose(h[:, config.gnn_dim :], h_flipped[:, config.gnn_dim :], atol=1e-6)


def test_dropout_views_differ_eval_is_deterministic(graphs: GraphSet) -> None:
    encoder = make(CONFIGS["paper"])
    batch = graphs.batch(range(len(graphs)))
    with seeded(1):
        encoder.train()
        first, second = encoder(batch), encoder(batch)
    assert not torch.allclose(first, second)  # the two SimCSE views
    encoder.eval()
    with torch.no_grad():
        assert torch.equal(encoder(batch), encoder(batch))


def test_single_data_forward(graphs: GraphSet) -> None:
    encoder = make(CONFIGS["small"]).eval()
    with torch.no_grad():
        assert torch.allclose(encoder(graphs.graph(0)), encoder(graphs.batch([0])), atol=1e-6)


def test_reset_parameters(graphs: GraphSet) -> None:
    encoder = make(CONFIGS["small"])
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    encoder.flops_stats.copy_(torch.tensor([7.0, 0.5]))
    with seeded(3):
        encoder.reset_parameters()
    after = encoder.state_dict()
    assert torch.equal(after["flops_stats"], torch.tensor([0.0, 1.0]))
    changed = [k for k in before if k != "flops_stats" and not torch.equal(before[k], after[k])]
    weights = [k for k in before if k.endswith("weight") and "norm" not in k]
    assert set(weights) <= set(changed)


BAD = [
    {"gnn_layers": 0},
    {"gnn_dim": -1},
    {"tf_layers": 0},
    {"tf_heads": 0},
    {"proj_dim": 0},
    {"in_dim": 2.5},
    {"tf_dim": 64, "tf_heads": 3},
    {"dropout": 1.0},
    {"dropout": -0.1},
]


@pytest.mark.parametrize("options", BAD, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_bad_config(options: dict) -> None:
    with pytest.raises(InvalidOption):
        EncoderConfig(**options)


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        EncoderConfig().gnn_dim = 3  # type: ignore[misc]
