"""Where data and caches live. Nothing here creates a folder at import time."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"


def data_dir() -> Path:
    """``$ARCHPRED_DATA_DIR``, else ``../shared/data`` beside the project, else ``./data``."""
    env = os.environ.get("ARCHPRED_DATA_DIR")
    if env:
        return Path(env).expanduser()
    shared = PROJECT_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return PROJECT_ROOT / "data"


def cache_dir(*parts: str, create: bool = True) -> Path:
    """``$ARCHPRED_CACHE_DIR`` (default ``~/.cache/archpred``) joined with ``parts``."""
    root = Path(os.environ.get("ARCHPRED_CACHE_DIR", Path.home() / ".cache" / "archpred")).expanduser()
    path = root.joinpath(*parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
