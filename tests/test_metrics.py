import numpy as np
import pytest

from archpred import metrics


def test_regression_metrics():
    t, p = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])
    assert metrics.mse(t, p) == pytest.approx(4 / 3)
    assert metrics.rmse(t, p) == pytest.approx(np.sqrt(4 / 3))
    assert metrics.mae(t, p) == pytest.approx(2 / 3)


def test_rank_metrics():
    t = np.array([0.1, 0.2, 0.3, 0.4])
    assert metrics.kendall_tau(t, t * 2) == pytest.approx(1.0)
    assert metrics.spearman(t, -t) == pytest.approx(-1.0)
    assert metrics.pearson(t, 3 * t + 1) == pytest.approx(1.0)
    # one discordant pair of six
    assert metrics.kendall_tau(t, [0.1, 0.3, 0.2, 0.4]) == pytest.approx(4 / 6)


def test_ndcg_and_precision_at_k():
    t = np.linspace(0.8, 0.95, 50)
    assert metrics.ndcg_at_k(t, t, 10) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(t, -t, 10) < 0.5
    assert metrics.precision_at_k(t, t, 5) == 1.0
    assert metrics.precision_at_k(t, -t, 5) == 0.0


def test_evaluate_and_bad_input():
    out = metrics.evaluate([0.1, 0.5, 0.3], [0.2, 0.4, 0.3])
    assert set(out) == set(metrics.METRICS)
    with pytest.raises(ValueError, match="y_true has 2 values but y_pred has 3"):
        metrics.rmse([1, 2], [1, 2, 3])
