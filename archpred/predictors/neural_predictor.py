"""Neural Predictor of Wen, Liu, Chen, Li, Bender and Kindermans (ECCV 2020).

Node features are op one-hots; each of 3 layers averages two GCN layers, one on the
adjacency and one on its transpose (self-loops, row-normalised):
``V' = 1/2 ReLU(A V W+) + 1/2 ReLU(A^T V W-)``; then the mean over the real vertices, one
hidden fully-connected layer of 128 and a sigmoid scaled to [0.10, 1.00].

Optional two-stage mode (``threshold``): a classifier of the same architecture is trained to
tell architectures above the threshold from those below it, the regressor only on those
above; an architecture the classifier rejects is predicted at most at the threshold.

With ``cv_folds >= 2`` the hidden size and learning rate are chosen by k-fold
cross-validation on the N training samples (as in the paper) and the final network is
grown so that it has ``param_scale`` (1.5) times the parameters of the chosen one.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from archpred.errors import InvalidOption
from archpred.predictors.torch_common import (
    TorchConfig,
    TorchPredictor,
    count_parameters,
    padded_graphs,
    predict_network,
    state_of,
)
from archpred.spaces import Architecture

LOW, HIGH = 0.10, 1.00


def normalise(adj: torch.Tensor) -> torch.Tensor:
    """Row-normalise a batch of (M, M) matrices that already hold their self-loops."""
    return adj / adj.sum(-1, keepdim=True).clamp(min=1.0)


class DirectedGCNLayer(nn.Module):
    """One bidirectional graph convolution of the Neural Predictor (Wen et al. 2020, sec. 3.2).

    The average of two GCN layers, one along the edges and one against them:
    ``V' = 1/2 ReLU(A V W+) + 1/2 ReLU(A^T V W-)``, followed by dropout. The paper's ``A`` carries
    self-loops and is degree-normalised; here the two directions come in already normalised
    (see :meth:`NeuralPredictorNet.prepare`): ``a_fwd`` moves information along the edges (row v
    averages v and its in-neighbours), ``a_bwd`` against them (v and its out-neighbours).

    Args:
        d_in: node feature width in.
        d_out: node feature width out.
        dropout: dropout probability on the output.

    Shapes:
        - **input:** v (B, M, d_in), a_fwd (B, M, M), a_bwd (B, M, M)
        - **output:** (B, M, d_out)
    """

    def __init__(self, d_in: int, d_out: int, dropout: float) -> None:
        super().__init__()
        self.forward_weight = nn.Linear(d_in, d_out, bias=False)
        self.backward_weight = nn.Linear(d_in, d_out, bias=False)
        self.dropout = nn.Dropout(dropout)

    def reset_parameters(self) -> None:
        self.forward_weight.reset_parameters()
        self.backward_weight.reset_parameters()

    def forward(self, v: torch.Tensor, a_fwd: torch.Tensor, a_bwd: torch.Tensor) -> torch.Tensor:
        # (A V) W = A (V W): the small batched product with A goes on the narrower side (the
        # first layer's one-hot input), which with fewer temporaries scores a space ~20 % faster.
        d = self.forward_weight.out_features
        if v.shape[-1] < d:
            fwd, bwd = self.forward_weight(a_fwd @ v), self.backward_weight(a_bwd @ v)
        else:
            # One product with both weights side by side instead of two: the wider matmul runs
            # nearer the CPU's peak (~7 % of a whole-space pass), and with the (in, out) weight laid
            # out contiguously MKL needs no transposed read (~10 % of that matmul); the batched
            # products read the halves.
            weight = torch.cat((self.forward_weight.weight, self.backward_weight.weight)).t().contiguous()
            both = v @ weight
            fwd, bwd = a_fwd @ both[..., :d], a_bwd @ both[..., d:]
        # In place where autograd allows it (the products' backward needs their inputs, not their
        # outputs): on a whole space, allocating fresh (B, M, D) tensors costs ~15 % of the pass.
        # Adding into ``fwd`` would overwrite the ReLU output its backward needs, so only when no
        # gradient is kept (scoring a space: another ~15 %).
        if torch.is_grad_enabled():
            out = fwd.relu_() + bwd.relu_()
        else:
            out = fwd.relu_().add_(bwd.relu_())
        return self.dropout(out.mul_(0.5))


class NeuralPredictorNet(nn.Module):
    """The Neural Predictor network of Wen, Liu, Chen, Li, Bender and Kindermans (ECCV 2020).

    Op one-hot node features, ``layers`` :class:`DirectedGCNLayer` s of constant width
    ``hidden``, the mean over the real (non-padding) vertices, one fully-connected hidden layer of
    ``fc`` units with ReLU and dropout, and one output unit. :meth:`forward` maps that unit to an
    accuracy by the sigmoid scaled to [0.10, 1.00] (:func:`scale`); :meth:`logits` returns it
    raw, which is how the two-stage mode's above-threshold classifier (same network) is read.

    Args:
        num_types: size of the node-type vocabulary (``len(space.node_types)``).
        hidden: node representation size D of every GCN layer.
        layers: number of GCN layers (paper: 3).
        fc: width of the hidden fully-connected layer (paper: 128).
        dropout: dropout probability after every GCN layer and the hidden layer.

    Shapes:
        - **input:** types (B, M) long node-type ids (-1 = padding), adj (B, M, M) 0/1 with
          ``adj[b, u, v] = 1`` for an edge u -> v
        - **output:** (B,) predicted accuracy in [0.10, 1.00] (:meth:`forward`) or logits
          (:meth:`logits`, :meth:`logits_prepared`)
    """

    def __init__(self, num_types: int, hidden: int = 144, layers: int = 3, fc: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        dims = [num_types] + [hidden] * layers
        self.gcn = nn.ModuleList(DirectedGCNLayer(a, b, dropout) for a, b in zip(dims[:-1], dims[1:]))
        self.fc = nn.Linear(hidden, fc)
        self.out = nn.Linear(fc, 1)
        self.dropout = nn.Dropout(dropout)
        self.num_types = num_types

    def reset_parameters(self) -> None:
        for layer in self.gcn:
            layer.reset_parameters()
        self.fc.reset_parameters()
        self.out.reset_parameters()

    @staticmethod
    def prepare(types: torch.Tensor, adj: torch.Tensor, num_types: int) -> dict[str, torch.Tensor]:
        """Inputs of ``logits_prepared`` from padded graphs (computed once per data set)."""
        mask = (types >= 0).float()  # (B, M)
        x = nn.functional.one_hot(types.clamp(min=0), num_types).float() * mask.unsqueeze(-1)
        a = adj.float() + torch.diag_embed(mask)  # self-loops on real vertices only
        # row v of a_fwd averages v's in-neighbours (and v), of a_bwd its out-neighbours
        return {"x": x, "a_fwd": normalise(a.transpose(1, 2)), "a_bwd": normalise(a), "mask": mask}

    def logits_prepared(
        self, x: torch.Tensor, a_fwd: torch.Tensor, a_bwd: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Raw output (B,) from the tensors of :meth:`prepare`: x (B, M, num_types), a_fwd and
        a_bwd (B, M, M), mask (B, M)."""
        # Padding vertices stay zero without a mask: their input rows and their rows of a_fwd and
        # a_bwd (no self-loop) are zero, and the layers have no bias.
        v = x
        for layer in self.gcn:
            v = layer(v, a_fwd, a_bwd)
        pooled = v.sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        return self.out(self.dropout(torch.relu(self.fc(pooled)))).squeeze(-1)

    def logits(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """Raw output (B,) before :func:`scale` (the classifier's logit in two-stage mode)."""
        return self.logits_prepared(**self.prepare(types, adj, self.num_types))

    def forward(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """Predicted accuracy in [0.10, 1.00]."""
        return scale(self.logits(types, adj))


def scale(logits: torch.Tensor) -> torch.Tensor:
    """The paper's output range: a sigmoid scaled and shifted to [LOW, HIGH] = [0.10, 1.00]."""
    return LOW + (HIGH - LOW) * torch.sigmoid(logits)


@dataclasses.dataclass(frozen=True)
class NeuralPredictorConfig(TorchConfig):
    """Options of :class:`NeuralPredictor`: network, training (defaults here override
    :class:`TorchConfig`'s), the two-stage mode and the k-fold choice of hidden size and lr.

    Fields:
        hidden: GCN node representation size D (used as is when ``cv_folds`` is 0).
        layers: number of GCN layers.
        fc: width of the hidden fully-connected layer.
        dropout: dropout probability.
        epochs, batch_size, lr, weight_decay: Adam training of each network.
        threshold: two-stage mode when set (fraction in (0, 1)); None trains the regressor alone.
        cv_folds: 0 for no cross-validation, else the k of the k-fold choice.
        cv_hidden: hidden sizes tried by the cross-validation.
        cv_lr: learning rates tried by the cross-validation.
        cv_epochs: epochs of each cross-validation fit (None: ``epochs``).
        param_scale: the final network has this many times the parameters of the CV choice.
        steps: the training budget in optimiser steps (``TorchConfig``).

    The training defaults, 2,500 steps of batch 32 on the pairwise ranking loss, are what
    ``bench predictors --protocols select`` chose by cross-validation; the paper's 300 epochs of
    batch 16 on MSE are ``epochs=300, batch_size=16, loss="mse"``. The two-stage mode needs a
    loss with a scale (``loss="mse"``): its regressor's outputs are compared with the threshold.
    """

    hidden: int = 144
    layers: int = 3
    fc: int = 128
    dropout: float = 0.1
    epochs: int = 300
    batch_size: int = 32
    steps: int = 2_500
    loss: str = "rank"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    threshold: float | None = None  # two-stage mode: NB-101 uses 0.91
    cv_folds: int = 0  # >= 2: choose hidden and lr by k-fold CV on the training set
    cv_hidden: tuple[int, ...] = (64, 144)
    cv_lr: tuple[float, ...] = (1e-3, 3e-3)
    cv_epochs: int | None = None  # epochs of each CV fit (default: epochs)
    param_scale: float = 1.5  # final fit with this many times the parameters of the CV choice

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "cv_hidden", tuple(int(h) for h in self.cv_hidden))
        object.__setattr__(self, "cv_lr", tuple(float(x) for x in self.cv_lr))
        if self.cv_folds == 1 or self.cv_folds < 0:
            raise InvalidOption(f"cv_folds must be 0 (off) or >= 2, got {self.cv_folds}")
        if self.threshold is not None and not 0.0 < self.threshold < 1.0:
            raise InvalidOption(f"threshold must be a fraction in (0, 1), got {self.threshold}")
        if self.threshold is not None and self.loss == "rank":
            raise InvalidOption(
                'the two-stage mode (threshold) needs a loss with a scale: pass loss="mse" (or "mse+rank")'
            )


class NeuralPredictor(TorchPredictor):
    """Wen et al.'s Neural Predictor (:class:`NeuralPredictorNet`) through the ``Predictor`` contract.

    Targets are not standardised: the network's scaled sigmoid predicts the accuracy itself.
    With ``threshold`` set, every ensemble member is a classifier ("accuracy >= threshold",
    binary cross-entropy) plus a regressor fitted on the cells above the threshold only (on all
    cells when fewer than 2 are above); a cell the classifier rejects is predicted at most at the
    threshold. With ``cv_folds >= 2``, ``hidden`` and ``lr`` are first chosen by k-fold CV MSE
    (``cv_scores_``) and ``hidden`` then grown to ``param_scale`` times the parameters.

    Args:
        seed: seeds initialisation and batch order of member k with ``seed + k``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        progress: show a progress bar while fitting.
        callbacks: ``archpred.training.Callback`` objects or ``fn(epoch, logs)`` per epoch.
        **config: fields of :class:`NeuralPredictorConfig` (and ``loss``, ``rank_weight``, ``ensemble``).

    Shapes:
        - **fit:** archs (N architectures of one space), y (N,) accuracies as fractions
        - **predict:** archs (N architectures) -> (N,) float64
        - **predict_proba:** archs (N architectures) -> (N,) float64 (two-stage mode only)
    """

    name = "neural-predictor"
    Config = NeuralPredictorConfig
    standardize = False  # the network's sigmoid output is the accuracy itself
    reads_padded = True

    def _features(self, archs: list[Architecture]) -> dict[str, torch.Tensor]:
        return self._padded_features(**padded_graphs(self.space_, archs))

    def _padded_features(self, types: torch.Tensor, adj: torch.Tensor) -> dict[str, torch.Tensor]:
        return NeuralPredictorNet.prepare(types, adj, len(self.space_.node_types))

    def _net(self, hidden: int) -> NeuralPredictorNet:
        c = self.config
        return NeuralPredictorNet(len(self.space_.node_types), hidden, c.layers, c.fc, c.dropout)

    def _build(self) -> nn.Module:
        return self._net(getattr(self, "hidden_", self.config.hidden))

    def _forward(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return scale(module.logits_prepared(**batch))

    @staticmethod
    def _logit_forward(module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return module.logits_prepared(**batch)

    # -- fitting -----------------------------------------------------------------------------------
    def _run(self, hidden: int, lr: float, epochs: int, feats, target: np.ndarray, seed: int, classify: bool):
        """One regressor (or, with ``classify``, one above-threshold classifier) of ``hidden`` units."""
        kind = "classifier" if classify else "regressor"
        return self._train_module(
            lambda: self._net(hidden),
            feats,
            target,
            seed,
            forward=self._logit_forward if classify else None,
            loss=nn.functional.binary_cross_entropy_with_logits if classify else None,
            lr=lr,
            epochs=epochs,
            desc=f"{self.name} {kind} (seed {seed})",
        )

    def _cross_validate(self, feats, y: np.ndarray) -> None:
        """Pick (hidden, lr) by k-fold CV MSE, then grow hidden to ``param_scale`` x parameters."""
        c = self.config
        k = min(c.cv_folds, len(y))
        folds = np.array_split(np.random.default_rng((self.seed, 7)).permutation(len(y)), k)
        scores = {}
        for hidden, lr in itertools.product(c.cv_hidden, c.cv_lr):
            errors = []
            for f, test in enumerate(folds):
                train = np.setdiff1d(np.arange(len(y)), test)
                rows = torch.from_numpy(train)
                net = self._run(
                    hidden,
                    lr,
                    c.cv_epochs or c.epochs,
                    {k_: v[rows] for k_, v in feats.items()},
                    y[train],
                    self.seed + 1000 + f,
                    classify=False,
                )
                test_rows = torch.from_numpy(test)
                pred = predict_network(
                    net, self._forward, {k_: v[test_rows] for k_, v in feats.items()}, self.torch_device
                )
                errors.append(float(np.mean((pred - y[test]) ** 2)))
            scores[(hidden, lr)] = float(np.mean(errors))
        (hidden, lr) = min(scores, key=scores.get)
        base = count_parameters(self._net(hidden))
        grown = hidden
        while count_parameters(self._net(grown)) < c.param_scale * base:
            grown += 1
        self.cv_scores_ = {f"{h}/{lr_}": s for (h, lr_), s in scores.items()}
        self.hidden_, self.lr_ = grown, lr

    def _select_hyperparameters(self, feats, y: np.ndarray) -> None:
        self.hidden_, self.lr_ = self.config.hidden, self.config.lr
        self.cv_scores_ = {}
        if self.config.cv_folds >= 2:
            self._cross_validate(feats, y)

    @property
    def _stages(self) -> int:  # two-stage mode: a classifier, then a regressor
        return 1 if self.config.threshold is None else 2

    def _train_one(self, feats, y: np.ndarray, seed: int) -> dict[str, Any]:
        """One member: in two-stage mode a classifier, then the regressor on the cells above the
        threshold; otherwise the regressor on all cells."""
        c = self.config
        member: dict[str, Any] = {}
        reg_feats, reg_y = feats, y
        if c.threshold is not None:
            good = y >= c.threshold
            clf = self._run(self.hidden_, self.lr_, c.epochs, feats, good.astype(np.float64), seed, True)
            member["classifier"] = state_of(clf)
            if good.sum() >= 2:
                rows = torch.from_numpy(np.flatnonzero(good))
                reg_feats, reg_y = {n: t[rows] for n, t in feats.items()}, y[good]
        member["net"] = state_of(self._run(self.hidden_, self.lr_, c.epochs, reg_feats, reg_y, seed, False))
        return member

    def _predict_member(self, modules, feats) -> np.ndarray:
        pred = predict_network(modules["net"], self._forward, feats, self.torch_device)
        if "classifier" in modules:
            logit = predict_network(modules["classifier"], self._logit_forward, feats, self.torch_device)
            pred = np.where(logit > 0, pred, np.minimum(pred, self.config.threshold))
        return pred

    def predict_proba(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Two-stage mode: the classifier's probability that each architecture is above the threshold."""
        self._check_fitted()
        if self.config.threshold is None:
            raise InvalidOption("predict_proba needs the two-stage mode (set threshold)")
        feats = self._features(list(archs))
        probs = [
            1 / (1 + np.exp(-predict_network(m["classifier"], self._logit_forward, feats, self.torch_device)))
            for m in self._member_modules()
        ]
        return np.mean(probs, axis=0)

    def _extra_state(self) -> dict[str, Any]:
        return {"hidden": int(self.hidden_), "lr": float(self.lr_)}

    def _restore_extra(self, state: dict[str, Any]) -> None:
        self.hidden_, self.lr_ = int(state["hidden"]), float(state["lr"])
        self.cv_scores_ = {}
