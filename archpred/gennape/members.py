"""The predictors GENNAPE's ensemble is made of, each behind one small interface.

Every member maps a ``Features`` (the CGs' CL embeddings, their FLOPs, and the graphs) to one
score per CG; a higher score means a better network:

- ``RegressorMember`` -- an ``MLPEnsemble`` on the CL embedding, weighted by FCM memberships
  when it has ``clusters`` (CL+FCM, CL+FCM+T) or a single MLP (CL, CL+T); its score is the
  predicted accuracy (the transform, Eq. 5 or a plain z-score, is inverted).
- ``PairwiseMember`` -- a ``PairwiseClassifier``; its score is the position of each CG when the
  set is sorted with the classifier as comparator (a merge sort, as the paper ranks), so it only
  means something within the set scored together.
- ``KGNNMember`` -- the end-to-end k-GNN baseline on the CGs themselves (accuracy).
- ``FlopsMember`` -- more FLOPs, better (paper Table 1's FLOPs predictor).

Members are fine-tuned in place by ``fit`` (the caller copies them first) and serialise to
tensors and plain values (``state``/``from_state``) for a ``weights_only`` file.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from archpred.gennape.graphs import GraphSet


@dataclass(frozen=True)
class Features:
    """What members score: CL embeddings (n, 128), multiply-adds (n,), and the graphs."""

    embedding: np.ndarray
    flops: np.ndarray
    graphs: GraphSet

    def __len__(self) -> int:
        return len(self.flops)

    def subset(self, rows: np.ndarray) -> Features:
        return Features(self.embedding[rows], self.flops[rows], self.graphs.subset(rows))


@dataclass(frozen=True)
class TrainSettings:
    """How a member is fitted (paper: 40 epochs, lr 1e-4, batch 32; fine-tuning: 100 epochs of
    50 samples with batch 1)."""

    epochs: int = 40
    batch_size: int = 32
    lr: float = 1e-4
    seed: int = 0
    device: str = "auto"
    progress: bool = False


class Member:
    """A scorer of CGs. ``kind`` names the class in saved files."""

    kind: ClassVar[str] = ""
    returns_accuracy: ClassVar[bool] = False

    def __init__(self, name: str) -> None:
        self.name = name

    def score(self, feats: Features) -> np.ndarray:
        raise NotImplementedError

    def fit(self, feats: Features, accuracy: np.ndarray, settings: TrainSettings) -> Member:
        raise NotImplementedError

    def copy(self) -> Member:
        return copy.deepcopy(self)

    def state(self) -> dict[str, Any]:
        raise NotImplementedError


def _memberships(clusters: Any, feats: Features) -> torch.Tensor | None:
    if clusters is None:
        return None
    return torch.as_tensor(clusters.memberships(feats.embedding, feats.flops), dtype=torch.float32)


def _flops_stats(feats: Features) -> tuple[float, float]:
    """Mean and std of log10(FLOPs + 1) over the training CGs (the heads' extra input)."""
    logf = np.log10(np.asarray(feats.flops, dtype=np.float64) + 1.0)
    return float(logf.mean()), float(logf.std()) or 1.0


def _head_input(module: torch.nn.Module, feats: Features, stats: tuple[float, float] | None) -> torch.Tensor:
    """The heads see the CL embedding and, when they have one more input, the z-scored log-FLOPs:
    the same features FCM clusters, so Eq. 5's FLOPs factor is known to them, not guessed."""
    h = torch.as_tensor(feats.embedding, dtype=torch.float32)
    if int(module.in_dim) == h.shape[1]:
        return h
    z = (np.log10(np.asarray(feats.flops, dtype=np.float64) + 1.0) - stats[0]) / stats[1]
    return torch.cat([h, torch.as_tensor(z, dtype=torch.float32)[:, None]], dim=1)


def _transform_state(transform: Any) -> dict[str, Any]:
    return {"type": type(transform).__name__, **transform.to_dict()}


def _transform_from(state: dict[str, Any]) -> Any:
    from archpred.gennape.transform import FlopsTransform, IdentityTransform

    kinds = {"FlopsTransform": FlopsTransform, "IdentityTransform": IdentityTransform}
    state = dict(state)
    return kinds[state.pop("type")].from_dict(state)


class RegressorMember(Member):
    """CL, CL+T, CL+FCM or CL+FCM+T: MLP heads on the embedding predicting transformed accuracy."""

    kind = "regressor"
    returns_accuracy = True

    def __init__(
        self,
        name: str,
        module: torch.nn.Module,
        transform: Any,
        clusters: Any = None,
        flops_stats: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(name)
        self.module, self.transform, self.clusters, self.flops_stats = module, transform, clusters, flops_stats

    def _inputs(self, feats: Features) -> dict[str, torch.Tensor]:
        inputs = {"h": _head_input(self.module, feats, self.flops_stats)}
        u = _memberships(self.clusters, feats)
        if u is not None:
            inputs["u"] = u
        return inputs

    def score(self, feats: Features) -> np.ndarray:
        inputs = self._inputs(feats)
        self.module.eval()
        with torch.no_grad():
            y = self.module.cpu()(inputs["h"], inputs.get("u")).numpy().astype(np.float64)
        return self.transform.inverse(y, feats.flops)

    def fit(self, feats: Features, accuracy: np.ndarray, settings: TrainSettings) -> RegressorMember:
        from archpred.training import fit_regressor

        if self.flops_stats is None:  # pretraining sets them; fine-tuning keeps them
            self.flops_stats = _flops_stats(feats)
        target = torch.as_tensor(self.transform.forward(accuracy, feats.flops), dtype=torch.float32)
        fit_regressor(
            self.module,
            lambda m, b: m(b["h"], b.get("u")),
            self._inputs(feats),
            target,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            lr=settings.lr,
            seed=settings.seed,
            device=settings.device,
            progress=settings.progress,
            desc=self.name,
        )
        self.module.cpu()
        return self

    def state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "module": self.module.state_dict(),
            "n_heads": int(self.module.n_heads),
            "hidden": int(self.module.hidden),
            "layers": int(self.module.layers),
            "in_dim": int(self.module.in_dim),
            "transform": _transform_state(self.transform),
            "clusters": None if self.clusters is None else self.clusters.state_dict(),
            "flops_stats": None if self.flops_stats is None else list(self.flops_stats),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RegressorMember:
        from archpred.gennape.fcm import FuzzyClusters
        from archpred.gennape.heads import MLPEnsemble

        module = MLPEnsemble(state["in_dim"], state["n_heads"], hidden=state["hidden"], layers=state["layers"])
        module.load_state_dict(state["module"])
        clusters = None if state["clusters"] is None else FuzzyClusters.from_state(state["clusters"])
        stats = state.get("flops_stats")
        return cls(state["name"], module, _transform_from(state["transform"]), clusters, _stats(stats))


class PairwiseMember(Member):
    """CL+Pairwise or CL+FCM+Pairwise: which of two CGs is better, ranked by a comparison sort."""

    kind = "pairwise"

    def __init__(
        self,
        name: str,
        module: torch.nn.Module,
        clusters: Any = None,
        pairs_per_graph: int = 2,
        flops_stats: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(name)
        self.module, self.clusters, self.pairs_per_graph = module, clusters, pairs_per_graph
        self.flops_stats = flops_stats

    def latents(self, feats: Features) -> np.ndarray:
        h = _head_input(self.module, feats, self.flops_stats)
        self.module.eval()
        with torch.no_grad():
            return self.module.cpu().encode(h, _memberships(self.clusters, feats)).numpy()

    def score(self, feats: Features) -> np.ndarray:
        from archpred.gennape.heads import rank_by_comparison

        return np.asarray(rank_by_comparison(self.latents(feats), self.module), dtype=np.float64)

    def fit(self, feats: Features, accuracy: np.ndarray, settings: TrainSettings) -> PairwiseMember:
        from archpred.training import fit_regressor

        if self.flops_stats is None:
            self.flops_stats = _flops_stats(feats)
        a, b = _pairs(accuracy, self.pairs_per_graph, settings.seed)
        h = _head_input(self.module, feats, self.flops_stats)
        u = _memberships(self.clusters, feats)
        inputs = {"ha": h[a], "hb": h[b]}
        if u is not None:
            inputs.update(ua=u[a], ub=u[b])
        target = torch.as_tensor(accuracy[a] > accuracy[b], dtype=torch.float32)
        fit_regressor(
            self.module,
            lambda m, x: m(x["ha"], x.get("ua"), x["hb"], x.get("ub")),
            inputs,
            target,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            lr=settings.lr,
            seed=settings.seed,
            device=settings.device,
            loss=torch.nn.functional.binary_cross_entropy_with_logits,
            progress=settings.progress,
            desc=self.name,
        )
        self.module.cpu()
        return self

    def state(self) -> dict[str, Any]:
        m = self.module
        return {
            "kind": self.kind,
            "name": self.name,
            "module": m.state_dict(),
            "in_dim": int(m.in_dim),
            "n_heads": int(m.n_heads),
            "hidden": int(m.hidden),
            "layers": int(m.layers),
            "latent": int(m.latent),
            "pairs_per_graph": int(self.pairs_per_graph),
            "clusters": None if self.clusters is None else self.clusters.state_dict(),
            "flops_stats": None if self.flops_stats is None else list(self.flops_stats),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PairwiseMember:
        from archpred.gennape.fcm import FuzzyClusters
        from archpred.gennape.heads import PairwiseClassifier

        module = PairwiseClassifier(
            state["in_dim"], state["n_heads"], hidden=state["hidden"], layers=state["layers"], latent=state["latent"]
        )
        module.load_state_dict(state["module"])
        clusters = None if state["clusters"] is None else FuzzyClusters.from_state(state["clusters"])
        return cls(state["name"], module, clusters, state["pairs_per_graph"], _stats(state.get("flops_stats")))


def _stats(value: Any) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


def _pairs(accuracy: np.ndarray, per_graph: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``per_graph`` random partners for every CG, exact ties dropped (no label to learn)."""
    rng = np.random.default_rng(seed)
    n = len(accuracy)
    a = np.repeat(np.arange(n), per_graph)
    b = rng.integers(0, n, size=len(a))
    keep = accuracy[a] != accuracy[b]
    return a[keep], b[keep]


class KGNNMember(Member):
    """The k-GNN trained end to end on the CGs (the paper's baseline; predicts accuracy)."""

    kind = "kgnn"
    returns_accuracy = True

    def __init__(self, name: str, module: torch.nn.Module, transform: Any) -> None:
        super().__init__(name)
        self.module, self.transform = module, transform

    def score(self, feats: Features) -> np.ndarray:
        from archpred.gennape.kgnn import predict_kgnn

        y = np.asarray(predict_kgnn(self.module, feats.graphs, device="cpu"), dtype=np.float64)
        return self.transform.inverse(y, feats.flops)

    def fit(self, feats: Features, accuracy: np.ndarray, settings: TrainSettings) -> KGNNMember:
        from archpred.gennape.kgnn import fit_kgnn

        target = self.transform.forward(accuracy, feats.flops)
        fit_kgnn(self.module, feats.graphs, target, settings)
        self.module.cpu()
        return self

    def state(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "kind": self.kind,
            "name": self.name,
            "module": self.module.state_dict(),
            "config": asdict(self.module.config),
            "transform": _transform_state(self.transform),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> KGNNMember:
        from archpred.gennape.kgnn import KGNN, KGNNConfig

        module = KGNN(KGNNConfig(**state["config"]))
        module.load_state_dict(state["module"])
        return cls(state["name"], module, _transform_from(state["transform"]))


class FlopsMember(Member):
    """Rank by FLOPs alone (no learning; fine-tuning changes nothing)."""

    kind = "flops"

    def score(self, feats: Features) -> np.ndarray:
        return np.log10(np.asarray(feats.flops, dtype=np.float64) + 1.0)

    def fit(self, feats: Features, accuracy: np.ndarray, settings: TrainSettings) -> FlopsMember:
        return self

    def state(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FlopsMember:
        return cls(state["name"])


MEMBER_KINDS: dict[str, type] = {cls.kind: cls for cls in (RegressorMember, PairwiseMember, KGNNMember, FlopsMember)}


def member_from_state(state: dict[str, Any]) -> Member:
    return MEMBER_KINDS[state["kind"]].from_state(state)
