"""Logic of the Models page (kept out of ``pages/models.py`` so the page stays thin and testable)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
import pandas as pd

from archpred.metrics import evaluate
from archpred.predictors import make_predictor, predictor_class

TRAINABLE = ("gnn", "neural-predictor", "random-forest", "mlp", "lstm")
SPACES = ("nb201", "nb101", "enas")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def config_fields(name: str) -> dict[str, Any]:
    """Default config of a predictor as ``{field: default}``."""
    cls = predictor_class(name)
    return {f.name: f.default for f in dataclasses.fields(cls.Config)}


def epochs_in_total(name: str, config: dict[str, Any]) -> int:
    """Epoch callbacks one fit makes (for a progress bar)."""
    if name == "random-forest":
        return 1
    epochs = int(config.get("epochs") or config_fields(name)["epochs"])
    ensemble = int(config.get("ensemble", 1))
    stages = 2 if config.get("threshold") is not None else 1
    return max(1, epochs * ensemble * stages)


def check_model_name(text: str) -> str:
    text = text.strip()
    if not NAME_RE.match(text):
        raise ValueError("model name: 1-80 letters, digits, '.', '_' or '-'")
    return text


def train_and_score(bench, name: str, config: dict[str, Any], train_rows, test_rows, seed: int, callbacks=()):
    """Fit on ``train_rows`` of a benchmark, score on ``test_rows``; returns model, y_true, y_pred, metrics."""
    model = make_predictor(name, seed=seed, device="cpu", callbacks=callbacks, **config)
    model.fit([bench.archs[i] for i in train_rows], bench.accuracy[train_rows])
    y_true, y_pred = score(bench, model, test_rows)
    return model, y_true, y_pred, evaluate(y_true, y_pred)


def score(bench, model, rows) -> tuple[np.ndarray, np.ndarray]:
    return bench.accuracy[rows], model.predict([bench.archs[i] for i in rows])


def scatter(y_true: np.ndarray, y_pred: np.ndarray, title: str):
    import plotly.graph_objects as go

    lo = float(min(y_true.min(), y_pred.min()))
    hi = float(max(y_true.max(), y_pred.max()))
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=y_true, y=y_pred, mode="markers", marker={"size": 4, "opacity": 0.5}, name="cells"))
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line={"dash": "dash"}, name="y = x"))
    fig.update_layout(title=title, xaxis_title="true accuracy", yaxis_title="predicted accuracy", height=450)
    return fig


def metrics_frame(metrics: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame([{"metric": k, "value": v} for k, v in metrics.items()])
