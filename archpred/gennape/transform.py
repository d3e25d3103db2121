"""GENNAPE's regression targets: accuracy divided by a FLOPs term, then z-scored (paper Eq. 5).

``y = Z(A / (log10(F + 1) + 1))`` with ``A`` the accuracy, ``F`` the FLOPs in giga-FLOPs and
``Z`` the z-score with the *training partition's* mean and standard deviation. The division
takes out the part of accuracy that model size explains, so the heads learn what is left and
the inverse puts the size back for families of other sizes. The same statistics are used for
every test family (the paper's rule), so ``fit`` is called once, on the training rows only.

``FlopsTransform`` is Eq. 5; ``IdentityTransform`` is the z-score alone (the non-T variants CL
and CL+FCM); ``make_transform(use_flops)`` picks one, ``transform_from_dict`` reads either back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from archpred.errors import InvalidOption

GIGA = 1e9


def _finite(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size and not np.all(np.isfinite(arr)):
        raise InvalidOption(f"{name} holds NaN or infinite values")
    return arr


def _z_stats(values: np.ndarray, what: str) -> tuple[float, float]:
    """Mean and population std (ddof 0, as sklearn's StandardScaler); a constant is refused."""
    if values.size == 0:
        raise InvalidOption(f"cannot fit the {what} transform on no rows")
    mean, std = float(values.mean()), float(values.std())
    if not np.isfinite(std) or std <= 0.0:
        raise InvalidOption(f"cannot fit the {what} transform: the targets have zero spread")
    return mean, std


def flops_divisor(flops: Any) -> np.ndarray:
    """``log10(F + 1) + 1`` with ``F = flops / 1e9``: our FLOPs arrays count multiply-adds, and the
    paper's ``F`` is in giga-FLOPs, so multiply-adds / 1e9 is taken as ``F`` (the paper's FLOPs
    of NB-101 are the same multiply-add counts). Negative FLOPs are refused."""
    f = _finite("flops", flops)
    if f.size and f.min() < 0:
        raise InvalidOption("flops must be >= 0")
    return np.log10(f / GIGA + 1.0) + 1.0


@dataclass(frozen=True)
class FlopsTransform:
    """Eq. 5 of GENNAPE: ``y = (A / (log10(F + 1) + 1) - mean) / std``, F in giga-FLOPs.

    Args:
        mean, std: statistics of ``A / (log10(F + 1) + 1)`` over the training partition.

    Shapes:
        acc, flops, y: any broadcastable shapes (usually (n,)); outputs are float64.
    """

    mean: float
    std: float
    kind: ClassVar[str] = "flops"

    @classmethod
    def fit(cls, acc: Any, flops: Any) -> FlopsTransform:
        """Statistics from the training rows; NaN/inf or targets with zero spread -> InvalidOption."""
        scaled = _finite("accuracy", acc) / flops_divisor(flops)
        return cls(*_z_stats(scaled, "FLOPs"))

    def forward(self, acc: Any, flops: Any) -> np.ndarray:
        """Accuracies -> regression targets."""
        return (np.asarray(acc, dtype=np.float64) / flops_divisor(flops) - self.mean) / self.std

    def inverse(self, y: Any, flops: Any) -> np.ndarray:
        """Regression outputs -> accuracies (exact inverse of ``forward``)."""
        return (np.asarray(y, dtype=np.float64) * self.std + self.mean) * flops_divisor(flops)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": float(self.mean), "std": float(self.std)}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> FlopsTransform:
        return cls(**_read_dict(state, cls.kind))


@dataclass(frozen=True)
class IdentityTransform:
    """The z-score alone, ``y = (A - mean) / std`` (variants without T); ``flops`` is accepted
    and ignored so both transforms are called the same way.

    Shapes:
        acc, y: any shape; outputs are float64.
    """

    mean: float
    std: float
    kind: ClassVar[str] = "identity"

    @classmethod
    def fit(cls, acc: Any, flops: Any = None) -> IdentityTransform:
        return cls(*_z_stats(_finite("accuracy", acc), "z-score"))

    def forward(self, acc: Any, flops: Any = None) -> np.ndarray:
        return (np.asarray(acc, dtype=np.float64) - self.mean) / self.std

    def inverse(self, y: Any, flops: Any = None) -> np.ndarray:
        return np.asarray(y, dtype=np.float64) * self.std + self.mean

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": float(self.mean), "std": float(self.std)}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> IdentityTransform:
        return cls(**_read_dict(state, cls.kind))


Transform = FlopsTransform | IdentityTransform
_KINDS: dict[str, type[FlopsTransform] | type[IdentityTransform]] = {
    FlopsTransform.kind: FlopsTransform,
    IdentityTransform.kind: IdentityTransform,
}


def _read_dict(state: dict[str, Any], kind: str) -> dict[str, float]:
    if not isinstance(state, dict) or state.get("kind", kind) != kind:
        found = state.get("kind") if isinstance(state, dict) else type(state).__name__
        raise InvalidOption(f"not a {kind} transform: {found!r}")
    try:
        mean, std = float(state["mean"]), float(state["std"])
    except (KeyError, TypeError, ValueError):
        raise InvalidOption(f"a {kind} transform needs numeric mean and std") from None
    if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
        raise InvalidOption(f"a {kind} transform needs a finite mean and a positive std")
    return {"mean": mean, "std": std}


def make_transform(use_flops: bool) -> type[FlopsTransform] | type[IdentityTransform]:
    """The transform class of a variant (``+T`` -> ``FlopsTransform``); call ``.fit`` on it."""
    return FlopsTransform if use_flops else IdentityTransform


def transform_from_dict(state: dict[str, Any]) -> Transform:
    """Either transform back from ``to_dict`` (dispatch on its ``kind``)."""
    kind = state.get("kind") if isinstance(state, dict) else None
    if kind not in _KINDS:
        raise InvalidOption(f"unknown target transform {kind!r}; expected one of {', '.join(_KINDS)}")
    return _KINDS[kind].from_dict(state)
