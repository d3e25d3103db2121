"""Cached loaders of the predictor pages: models in ``st.cache_resource``, arrays in ``st.cache_data``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from archpred.errors import ArchpredError
from archpred.predictors import Predictor
from archpred.predictors.store import SavedModel, saved_models


@st.cache_resource(show_spinner="Loading predictor ...", max_entries=32)
def _load(path: str, mtime: float) -> Predictor:
    return Predictor.load(path, device="cpu")


def load_model(path: str | Path) -> Predictor:
    """A saved predictor, loaded once per file version (``mtime`` in the cache key)."""
    path = Path(path)
    return _load(str(path), path.stat().st_mtime)


def try_load(path: str | Path) -> tuple[Predictor | None, str | None]:
    try:
        return load_model(path), None
    except (ArchpredError, OSError, ValueError) as err:
        return None, str(err)


def models_for(space: str) -> list[SavedModel]:
    """Shipped and saved predictors of one space (not cached: the folder changes when a user trains)."""
    return saved_models(space)


@st.cache_data(show_spinner=False, max_entries=16)
def split_rows(n_rows: int, train_size: int, test_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random training rows and held-out test rows of a benchmark table."""
    order = np.random.default_rng(seed).permutation(n_rows)
    return order[:train_size], order[train_size : train_size + test_size]


def saved_models_all() -> list[SavedModel]:
    """Every shipped and saved predictor, of every space."""
    return saved_models()
