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
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from archpred.errors import InvalidOption
from archpred.predictors.base import Predictor, PredictorConfig
from archpred.predictors.torch_common import (
    TorchConfig,
    TorchPredictor,
    augment_graphs,
    onehot_from_padded,
    padded_graphs,
)
from archpred.spaces import Architecture, SearchSpace

if TYPE_CHECKING:
    from archpred.training import Callback

FEATURES = ("wide-depth", "onehot")


def wide_depth_features(space: SearchSpace, arch: Architecture) -> np.ndarray:
    """The wide/depth feature vector of one cell, float64 of length ``7 + len(space.ops)``,
    in the order of :func:`wide_depth_names`."""
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
    """Names of the :func:`wide_depth_features` columns."""
    return ["vertices", "edges", "depth", "width", "paths", "output in-degree", "input out-degree"] + [
        f"#{op}" for op in space.ops
    ]


# -- random forest ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RandomForestConfig(PredictorConfig):
    """Options of :class:`RandomForestPredictor` (the forest's are scikit-learn's)."""

    features: str = "wide-depth"  # "wide-depth" (module docstring) or "onehot" (space.encode)
    n_estimators: int = 100  # number of trees
    max_depth: int | None = None  # None: no depth limit
    min_samples_leaf: int = 1  # fewest training samples in a leaf
    max_features: float = 1.0  # fraction of the features tried at each split

    def __post_init__(self) -> None:
        if self.features not in FEATURES:
            raise InvalidOption(f"unknown features {self.features!r}; choose from {', '.join(FEATURES)}")
        if self.n_estimators < 1:
            raise InvalidOption("n_estimators must be >= 1")


class RandomForestPredictor(Predictor):
    """scikit-learn ``RandomForestRegressor`` on wide/depth or one-hot features.

    The random-forest baselines of Lukasik et al. (GCPR 2020). After fitting, the trees are kept
    as flat node arrays (``left_``, ``right_``, ``feature_``, ``threshold_``, ``value_``,
    ``roots_``) so a saved forest is tensors only, and ``predict`` walks all trees at once.

    Args:
        seed: the forest's ``random_state``.
        device: stored for the common interface; the forest runs on the CPU.
        progress: stored for the common interface.
        callbacks: called once, as ``(0, {"epoch": 0.0})``, when the forest is fitted; a
            ``Callback`` object's ``on_epoch_end`` is used.
        **config: fields of :class:`RandomForestConfig`.

    Shapes:
        - **fit:** archs (N architectures of one space), y (N,)
        - **predict:** archs (N architectures) -> (N,) float64, the mean over the trees
    """

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

    def __init__(
        self,
        seed: int = 0,
        device: str = "auto",
        progress: bool = False,
        callbacks: Iterable[Callback | Callable[[int, dict[str, float]], Any]] = (),
        **config: Any,
    ) -> None:
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
            raise InvalidOption("forest arrays differ in length")
        if size and (int(self.left_.max()) >= size or int(self.right_.max()) >= size or int(self.roots_.max()) >= size):
            raise InvalidOption("forest node index out of range")


# -- MLP on the one-hot encoding -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MLPConfig(TorchConfig):
    """Options of :class:`MLPPredictor` (training defaults here override :class:`TorchConfig`'s).

    Fields:
        hidden: widths of the hidden layers.
        dropout: dropout probability after every hidden layer.
        epochs, batch_size, lr, weight_decay: Adam training of each ensemble member.
        augment: isomorphic copies added per training cell (0: none).
        steps: the training budget in optimiser steps (``TorchConfig``; the default, 4,000 of
            batch 32 on the pairwise ranking loss, is what ``bench predictors --protocols select``
            chose by cross-validation).
    """

    hidden: tuple[int, ...] = (256, 256, 256)
    dropout: float = 0.0
    epochs: int = 100
    batch_size: int = 32
    steps: int = 4_000
    loss: str = "rank"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    augment: int = 0  # isomorphic copies (random topological relabelings) of each training cell

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))


class MLPNet(nn.Module):
    """A plain MLP regressor: ``Linear -> ReLU -> Dropout`` per hidden width, then a linear output.

    Args:
        d_in: input width (the one-hot encoding's length).
        hidden: widths of the hidden layers.
        dropout: dropout probability after every hidden layer.

    Shapes:
        - **input:** x (B, d_in) float
        - **output:** (B,)
    """

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

    def _features(self, archs: list[Architecture]) -> dict[str, torch.Tensor]:
        return padded_graphs(self.space_, archs)

    def _augment(
        self, feats: dict[str, torch.Tensor], y: np.ndarray, rng: np.random.Generator
    ) -> tuple[dict[str, torch.Tensor], np.ndarray]:
        return augment_graphs(feats, y, self.config.augment, rng)


class MLPPredictor(_PaddedGraphPredictor):
    """An MLP (:class:`MLPNet`) on the space's one-hot encoding (adjacency bits + op one-hots).

    The MLP baseline of Lukasik et al. (GCPR 2020). The encoding is computed per batch from the
    padded graphs, so the optional isomorphic copies (``augment``) are encoded too.

    Args:
        seed: seeds initialisation and batch order of member k with ``seed + k``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        progress: show a progress bar while fitting.
        callbacks: ``archpred.training.Callback`` objects or ``fn(epoch, logs)`` per epoch.
        **config: fields of :class:`MLPConfig` (and ``loss``, ``rank_weight``, ``ensemble``).

    Shapes:
        - **fit:** archs (N architectures of one space), y (N,)
        - **predict:** archs (N architectures) -> (N,) float64
    """

    name = "mlp"
    Config = MLPConfig

    def _build(self) -> nn.Module:
        m, k = self.space_.max_vertices, len(self.space_.ops)
        return MLPNet(m * (m - 1) // 2 + (m - 2) * k, self.config.hidden, self.config.dropout)

    def _forward(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return module(onehot_from_padded(batch["types"], batch["adj"], len(self.space_.ops)))


# -- LSTM on node sequences ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LSTMConfig(TorchConfig):
    """Options of :class:`LSTMPredictor` (training defaults here override :class:`TorchConfig`'s).

    Fields:
        hidden: LSTM hidden size.
        num_layers: stacked LSTM layers.
        epochs, batch_size, lr, weight_decay: Adam training of each ensemble member.
        augment: isomorphic copies added per training cell (0: none).
    """

    hidden: int = 128
    num_layers: int = 2
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    augment: int = 0


class LSTMNet(nn.Module):
    """Reads the vertices in order; each step is the vertex's one-hot type followed by its
    column of the padded adjacency (which earlier vertices feed it); padding steps are zero.
    The prediction is a linear map of the last step's output (the output vertex).

    Args:
        d_in: step width, ``len(space.node_types) + max_vertices``.
        hidden: LSTM hidden size.
        num_layers: stacked LSTM layers.

    Shapes:
        - **input:** seq (B, M, d_in) float, from :func:`node_sequences`
        - **output:** (B,)
    """

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
    """The LSTM's input from padded graphs: types (B, M), adj (B, M, M) -> (B, M, num_types + M),
    each step the vertex's type one-hot then its adjacency column (zeros for padding)."""
    mask = (types >= 0).float().unsqueeze(-1)
    onehot = nn.functional.one_hot(types.clamp(min=0), num_types).float() * mask
    return torch.cat([onehot, adj.transpose(1, 2).float()], dim=-1)


class LSTMPredictor(_PaddedGraphPredictor):
    """An LSTM (:class:`LSTMNet`) over the padded vertex sequence of a cell.

    The RNN baseline of Lukasik et al. (GCPR 2020), who feed the LSTM zero-padded node one-hots;
    here each step also carries the vertex's column of the adjacency, so the cell's edges reach
    the model.

    Args:
        seed: seeds initialisation and batch order of member k with ``seed + k``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        progress: show a progress bar while fitting.
        callbacks: ``archpred.training.Callback`` objects or ``fn(epoch, logs)`` per epoch.
        **config: fields of :class:`LSTMConfig` (and ``loss``, ``rank_weight``, ``ensemble``).

    Shapes:
        - **fit:** archs (N architectures of one space), y (N,)
        - **predict:** archs (N architectures) -> (N,) float64
    """

    name = "lstm"
    Config = LSTMConfig

    def _build(self) -> nn.Module:
        s = self.space_
        return LSTMNet(len(s.node_types) + s.max_vertices, self.config.hidden, self.config.num_layers)

    def _forward(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return module(node_sequences(batch["types"], batch["adj"], len(self.space_.node_types)))
