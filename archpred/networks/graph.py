"""Computation graphs of real networks (GENNAPE's input) and their spectra.

``to_computation_graph(net, input_shape)`` traces a module with ``torch.fx``, propagates one
input to get every tensor's shape, and returns a ``torch_geometric.data.Data`` whose nodes are
primitive operations (conv, linear, batch-norm, relu, pooling, add, concat, mean, ...) and whose
directed edges follow the data flow. ``onnx_to_graph(path)`` does the same for an ONNX file.

Node features ``x`` (GENNAPE's): the op-type one-hot over ``OP_TYPES``, then 12 numbers
``in_H, in_W, in_C, out_H, out_W, out_C`` (a 2-D tensor (N, C) counts as H = W = 1; the first
tensor input is the input shape), ``w_out, w_in, w_kH, w_kW`` (the weight tensor's shape, 0 for
ops without weights; linear layers have kH = kW = 1) and ``bias`` (0/1). Also on the ``Data``:
``op_type`` (ids), ``names`` and ``ops`` (lists of str), ``feature_names``, and ``source_ops``
(list of str): the operation each node came from -- the ONNX ``op_type``; for fx the module's
class name, the function's name, ``Tensor.<method>`` or ``Tensor.<attribute>`` -- so that nodes
mapped to ``other`` can be named to a user.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Data

from archpred.errors import ArchpredError, InvalidOption

OP_TYPES = (
    "input",
    "output",
    "conv",
    "depthwise_conv",
    "linear",
    "batchnorm",
    "relu",
    "activation",
    "maxpool",
    "avgpool",
    "global_avgpool",
    "add",
    "mul",
    "concat",
    "mean",
    "reshape",
    "slice",
    "pad",
    "zeros",
    "identity",
    "dropout",
    "other",
)
SHAPE_FEATURES = ("in_H", "in_W", "in_C", "out_H", "out_W", "out_C", "w_out", "w_in", "w_kH", "w_kW", "bias")
FEATURE_NAMES = tuple(f"op_{o}" for o in OP_TYPES) + SHAPE_FEATURES


class UntraceableNetwork(ArchpredError, ValueError):
    """A module ``torch.fx`` cannot trace (data-dependent control flow, say)."""


_MODULE_OPS: list[tuple[type, str]] = [
    (nn.Linear, "linear"),
    (nn.modules.batchnorm._BatchNorm, "batchnorm"),
    (nn.ReLU, "relu"),
    (nn.MaxPool2d, "maxpool"),
    (nn.AvgPool2d, "avgpool"),
    (nn.AdaptiveAvgPool2d, "global_avgpool"),
    (nn.AdaptiveMaxPool2d, "maxpool"),
    (nn.Flatten, "reshape"),
    (nn.Identity, "identity"),
    (nn.modules.dropout._DropoutNd, "dropout"),
    (
        (
            nn.ReLU6,
            nn.GELU,
            nn.SiLU,
            nn.Sigmoid,
            nn.Tanh,
            nn.LeakyReLU,
            nn.ELU,
            nn.Hardswish,
            nn.Hardsigmoid,
            nn.Softmax,
        ),
        "activation",
    ),
    ((nn.ZeroPad2d, nn.ConstantPad2d, nn.ReflectionPad2d), "pad"),
]
_FUNCTION_OPS: dict[Any, str] = {
    operator.add: "add",
    torch.add: "add",
    operator.iadd: "add",
    operator.mul: "mul",
    torch.mul: "mul",
    torch.cat: "concat",
    torch.concat: "concat",
    torch.mean: "mean",
    torch.flatten: "reshape",
    torch.reshape: "reshape",
    operator.getitem: "slice",
    torch.relu: "relu",
    nn.functional.relu: "relu",
    torch.zeros_like: "zeros",
    nn.functional.pad: "pad",
    nn.functional.max_pool2d: "maxpool",
    nn.functional.avg_pool2d: "avgpool",
    nn.functional.adaptive_avg_pool2d: "global_avgpool",
    nn.functional.linear: "linear",
    nn.functional.dropout: "dropout",
    torch.sigmoid: "activation",
    torch.tanh: "activation",
    nn.functional.gelu: "activation",
    nn.functional.silu: "activation",
    nn.functional.relu6: "activation",
    nn.functional.softmax: "activation",
    nn.functional.hardswish: "activation",
    nn.functional.hardsigmoid: "activation",
    nn.functional.leaky_relu: "activation",
    nn.functional.elu: "activation",
    # data movement: a new view of the same numbers (channel shuffles, token layouts)
    torch.permute: "reshape",
    torch.transpose: "reshape",
    torch.squeeze: "reshape",
    torch.unsqueeze: "reshape",
    torch.chunk: "slice",
    torch.split: "slice",
}
_METHOD_OPS = {
    "add": "add",
    "mul": "mul",
    "mean": "mean",
    "view": "reshape",
    "reshape": "reshape",
    "flatten": "reshape",
    "relu": "relu",
    "sigmoid": "activation",
    "size": "other",
    "permute": "reshape",
    "transpose": "reshape",
    "squeeze": "reshape",
    "unsqueeze": "reshape",
    "view_as": "reshape",
    "chunk": "slice",
    "split": "slice",
}


def _module_op(module: nn.Module) -> str:
    if isinstance(module, nn.modules.conv._ConvNd):
        groups = module.groups
        return "depthwise_conv" if groups > 1 and groups == module.in_channels else "conv"
    for cls, name in _MODULE_OPS:
        if isinstance(module, cls):
            return name
    return "other"


def _hwc(shape: Sequence[int] | None) -> tuple[float, float, float]:
    """(H, W, C) of an NCHW / NC tensor shape (batch dropped)."""
    if shape is None:
        return (0.0, 0.0, 0.0)
    dims = list(shape)[1:]
    if len(dims) >= 3:
        return (float(dims[-2]), float(dims[-1]), float(dims[0]))
    if len(dims) == 2:
        return (1.0, float(dims[1]), float(dims[0]))
    if len(dims) == 1:
        return (1.0, 1.0, float(dims[0]))
    return (1.0, 1.0, 1.0)


def _weight_features(weight_shape: Sequence[int] | None, bias: bool) -> tuple[float, ...]:
    if not weight_shape:
        return (0.0, 0.0, 0.0, 0.0, float(bias))
    w = list(weight_shape) + [1] * (4 - len(weight_shape))
    return (float(w[0]), float(w[1]), float(w[2]), float(w[3]), float(bias))


class _GraphBuilder:
    """The nodes and edges of a computation graph as a tracer finds them; ``data()`` makes the
    PyG graph with GENNAPE's node features."""

    def __init__(self) -> None:
        self.nodes: list[tuple[str, str, Any, Any, Any, bool]] = []  # name, op, in, out, weight, bias
        self.edges: list[tuple[int, int]] = []
        self.source_ops: list[str] = []

    def add(
        self,
        name: str,
        op: str,
        in_shape: Any = None,
        out_shape: Any = None,
        weight: Any = None,
        bias: bool = False,
        sources: Sequence[int] = (),
        source_op: str = "",
    ) -> int:
        """Append a node fed by the nodes ``sources``; ``source_op`` is the operation it came from
        (default: ``op``). Returns its index."""
        me = len(self.nodes)
        self.nodes.append((name, op, in_shape, out_shape, weight, bias))
        self.source_ops.append(source_op or op)
        self.edges.extend((s, me) for s in sources)
        return me

    def data(self) -> Data:
        names = [n[0] for n in self.nodes]
        ops = [n[1] for n in self.nodes]
        types = torch.tensor([OP_TYPES.index(o) for o in ops], dtype=torch.long)
        onehot = nn.functional.one_hot(types, len(OP_TYPES)).float()
        numeric = torch.tensor(
            [(*_hwc(i), *_hwc(o), *_weight_features(w, b)) for _, _, i, o, w, b in self.nodes],
            dtype=torch.float32,
        ).reshape(len(ops), len(SHAPE_FEATURES))
        edge_index = torch.tensor(self.edges, dtype=torch.long).t().reshape(2, -1)
        data = Data(x=torch.cat([onehot, numeric], dim=1), edge_index=edge_index, op_type=types, num_nodes=len(ops))
        data.names, data.ops, data.feature_names = names, ops, list(FEATURE_NAMES)
        data.source_ops = list(self.source_ops)
        return data


def _shape(node: Any) -> tuple[int, ...] | None:
    meta = node.meta.get("tensor_meta") if hasattr(node, "meta") else None
    if meta is None or not hasattr(meta, "shape"):
        return None
    return tuple(int(s) for s in meta.shape)


def _fx_source_op(node: Any, modules: dict[str, nn.Module]) -> str:
    """The name of the operation an fx node calls: the module's class, the function's name,
    ``Tensor.<method>``, or ``Tensor.<attribute>`` for ``getattr`` (``x.shape``, ``x.real``)."""
    if node.op == "call_module":
        return type(modules[node.target]).__name__
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    if node.op == "call_function":
        if node.target is getattr and len(node.args) > 1 and isinstance(node.args[1], str):
            return f"Tensor.{node.args[1]}"
        return str(getattr(node.target, "__name__", node.target))
    return ""


def to_computation_graph(net: nn.Module, input_shape: Sequence[int] | None = None) -> Data:
    """Trace ``net`` (one tensor input) into its graph of primitive operations.

    Args:
        input_shape: (C, H, W) or (N, C, H, W); default: the network's config (archpred
            networks) or (3, 32, 32).

    Raises:
        UntraceableNetwork: ``torch.fx`` cannot trace the module (the message says why).
    """
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp

    from archpred.networks import input_shape as default_shape

    if not isinstance(net, nn.Module):
        raise InvalidOption(f"to_computation_graph needs a torch.nn.Module, got {type(net).__name__}")
    shape = tuple(input_shape) if input_shape is not None else default_shape(net)
    if len(shape) == 3:
        shape = (1, *shape)
    try:
        traced = torch.fx.symbolic_trace(net)
    except Exception as err:  # fx raises TraceError, TypeError, NotImplementedError, ...
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UntraceableNetwork(
            f"{type(net).__name__} cannot be traced with torch.fx ({type(err).__name__}: {first}); "
            "remove data-dependent control flow from forward() or export the model to ONNX"
        ) from None
    try:
        ref = next(net.parameters())
        device, dtype = ref.device, ref.dtype
    except StopIteration:
        device, dtype = torch.device("cpu"), torch.float32
    was_training = net.training
    traced.eval()
    try:
        with torch.no_grad():
            ShapeProp(traced).propagate(torch.zeros(shape, device=device, dtype=dtype))
    except Exception as err:
        raise InvalidOption(
            f"{type(net).__name__} does not run on an input of shape {list(shape)} ({type(err).__name__}: "
            f"{str(err).strip().splitlines()[0] if str(err).strip() else ''})"
        ) from None
    finally:
        net.train(was_training)

    modules = dict(traced.named_modules())
    index: dict[Any, int] = {}
    builder = _GraphBuilder()
    for node in traced.graph.nodes:
        if node.op == "get_attr":
            continue
        weight, bias = None, False
        if node.op == "placeholder":
            op = "input"
        elif node.op == "output":
            op = "output"
        elif node.op == "call_module":
            module = modules[node.target]
            op = _module_op(module)
            w = getattr(module, "weight", None)
            if isinstance(w, torch.Tensor) and op in ("conv", "depthwise_conv", "linear", "batchnorm"):
                weight = tuple(w.shape)
            bias = isinstance(getattr(module, "bias", None), torch.Tensor)
        elif node.op == "call_function":
            op = _FUNCTION_OPS.get(node.target, "other")
        else:  # call_method
            op = _METHOD_OPS.get(str(node.target), "other")
        sources = [index[s] for s in node.all_input_nodes if s in index]
        first_input = next((s for s in node.all_input_nodes if s in index and _shape(s) is not None), None)
        if node.op == "output":
            in_shape = _shape(first_input) if first_input is not None else None
            out_shape = in_shape
        else:
            out_shape = _shape(node)
            in_shape = _shape(first_input) if first_input is not None else out_shape
        index[node] = builder.add(
            node.name, op, in_shape, out_shape, weight, bias, sources, _fx_source_op(node, modules)
        )
    return builder.data()


_ONNX_OPS = {
    "Conv": "conv",
    "Gemm": "linear",
    "MatMul": "linear",
    "BatchNormalization": "batchnorm",
    "Relu": "relu",
    "MaxPool": "maxpool",
    "AveragePool": "avgpool",
    "GlobalAveragePool": "global_avgpool",
    "GlobalMaxPool": "maxpool",
    "Add": "add",
    "Sum": "add",
    "Mul": "mul",
    "Concat": "concat",
    "ReduceMean": "mean",
    "Reshape": "reshape",
    "Flatten": "reshape",
    "Squeeze": "reshape",
    "Unsqueeze": "reshape",
    "Slice": "slice",
    "Gather": "slice",
    "Pad": "pad",
    "Identity": "identity",
    "Dropout": "dropout",
    "Sigmoid": "activation",
    "Tanh": "activation",
    "Clip": "activation",
    "HardSwish": "activation",
    "LeakyRelu": "activation",
    "Softmax": "activation",
    "Gelu": "activation",
    "HardSigmoid": "activation",
    "Elu": "activation",
    "Transpose": "reshape",
    "Split": "slice",
}


def onnx_to_graph(path: str | Path | Any) -> Data:
    """The computation graph of an ONNX model (a file path or an ``onnx.ModelProto``), with the
    same node features as ``to_computation_graph`` (shapes from ONNX shape inference)."""
    import onnx

    if isinstance(path, (str, Path)):
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"no such ONNX file: {file}")
        try:
            model = onnx.load(str(file))
        except Exception as err:
            raise InvalidOption(f"{file}: not a readable ONNX model ({type(err).__name__})") from None
    else:
        model = path
    with contextlib.suppress(Exception):  # keep going without inferred shapes
        model = onnx.shape_inference.infer_shapes(model)
    graph = model.graph
    init = {t.name: tuple(int(d) for d in t.dims) for t in graph.initializer}

    def dims(value: Any) -> tuple[int, ...] | None:
        t = value.type.tensor_type
        if not t.HasField("shape"):
            return None
        return tuple(int(d.dim_value) if d.HasField("dim_value") else 1 for d in t.shape.dim)

    shapes = {v.name: dims(v) for v in [*graph.input, *graph.value_info, *graph.output]}
    shapes.update(init)
    builder = _GraphBuilder()
    producer: dict[str, int] = {}
    for value in graph.input:
        if value.name not in init:
            shape = shapes.get(value.name)
            producer[value.name] = builder.add(value.name, "input", shape, shape)
    for k, node in enumerate(graph.node):
        if not [i for i in node.input if i and i not in init]:
            # constants and copies of weights (Identity, Constant): more weights, not operations
            for o in node.output:
                init[o] = init.get(node.input[0], ()) if node.input else ()
            continue
        op = _ONNX_OPS.get(node.op_type, "other")
        weight, bias = None, False
        if node.op_type in ("Conv", "Gemm", "MatMul", "BatchNormalization") and len(node.input) > 1:
            weight = init.get(node.input[1])
            if node.op_type == "Gemm" and weight is not None:
                trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
                weight = weight if trans_b else tuple(reversed(weight))
            bias = node.op_type in ("Conv", "Gemm") and len(node.input) > 2 and bool(node.input[2])
        if node.op_type == "Conv":
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            if group > 1 and weight is not None and weight[1] == 1:
                op = "depthwise_conv"
        data_inputs = [i for i in node.input if i and i not in init]
        me = builder.add(
            node.name or f"{node.op_type}_{k}",
            op,
            shapes.get(data_inputs[0]) if data_inputs else None,
            shapes.get(node.output[0]) if node.output else None,
            weight,
            bias,
            [producer[i] for i in data_inputs if i in producer],
            node.op_type,
        )
        for o in node.output:
            producer[o] = me
    for value in graph.output:
        shape = shapes.get(value.name)
        sources = [producer[value.name]] if value.name in producer else []
        builder.add(value.name, "output", shape, shape, sources=sources)
    return builder.data()


def laplacian_eigenvalues(graph: Data | np.ndarray | Any, k: int = 21) -> np.ndarray:
    """The ``k`` smallest eigenvalues of the symmetric normalised Laplacian
    ``I - D^-1/2 A D^-1/2`` of the graph taken as undirected (GENNAPE uses k = 21).

    ``graph``: a PyG ``Data`` or a (V, V) adjacency matrix. Graphs with fewer than ``k`` nodes
    are padded with zeros at the end. Isolated nodes contribute eigenvalue 0.
    """
    from scipy.sparse.csgraph import laplacian

    if isinstance(graph, Data):
        n = int(graph.num_nodes)
        adj = np.zeros((n, n))
        ei = graph.edge_index.cpu().numpy()
        adj[ei[0], ei[1]] = 1.0
    else:
        adj = np.asarray(graph, dtype=np.float64)
        if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
            raise InvalidOption(f"an adjacency matrix must be square, got shape {adj.shape}")
        adj = (adj != 0).astype(np.float64)
    if k < 1:
        raise InvalidOption(f"k must be >= 1, got {k}")
    sym = np.maximum(adj, adj.T)
    np.fill_diagonal(sym, 0.0)
    values = np.sort(np.linalg.eigvalsh(laplacian(sym, normed=True))) if len(sym) else np.zeros(0)
    values = np.clip(values, 0.0, 2.0)
    out = np.zeros(k)
    out[: min(k, len(values))] = values[:k]
    return out
