"""Accuracy predictors on graph-VAE latents (registry names ``svge``, ``arch2vec``, ``io``, ``io-accuracy``).

``SVGePredictor``: the SVGe encoder (initialised from the trained VAE of the space when one is
available) fine-tuned jointly with a 4-layer MLP regressor on labelled cells (the SVGe paper's
performance prediction). ``Arch2VecPredictor``: a random forest (200 trees, max_features 4) on
arch2vec graph embeddings, as the input-output extension paper uses it.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from archpred.errors import CheckpointError, InvalidOption
from archpred.predictors.base import Predictor, PredictorConfig
from archpred.predictors.torch_common import (
    apply_calibration,
    calibration_from_state,
    calibration_state,
    check_loss_and_steps,
    epochs_for_steps,
    monotone_calibration,
    regression_loss,
)
from archpred.spaces import Architecture
from archpred.training import fit_regressor, isolated_rng, seeded
from archpred.vae.data import GraphArrays, from_archs
from archpred.vae.regressor import fit_embedding_forest
from archpred.vae.svge import DirectedGNN, GatedSum, SVGeConfig


class SVGeRegressor(nn.Module):
    """The SVGe encoder (same parameter names as in ``SVGe``) and an MLP on the posterior mean."""

    def __init__(self, config: SVGeConfig, mlp_hidden: int = 128) -> None:
        super().__init__()
        from archpred.spaces import get_space

        self.config = config
        h = config.hidden
        self.type_emb = nn.Embedding(len(get_space(config.space).node_types), h)
        self.forward_gnn = DirectedGNN(h, config.rounds)
        self.backward_gnn = DirectedGNN(h, config.rounds)
        self.mean = GatedSum(2 * h, config.latent)
        self.regressor = nn.Sequential(
            nn.Linear(config.latent, mlp_hidden),
            nn.ReLU(),
            nn.Linear(mlp_hidden, mlp_hidden),
            nn.ReLU(),
            nn.Linear(mlp_hidden, mlp_hidden),
            nn.ReLU(),
            nn.Linear(mlp_hidden, 1),
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (self.type_emb, self.forward_gnn, self.backward_gnn, self.mean):
            module.reset_parameters()
        for layer in self.regressor:
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()

    def embed(self, adj: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        mask = types >= 0
        h0 = self.type_emb(types.clamp(min=0)) * mask.unsqueeze(-1)
        h = torch.cat([self.forward_gnn(h0, adj, mask), self.backward_gnn(h0, adj.transpose(1, 2), mask)], -1)
        return self.mean(h, mask)

    def forward(self, adj: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        return self.regressor(self.embed(adj, types)).squeeze(-1)

    def load_encoder(self, svge_state: dict[str, torch.Tensor]) -> None:
        prefixes = ("type_emb.", "forward_gnn.", "backward_gnn.", "mean.")
        part = {k: v.float() for k, v in svge_state.items() if k.startswith(prefixes)}
        missing, _ = self.load_state_dict(part, strict=False)
        if any(not k.startswith("regressor.") for k in missing):
            raise CheckpointError("the pretrained SVGe does not match this encoder")


@dataclasses.dataclass(frozen=True)
class SVGeConfigP(PredictorConfig):
    """``pretrained``: start from the trained SVGe of the space (``load_vae``) when there is one.
    ``steps``, ``loss``, ``rank_weight``: as the torch predictors' (``TorchConfig``); a fit on
    ``loss="rank"`` maps its outputs onto accuracy by isotonic regression on its training cells."""

    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    encoder_lr: float = 1e-4
    weight_decay: float = 0.0
    mlp_hidden: int = 128
    pretrained: bool = True
    # as the torch predictors': a step budget that does not shrink with N, and ranking losses
    steps: int = 0
    loss: str = "mse"
    rank_weight: float = 1.0

    def __post_init__(self) -> None:
        check_loss_and_steps(self.loss, self.steps)
        for name in ("epochs", "batch_size", "mlp_hidden"):
            if int(getattr(self, name)) < 1:
                raise InvalidOption(f"{name} must be >= 1, got {getattr(self, name)}")


class SVGePredictor(Predictor):
    name = "svge"
    Config = SVGeConfigP

    def _build(self) -> SVGeRegressor:
        return SVGeRegressor(SVGeConfig(**self.svge_config_), self.config.mlp_hidden)

    def _pretrained_encoder(self) -> dict[str, torch.Tensor] | None:
        """The trained SVGe's weights (and its config) when ``pretrained`` and one is found."""
        self.svge_config_ = dataclasses.asdict(SVGeConfig(space=self.space_.name))
        self.pretrained_ = ""
        if not self.config.pretrained:
            return None
        from archpred.vae.model import load_vae

        try:
            vae = load_vae("svge", self.space_.name)
        except CheckpointError as err:
            warnings.warn(f"svge predictor: no pretrained SVGe ({err}); the encoder starts untrained", stacklevel=3)
            return None
        self.svge_config_ = dataclasses.asdict(vae.module.config)
        self.pretrained_ = str(vae.meta.get("command", "pretrained"))
        return vae.module.state_dict()

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        encoder_state = self._pretrained_encoder()
        graphs = from_archs(self.space_, archs)
        adj, types, _ = graphs.tensors("cpu")
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std() or 1.0)
        target = torch.as_tensor((y - self.y_mean_) / self.y_std_, dtype=torch.float32)
        c = self.config
        with seeded(self.seed):
            model = self._build()
            if encoder_state is not None:
                model.load_encoder(encoder_state)
            encoder = [p for n, p in model.named_parameters() if not n.startswith("regressor.")]
            # the pretrained encoder is fine-tuned slowly, the fresh regressor at the full rate
            groups = [{"params": encoder, "lr": c.encoder_lr}, {"params": model.regressor.parameters(), "lr": c.lr}]
            fit_regressor(
                model,
                lambda module, batch: module(batch["adj"], batch["types"]),
                {"adj": adj, "types": types},
                target,
                epochs=epochs_for_steps(c.steps, len(target), c.batch_size) if c.steps else c.epochs,
                batch_size=c.batch_size,
                lr=c.lr,
                seed=self.seed,
                device=self.torch_device,
                weight_decay=c.weight_decay,
                loss=lambda pred, target: regression_loss(pred, target, c.loss, c.rank_weight),
                param_groups=groups,
                cosine=False,
                progress=self.progress,
                desc="svge predictor",
            )
        self.model_ = model.eval()
        self.calibration_ = None
        if c.loss == "rank":  # outputs on no scale of their own: map them onto accuracy
            self.calibration_ = monotone_calibration(self.predict_arrays(graphs), y)

    @torch.no_grad()
    def predict_arrays(self, graphs: GraphArrays) -> np.ndarray:
        """Predictions for compact graph arrays (any vertex count: the encoder is size-agnostic)."""
        self._check_fitted()
        out = []
        for s in range(0, len(graphs), 4096):
            adj, types, _ = graphs.take(np.arange(s, min(s + 4096, len(graphs)))).tensors(self.torch_device)
            out.append(self.model_(adj, types).cpu().numpy())
        pred = np.concatenate(out) if out else np.zeros(0)
        return apply_calibration(self.calibration_, pred * self.y_std_ + self.y_mean_)

    def _predict(self, archs: list[Architecture]) -> np.ndarray:
        return self.predict_arrays(from_archs(self.space_, archs))

    @torch.no_grad()
    def embed(self, archs: list[Architecture]) -> np.ndarray:
        self._check_fitted()
        adj, types, _ = from_archs(self.space_, archs).tensors(self.torch_device)
        return self.model_.embed(adj, types).cpu().numpy()

    def _state(self) -> dict[str, Any]:
        return {
            "model": {k: v.cpu() for k, v in self.model_.state_dict().items()},
            "svge_config": json.dumps(self.svge_config_),
            "y_mean": self.y_mean_,
            "y_std": self.y_std_,
            "pretrained": self.pretrained_,
            **calibration_state(self.calibration_),
        }

    def _restore(self, state: dict[str, Any]) -> None:
        self.svge_config_ = json.loads(state["svge_config"])
        self.y_mean_, self.y_std_ = float(state["y_mean"]), float(state["y_std"])
        self.pretrained_ = state.get("pretrained", "")
        self.calibration_ = calibration_from_state(state)
        with isolated_rng():  # initial weights are replaced at once; leave the caller's RNG alone
            model = self._build()
        model.load_state_dict(state["model"])
        self.model_ = model.to(self.torch_device).eval()


@dataclasses.dataclass(frozen=True)
class Arch2VecConfigP(PredictorConfig):
    n_estimators: int = 200
    max_features: int = 4


@dataclasses.dataclass(frozen=True)
class IOEmbeddingConfig(Arch2VecConfigP):
    # which embedding of the IO / Accuracy model: arch2vec's mean of node latents ("model 1", the
    # better predictor in the paper's Tables 6-7) or its flatten layer ("model 2")
    embedding: str = "mean"
    model: str = ""  # the model file; empty: ``load_vae``'s (the cache's, then the shipped one)

    def __post_init__(self) -> None:
        from archpred.vae.io import EMBEDDINGS

        if self.embedding not in EMBEDDINGS:
            raise InvalidOption(f"embedding must be one of {', '.join(EMBEDDINGS)}, got {self.embedding!r}")


class Arch2VecPredictor(Predictor):
    """Random forest on arch2vec graph embeddings of the space's trained arch2vec (``load_vae``).

    The saved file holds the VAE's weights and the training embeddings and targets; the
    (seeded) forest is refitted on load, so nothing is pickled.
    """

    name = "arch2vec"
    vae_kind = "arch2vec"
    Config = Arch2VecConfigP

    def _vae(self):
        from archpred.vae.model import load_vae

        return load_vae(self.vae_kind, self.space_.name, device=self.device)

    def _forest(self, x: np.ndarray, y: np.ndarray):
        c = self.config
        return fit_embedding_forest(x, y, seed=self.seed, n_estimators=c.n_estimators, max_features=c.max_features)

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        self.vae_ = self._vae()
        self.x_ = self.vae_.embed(archs)
        self.y_ = y
        self.forest_ = self._forest(self.x_, y)

    def _predict(self, archs: list[Architecture]) -> np.ndarray:
        return self.forest_.predict(self.vae_.embed(archs))

    def _state(self) -> dict[str, Any]:
        return {
            "vae_config": json.dumps(dataclasses.asdict(self.vae_.module.config)),
            "vae": {k: v.cpu() for k, v in self.vae_.module.state_dict().items()},
            "x": torch.as_tensor(self.x_),
            "y": torch.as_tensor(self.y_),
        }

    def _restore(self, state: dict[str, Any]) -> None:
        from archpred.vae.model import GraphVAE, build_module

        config = json.loads(state["vae_config"])
        space = config.pop("space")
        with isolated_rng():
            module = build_module(self.vae_kind, space, **config)
        module.load_state_dict(state["vae"])
        self.vae_ = GraphVAE(self.vae_kind, space, module.to(self.torch_device))
        self.x_, self.y_ = state["x"].numpy(), state["y"].numpy()
        self.forest_ = self._forest(self.x_, self.y_)


class IOPredictor(Arch2VecPredictor):
    """Random forest on the IO model's embeddings (arch2vec trained with input-output
    information, ``archpred.vae.io``), as the paper's performance-prediction experiment."""

    name = "io"
    vae_kind = "io"
    Config = IOEmbeddingConfig
    spaces = ("nb101",)

    def _vae(self):
        from archpred.vae.io import use_embedding
        from archpred.vae.model import load_vae

        vae = load_vae(self.vae_kind, self.space_.name, path=self.config.model or None, device=self.device)
        return use_embedding(vae, self.config.embedding)


class IOAccuracyPredictor(IOPredictor):
    """Random forest on the Accuracy model's embeddings (arch2vec trained jointly with an
    accuracy head on the IO dataset's networks)."""

    name = "io-accuracy"
    vae_kind = "io-accuracy"
