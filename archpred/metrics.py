"""Regression and ranking metrics of predictors; scipy and scikit-learn do the arithmetic."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.metrics import ndcg_score

from archpred.errors import InvalidOption


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(y_true, dtype=np.float64).ravel(), np.asarray(y_pred, dtype=np.float64).ravel()
    if t.shape != p.shape:
        raise InvalidOption(f"y_true has {t.size} values but y_pred has {p.size}")
    if t.size == 0:
        raise InvalidOption("no values to score")
    return t, p


def mse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean squared error."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error."""
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def pearson(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Pearson's linear correlation r (NaN when either side is constant)."""
    t, p = _pair(y_true, y_pred)
    return float(stats.pearsonr(t, p).statistic)


def spearman(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Spearman's rank correlation rho (NaN when either side is constant)."""
    t, p = _pair(y_true, y_pred)
    return float(stats.spearmanr(t, p).statistic)


def kendall_tau(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Kendall's rank correlation tau (scipy's tau-b, which accounts for ties)."""
    t, p = _pair(y_true, y_pred)
    return float(stats.kendalltau(t, p).statistic)


def ndcg_at_k(y_true: ArrayLike, y_pred: ArrayLike, k: int = 10) -> float:
    """NDCG@k with GENNAPE's relevance: true accuracy rescaled linearly to [0, 20]."""
    t, p = _pair(y_true, y_pred)
    span = t.max() - t.min()
    relevance = np.zeros_like(t) if span == 0 else 20.0 * (t - t.min()) / span
    return float(ndcg_score(relevance[None, :], p[None, :], k=k))


def precision_at_k(y_true: ArrayLike, y_pred: ArrayLike, k: int = 10) -> float:
    """Fraction of the k best-predicted architectures that are among the k truly best."""
    t, p = _pair(y_true, y_pred)
    k = min(k, t.size)
    top_true = set(np.argsort(-t, kind="stable")[:k])
    top_pred = np.argsort(-p, kind="stable")[:k]
    return float(np.mean([i in top_true for i in top_pred]))


METRICS: dict[str, Callable[..., float]] = {
    "rmse": rmse,
    "mse": mse,
    "mae": mae,
    "pearson": pearson,
    "spearman": spearman,
    "kendall_tau": kendall_tau,
    "ndcg@10": lambda t, p: ndcg_at_k(t, p, 10),
    "precision@10": lambda t, p: precision_at_k(t, p, 10),
}


def evaluate(y_true: ArrayLike, y_pred: ArrayLike, names: list[str] | None = None) -> dict[str, float]:
    """Every metric (or those named) of one prediction."""
    return {n: METRICS[n](y_true, y_pred) for n in (names or METRICS)}
