"""Baselines of the GNN paper: random forests (on wide/depth features or on the one-hot
encoding), an MLP on the one-hot encoding and an LSTM on zero-padded one-hot node sequences.

Wide/depth features of a cell (its node-labelled DAG): number of vertices and edges, depth
(longest input->output path, in edges), width (most vertices at one depth level), number of
input->output paths, in-degree of the output, out-degree of the input, and the count of each
operation. The forest is fitted with scikit-learn and stored as flat node arrays, so a saved
forest needs no pickle and predicts by a vectorised traversal.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
from torch import nn

from archpred.predictors.base import Predictor, PredictorConfig
from archpred.predictors.torch_common import (
    TorchConfig,
    TorchPredictor,
    augment_graphs,
    onehot_from_padded,
    padded_graphs,
)
from archpred.spaces import Architecture, SearchSpace

FEATURES = ("wide-depth", "onehot")


def wide_depth_features(space: SearchSpace, arch: Architecture) -> np.ndarray:
    adj = arch.matrix.astype(bool)
    n = len(adj)
    depth = np.zeros(n, dtype=np.int64)  # longest path from the input (vertices are topologically ordered)
    paths = np.zeros(n, dtype=np.float64)
    paths[0] = 1.0
    for v in range(1, n):
        preds = np.flatnonzero(adj[:, v])
        if len(preds):
            depth[v] = depth[preds].max() + 1
            paths[v] = paths[preds].sum()
    levels = np.bincount(depth[1:-1], minlength=1) if n > 2 else np.zeros(1)
    ops = np.array([sum(o == op for o in arch.ops) for op in space.ops], dtype=np.float64)
    head = [n, adj.sum(), depth[-1], levels.max() if len(levels) else 0, paths[-1], adj[:, -1].sum(), adj[0].sum()]
    return np.concatenate([np.asarray(head, dtype=np.float64), ops])


def wide_depth_names(space: SearchSpace) -> list[str]:
    return ["vertices", "edges", "depth", "width", "paths", "output in-degree", "input out-degree"] + [
        f"#{op}" for op in space.ops
    ]


# -- random forest ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RandomForestConfig(PredictorConfig):
    features: str = "wide-depth"  # or "onehot"
    n_estimators: int = 100
    max_depth: int | None = None
    min_samples_leaf: int = 1
    max_features: float = 1.0

    def __post_init__(self) -> None:
        if self.features not in FEATURES:
            raise ValueError(f"unknown features {self.features!r}; choose from {', '.join(FEATURES)}")
        if self.n_estimators < 1:
            raise ValueError("n_estimators must be >= 1")


class RandomForestPredictor(Predictor):
    """scikit-learn ``RandomForestRegressor`` on wide/depth or one-hot features."""

    name = "random-forest"
    Config = RandomForestConfig

    def _x(self, archs: list[Architecture]) -> np.ndarray:
        if self.config.features == "onehot":
            return self.space_.encode_many(archs, "onehot")
        return np.stack([wide_depth_features(self.space_, a) for a in archs]).astype(np.float32)

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        from sklearn.ensemble import RandomForestRegressor

        c = self.config
        forest = RandomForestRegressor(
            n_estimators=c.n_estimators,
            max_depth=c.max_depth,
            min_samples_leaf=c.min_samples_leaf,
            max_features=c.max_features,
            random_state=self.seed,
            n_jobs=1,
        )
        forest.fit(self._x(archs), y)
        trees = [est.tree_ for est in forest.estimators_]
        offsets = np.cumsum([0] + [t.node_count for t in trees])[:-1]
        left = np.concatenate([np.where(t.children_left >= 0, t.children_left + o, -1) for t, o in zip(trees, offsets)])
        right = np.concatenate(
            [np.where(t.children_right >= 0, t.children_right + o, -1) for t, o in zip(trees, offsets)]
        )
        self.left_ = torch.from_numpy(left.astype(np.int32))
        self.right_ = torch.from_numpy(right.astype(np.int32))
        self.feature_ = torch.from_numpy(np.concatenate([t.feature for t in trees]).astype(np.int32))
        self.threshold_ = torch.from_numpy(np.concatenate([t.threshold for t in trees]).astype(np.float64))
        self.value_ = torch.from_numpy(np.concatenate([t.value.reshape(-1) for t in trees]).astype(np.float64))
        self.roots_ = torch.from_numpy(offsets.astype(np.int64))
        for cb in getattr(self, "callbacks", []):
            cb(0, {"epoch": 0.0})

    def __init__(self, seed: int = 0, device: str = "auto", progress: bool = False, callbacks=(), **config: Any):
        super().__init__(seed=seed, device=device, progress=progress, **config)
        self.callbacks = [getattr(c, "on_epoch_end", c) for c in callbacks]

    def _predict(self, archs: list[Architecture]) -> np.ndarray:
        x = self._x(archs).astype(np.float64)
        left, right = self.left_.numpy().astype(np.int64), self.right_.numpy().astype(np.int64)
        feature, threshold = self.feature_.numpy().astype(np.int64), self.threshold_.numpy()
        node = np.repeat(self.roots_.numpy()[:, None], len(x), axis=1)  # (trees, samples)
        cols = np.broadcast_to(np.arange(len(x)), node.shape)
        while True:
            inner = left[node] >= 0
            if not inner.any():
                break
            go_left = x[cols, np.where(inner, feature[node], 0)] <= threshold[node]
            node = np.where(inner, np.where(go_left, left[node], right[node]), node)
        return self.value_.numpy()[node].mean(axis=0)

    def _state(self) -> dict[str, Any]:
        names = ("left", "right", "feature", "threshold", "value", "roots")
        return {n: getattr(self, f"{n}_") for n in names}

    def _restore(self, state: dict[str, Any]) -> None:
        for n in ("left", "right", "feature", "threshold", "value", "roots"):
            value = state[n]
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"{n} is not a tensor")
            setattr(self, f"{n}_", value)
        size = len(self.left_)
        if not (len(self.right_) == len(self.feature_) == len(self.threshold_) == len(self.value_) == size):
            raise ValueError("forest arrays differ in length")
        if size and (int(self.left_.max()) >= size or int(self.right_.max()) >= size or int(self.roots_.max()) >= size):
            raise ValueError("forest node index out of range")


# -- MLP on the one-hot encoding -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MLPConfig(TorchConfig):
    hidden: tuple[int, ...] = (256, 256, 256)
    dropout: float = 0.0
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    augment: int = 0  # isomorphic copies (random topological relabelings) of each training cell

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))


class MLPNet(nn.Module):
    def __init__(self, d_in: int, hidden: tuple[int, ...], dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = d_in
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.layers = nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        for m in self.layers:
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).squeeze(-1)


class _PaddedGraphPredictor(TorchPredictor):
    """Shared by the one-hot baselines: padded graphs in, optional isomorphic augmentation."""

    def _features(self, archs):
        return padded_graphs(self.space_, archs)

    def _augment(self, feats, y, rng):
        return augment_graphs(feats, y, self.config.augment, rng)


class MLPPredictor(_PaddedGraphPredictor):
    """An MLP on the space's one-hot encoding (adjacency bits + op one-hots)."""

    name = "mlp"
    Config = MLPConfig

    def _build(self) -> nn.Module:
        m, k = self.space_.max_vertices, len(self.space_.ops)
        return MLPNet(m * (m - 1) // 2 + (m - 2) * k, self.config.hidden, self.config.dropout)

    def _forward(self, module, batch):
        return module(onehot_from_padded(batch["types"], batch["adj"], len(self.space_.ops)))


# -- LSTM on node sequences ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LSTMConfig(TorchConfig):
    hidden: int = 128
    num_layers: int = 2
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    augment: int = 0


class LSTMNet(nn.Module):
    """Reads the vertices in order; each step is the vertex's one-hot type followed by its
    column of the padded adjacency (which earlier vertices feed it); padding steps are zero."""

    def __init__(self, d_in: int, hidden: int, num_layers: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(d_in, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def reset_parameters(self) -> None:
        self.lstm.reset_parameters()
        self.head.reset_parameters()

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(seq)
        return self.head(out[:, -1]).squeeze(-1)


def node_sequences(types: torch.Tensor, adj: torch.Tensor, num_types: int) -> torch.Tensor:
    mask = (types >= 0).float().unsqueeze(-1)
    onehot = nn.functional.one_hot(types.clamp(min=0), num_types).float() * mask
    return torch.cat([onehot, adj.transpose(1, 2).float()], dim=-1)


class LSTMPredictor(_PaddedGraphPredictor):
    name = "lstm"
    Config = LSTMConfig

    def _build(self) -> nn.Module:
        s = self.space_
        return LSTMNet(len(s.node_types) + s.max_vertices, self.config.hidden, self.config.num_layers)

    def _forward(self, module, batch):
        return module(node_sequences(batch["types"], batch["adj"], len(self.space_.node_types)))
