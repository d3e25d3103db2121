"""Where trained predictors live: shipped defaults in ``assets/predictors`` and the user's
models in ``$ARCHPRED_CACHE_DIR/predictors``. Files are ``{space}-{name}[-{tag}].pt``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from archpred.paths import ASSETS_DIR, cache_dir

SHIPPED_DIR = ASSETS_DIR / "predictors"


@dataclass(frozen=True)
class SavedModel:
    path: Path
    name: str  # predictor name
    space: str
    shipped: bool
    size_kb: float

    @property
    def label(self) -> str:
        return f"{self.path.stem}{' (shipped)' if self.shipped else ''}"


def user_dir(create: bool = False) -> Path:
    return cache_dir("predictors", create=create)


def read_header(path: Path) -> tuple[str, str] | None:
    """(predictor name, space) of a predictor file, or ``None`` when it is not one."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return None
    if not isinstance(state, dict) or state.get("format") != "archpred-predictor":
        return None
    return str(state.get("name")), str(state.get("space"))


def saved_models(space: str | None = None, include_user: bool = True) -> list[SavedModel]:
    """Every readable predictor file, shipped ones first; ``space`` filters."""
    folders = [(SHIPPED_DIR, True)]
    if include_user:
        folders.append((user_dir(), False))
    out = []
    for folder, shipped in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.pt")):
            header = read_header(path)
            if header is None or (space is not None and header[1] != space):
                continue
            out.append(SavedModel(path, header[0], header[1], shipped, path.stat().st_size / 1024))
    return out


def default_path(space: str, name: str, tag: str = "") -> Path:
    return user_dir(create=True) / f"{space}-{name}{'-' + tag if tag else ''}.pt"
