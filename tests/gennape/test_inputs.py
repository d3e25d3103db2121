"""GENNAPE's input edge: every kind of item becomes a CG; every bad upload is one clear line."""

from __future__ import annotations

import io
import pickle
import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from archpred.errors import InvalidOption
from archpred.gennape import inputs
from archpred.gennape.graphs import GraphSet
from archpred.gennape.inputs import UnsupportedNetwork, onnx_graph, to_graphs, unsupported_ops
from archpred.networks import count_flops, expected_flops
from archpred.networks.graph import to_computation_graph
from archpred.spaces import get_space

NB201 = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
CELLS = {
    "nb101": {
        "adjacency": [[0, 1, 1, 0, 1], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
        "ops": ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"],
    },
    "nb201": NB201,
    "macro": "01200120",
    "enas": [[0], [3, 1], [4, 0, 1], [1, 1, 0, 1], [5, 0, 0, 0, 1], [2, 1, 1, 1, 1, 1]],
}


class Tiny(nn.Module):
    """conv-BN-ReLU, global pool, linear: the smallest network GENNAPE accepts."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.body(x)), 1))


class ShapeArithmetic(nn.Module):
    """Shape queries, arithmetic on them and a copy: harmless ``other`` nodes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=4)
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x).contiguous()
        _, c, h, w = y.shape
        return self.fc(y.view(y.size(0), c * h * w))


class WithLSTM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pool(self.conv(x))
        out, _ = self.lstm(y.view(y.size(0), 1, 8))
        return self.fc(out[:, -1])


class WithFFT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.fft.fft2(self.conv(x)).real


class NoWeights(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


class IgnoresInput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1, 4))
        self.fc = nn.Linear(4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.w)


def _export(net: nn.Module, dynamic: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net.eval(),
            (torch.zeros(1, 3, 32, 32),),
            buffer,
            dynamo=False,
            input_names=["x"],
            dynamic_axes={"x": dynamic or {0: "batch"}},
        )
    return buffer.getvalue()


def _onnx_model(nodes: list, inputs_: list, outputs: list, weights: list) -> bytes:
    graph = helper.make_graph(nodes, "g", inputs_, outputs, weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _tensor(name: str, shape: list[int]) -> onnx.TensorProto:
    return helper.make_tensor(name, TensorProto.FLOAT, shape, np.zeros(int(np.prod(shape)), np.float32))


def _value(name: str, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _lstm_onnx() -> bytes:
    node = helper.make_node("LSTM", ["x", "W", "R"], ["y"], hidden_size=8)
    return _onnx_model(
        [node],
        [_value("x", [1, 5, 4])],
        [_value("y", [1, 1, 5, 8])],
        [_tensor("W", [1, 32, 4]), _tensor("R", [1, 32, 8])],
    )


def _einsum_onnx() -> bytes:
    nodes = [
        helper.make_node("Gemm", ["x", "W"], ["h"], transB=1),
        helper.make_node("Einsum", ["h", "E"], ["y"], equation="bi,ij->bj"),
    ]
    return _onnx_model(
        nodes, [_value("x", [1, 4])], [_value("y", [1, 6])], [_tensor("W", [5, 4]), _tensor("E", [5, 6])]
    )


@pytest.fixture(scope="module")
def tiny_onnx() -> bytes:
    return _export(Tiny())


# -- every kind of item ---------------------------------------------------------------------------


@pytest.mark.parametrize("space", sorted(CELLS))
def test_architectures_of_every_space(space):
    sp = get_space(space)
    arch = sp.cell(CELLS[space]) if space == "enas" else sp.parse(CELLS[space])
    graphs = to_graphs([arch])
    assert isinstance(graphs, GraphSet) and len(graphs) == 1
    assert graphs.keys == (sp.key(arch),)
    assert graphs.flops[0] == expected_flops(arch)  # the benchmark's network, at its real size


@pytest.mark.parametrize("kind", ["module", "path", "str-path", "bytes", "data", "cell-text"])
def test_each_item_kind(kind, tiny_onnx, tmp_path):
    path = tmp_path / "tiny.onnx"
    path.write_bytes(tiny_onnx)
    make = {
        "module": lambda: Tiny(),
        "path": lambda: path,
        "str-path": lambda: str(path),
        "bytes": lambda: tiny_onnx,
        "data": lambda: to_computation_graph(Tiny()),
        "cell-text": lambda: "01200120",
    }[kind]
    key = {"module": "Tiny", "path": "tiny.onnx", "str-path": "tiny.onnx", "bytes": "upload"}
    graphs = to_graphs([make(), make()], space="macro" if kind == "cell-text" else None)
    assert len(graphs) == 2
    if kind == "data":
        assert graphs.keys == ("graph-0", "graph-1")
    elif kind == "cell-text":
        assert graphs.keys == ("01200120", "01200120")
    else:
        assert graphs.keys == (key[kind], key[kind])
        assert graphs.flops.tolist() == [count_flops(Tiny())] * 2


def test_a_mixed_list_keeps_order_keys_and_flops(tiny_onnx, tmp_path):
    path = tmp_path / "net.onnx"
    path.write_bytes(tiny_onnx)
    arch = get_space("macro").parse("01200120")
    items = [Tiny(), arch, path, tiny_onnx, to_computation_graph(ShapeArithmetic())]
    graphs = to_graphs(items)
    assert graphs.keys == ("Tiny", "01200120", "net.onnx", "upload", "graph-4")
    tiny = count_flops(Tiny())
    assert graphs.flops.tolist() == [tiny, expected_flops(arch), tiny, tiny, count_flops(ShapeArithmetic())]


def test_one_item_alone_is_a_list_of_one():
    seq = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(2 * 30 * 30, 10))  # iterable: not a list
    graphs = to_graphs(seq)
    assert len(graphs) == 1 and graphs.keys == ("Sequential",)
    assert len(to_graphs(iter([Tiny(), Tiny()]))) == 2


def test_modules_are_traced_with_input_shape():
    net = ShapeArithmetic()
    assert to_graphs([net]).flops[0] == count_flops(net, (3, 32, 32))  # the default
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
    assert to_graphs([net], input_shape=(3, 16, 16)).flops[0] == count_flops(net, (3, 16, 16))
    with pytest.raises(InvalidOption, match="input_shape"):
        to_graphs([net], input_shape=(16, 16))


def test_source_ops_name_the_real_operations(tiny_onnx):
    fx = to_computation_graph(ShapeArithmetic())
    assert fx.source_ops[:3] == ["input", "Conv2d", "Tensor.contiguous"]
    assert {"Tensor.shape", "Tensor.size", "Linear"} <= set(fx.source_ops)
    assert len(fx.source_ops) == fx.num_nodes
    onnx_cg = onnx_graph(tiny_onnx)
    assert {"Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"} <= set(onnx_cg.source_ops)


def test_shape_arithmetic_and_copies_are_harmless():
    net = ShapeArithmetic()
    assert unsupported_ops(to_computation_graph(net)) == []
    assert to_graphs([net]).flops[0] == count_flops(net)
    exported = onnx_graph(_export(net))  # Shape -> Gather -> Mul -> Concat -> Reshape in ONNX
    assert "Shape" in exported.source_ops and unsupported_ops(exported) == []


class ChannelShuffle(nn.Module):
    """ShuffleNet's data movement: chunk, transpose, permute, squeeze/unsqueeze, hardswish."""

    def __init__(self, chunk: bool = True) -> None:
        super().__init__()
        self.chunk = chunk
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        if self.chunk:  # (fx traces one branch; ONNX's Slice of a chunk has no inferable shape)
            y = torch.cat(y.chunk(2, dim=1), 1)
        y = y.view(-1, 2, 4, 32, 32).transpose(1, 2).reshape(-1, 8, 32, 32)  # constants: ONNX infers shapes
        y = nn.functional.hardswish(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.fc(y.mean((2, 3)).unsqueeze(1).squeeze(1))


def test_data_movement_maps_to_reshape_and_slice():
    cg = to_computation_graph(ChannelShuffle())
    ops = dict(zip(cg.source_ops, cg.ops))
    assert ops["Tensor.transpose"] == ops["Tensor.permute"] == ops["Tensor.squeeze"] == "reshape"
    assert ops["Tensor.chunk"] == "slice" and ops["hardswish"] == "activation"
    assert unsupported_ops(cg) == []
    exported = onnx_graph(_export(ChannelShuffle(chunk=False)))
    assert "Transpose" in exported.source_ops and unsupported_ops(exported) == []


# -- bad uploads: one line each -------------------------------------------------------------------


def _file(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


BAD_UPLOADS = {
    "empty bytes": (lambda tmp: b"", "upload is an empty file"),
    "empty file": (lambda tmp: _file(tmp, "e.onnx", b""), "e.onnx is an empty file"),
    "random bytes": (lambda tmp: np.random.default_rng(0).bytes(4096), "not an ONNX model"),
    "pickle renamed .onnx": (
        lambda tmp: _file(tmp, "model.onnx", pickle.dumps({"weights": [1.0, 2.0]})),
        "model.onnx is not an ONNX model",
    ),
    "ONNX with LSTM": (lambda tmp: _lstm_onnx(), "unsupported operation(s) in upload: LSTM ("),
    "ONNX with Einsum": (lambda tmp: _einsum_onnx(), "unsupported operation(s) in upload: Einsum ("),
    "missing file": (lambda tmp: tmp / "nothing.onnx", "no such ONNX file"),
}


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_bad_uploads_give_one_line(case, tmp_path):
    make, expected = BAD_UPLOADS[case]
    with pytest.raises(UnsupportedNetwork) as err:
        to_graphs([make(tmp_path)])
    message = str(err.value)
    assert expected in message and "\n" not in message


def test_oversize_is_refused_before_reading_or_parsing(tiny_onnx, tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "MAX_ONNX_BYTES", 100)

    def forbidden(*args, **kwargs):
        raise AssertionError("read or parsed an oversize file")

    monkeypatch.setattr(onnx, "load_model_from_string", forbidden)
    monkeypatch.setattr(type(tmp_path), "read_bytes", forbidden)
    path = tmp_path / "big.onnx"
    path.write_bytes(tiny_onnx)
    for item, name in ((tiny_onnx, "upload"), (path, "big.onnx")):
        with pytest.raises(
            UnsupportedNetwork, match=rf"^{name} is \d+(\.\d+)? (KB|bytes); ONNX files are limited to 100 bytes$"
        ):
            to_graphs([item])


def test_the_real_limit_is_50_mb():
    assert inputs.MAX_ONNX_BYTES == 50 * 1024 * 1024


@pytest.mark.parametrize(
    ("net", "names"), [(WithLSTM(), ["LSTM"]), (WithFFT(), ["fft_fft2", "Tensor.real"])], ids=["lstm", "fft"]
)
def test_modules_with_unsupported_ops_name_them(net, names):
    with pytest.raises(UnsupportedNetwork) as err:
        to_graphs([net])
    message = str(err.value)
    assert message.startswith(f"unsupported operation(s) in {type(net).__name__}: {', '.join(names)} (")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("net", "expected"),
    [(NoWeights(), "no convolution or linear layer"), (IgnoresInput(), "no path from its input to its output")],
    ids=["no-weights", "no-path"],
)
def test_graphs_gennape_cannot_use(net, expected):
    with pytest.raises(UnsupportedNetwork, match=expected):
        to_graphs([net])


def test_a_module_that_does_not_run_says_why():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4, 10))  # wants 1 channel
    with pytest.raises(UnsupportedNetwork) as err:
        to_graphs([net])
    message = str(err.value)
    assert "does not run on an input of shape [1, 3, 32, 32]" in message and "channels" in message
    assert "ShapeProp" not in message and "\n" not in message


def test_onnx_without_fixed_input_size(tiny_onnx):
    dynamic = _export(Tiny(), {0: "batch", 2: "height", 3: "width"})
    with pytest.raises(UnsupportedNetwork, match=r"input 'x' of upload has no fixed shape \(\['\?', 3, '\?', '\?'\]\)"):
        onnx_graph(dynamic)
    onnx_graph(tiny_onnx)  # a dynamic batch alone is fine


def test_onnx_with_shapes_inference_cannot_know():
    nodes = [helper.make_node("Gemm", ["x", "W"], ["h"], transB=1), helper.make_node("Reshape", ["h", "s"], ["y"])]
    shape_input = helper.make_tensor_value_info("s", TensorProto.INT64, [2])  # a runtime shape
    model = _onnx_model(nodes, [_value("x", [1, 4]), shape_input], [_value("y", ["a", "b"])], [_tensor("W", [6, 4])])
    with pytest.raises(UnsupportedNetwork, match=r"could not find the shape of 'y' \(Reshape\) in upload"):
        onnx_graph(model)


def test_onnx_whose_shape_inference_fails():
    nodes = [helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)]  # 4 inputs, weight for 3
    model = _onnx_model(nodes, [_value("x", [1, 4])], [_value("y", [1, 6])], [_tensor("W", [6, 3])])
    with pytest.raises(UnsupportedNetwork, match=r"^ONNX shape inference failed on upload: .+") as err:
        onnx_graph(model)
    assert "\n" not in str(err.value)


def test_onnx_checker_failures_are_one_line():
    node = helper.make_node("Gemm", ["x"], ["y"])  # Gemm needs at least 2 inputs
    with pytest.raises(UnsupportedNetwork, match=r"^upload fails the ONNX checker: ") as err:
        onnx_graph(_onnx_model([node], [_value("x", [1, 4])], [_value("y", [1, 6])], []))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("item", "expected"),
    [(3, "from a int:"), ("|nor_conv_3x3~0|", "from a str (a cell as text? give space=)"), (nn.Conv2d, "from a type")],
    ids=["int", "cell-without-space", "class"],
)
def test_other_items_name_their_type(item, expected):
    with pytest.raises(UnsupportedNetwork, match=expected.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        to_graphs([item])


def test_encoder_features_cannot_be_packed_again():
    packed = GraphSet.from_graphs([to_computation_graph(Tiny())])
    with pytest.raises(UnsupportedNetwork, match="not a computation graph of to_computation_graph"):
        to_graphs([packed.graph(0)])


def test_arch_of_another_space():
    with pytest.raises(InvalidOption, match="a macro architecture was given with space='nb201'"):
        to_graphs([get_space("macro").parse("01200120")], space="nb201")


def test_random_bytes_never_parse_as_a_model():
    rng = np.random.default_rng(1)
    for size in (1, 7, 64, 1000):
        with pytest.raises(UnsupportedNetwork, match="not an ONNX model"):
            onnx_graph(rng.bytes(size))
    with pytest.raises(UnsupportedNetwork, match="not an ONNX model"):
        onnx_graph(b"\x08\x07")  # a valid protobuf (ir_version 7) without a graph
