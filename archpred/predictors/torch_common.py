"""What the torch predictors share: featurisation, losses and the ensemble wrapper; training
is ``archpred.training.fit_regressor``.

A ``TorchPredictor`` subclass says how to featurise architectures (``_features``: a dict of
tensors with one row per architecture), how to build its network (``_build``) and how the
network maps a batch of feature rows to predictions (``_forward``). Fitting, ensembling,
target scaling, ranking losses, prediction and save/load are done here once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from archpred.errors import InvalidOption
from archpred.predictors.base import Predictor, PredictorConfig
from archpred.spaces import Architecture, SearchSpace
from archpred.training import Callback, EarlyStopping, FunctionCallback, fit_regressor, isolated_rng, seeded

LOSSES = ("mse", "rank", "mse+rank")


@dataclasses.dataclass(frozen=True)
class TorchConfig(PredictorConfig):
    """Training fields every torch predictor has (subclass configs add the model's own)."""

    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    loss: str = "mse"  # "mse", "rank" (pairwise hinge) or "mse+rank"
    rank_weight: float = 1.0
    ensemble: int = 1  # models trained with seeds seed, seed+1, ...; predictions averaged
    # Training length that does not shrink as the training set grows: with ``steps`` > 0 every
    # fit takes at least that many optimiser steps (epochs = steps / batches per epoch), so a
    # larger set is never trained on fewer updates; ``epochs`` then goes unused. A predictor
    # given ``epochs`` and no ``steps`` trains for those epochs (``steps`` becomes 0).
    steps: int = 0
    # Early stopping on a held-out slice of the *training* cells (this fraction, drawn with the
    # member's seed; the predictor never sees any other cell): training stops after ``patience``
    # epochs without a lower held-out loss and keeps the weights of the best epoch. 0: off; sets
    # of fewer than MIN_EARLY_STOP cells train on everything.
    early_stopping: float = 0.0
    patience: int = 20

    def __post_init__(self) -> None:
        check_loss_and_steps(self.loss, self.steps)
        for name in ("epochs", "batch_size", "ensemble", "patience"):
            if int(getattr(self, name)) < 1:
                raise InvalidOption(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise InvalidOption(f"lr must be > 0, got {self.lr}")
        if not 0.0 <= self.early_stopping < 0.5:
            raise InvalidOption(f"early_stopping is the held-out fraction, in [0, 0.5), got {self.early_stopping}")


MIN_EARLY_STOP = 20  # fewer training cells than this: no held-out slice (it would be 1-2 cells)


def epochs_for_steps(steps: int, n: int, batch_size: int) -> int:
    """Epochs that give at least ``steps`` optimiser steps over ``n`` rows in batches of ``batch_size``."""
    per_epoch = max(1, -(-n // batch_size))
    return max(1, -(-steps // per_epoch))


def early_stopping_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(rows to fit, held-out rows) of ``n`` training rows; no held-out rows when off or too few."""
    rows = np.arange(n)
    held = int(round(fraction * n))
    if fraction <= 0 or n < MIN_EARLY_STOP or held < 2:
        return rows, None
    order = np.random.default_rng((seed, 0xE5)).permutation(n)
    return np.sort(order[held:]), np.sort(order[:held])


# -- featurisation ------------------------------------------------------------------------------
def padded_graphs(space: SearchSpace, archs: Sequence[Architecture]) -> dict[str, torch.Tensor]:
    """``types`` (N, M) node-type ids (-1 = padding) and ``adj`` (N, M, M) of ``space.padded``."""
    adjs, types = zip(*(space.padded(a) for a in archs))
    return {
        "types": torch.from_numpy(np.stack(types)).long(),
        "adj": torch.from_numpy(np.stack(adjs)).to(torch.uint8),
    }


def random_topological_relabel(
    types: np.ndarray, adj: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """An isomorphic copy of one padded graph: real vertices renumbered in a random topological
    order (input stays first, output last, padding stays just before the output)."""
    m = len(types)
    real = [v for v in range(m) if types[v] >= 0]
    indeg = {v: int(adj[real, v].sum()) for v in real}
    ready = [v for v in real if indeg[v] == 0]
    order: list[int] = []
    while ready:
        v = ready.pop(int(rng.integers(len(ready))))
        order.append(v)
        for w in real:
            if adj[v, w]:
                indeg[w] -= 1
                if indeg[w] == 0:
                    ready.append(w)
    if len(order) != len(real) or order[0] != real[0] or order[-1] != real[-1]:
        return types, adj  # not a single-source single-sink DAG: leave it as it is
    slots = real  # the positions real vertices occupy, in increasing order
    new_types = types.copy()
    new_adj = np.zeros_like(adj)
    where = {old: slots[k] for k, old in enumerate(order)}
    for old in real:
        new_types[where[old]] = types[old]
        for w in real:
            if adj[old, w]:
                new_adj[where[old], where[w]] = 1
    return new_types, new_adj


def augment_graphs(
    feats: dict[str, torch.Tensor], y: np.ndarray, copies: int, rng: np.random.Generator
) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """Add ``copies`` isomorphic relabelings of every padded graph (same target)."""
    if copies <= 0:
        return feats, y
    types, adj = feats["types"].numpy(), feats["adj"].numpy()
    new_t, new_a = [types], [adj]
    for _ in range(copies):
        pairs = [random_topological_relabel(t, a, rng) for t, a in zip(types, adj)]
        new_t.append(np.stack([p[0] for p in pairs]))
        new_a.append(np.stack([p[1] for p in pairs]))
    out = {"types": torch.from_numpy(np.concatenate(new_t)), "adj": torch.from_numpy(np.concatenate(new_a))}
    return out, np.tile(y, copies + 1)


def onehot_from_padded(types: torch.Tensor, adj: torch.Tensor, n_ops: int) -> torch.Tensor:
    """The space's ``onehot`` encoding computed from padded arrays (batched, so augmented
    copies can be encoded too): upper-triangular adjacency bits, then one op one-hot per
    interior vertex (type ids 1..n_ops are the ops)."""
    n, m = types.shape
    iu = torch.triu_indices(m, m, 1, device=adj.device)
    bits = adj[:, iu[0], iu[1]].float()
    interior = types[:, 1:-1]
    onehot = torch.zeros(n, m - 2, n_ops, device=types.device)
    real = interior >= 1
    idx = (interior - 1).clamp(min=0)
    onehot.scatter_(2, idx.unsqueeze(-1), real.unsqueeze(-1).float())
    return torch.cat([bits, onehot.flatten(1)], dim=1)


# -- losses --------------------------------------------------------------------------------------
def pairwise_hinge(pred: torch.Tensor, target: torch.Tensor, margin: float = 0.1) -> torch.Tensor:
    """Mean hinge over all ordered pairs of the batch whose targets differ."""
    dp = pred.unsqueeze(0) - pred.unsqueeze(1)
    dt = target.unsqueeze(0) - target.unsqueeze(1)
    sign = torch.sign(dt)
    mask = sign != 0
    if not bool(mask.any()):
        return pred.sum() * 0.0
    return torch.relu(margin - sign * dp)[mask].mean()


def regression_loss(pred: torch.Tensor, target: torch.Tensor, kind: str, rank_weight: float) -> torch.Tensor:
    if kind == "mse":
        return nn.functional.mse_loss(pred, target)
    if kind == "rank":
        return pairwise_hinge(pred, target)
    return nn.functional.mse_loss(pred, target) + rank_weight * pairwise_hinge(pred, target)


def monotone_calibration(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Knots ``(2, K)`` of the isotonic regression of ``y`` on a ranking-trained network's outputs
    ``pred`` over the training cells (scikit-learn's): the non-decreasing map onto accuracy with
    the least squared error, so failed runs the network ranks last are predicted low too."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip").fit(np.asarray(pred, np.float64), np.asarray(y, np.float64))
    return np.stack([iso.X_thresholds_, iso.y_thresholds_])


def apply_calibration(knots: np.ndarray | None, pred: np.ndarray) -> np.ndarray:
    """``pred`` through the calibration's knots (None: unchanged). A slope of 1e-4 accuracy over
    the knots' span is added, so the map is strictly increasing: the order of the network's
    outputs (its ranking, what it was trained for) is never tied or changed."""
    if knots is None:
        return pred
    xs, ys = knots
    span = xs[-1] - xs[0]
    tilt = 1e-4 / span if span > 0 else 0.0
    return np.interp(pred, xs, ys) + tilt * (np.asarray(pred, np.float64) - xs[0])


def calibration_state(knots: np.ndarray | None) -> dict[str, torch.Tensor]:
    """A model file's entry for a calibration's knots (none without a calibration)."""
    return {} if knots is None else {"calibration": torch.as_tensor(knots)}


def calibration_from_state(state: dict[str, Any]) -> np.ndarray | None:
    """The knots :func:`calibration_state` stored (None: a file without a calibration)."""
    knots = state.get("calibration")
    return None if knots is None else np.asarray(knots, dtype=np.float64)


def check_loss_and_steps(loss: str, steps: int) -> None:
    """The training options a ranking-capable predictor config shares with ``TorchConfig``."""
    if loss not in LOSSES:
        raise InvalidOption(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
    if steps < 0:
        raise InvalidOption(f"steps must be >= 0 (0: use epochs), got {steps}")


# -- prediction ------------------------------------------------------------------------------------
def select(feats: dict[str, torch.Tensor], rows: torch.Tensor, device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v[rows].to(device) for k, v in feats.items()}


@torch.no_grad()
def predict_network(
    module: nn.Module,
    forward: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor],
    feats: dict[str, torch.Tensor],
    device: torch.device,
    batch_size: int = 2048,
) -> np.ndarray:
    module.to(device).eval()
    n = len(next(iter(feats.values())))
    out = []
    for start in range(0, n, batch_size):
        rows = torch.arange(start, min(start + batch_size, n))
        out.append(forward(module, select(feats, rows, device)).float().cpu())
    return torch.cat(out).numpy().astype(np.float64)


def state_of(module: nn.Module) -> dict[str, torch.Tensor]:
    """A module's weights, detached and on the CPU (what a saved member holds)."""
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# -- the predictor base ----------------------------------------------------------------------------
class TorchPredictor(Predictor):
    """A predictor made of one network (or an ensemble of them) trained by ``fit_regressor``.

    Subclasses implement ``_features(archs)``, ``_build()`` and ``_forward(module, batch)``;
    they may override ``_train_one`` (the Neural Predictor's two stages do). Targets are
    standardised unless ``standardize`` is False (then the network predicts accuracy itself).

    Extra args: ``callbacks``: ``archpred.training.Callback`` objects (or plain functions
    ``fn(epoch, logs)``) called after every epoch of every network, e.g. a progress bar.
    ``checkpoint_dir``: every network's training checkpoint goes there after each epoch, and a
    fit started again with the same settings resumes each network where it stopped (long fits:
    kill -9 loses at most one epoch). Not with early stopping (its best weights are not kept).
    """

    Config: Any = TorchConfig
    standardize = True
    # True where the features are built from ``space.padded`` graphs alone (``_padded_features``):
    # then ``predict_padded`` scores a whole space's arrays without building its architectures.
    reads_padded = False
    predict_batch = 2048  # cells per forward pass when predicting

    def __init__(
        self,
        seed: int = 0,
        device: str = "auto",
        progress: bool = False,
        callbacks: Iterable[Callback | Callable] = (),
        checkpoint_dir: str | Path | None = None,
        **config: Any,
    ) -> None:
        if "epochs" in config and "steps" not in config:
            config["steps"] = 0  # asked for a number of epochs: that, not the default step budget
        super().__init__(seed=seed, device=device, progress=progress, **config)
        self.callbacks = [c if isinstance(c, Callback) else FunctionCallback(c) for c in callbacks]
        if checkpoint_dir is not None and self.config.early_stopping:
            raise InvalidOption(
                "checkpoint_dir does not go with early_stopping (its best weights are not checkpointed)"
            )
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)

    # -- to implement ----------------------------------------------------------------------------
    def _features(self, archs: list[Architecture]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _padded_features(self, types: torch.Tensor, adj: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _build(self) -> nn.Module:
        raise NotImplementedError

    def _forward(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def _augment(
        self, feats: dict[str, torch.Tensor], y: np.ndarray, rng: np.random.Generator
    ) -> tuple[dict[str, torch.Tensor], np.ndarray]:
        return feats, y

    def planned_epochs(self, n: int) -> int:
        c = self.config
        epochs = epochs_for_steps(c.steps, n, c.batch_size) if c.steps else c.epochs
        return max(1, epochs * c.ensemble * self._stages)

    _stages = 1  # networks trained per ensemble member

    # -- shared machinery -------------------------------------------------------------------------
    def _loss(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        kind, weight = self.config.loss, self.config.rank_weight
        return lambda pred, target: regression_loss(pred, target, kind, weight)

    def _train_module(
        self,
        build: Callable[[], nn.Module],
        feats: dict[str, torch.Tensor],
        target: np.ndarray,
        seed: int,
        *,
        forward: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor] | None = None,
        loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        lr: float | None = None,
        epochs: int | None = None,
        desc: str | None = None,
    ) -> nn.Module:
        """Build a network and fit it on ``target`` with ``fit_regressor``, seeded by ``seed``
        (initialisation and dropout; batch order too) without touching the global RNG."""
        c = self.config
        forward, loss = forward or self._forward, loss or self._loss()
        desc, lr = desc or f"{self.name} (seed {seed})", lr or c.lr
        target_t = torch.as_tensor(target, dtype=torch.float32)
        fit_rows, held_rows = early_stopping_split(len(target_t), c.early_stopping, seed)
        held = None
        if held_rows is not None:  # the held-out slice goes to the device once; the rest is fitted
            rows = torch.from_numpy(held_rows)
            held = (select(feats, rows, self.torch_device), target_t[rows].to(self.torch_device))
            rows = torch.from_numpy(fit_rows)
            feats, target_t = {k: v[rows] for k, v in feats.items()}, target_t[rows]
        epochs = epochs_for_steps(c.steps, len(target_t), c.batch_size) if c.steps else (epochs or c.epochs)
        with seeded(seed):
            module = build()
            stopper = None if held is None else EarlyStopping("val_loss", c.patience, module=module)
            fit_regressor(
                module,
                forward,
                feats,
                target_t,
                epochs=epochs,
                batch_size=c.batch_size,
                lr=lr,
                weight_decay=c.weight_decay,
                seed=seed,
                device=self.torch_device,
                loss=loss,
                progress=self.progress,
                callbacks=[*self.callbacks, *([stopper] if stopper else [])],
                desc=desc,
                validate=None if held is None else lambda: {"val_loss": float(loss(forward(module, held[0]), held[1]))},
                **self._checkpointing(desc, seed, len(target_t), lr),
            )
            if stopper is not None:
                stopper.restore_best()
                self.stopped_epochs_.append(stopper.best_epoch + 1)
        return module

    def _checkpointing(self, desc: str, seed: int, rows: int, lr: float) -> dict[str, Any]:
        """``fit_regressor``'s checkpoint and recipe for one network (none without ``checkpoint_dir``)."""
        if self.checkpoint_dir is None:
            return {}
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", desc).strip("-")
        recipe = {"config": dataclasses.asdict(self.config), "seed": seed, "rows": rows, "lr": lr}
        return {"checkpoint": self.checkpoint_dir / f"{name}.ckpt", "recipe": recipe}

    def _train_one(self, feats: dict[str, torch.Tensor], y: np.ndarray, seed: int) -> dict[str, Any]:
        """Train one ensemble member; returns its learned state (tensors)."""
        module = self._train_module(self._build, feats, (y - self.y_mean_) / self.y_scale_, seed)
        return {"net": state_of(module)}

    def _select_hyperparameters(self, feats: dict[str, torch.Tensor], y: np.ndarray) -> None:
        """Called once before the members are trained (the Neural Predictor's k-fold CV)."""

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        self.stopped_epochs_: list[int] = []  # early stopping's chosen epochs, one per network fitted
        if self.standardize:
            self.y_mean_, self.y_scale_ = float(y.mean()), float(y.std()) or 1.0
        else:
            self.y_mean_, self.y_scale_ = 0.0, 1.0
        feats = self._features(archs)
        self._select_hyperparameters(feats, y)
        augmented, y_augmented = self._augment(feats, y, np.random.default_rng(self.seed))
        self.members_ = [self._train_one(augmented, y_augmented, self.seed + k) for k in range(self.config.ensemble)]
        self._modules_cache = None
        self.calibration_ = None
        if self.config.loss == "rank":  # outputs on no scale of their own: map them onto accuracy
            self.calibration_ = monotone_calibration(self._predict_features(feats), y)

    def _member_modules(self) -> list[dict[str, nn.Module]]:
        if getattr(self, "_modules_cache", None) is None:
            with isolated_rng():  # building draws initial weights the saved ones replace at once
                self._modules_cache = self._load_members()
        return self._modules_cache

    def _load_members(self) -> list[dict[str, nn.Module]]:
        out = []
        for member in self.members_:
            built = {}
            for key, sd in member.items():
                module = self._build_for(key)
                module.load_state_dict(sd)
                built[key] = module.to(self.torch_device).eval()
            out.append(built)
        return out

    def _build_for(self, key: str) -> nn.Module:
        """The network of one member's state entry (``net``; subclasses may store more)."""
        return self._build()

    def _predict_member(self, modules: dict[str, nn.Module], feats: dict[str, torch.Tensor]) -> np.ndarray:
        return predict_network(modules["net"], self._forward, feats, self.torch_device, self.predict_batch)

    def _predict(self, archs: list[Architecture]) -> np.ndarray:
        return self._predict_features(self._features(archs))

    def _predict_features(self, feats: dict[str, torch.Tensor]) -> np.ndarray:
        preds = [self._predict_member(m, feats) for m in self._member_modules()]
        raw = np.mean(preds, axis=0) * self.y_scale_ + self.y_mean_
        return apply_calibration(self.calibration_, raw)

    def predict_padded(self, adjacency: np.ndarray, types: np.ndarray) -> np.ndarray:
        """Predictions for padded graphs of the fitted space (``space.padded``, ``SpaceArrays``).

        Shapes:
            adjacency (N, M, M), types (N, M) (-1 = padding vertex) -> (N,) float64
        """
        self._check_fitted()
        if not self.reads_padded:
            raise InvalidOption(f"the {self.name} predictor does not read padded graphs; use predict(archs)")
        m = self.space_.max_vertices
        if adjacency.ndim != 3 or adjacency.shape[1:] != (m, m) or types.shape != adjacency.shape[:2]:
            raise InvalidOption(
                f"padded {self.space_.name} graphs are (N, {m}, {m}) and (N, {m}); "
                f"got {adjacency.shape} and {types.shape}"
            )
        if not len(types):
            return np.zeros(0)
        feats = self._padded_features(
            torch.from_numpy(np.asarray(types)).long(), torch.from_numpy(np.asarray(adjacency)).to(torch.uint8)
        )
        return np.asarray(self._predict_features(feats), dtype=np.float64).ravel()

    def _state(self) -> dict[str, Any]:
        return {
            "y_mean": float(self.y_mean_),
            "y_scale": float(self.y_scale_),
            "members": {str(i): m for i, m in enumerate(self.members_)},
            **calibration_state(self.calibration_),
            **self._extra_state(),
        }

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _restore(self, state: dict[str, Any]) -> None:
        self._restore_extra(state)
        self.y_mean_, self.y_scale_ = float(state["y_mean"]), float(state["y_scale"])
        self.calibration_ = calibration_from_state(state)
        members = state["members"]
        self.members_ = [members[str(i)] for i in range(len(members))]
        self._modules_cache = None
        self._member_modules()  # builds and loads now, so a mismatching file fails at load time

    def _restore_extra(self, state: dict[str, Any]) -> None:
        pass

    def num_parameters(self) -> int:
        self._check_fitted()
        return sum(count_parameters(m) for member in self._member_modules() for m in member.values())
