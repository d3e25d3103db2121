"""GENNAPE's input edge: any network -> computation graphs (CGs), validated once.

``to_graphs(items)`` turns a list that may mix cells of our search spaces, ``torch.nn.Module``
objects, paths to ``.onnx`` files, the raw bytes of an ONNX file and already-built CGs into one
``GraphSet``. ``onnx_graph(source)`` reads one ONNX file safely: its size is checked before it
is parsed, it is parsed with ``onnx`` only (never unpickled), checked with ``onnx.checker`` and
its shapes inferred. Everything a user can get wrong ends in ``UnsupportedNetwork`` with a
one-line message.

Which ``other`` nodes are accepted in a user's network (the CG maps operations it does not know
to ``other``; ``Data.source_ops`` keeps their real names):

- shape queries (``x.size()``, ``x.shape``, ``x.dim()``, ``x.numel()``, ONNX ``Shape`` / ``Size``)
  and anything computed only from them (``x.shape[1] // 2``, ONNX ``Shape -> Gather -> Div``):
  they compute sizes, not features;
- data-preserving copies and casts (``contiguous``, ``detach``, ``clone``, ``float``, ``to``,
  ``type_as``, ONNX ``Cast``).

Every other unknown operation (``LSTM``, ``Einsum``, ``fft_fft2``, ``Tensor.cumsum``, ...) is
refused, naming it: GENNAPE's encoder was trained on CGs without them, so a prediction would be
a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn
from torch_geometric.data import Data

from archpred.errors import ArchpredError, InvalidOption
from archpred.gennape.graphs import GraphSet
from archpred.spaces import Architecture, get_space

MAX_ONNX_BYTES = 50 * 1024 * 1024
UPLOAD_NAME = "upload"
WEIGHT_OPS = ("conv", "depthwise_conv", "linear")
SHAPE_QUERIES = frozenset(
    {"Tensor.size", "Tensor.shape", "Tensor.dim", "Tensor.ndim", "Tensor.numel", "Tensor.dtype", "Tensor.device"}
    | {"Shape", "Size"}
)
PASS_THROUGH = frozenset(
    {"Tensor.contiguous", "Tensor.detach", "Tensor.clone", "Tensor.float", "Tensor.to", "Tensor.type_as", "Cast"}
)
_KNOWN_ONNX = (
    "Conv, Gemm, MatMul, BatchNormalization, Relu and common activations, pooling, Add, Mul, Concat, "
    "ReduceMean, Reshape/Flatten/Transpose, Slice/Gather/Split, Pad, Dropout"
)
_KNOWN_TORCH = (
    "Conv*d, Linear, BatchNorm, ReLU and common activations, pooling, +, *, cat, mean, "
    "view/reshape/flatten, indexing, pad, dropout"
)


class UnsupportedNetwork(ArchpredError, ValueError):
    """A network GENNAPE cannot read: a bad or oversize file, an unsupported operation, a
    graph without convolutions or without an input-output path; the message says which."""


def to_graphs(
    items: Sequence[Any] | Any,
    *,
    input_shape: Sequence[int] | None = None,
    space: str | None = None,
) -> GraphSet:
    """The CGs of ``items``, in order, as one ``GraphSet``.

    Args:
        items: any mix of architectures of our spaces (key: the benchmark key), ``nn.Module``
            objects (key: the class name), paths to ONNX files (key: the file name), raw ONNX
            bytes (key: ``upload``) and CGs made by ``to_computation_graph`` / ``onnx_to_graph``
            (key: ``graph-<position>``). One item alone is read as a list of one.
        input_shape: (C, H, W) that modules are traced with; default: an archpred network's own
            config, else (3, 32, 32). ONNX files carry their own.
        space: read cell text / dicts (what ``get_space(space).parse`` accepts) as cells of it.

    Raises:
        UnsupportedNetwork: an item that is none of these, or a network that fails a check.
        InvalidOption: a bad ``input_shape``, or an architecture of another space than ``space``.
        InvalidArchitecture: cell text that ``space`` cannot parse.
    """
    if input_shape is not None and len(tuple(input_shape)) not in (3, 4):
        raise InvalidOption(f"input_shape must be (C, H, W), got {tuple(input_shape)}")
    single = (str, bytes, bytearray, memoryview, Path, nn.Module, Data, Architecture)
    items = [items] if isinstance(items, single) or not isinstance(items, Iterable) else list(items)
    cached = _cached_cells(items, space)
    positions, graphs, keys = [], [], []
    for position, item in enumerate(items):
        if position not in cached:
            graph, key = _item_graph(item, position, input_shape, space)
            positions.append(position)
            graphs.append(graph)
            keys.append(key)
    built = GraphSet.from_graphs(graphs, keys)
    if not cached:
        return built
    hits = sorted(cached)
    together = GraphSet.concat([built, *(cached[p] for p in hits)])
    return together.subset(np.argsort(positions + hits, kind="stable"))


def _cached_cells(items: list[Any], space: str | None) -> dict[int, GraphSet]:
    """Position -> one-graph ``GraphSet`` for the benchmark cells among ``items`` whose CGs a
    family build has cached (``families.cached_graphs``): read, not traced again."""
    from archpred.gennape.families import FAMILIES, cached_graphs

    wanted: dict[str, dict[str, list[int]]] = {}
    for position, item in enumerate(items):
        if isinstance(item, Architecture) and item.space in FAMILIES and space in (None, item.space):
            wanted.setdefault(item.space, {}).setdefault(get_space(item.space).key(item), []).append(position)
    out: dict[int, GraphSet] = {}
    for family, by_key in wanted.items():
        for key, (shard, row) in cached_graphs(family, list(by_key)).items():
            one = shard.subset([row])
            out.update({position: one for position in by_key[key]})
    return out


def _item_graph(item: Any, position: int, input_shape: Sequence[int] | None, space: str | None) -> tuple[Data, str]:
    """(CG, key) of one item of ``to_graphs``."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        return onnx_graph(bytes(item), UPLOAD_NAME), UPLOAD_NAME
    if isinstance(item, Path) or (isinstance(item, str) and _looks_like_file(item)):
        return onnx_graph(item, Path(item).name), Path(item).name
    if space is not None and isinstance(item, (str, dict, list, tuple)):
        item = get_space(space).parse(item)
    if isinstance(item, Architecture):
        return _arch_graph(item, space), get_space(item.space).key(item)
    if isinstance(item, nn.Module):
        return module_graph(item, input_shape), type(item).__name__
    if isinstance(item, Data):
        _check_cg(item, f"graph-{position}")
        _check_structure(item, f"graph-{position}")
        return item, f"graph-{position}"
    hint = " (a cell as text? give space=)" if isinstance(item, (str, dict, list, tuple)) else ""
    raise UnsupportedNetwork(
        f"cannot read a network from a {type(item).__name__}{hint}: give architectures, torch.nn.Module "
        "objects, .onnx paths, ONNX bytes or computation-graph Data"
    )


def _looks_like_file(text: str) -> bool:
    return text.lower().endswith(".onnx") or (
        len(text) < 4096 and not {"\n", "\x00"} & set(text) and Path(text).is_file()
    )


def _arch_graph(arch: Any, space: str | None) -> Data:
    """The CG of a cell's benchmark network, built exactly as the GENNAPE families are."""
    from archpred.gennape.families import build_graph

    if space is not None and space != arch.space:
        raise InvalidOption(f"a {arch.space} architecture was given with space={space!r}")
    return build_graph(arch, arch.space)


def module_graph(net: nn.Module, input_shape: Sequence[int] | None = None) -> Data:
    """The CG of a user's module traced with ``torch.fx`` on ``input_shape``, checked like an
    upload (every operation known, a conv or linear layer, an input-output path)."""
    from archpred.networks.graph import to_computation_graph

    name = type(net).__name__
    try:
        data = to_computation_graph(net, input_shape)
    except ValueError as err:  # UntraceableNetwork, or the module does not run on input_shape
        raise UnsupportedNetwork(_trace_message(err)) from None
    _check_ops(data, name, _KNOWN_TORCH)
    _check_structure(data, name)
    return data


def onnx_graph(source: str | Path | bytes, name: str = UPLOAD_NAME) -> Data:
    """The CG of an ONNX file (a path or its bytes), read safely and checked.

    The size is checked before anything is parsed (empty, or over ``MAX_ONNX_BYTES``); the bytes
    are parsed with ``onnx.load_model_from_string`` only, checked with ``onnx.checker`` and their
    shapes inferred (strict, with data propagation); every operation must be one the CG knows,
    every tensor's shape must be known (only the batch may vary), and the graph must have a conv or
    linear layer on a path from its input to its output. ``name`` is used in messages.
    """
    import onnx

    raw, name = _read_limited(source, name)
    model = _parse_onnx(raw, name)
    try:
        onnx.checker.check_model(model)
    except Exception as err:
        raise UnsupportedNetwork(f"{name} fails the ONNX checker: {_first_line(err)}") from None
    _check_onnx_inputs(model, name)
    try:
        inferred, problem = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True), ""
    except Exception as err:
        inferred, problem = model, _first_line(err)
    from archpred.networks.graph import onnx_to_graph

    data = onnx_to_graph(inferred)
    _check_ops(data, name, _KNOWN_ONNX)  # first: an unknown op is the clearer message
    if problem:
        raise UnsupportedNetwork(f"ONNX shape inference failed on {name}: {problem}")
    _check_onnx_shapes(inferred, name)
    _check_structure(data, name)
    return data


def _read_limited(source: str | Path | bytes, name: str) -> tuple[bytes, str]:
    """The file's bytes, refusing empty and oversize files before reading (paths) or parsing."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        _check_size(len(raw), name)
        return raw, name
    path = Path(source)
    name = path.name if name == UPLOAD_NAME else name
    if not path.is_file():
        raise UnsupportedNetwork(f"no such ONNX file: {path}")
    _check_size(path.stat().st_size, name)
    raw = path.read_bytes()
    _check_size(len(raw), name)
    return raw, name


def _check_size(size: int, name: str) -> None:
    if size == 0:
        raise UnsupportedNetwork(f"{name} is an empty file")
    if size > MAX_ONNX_BYTES:
        raise UnsupportedNetwork(
            f"{name} is {_size_text(size)}; ONNX files are limited to {_size_text(MAX_ONNX_BYTES)}"
        )


def _size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return f"{n} bytes"


def _parse_onnx(raw: bytes, name: str) -> Any:
    """A ``ModelProto`` from bytes (protobuf only: no pickle, no external data files)."""
    import onnx

    try:
        model = onnx.load_model_from_string(raw)
    except Exception:
        model = None
    if model is None or model.ir_version < 1 or not model.HasField("graph") or not len(model.graph.node):
        raise UnsupportedNetwork(f"{name} is not an ONNX model (it does not parse as an ONNX graph)")
    return model


def _check_onnx_inputs(model: Any, name: str) -> None:
    """Every graph input has a fixed size except its first (batch) dimension."""
    weights = {t.name for t in model.graph.initializer}
    for value in model.graph.input:
        if value.name in weights:
            continue
        tensor = value.type.tensor_type
        dims = list(tensor.shape.dim) if tensor.HasField("shape") else None
        if not dims or any(not d.HasField("dim_value") or d.dim_value < 1 for d in dims[1:]):
            shown = "unknown" if dims is None else [d.dim_value if d.HasField("dim_value") else "?" for d in dims]
            raise UnsupportedNetwork(
                f"input {value.name!r} of {name} has no fixed shape ({shown}); export it with a fixed input "
                "size (only the batch may vary)"
            )


def _check_onnx_shapes(model: Any, name: str) -> None:
    """Every tensor that carries features has a known shape after inference (batch aside)."""
    graph = model.graph
    known = {v.name: v for v in [*graph.input, *graph.value_info, *graph.output]}
    weights = {t.name for t in graph.initializer}
    sizes: dict[str, bool] = {v.name: False for v in graph.input if v.name not in weights}  # tensor -> is a size
    for node in graph.node:
        flags = [sizes[t] for t in node.input if t in sizes]
        is_size = node.op_type in SHAPE_QUERIES or (bool(flags) and all(flags))
        for out in node.output:
            if not out:
                continue
            sizes[out] = is_size
            if not is_size and not _shape_known(known.get(out)):
                raise UnsupportedNetwork(
                    f"ONNX shape inference could not find the shape of {out!r} ({node.op_type}) in {name}; "
                    "GENNAPE needs every tensor's shape"
                )


def _shape_known(value: Any) -> bool:
    if value is None or not value.type.HasField("tensor_type"):
        return False
    tensor = value.type.tensor_type
    if not tensor.HasField("shape"):
        return False
    return all(d.HasField("dim_value") for d in list(tensor.shape.dim)[1:])


def unsupported_ops(data: Data) -> list[str]:
    """Names of the operations of a CG that GENNAPE cannot represent, each once, in graph order:
    its ``other`` nodes except shape arithmetic and copies (see the module docstring)."""
    ops = list(data.ops)
    sources = list(getattr(data, "source_ops", None) or ops)
    preds: list[list[int]] = [[] for _ in ops]
    for s, t in data.edge_index.t().tolist():
        preds[t].append(s)
    is_size = [False] * len(ops)
    for j in range(len(ops)):  # nodes are in topological order
        is_size[j] = sources[j] in SHAPE_QUERIES or (bool(preds[j]) and all(is_size[p] for p in preds[j]))
    bad = [
        sources[j] for j in range(len(ops)) if ops[j] == "other" and not is_size[j] and sources[j] not in PASS_THROUGH
    ]
    return list(dict.fromkeys(bad))


def _check_ops(data: Data, name: str, known: str) -> None:
    bad = unsupported_ops(data)
    if bad:
        raise UnsupportedNetwork(
            f"unsupported operation(s) in {name}: {', '.join(bad)} (GENNAPE's computation graphs know {known})"
        )


def _check_cg(data: Data, name: str) -> None:
    """A ``Data`` made by ``to_computation_graph`` / ``onnx_to_graph`` (raw shape numbers), not
    the encoder features of ``GraphSet.graph`` (already log-scaled) or some other graph."""
    from archpred.networks.graph import FEATURE_NAMES

    if list(getattr(data, "feature_names", None) or []) != list(FEATURE_NAMES) or getattr(data, "ops", None) is None:
        raise UnsupportedNetwork(
            f"{name} is not a computation graph of to_computation_graph / onnx_to_graph (no op names and raw "
            "shape features; GraphSet.graph's encoder features cannot be packed again)"
        )


def _check_structure(data: Data, name: str) -> None:
    """A conv or linear layer, and a path from an input node to an output node."""
    ops = list(data.ops)
    if not any(o in WEIGHT_OPS for o in ops):
        raise UnsupportedNetwork(f"{name} has no convolution or linear layer; GENNAPE predicts for networks of them")
    succ: list[list[int]] = [[] for _ in ops]
    for s, t in data.edge_index.t().tolist():
        succ[s].append(t)
    seen = {j for j, o in enumerate(ops) if o == "input"}
    stack = list(seen)
    while stack:
        for t in succ[stack.pop()]:
            if t not in seen:
                seen.add(t)
                stack.append(t)
    if not any(ops[j] == "output" for j in seen):
        raise UnsupportedNetwork(f"{name} has no path from its input to its output")


def _trace_message(err: BaseException) -> str:
    """The tracer's one line, with torch's real error in place of fx's ``ShapeProp error for:
    node=...`` wrapper (kept as the context of the ``ValueError``, its cause chained below it)."""
    line = _first_line(err)
    root = err.__context__
    if root is None or "ShapeProp error" not in line:
        return line
    while root.__cause__ is not None:
        root = root.__cause__
    return f"{line.split(' (')[0]} ({type(root).__name__}: {_first_line(root)})"


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    line = text.splitlines()[0].strip() if text else type(err).__name__
    return line if len(line) <= 300 else line[:297] + "..."
