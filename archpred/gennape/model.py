"""GENNAPE: predict any network's accuracy from its computation graph (Mills et al., AAAI 2023).

A ``Gennape`` holds a frozen contrastive encoder, the members of the ensemble (``members.py``)
and their ensemble weights. ``predict(items)`` takes cells of any of our spaces,
``torch.nn.Module`` objects (with ``input_shape=``), ONNX files and CGs, all through
``inputs.to_graphs`` (validated there, once).

The ensemble combines **standardised scores** (the paper leaves the rule open): each member's
scores over the set being predicted are z-scored (the pairwise members' scores are sort
positions, the FLOPs member's log-FLOPs), averaged with the ensemble weights (equal zero-shot;
softmax of each member's Kendall tau on the fine-tuning samples after ``fine_tune``), and the
result is put on the accuracy scale of the accuracy-predicting members over the same set (their
mean and spread). So ``predict`` of a population ranks it as GENNAPE does and reads in
accuracy; a single network (n < 3) gets the mean of the accuracy-predicting members.
``predict(items, member=NAME)`` returns one member's own prediction instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archpred.errors import InvalidOption
from archpred.gennape.members import Features, Member, TrainSettings, member_from_state
from archpred.paths import ASSETS_DIR

FORMAT = "archpred-gennape"
VERSION = 1
SHIPPED = ASSETS_DIR / "gennape" / "gennape-nb101.pt"
ZERO_SHOT_MEMBERS = ("cl+fcm+t", "cl+t", "cl+pairwise", "cl+fcm+pairwise", "kgnn", "flops")


@dataclass(frozen=True)
class FineTuneSettings:
    """Paper: 50 samples, 100 epochs, batch size 1 (the encoder and the FCM centroids stay fixed)."""

    epochs: int = 100
    batch_size: int = 1
    lr: float = 1e-4


def _check_accuracies(accuracies: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """Fractions in [0, 1], one per network (percentages are refused: 93.1 means nothing here)."""
    acc = np.asarray(accuracies, dtype=np.float64).reshape(-1)
    if len(acc) != n:
        raise InvalidOption(f"{n} networks but {len(acc)} accuracies")
    if not np.all(np.isfinite(acc)):
        raise InvalidOption("accuracies must be finite numbers (found NaN or inf)")
    if acc.min() < 0 or acc.max() > 1:
        raise InvalidOption("accuracies must be fractions in [0, 1] (divide percentages by 100)")
    return acc


def _zscore(x: np.ndarray) -> np.ndarray:
    std = x.std()
    return np.zeros_like(x) if not np.isfinite(std) or std == 0 else (x - x.mean()) / std


class Gennape:
    """A trained GENNAPE ensemble (see the module docstring).

    Args:
        encoder: the contrastive ``CLEncoder`` (kept in eval mode).
        members: name -> ``Member``; the ensemble uses those in ``weights``.
        weights: name -> ensemble weight (summing to 1).
        info: provenance and validation metrics (plain values).
        device: where the encoder embeds (``auto``: CUDA when present); the members' small
            heads score on the CPU.
    """

    def __init__(
        self,
        encoder: Any,
        members: dict[str, Member],
        weights: dict[str, float] | None = None,
        info: dict[str, Any] | None = None,
        device: str = "auto",
    ) -> None:
        from archpred.training import resolve_device

        resolve_device(device)  # a bad or absent device fails here, in one line
        self.device = str(device)
        self.encoder = encoder.cpu().eval()
        self.members = dict(members)
        names = [n for n in ZERO_SHOT_MEMBERS if n in self.members] or list(self.members)
        self.weights = dict(weights) if weights is not None else {n: 1.0 / len(names) for n in names}
        unknown = sorted(set(self.weights) - set(self.members))
        if unknown:
            raise InvalidOption(f"ensemble weights for unknown member(s): {', '.join(unknown)}")
        self.info = dict(info or {})

    # ----------------------------------------------------------------------------- features
    def features(self, items: Any, input_shape: Sequence[int] | None = None) -> Features:
        """Embed ``items`` (anything ``inputs.to_graphs`` takes, or a ``GraphSet``)."""
        from archpred.gennape.contrastive import embed
        from archpred.gennape.graphs import GraphSet
        from archpred.gennape.inputs import to_graphs

        graphs = items if isinstance(items, GraphSet) else to_graphs(items, input_shape=input_shape)
        emb = embed(self.encoder, graphs, device=self.device) if len(graphs) else np.zeros((0, self.embed_dim))
        return Features(np.asarray(emb, dtype=np.float32), np.asarray(graphs.flops, dtype=np.float64), graphs)

    @property
    def embed_dim(self) -> int:
        return int(self.encoder.config.embed_dim)

    def embed(self, items: Any, input_shape: Sequence[int] | None = None) -> np.ndarray:
        """CL embeddings. Shapes: n items -> (n, 128)."""
        return self.features(items, input_shape).embedding

    def memberships(self, items: Any, input_shape: Sequence[int] | None = None, member: str = "cl+fcm+t") -> np.ndarray:
        """FCM memberships of ``member``'s clusters. Shapes: n items -> (n, C); rows sum to 1."""
        clusters = getattr(self._member(member), "clusters", None)
        if clusters is None:
            raise InvalidOption(f"member {member} has no clusters")
        feats = self.features(items, input_shape)
        return clusters.memberships(feats.embedding, feats.flops)

    def head_predictions(self, items: Any, input_shape: Sequence[int] | None = None) -> np.ndarray:
        """Each CL+FCM+T head's own accuracy prediction. Shapes: (n, C)."""
        import torch

        m = self._member("cl+fcm+t")
        feats = self.features(items, input_shape)
        h = m._inputs(feats)["h"]
        with torch.no_grad():
            per_head = m.module.eval().per_head(h).numpy().astype(np.float64)
        return np.stack([m.transform.inverse(per_head[:, j], feats.flops) for j in range(per_head.shape[1])], 1)

    # ----------------------------------------------------------------------------- predictions
    def _member(self, name: str) -> Member:
        if name not in self.members:
            raise InvalidOption(f"unknown GENNAPE member {name!r}; choose from {', '.join(self.members)}")
        return self.members[name]

    def member_scores(self, feats: Features, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Each member's scores (accuracy for regressors and the k-GNN; sort positions, log-FLOPs)."""
        return {n: self._member(n).score(feats) for n in (names or self.members)}

    def predict(self, items: Any, input_shape: Sequence[int] | None = None, member: str | None = None) -> np.ndarray:
        """Predicted accuracies (fractions), one per item; ``member`` picks one member's own."""
        feats = self.features(items, input_shape)
        if member is not None:
            return self._member(member).score(feats)
        return self.combine(self.member_scores(feats, list(self.weights)))

    def combine(self, scores: dict[str, np.ndarray]) -> np.ndarray:
        """The ensemble of member scores over one set (see the module docstring)."""
        acc = [scores[n] for n in self.weights if self.members[n].returns_accuracy]
        if not acc:
            raise InvalidOption("a GENNAPE ensemble needs at least one accuracy-predicting member")
        level = np.mean(acc, axis=0)
        n = len(level)
        if n < 3:
            return level
        mixed = sum(w * _zscore(np.asarray(scores[name], dtype=np.float64)) for name, w in self.weights.items())
        return level.mean() + level.std() * _zscore(np.asarray(mixed))

    # ----------------------------------------------------------------------------- fine-tuning
    def fine_tune(
        self,
        items: Any,
        accuracies: Sequence[float] | np.ndarray,
        seed: int = 0,
        settings: FineTuneSettings | None = None,
        device: str = "auto",
        input_shape: Sequence[int] | None = None,
    ) -> Gennape:
        """A new estimator fine-tuned on a few labelled networks; ``self`` is left unchanged.

        Every learned member is copied and trained further; the ensemble weights become the
        softmax of each member's Kendall tau on the fine-tuning samples (the paper's rule).
        """
        from archpred.metrics import kendall_tau

        settings = settings or FineTuneSettings()
        feats = self.features(items, input_shape)
        acc = _check_accuracies(accuracies, len(feats))
        if len(feats) < 2:
            raise InvalidOption("fine-tuning needs at least 2 labelled networks")
        train = TrainSettings(
            epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr, seed=seed, device=device
        )
        members = {n: m.copy().fit(feats, acc, train) for n, m in self.members.items()}
        taus = {}
        for name in self.weights:
            tau = kendall_tau(acc, members[name].score(feats))
            taus[name] = tau if np.isfinite(tau) else 0.0
        exp = {n: float(np.exp(t)) for n, t in taus.items()}
        total = sum(exp.values())
        weights = {n: v / total for n, v in exp.items()}
        info = {**self.info, "fine_tuned": {"n": len(feats), "seed": seed, "kendall_tau": taus, **asdict(settings)}}
        return Gennape(self.encoder, members, weights, info, device=self.device)

    # ----------------------------------------------------------------------------- files
    def save(self, path: str | Path, half: bool = False, ensemble_only: bool = False) -> Path:
        """One ``weights_only`` file; ``half`` stores the networks' weights as float16 (predictions
        move by about 1e-4); ``ensemble_only`` leaves out the members outside the ensemble (the
        ablations CL and CL+FCM: the shipped model, about half the size)."""
        from archpred.artifacts import save_artifact

        members = []
        for name, m in self.members.items():
            if ensemble_only and name not in self.weights:
                continue
            state = _tensors(m.state())
            if half and "module" in state:
                state["module"] = _half(state["module"])
            members.append(state)
        encoder = {k: v.cpu() for k, v in self.encoder.state_dict().items()}
        return save_artifact(
            path,
            FORMAT,
            VERSION,
            encoder=_half(encoder) if half else encoder,
            encoder_config=asdict(self.encoder.config),
            members=members,
            weights=dict(self.weights),
            info=self.info,
        )


def _half(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def _tensors(value: Any) -> Any:
    """NumPy arrays inside a member's state as tensors (``weights_only`` files hold no arrays)."""
    import torch

    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, dict):
        return {k: _tensors(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_tensors(v) for v in value)
    return value


def load_gennape(path: str | Path | None = None, device: str = "auto") -> Gennape:
    """The GENNAPE model pretrained on NB-101 that ships in ``assets/gennape/`` (``path=None``),
    or one saved by ``Gennape.save`` / ``python -m archpred train gennape``; ``device``: where
    it embeds (``auto``: CUDA when present)."""
    from archpred.artifacts import load_artifact
    from archpred.errors import CheckpointError
    from archpred.gennape.encoder import CLEncoder, EncoderConfig
    from archpred.training import resolve_device

    resolve_device(device)  # a bad device is the caller's mistake, not the file's
    path = Path(path) if path is not None else SHIPPED
    state = load_artifact(path, FORMAT, (VERSION,), what="GENNAPE model")
    try:
        encoder = CLEncoder(EncoderConfig(**state["encoder_config"]))
        encoder.load_state_dict({k: v.float() for k, v in state["encoder"].items()})
        members = {m["name"]: member_from_state(m) for m in state["members"]}
        return Gennape(encoder, members, state["weights"], state.get("info"), device=device)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{path}: not a usable GENNAPE model ({type(err).__name__})") from None
