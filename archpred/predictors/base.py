"""The estimator contract every predictor follows (scikit-learn style).

``__init__`` stores arguments; ``fit(archs, y)`` returns ``self`` and sets state ending in
``_``; ``predict(archs)`` raises ``NotFittedError`` before ``fit``. ``save``/``load`` write one
file read back with ``torch.load(weights_only=True)``: tensors, numbers and strings only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from archpred.errors import CheckpointError, InvalidArchitecture, InvalidOption, NotFittedError
from archpred.options import check_values
from archpred.spaces import Architecture, SearchSpace, get_space

if TYPE_CHECKING:  # torch loads on first use, so importing the registry stays cheap
    import torch

FORMAT = "archpred-predictor"
FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class PredictorConfig:
    """Base of predictor configs: small, frozen, JSON-serialisable."""


class Predictor:
    """Base class. Subclasses set ``name`` and ``Config`` and implement ``_fit``, ``_predict``,
    ``_state`` (learned state as tensors / plain values) and ``_restore``.

    Args:
        seed: seeds every random choice of ``fit`` (same seed, same model).
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``
            (``archpred.training.resolve_device``).
        progress: show a progress bar while fitting.
        **config: fields of ``Config``.
    """

    name: ClassVar[str] = ""
    Config: ClassVar[type[PredictorConfig]] = PredictorConfig
    spaces: ClassVar[tuple[str, ...] | None] = None  # the spaces it can fit; None: every space

    def __init__(self, seed: int = 0, device: str = "auto", progress: bool = False, **config: Any) -> None:
        from archpred.training import resolve_device

        resolve_device(device)  # an unknown or absent device fails here, in one line, not mid-fit
        self.seed = seed
        self.device = device
        self.progress = progress
        fields = {f.name for f in dataclasses.fields(self.Config)}
        unknown = sorted(set(config) - fields)
        if unknown:
            raise InvalidOption(
                f"unknown option(s) for {self.name}: {', '.join(unknown)}; known: {', '.join(sorted(fields)) or 'none'}"
            )
        check_values(self.Config, config, self.name)
        self.config = self.Config(**config)

    # -- public API ---------------------------------------------------------------------------
    def fit(self, archs: Sequence[Architecture], y: Sequence[float] | np.ndarray) -> Predictor:
        archs = list(archs)
        y = np.asarray(y, dtype=np.float64).ravel()
        if len(archs) != len(y):
            raise InvalidOption(f"{len(archs)} architectures but {len(y)} targets")
        if len(archs) < 2:
            raise InvalidOption("fit needs at least 2 architectures")
        if not np.all(np.isfinite(y)):
            raise InvalidOption("targets must be finite numbers")
        space = _space_of(archs)
        if self.spaces is not None and space not in self.spaces:
            raise InvalidOption(f"the {self.name} predictor works on {', '.join(self.spaces)} cells, not {space}")
        self.space_ = get_space(space)
        self._fit(archs, y)
        return self

    def predict(self, archs: Sequence[Architecture]) -> np.ndarray:
        self._check_fitted()
        archs = list(archs)
        if not archs:
            return np.zeros(0)
        space = _space_of(archs)
        if space != self.space_.name:
            raise InvalidOption(f"this {self.name} predictor was fitted on {self.space_.name}, not {space}")
        return np.asarray(self._predict(archs), dtype=np.float64).ravel()

    def score(self, archs: Sequence[Architecture], y: Sequence[float]) -> dict[str, float]:
        from archpred.metrics import evaluate

        return evaluate(np.asarray(y), self.predict(archs))

    def planned_epochs(self, n: int) -> int:
        """Epoch callbacks a fit on ``n`` cells makes (a progress bar's total); 1 for a
        predictor fitted in one go."""
        return 1

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "space_")

    def save(self, path: str | Path, card: dict[str, Any] | None = None) -> Path:
        """Write the fitted predictor; ``card`` (plain JSON values: its training set, seed,
        command, held-out scores) travels in the file's header and comes back as ``card_``."""
        from archpred.artifacts import save_artifact

        self._check_fitted()
        card = card if card is not None else getattr(self, "card_", {})
        return save_artifact(
            path,
            FORMAT,
            FORMAT_VERSION,
            name=self.name,
            space=self.space_.name,
            seed=int(self.seed),
            config=json.dumps(dataclasses.asdict(self.config)),
            card=json.dumps(card),
            state=self._state(),
        )

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> Predictor:
        """Load any saved predictor (``Predictor.load``) or one of this class."""
        from archpred.artifacts import load_artifact

        state = load_artifact(path, FORMAT, (FORMAT_VERSION,), what="predictor")
        if "name" not in state:
            raise CheckpointError(f"{path}: not an archpred predictor file")
        from archpred.predictors import predictor_class

        target = predictor_class(state["name"])
        if cls is not Predictor and not issubclass(target, cls):
            raise CheckpointError(f"{path}: holds a {state['name']} predictor, not {cls.name}")
        try:
            config = json.loads(state["config"])
            model = target(seed=state.get("seed", 0), device=device, **config)
            model.space_ = get_space(state["space"])
            model.card_ = json.loads(state.get("card", "{}"))
            model._restore(state["state"])
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            raise CheckpointError(f"{path}: corrupt {state['name']} predictor ({type(err).__name__}: {err})") from None
        return model

    # -- for subclasses --------------------------------------------------------------------------
    @property
    def torch_device(self) -> torch.device:
        from archpred.training import resolve_device

        return resolve_device(self.device)

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"this {self.name} predictor is not fitted yet; call fit(archs, y) first")

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, archs: list[Architecture]) -> np.ndarray:
        raise NotImplementedError

    def _state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _restore(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def get_params(self) -> dict[str, Any]:
        return {"seed": self.seed, "device": self.device, **dataclasses.asdict(self.config)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _space_of(archs: Sequence[Architecture]) -> str:
    strangers = [a for a in archs if not isinstance(a, Architecture)]
    if strangers:
        raise InvalidArchitecture(
            f"predictors take architectures (space.parse(text) makes one), got {type(strangers[0]).__name__}"
        )
    spaces = {a.space for a in archs}
    if len(spaces) != 1:
        raise InvalidOption(f"architectures from several spaces: {', '.join(sorted(spaces))}")
    (space,) = spaces
    return space


def space_of(archs: Sequence[Architecture]) -> SearchSpace:
    return get_space(_space_of(archs))
