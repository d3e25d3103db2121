"""Many computation graphs in a few flat arrays: GENNAPE's training and test families.

A ``GraphSet`` holds the computation graphs (CGs) of ``to_computation_graph`` for a whole family
in compact arrays (op-type ids, the 11 shape numbers per node, edges, offsets), plus per graph its
exact FLOPs and parameter count (read off the CG's own weight shapes) and the ``q`` smallest
eigenvalues of its normalised Laplacian (the spectral distance of GENNAPE's soft positives).
Twenty thousand NB-101 CGs take about 200 MB this way instead of gigabytes of ``Data`` objects.

``GraphSet.from_graphs(graphs)`` packs PyG graphs; ``batch(rows)`` unpacks any rows into one
PyG ``Batch`` with the encoder's input features (``node_features``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from archpred.artifacts import atomic_write
from archpred.errors import CheckpointError, InvalidOption
from archpred.networks.graph import OP_TYPES, SHAPE_FEATURES, laplacian_eigenvalues

N_SPECTRUM = 21  # GENNAPE's q
NODE_FEATURES = len(OP_TYPES) + len(SHAPE_FEATURES)
_WEIGHT_OPS = ("conv", "depthwise_conv", "linear")


def graph_flops_params(op_type: np.ndarray, numeric: np.ndarray) -> tuple[int, int]:
    """Multiply-adds and parameters of one CG from its nodes alone (``count_flops``'s convention:
    conv and linear weights only for FLOPs; conv, linear and batch-norm weights and biases for
    parameters).

    Shapes:
        op_type: (N,) ids into ``OP_TYPES``; numeric: (N, 11) ``SHAPE_FEATURES``.
    """
    names = np.asarray(OP_TYPES)[op_type]
    out_h, out_w = numeric[:, 3], numeric[:, 4]
    w = numeric[:, 6:10]
    bias = numeric[:, 10]
    weighted = np.isin(names, _WEIGHT_OPS)
    kernel = np.prod(w, axis=1)  # w_out * w_in * kH * kW (w_in is per group for grouped convs)
    flops = np.where(weighted, out_h * out_w * kernel, 0.0).sum()
    params = np.where(weighted, kernel + bias * w[:, 0], 0.0).sum()
    params += np.where(names == "batchnorm", 2 * w[:, 0], 0.0).sum()
    return int(round(flops)), int(round(params))


def node_features(op_type: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
    """The encoder's input: op one-hot, then ``log2(1 + x)`` of the shape numbers (channel counts
    run from 1 to thousands; the log keeps them on the one-hot's scale).

    Shapes:
        op_type: (N,); numeric: (N, 11) -> (N, 33).
    """
    onehot = torch.nn.functional.one_hot(op_type.long(), len(OP_TYPES)).float()
    return torch.cat([onehot, torch.log2(1.0 + numeric.float().clamp(min=0.0))], dim=1)


@dataclass(frozen=True)
class GraphSet:
    """Computation graphs in flat arrays; graph ``i`` owns nodes ``node_ptr[i]:node_ptr[i+1]``
    and edges ``edge_ptr[i]:edge_ptr[i+1]`` (edge ends are local node indices)."""

    op_type: np.ndarray  # (total nodes,) uint8
    numeric: np.ndarray  # (total nodes, 11) float32
    edges: np.ndarray  # (2, total edges) int32
    node_ptr: np.ndarray  # (n + 1,) int64
    edge_ptr: np.ndarray  # (n + 1,) int64
    flops: np.ndarray  # (n,) float64 multiply-adds
    params: np.ndarray  # (n,) float64
    spectrum: np.ndarray  # (n, N_SPECTRUM) float32
    keys: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_graphs(cls, graphs: Sequence[Data], keys: Sequence[str] | None = None) -> GraphSet:
        """Pack CGs made by ``to_computation_graph`` / ``onnx_to_graph``."""
        keys = tuple(str(k) for k in (keys if keys is not None else range(len(graphs))))
        if len(keys) != len(graphs):
            raise InvalidOption(f"{len(graphs)} graphs but {len(keys)} keys")
        op_types, numerics, edges, flops, params, spectra = [], [], [], [], [], []
        for g in graphs:
            op = g.op_type.cpu().numpy().astype(np.uint8)
            num = g.x[:, len(OP_TYPES) :].cpu().numpy().astype(np.float32)
            op_types.append(op)
            numerics.append(num)
            edges.append(g.edge_index.cpu().numpy().astype(np.int32).reshape(2, -1))
            f, p = graph_flops_params(op, num)
            flops.append(f)
            params.append(p)
            spectra.append(laplacian_eigenvalues(g, N_SPECTRUM))
        return cls._pack(op_types, numerics, edges, flops, params, spectra, keys)

    @classmethod
    def _pack(cls, op_types, numerics, edges, flops, params, spectra, keys) -> GraphSet:  # noqa: ANN001
        node_ptr = np.concatenate([[0], np.cumsum([len(o) for o in op_types])]).astype(np.int64)
        edge_ptr = np.concatenate([[0], np.cumsum([e.shape[1] for e in edges])]).astype(np.int64)
        return cls(
            op_type=np.concatenate(op_types) if op_types else np.zeros(0, np.uint8),
            numeric=np.concatenate(numerics) if numerics else np.zeros((0, len(SHAPE_FEATURES)), np.float32),
            edges=np.concatenate(edges, axis=1) if edges else np.zeros((2, 0), np.int32),
            node_ptr=node_ptr,
            edge_ptr=edge_ptr,
            flops=np.asarray(flops, dtype=np.float64),
            params=np.asarray(params, dtype=np.float64),
            spectrum=np.asarray(spectra, dtype=np.float32).reshape(len(keys), N_SPECTRUM),
            keys=tuple(keys),
        )

    def _parts(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = self.node_ptr[i], self.node_ptr[i + 1]
        c, d = self.edge_ptr[i], self.edge_ptr[i + 1]
        return self.op_type[a:b], self.numeric[a:b], self.edges[:, c:d]

    def subset(self, rows: Sequence[int] | np.ndarray) -> GraphSet:
        """The graphs at ``rows``, in that order."""
        rows = [int(r) for r in np.asarray(rows).reshape(-1)]
        parts = [self._parts(r) for r in rows]
        return self._pack(
            [p[0] for p in parts],
            [p[1] for p in parts],
            [p[2] for p in parts],
            self.flops[rows],
            self.params[rows],
            self.spectrum[rows],
            tuple(self.keys[r] for r in rows),
        )

    @classmethod
    def concat(cls, sets: Sequence[GraphSet]) -> GraphSet:
        parts = [s._parts(i) for s in sets for i in range(len(s))]
        return cls._pack(
            [p[0] for p in parts],
            [p[1] for p in parts],
            [p[2] for p in parts],
            np.concatenate([s.flops for s in sets]) if sets else [],
            np.concatenate([s.params for s in sets]) if sets else [],
            np.concatenate([s.spectrum for s in sets]) if sets else np.zeros((0, N_SPECTRUM)),
            tuple(k for s in sets for k in s.keys),
        )

    def graph(self, i: int) -> Data:
        """Graph ``i`` as a PyG ``Data`` with encoder features ``x`` (``node_features``)."""
        op, num, edge = self._parts(i)
        op_t = torch.from_numpy(op.astype(np.int64))
        return Data(
            x=node_features(op_t, torch.from_numpy(num)),
            edge_index=torch.from_numpy(edge.astype(np.int64)),
            op_type=op_t,
            num_nodes=len(op),
        )

    def batch(self, rows: Sequence[int] | np.ndarray) -> Batch:
        """The graphs at ``rows`` as one PyG ``Batch`` (``x``: (total nodes, 33))."""
        return Batch.from_data_list([self.graph(int(r)) for r in np.asarray(rows).reshape(-1)])

    def save(self, path: str | Path) -> Path:
        """An ``.npz`` of plain arrays (read back without pickle)."""
        arrays = {
            name: getattr(self, name)
            for name in ("op_type", "numeric", "edges", "node_ptr", "edge_ptr", "flops", "params", "spectrum")
        }
        arrays["keys"] = np.asarray(self.keys, dtype=np.str_)
        return atomic_write(path, lambda tmp: np.savez(tmp, **arrays))

    @classmethod
    def load(cls, path: str | Path) -> GraphSet:
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {name: f[name] for name in f.files}
            keys = tuple(str(k) for k in arrays.pop("keys"))
            return cls(keys=keys, **arrays)
        except FileNotFoundError:
            raise CheckpointError(f"{path}: no such graph file") from None
        except Exception as err:
            raise CheckpointError(f"{path}: not a readable graph file ({type(err).__name__})") from None
