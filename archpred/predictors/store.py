"""Where trained predictors live: shipped defaults in ``assets/predictors`` and the user's
models in ``$ARCHPRED_CACHE_DIR/predictors``. Files are ``{space}-{name}[-{tag}].pt``.

Listing them reads only each file's header: ``torch.load(..., mmap=True)`` maps the tensor
data instead of reading it, so a header costs the same for a 1 MB and a 100 MB model. The
app caches the listing on ``fingerprint()`` (every file's path, mtime and size), so it is
read again only when a model is saved, replaced or removed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from archpred.paths import ASSETS_DIR, cache_dir
from archpred.predictors.base import FORMAT

SHIPPED_DIR = ASSETS_DIR / "predictors"


@dataclass(frozen=True)
class SavedModel:
    path: Path
    name: str  # predictor name
    space: str
    shipped: bool
    size_kb: float
    card: dict = field(default_factory=dict)  # training set, seed, command, held-out scores

    @property
    def label(self) -> str:
        return f"{self.path.stem}{' (shipped)' if self.shipped else ''}"

    @property
    def held_out_tau(self) -> float | None:
        """Kendall tau on the cells held out when it was trained (None: not recorded)."""
        value = self.card.get("held_out", {}).get("kendall_tau")
        return None if value is None else float(value)


def model_card(
    benchmark: str, target: str, train_size: int, test_size: int, seed: int, command: str, held_out: dict[str, float]
) -> dict:
    """The card a trained predictor is saved with (``Predictor.save(path, card=...)``): what it
    was trained on and its scores on the held-out cells (``SavedModel.held_out_tau`` reads them)."""
    return {
        "benchmark": benchmark,
        "target": target,
        "train_size": int(train_size),
        "test_size": int(test_size),
        "seed": int(seed),
        "command": command,
        "held_out": {k: round(float(v), 5) for k, v in held_out.items()},
    }


def user_dir(create: bool = False) -> Path:
    """The folder of the user's trained predictors."""
    return cache_dir("predictors", create=create)


def read_header(path: Path) -> tuple[str, str, dict] | None:
    """(predictor name, space, model card) of a predictor file, or ``None`` when it is not one.

    The tensors are memory-mapped, not read (``mmap=True``), and dropped at once.
    """
    from archpred.artifacts import load_torch
    from archpred.errors import CheckpointError

    try:
        state = load_torch(path, mmap=True)
    except CheckpointError:  # missing, corrupt or foreign: not a predictor file
        return None
    if state.get("format") != FORMAT:
        return None
    try:
        card = json.loads(state.get("card", "{}"))
    except (TypeError, ValueError):
        card = {}
    return str(state.get("name")), str(state.get("space")), card if isinstance(card, dict) else {}


def model_files(include_user: bool = True) -> list[tuple[Path, bool]]:
    """``(path, shipped)`` of every ``*.pt`` file in the model folders, shipped ones first."""
    folders = [(SHIPPED_DIR, True)]
    if include_user:
        folders.append((user_dir(), False))
    return [(path, shipped) for folder, shipped in folders if folder.is_dir() for path in sorted(folder.glob("*.pt"))]


def fingerprint(include_user: bool = True) -> tuple[tuple[str, int, int], ...]:
    """``(path, mtime_ns, size)`` of every model file: changes whenever a model is saved."""
    out = []
    for path, _ in model_files(include_user):
        try:
            stat = path.stat()
        except OSError:  # removed while listing
            continue
        out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def saved_models(space: str | None = None, include_user: bool = True) -> list[SavedModel]:
    """Every readable predictor file, the best first: by the held-out Kendall tau of its card,
    then shipped before the user's; ``space`` filters."""
    out = []
    for path, shipped in model_files(include_user):
        header = read_header(path)
        if header is None or (space is not None and header[1] != space):
            continue
        out.append(SavedModel(path, header[0], header[1], shipped, path.stat().st_size / 1024, header[2]))
    # best first: the highest held-out Kendall tau, models without a card last
    return sorted(out, key=lambda m: (m.held_out_tau is None, -(m.held_out_tau or 0.0)))


def default_path(space: str, name: str, tag: str = "") -> Path:
    """Where a newly trained predictor is saved by default."""
    return user_dir(create=True) / f"{space}-{name}{'-' + tag if tag else ''}.pt"
