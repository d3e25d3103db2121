"""Computation graphs (torch.fx and ONNX) and Laplacian spectra."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch_geometric.data import Data

from archpred.networks import build_network
from archpred.networks.graph import (
    FEATURE_NAMES,
    OP_TYPES,
    UntraceableNetwork,
    laplacian_eigenvalues,
    onnx_to_graph,
    to_computation_graph,
)
from archpred.spaces import get_space

CELLS = {
    "nb101": {
        "adjacency": [[0, 1, 1, 0, 1], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
        "ops": ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"],
    },
    "nb201": "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
    "macro": "01200120",
    "enas": [[0], [3, 1], [4, 0, 1], [1, 1, 0, 1], [5, 0, 0, 0, 1], [2, 1, 1, 1, 1, 1]],
}


def _count(data: Data, op: str) -> int:
    return sum(o == op for o in data.ops)


def _check_wellformed(data: Data) -> None:
    n = data.num_nodes
    assert data.x.shape == (n, len(FEATURE_NAMES)) and len(FEATURE_NAMES) == len(OP_TYPES) + 11
    assert (data.x[:, : len(OP_TYPES)].sum(1) == 1).all()
    assert data.edge_index.min() >= 0 and data.edge_index.max() < n
    assert (data.edge_index[0] < data.edge_index[1]).all()  # fx order is topological
    assert data.ops[0] == "input" and data.ops[-1] == "output"


@pytest.mark.parametrize("space", ["nb101", "nb201", "macro", "enas"])
def test_benchmark_networks(space):
    arch = get_space(space).parse(CELLS[space]) if space != "enas" else get_space("enas").cell(CELLS["enas"])
    net = build_network(arch, width=8, input_size=16)
    data = to_computation_graph(net)
    _check_wellformed(data)
    last_linear = max(i for i, o in enumerate(data.ops) if o == "linear")
    assert data.x[last_linear, -5:].tolist() == [10, net.classifier.in_features, 1, 1, 1]  # weight shape + bias
    if space == "nb101":
        # 3 stacks x 3 cells; this cell has 2 convs + 2 input projections + an output projection per cell
        assert _count(data, "conv") == 1 + 9 * 5 and _count(data, "maxpool") == 9 + 2
        assert _count(data, "concat") == 0 and _count(data, "add") == 9 * 2
    if space == "macro":
        assert _count(data, "depthwise_conv") == 4
        first = data.ops.index("conv")
        assert data.x[first, -11:].tolist() == [16, 16, 3, 16, 16, 8, 8, 3, 3, 3, 0]
    if space == "nb201":
        assert _count(data, "avgpool") == 15 + 2 and _count(data, "zeros") == 0


def test_user_module_and_shapes():
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(1, 4, 3, padding=1)
            self.b = nn.Conv2d(1, 4, 1, bias=False)
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            y = torch.cat([torch.relu(self.a(x)), self.b(x)], dim=1)
            return self.fc(y.mean(dim=(2, 3)))

    data = to_computation_graph(Tiny(), (1, 6, 5))
    _check_wellformed(data)
    assert data.ops == ["input", "conv", "relu", "conv", "concat", "mean", "linear", "output"]
    conv = data.x[1, len(OP_TYPES) :].tolist()
    assert conv == [6, 5, 1, 6, 5, 4, 4, 1, 3, 3, 1]
    assert data.x[3, -1] == 0  # no bias
    assert data.x[5, len(OP_TYPES) :].tolist()[:6] == [6, 5, 8, 1, 1, 8]
    assert {tuple(e) for e in data.edge_index.t().tolist()} == {
        (0, 1),
        (1, 2),
        (0, 3),
        (2, 4),
        (3, 4),
        (4, 5),
        (5, 6),
        (6, 7),
    }


def test_untraceable_module_is_a_clear_error():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            if x.sum() > 0:
                return self.fc(x)
            return -self.fc(x)

    with pytest.raises(UntraceableNetwork, match=r"Branchy cannot be traced with torch.fx .* export the model to ONNX"):
        to_computation_graph(Branchy(), (4,))
    with pytest.raises(ValueError, match="does not run on an input of shape"):
        to_computation_graph(nn.Linear(4, 2), (3, 8, 8))
    with pytest.raises(ValueError, match="needs a torch.nn.Module"):
        to_computation_graph("net")


def test_onnx_file(tmp_path):
    pytest.importorskip("onnx")
    net = build_network(get_space("macro").cell("12000000"), width=8, input_size=8).eval()
    path = tmp_path / "net.onnx"
    with pytest.warns(DeprecationWarning):
        torch.onnx.export(net, (torch.zeros(1, 3, 8, 8),), str(path), dynamo=False)
    data = onnx_to_graph(path)
    _check_wellformed(data)
    assert _count(data, "depthwise_conv") == 2 and _count(data, "linear") == 1
    conv = data.ops.index("conv")
    assert data.x[conv, len(OP_TYPES) :].tolist()[:10] == [8, 8, 3, 8, 8, 8, 8, 3, 3, 3]
    with pytest.raises(FileNotFoundError):
        onnx_to_graph(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00not a model")
    with pytest.raises(ValueError, match="not a readable ONNX model"):
        onnx_to_graph(bad)


def test_handmade_onnx_graph():
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((4, 2, 3, 3), dtype=np.float32), "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Add", ["r", "c"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 5, 5])],
        [w],
    )
    data = onnx_to_graph(helper.make_model(graph))
    assert data.ops == ["input", "conv", "relu", "add", "output"]
    assert data.x[1, len(OP_TYPES) :].tolist() == [5, 5, 2, 5, 5, 4, 4, 2, 3, 3, 0]
    assert sorted(map(tuple, data.edge_index.t().tolist())) == [(0, 1), (1, 2), (1, 3), (2, 3), (3, 4)]
    del onnx


def test_laplacian_eigenvalues():
    # path graph on 3 nodes: normalised Laplacian eigenvalues 0, 1, 2
    path = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    values = laplacian_eigenvalues(path, k=5)
    assert np.allclose(values, [0, 1, 2, 0, 0], atol=1e-9)
    data = to_computation_graph(build_network(get_space("macro").cell("00000000"), width=4, input_size=8))
    spectrum = laplacian_eigenvalues(data)
    n = min(21, data.num_nodes)
    assert spectrum.shape == (21,) and (np.diff(spectrum[:n]) >= -1e-9).all() and abs(spectrum[0]) < 1e-9
    assert (spectrum[n:] == 0).all()
    big = laplacian_eigenvalues(to_computation_graph(build_network(get_space("macro").cell("22222222"), width=4)))
    assert (np.diff(big) >= -1e-9).all() and big[-1] > 0
    assert (spectrum >= 0).all() and (spectrum <= 2).all()
    with pytest.raises(ValueError, match="must be square"):
        laplacian_eigenvalues(np.zeros((2, 3)))
