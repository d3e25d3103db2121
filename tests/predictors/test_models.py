"""Model internals (architecture as in the papers, augmentation, two-stage mode) and tiny
end-to-end fits on real NB-201 data that must beat a constant predictor."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archpred.errors import DataNotFound
from archpred.metrics import kendall_tau, rmse
from archpred.predictors import make_predictor
from archpred.predictors.baselines import wide_depth_features, wide_depth_names
from archpred.predictors.gnn import GNNSurrogate, PairMessage, batch_from_padded
from archpred.predictors.neural_predictor import NeuralPredictorNet
from archpred.predictors.torch_common import onehot_from_padded, padded_graphs, random_topological_relabel
from archpred.spaces import get_space

torch.set_num_threads(1)


def test_gnn_architecture_matches_the_paper():
    net = GNNSurrogate(num_types=5)
    assert net.embed.weight.shape == (5, 250)
    assert len(net.rounds) == 2 and net.rounds[0].forward_msg.lin is not net.rounds[1].forward_msg.lin
    r = net.rounds[0]
    assert r.forward_msg.lin.weight.shape == (500, 500) and r.reverse_msg.lin.weight.shape == (500, 500)
    assert (r.update.input_size, r.update.hidden_size) == (500, 250)
    assert net.project.weight.shape == (56, 250) and net.gate.weight.shape == (1, 250)
    widths = [m.out_features for m in net.regressor if isinstance(m, torch.nn.Linear)]
    assert widths == [28, 14, 7, 1]


def test_pair_message_is_linear_on_the_concatenation():
    torch.manual_seed(0)
    layer = PairMessage(4)
    h = torch.randn(5, 4)
    edges = torch.tensor([[0, 0, 1, 2, 3], [1, 2, 3, 3, 4]])
    expected = torch.zeros(5, 8).index_add_(0, edges[1], layer.lin(torch.cat([h[edges[1]], h[edges[0]]], -1)))
    torch.testing.assert_close(layer(h, edges), expected)


def test_batch_from_padded_drops_padding():
    space = get_space("nb101")
    archs = [space.cell([[0, 1], [0, 0]], ["input", "output"]), space.sample(np.random.default_rng(0))]
    feats = padded_graphs(space, archs)
    node_type, edge_index, batch = batch_from_padded(feats["types"], feats["adj"])
    assert len(node_type) == 2 + archs[1].num_vertices
    assert batch.tolist() == [0, 0] + [1] * archs[1].num_vertices
    assert edge_index.shape[1] == 1 + archs[1].num_edges
    assert edge_index[:, 0].tolist() == [0, 1]


def test_gnn_is_permutation_invariant():
    space = get_space("nb101")
    rng = np.random.default_rng(3)
    feats = padded_graphs(space, [space.sample(rng) for _ in range(6)])
    types, adj = feats["types"].numpy(), feats["adj"].numpy()
    pairs = [random_topological_relabel(t, a, rng) for t, a in zip(types, adj)]
    t2, a2 = torch.from_numpy(np.stack([p[0] for p in pairs])), torch.from_numpy(np.stack([p[1] for p in pairs]))
    torch.manual_seed(0)
    net = GNNSurrogate(5, d_node=8, d_graph=4).eval()
    with torch.no_grad():
        a = net(*batch_from_padded(feats["types"], feats["adj"]), 6)
        b = net(*batch_from_padded(t2, a2), 6)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("space_name", ["nb101", "nb201"])
@pytest.mark.parametrize("rounds", [1, 2])
def test_dense_gnn_equals_the_message_passing_one(space_name, rounds):
    """``forward_dense`` (batched matmuls on padded graphs, what the predictor runs) computes
    the same function as the PyG message passing of the paper's equations, gradients included."""
    space = get_space(space_name)
    rng = np.random.default_rng(4)
    feats = padded_graphs(space, [space.sample(rng) for _ in range(9)])
    torch.manual_seed(1)
    net = GNNSurrogate(len(space.node_types), d_node=8, d_graph=4, rounds=rounds)
    sparse = net(*batch_from_padded(feats["types"], feats["adj"]), 9)
    dense = net.forward_dense(feats["types"], feats["adj"])
    torch.testing.assert_close(dense, sparse, rtol=1e-5, atol=1e-6)
    grads = [torch.autograd.grad(out.sum(), net.parameters()) for out in (sparse, dense)]
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_relabel_is_isomorphic():
    space = get_space("nb101")
    rng = np.random.default_rng(1)
    changed = 0
    for _ in range(30):
        arch = space.sample(rng)
        adj, types = space.padded(arch)
        t2, a2 = random_topological_relabel(types, adj, rng)
        keep = np.flatnonzero(t2 >= 0)
        other = space.cell(a2[np.ix_(keep, keep)], [space.node_types[t] for t in t2[keep]])
        assert space.hash(other) == space.hash(arch)
        changed += not np.array_equal(a2, adj) or not np.array_equal(t2, types)
    assert changed > 0


@pytest.mark.parametrize("space_name", ["nb101", "nb201", "enas"])
def test_onehot_from_padded_matches_space_encoding(space_name):
    space = get_space(space_name)
    archs = [space.sample(np.random.default_rng(i)) for i in range(5)]
    feats = padded_graphs(space, archs)
    ours = onehot_from_padded(feats["types"], feats["adj"], len(space.ops)).numpy()
    np.testing.assert_array_equal(ours, space.encode_many(archs, "onehot"))


def test_neural_predictor_output_range_and_layers():
    net = NeuralPredictorNet(num_types=7)
    assert len(net.gcn) == 3 and net.fc.out_features == 128
    types = torch.tensor([[0, 1, 2, 3, 4, 5, -1, 6]])
    adj = torch.zeros(1, 8, 8, dtype=torch.uint8)
    for u, v in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 7)]:
        adj[0, u, v] = 1
    with torch.no_grad():
        for scale in (-100.0, 100.0):
            net.out.bias.fill_(scale)
            value = float(net(types, adj))
            assert 0.10 - 1e-6 <= value <= 1.00 + 1e-6


def test_wide_depth_features():
    space = get_space("nb101")
    chain = space.cell(
        [[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
        ["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
    )
    f = dict(zip(wide_depth_names(space), wide_depth_features(space, chain)))
    assert f["vertices"] == 4 and f["edges"] == 4 and f["depth"] == 3 and f["paths"] == 2
    assert f["#conv3x3-bn-relu"] == 1 and f["#maxpool3x3"] == 1 and f["#conv1x1-bn-relu"] == 0


def test_two_stage_caps_rejected_archs():
    space = get_space("nb201")
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(60)]
    y = np.array([0.95 if a.edge_ops.count("nor_conv_3x3") >= 2 else 0.5 for a in archs])
    model = make_predictor(
        "neural-predictor", device="cpu", threshold=0.9, loss="mse", hidden=16, fc=16, epochs=30, batch_size=16
    ).fit(archs, y)
    proba = model.predict_proba(archs)
    assert proba.shape == (60,) and np.all((proba >= 0) & (proba <= 1))
    pred = model.predict(archs)
    assert np.all(pred[proba < 0.5] <= 0.9 + 1e-9)
    with pytest.raises(ValueError, match="two-stage"):
        make_predictor("neural-predictor", hidden=16, epochs=1).fit(archs, y).predict_proba(archs)


def test_cross_validation_grows_parameters():
    space = get_space("nb201")
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(30)]
    y = rng.uniform(0.5, 0.9, 30)
    model = make_predictor(
        "neural-predictor", device="cpu", cv_folds=2, cv_hidden=(8, 16), cv_lr=(1e-3,), epochs=2, batch_size=16, fc=8
    ).fit(archs, y)
    assert set(model.cv_scores_) == {"8/0.001", "16/0.001"}
    chosen = int(min(model.cv_scores_, key=model.cv_scores_.get).split("/")[0])
    base = sum(p.numel() for p in model._net(chosen).parameters())
    assert model.num_parameters() >= 1.5 * base > sum(p.numel() for p in model._net(model.hidden_ - 1).parameters())


# -- real data ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nb201():
    from archpred.data import load_benchmark

    try:
        return load_benchmark("nb201")
    except DataNotFound as err:
        pytest.skip(str(err))


E2E = {
    "gnn": {"d_node": 32, "d_graph": 16, "epochs": 25, "batch_size": 32, "lr": 3e-3},
    "neural-predictor": {"hidden": 32, "epochs": 40, "batch_size": 32, "lr": 3e-3},
    "random-forest": {"n_estimators": 30, "features": "onehot"},
    "mlp": {"hidden": (64, 64), "epochs": 40, "batch_size": 32},
    "lstm": {"hidden": 32, "num_layers": 1, "epochs": 25, "batch_size": 32, "lr": 3e-3},
}


@pytest.mark.parametrize("name", list(E2E))
def test_end_to_end_beats_a_constant(nb201, name):
    order = np.random.default_rng(0).permutation(len(nb201))
    train, test = order[:300], order[300:2300]
    model = make_predictor(name, seed=0, device="cpu", **E2E[name])
    model.fit([nb201.archs[i] for i in train], nb201.accuracy[train])
    y = nb201.accuracy[test]
    pred = model.predict([nb201.archs[i] for i in test])
    assert kendall_tau(y, pred) > 0.3
    assert rmse(y, pred) < 0.9 * y.std()  # a constant predictor's RMSE is at least the std
