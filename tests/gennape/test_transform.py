"""GENNAPE's Eq. 5 target transform: exact round trip, training statistics, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from archpred.errors import InvalidOption
from archpred.gennape.transform import (
    FlopsTransform,
    IdentityTransform,
    flops_divisor,
    make_transform,
    transform_from_dict,
)


def _family(n: int, seed: int, flops_scale: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 0.95, n), rng.uniform(0.0, flops_scale, n)


@pytest.mark.parametrize("use_flops", [True, False])
@pytest.mark.parametrize(("n", "flops_scale"), [(2, 1e6), (17, 1e9), (500, 5e10), (1000, 1e3)])
def test_round_trip_is_exact(use_flops, n, flops_scale):
    acc, flops = _family(n, n, flops_scale)
    t = make_transform(use_flops).fit(acc, flops)
    y = t.forward(acc, flops)
    np.testing.assert_allclose(t.inverse(y, flops), acc, rtol=1e-13, atol=0)
    # and the other way round, on values that are not training targets
    z = np.linspace(-3, 3, n)
    np.testing.assert_allclose(t.forward(t.inverse(z, flops), flops), z, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
def test_any_shape_broadcasts(shape):
    t = FlopsTransform.fit([0.9, 0.8, 0.7], [1e8, 2e9, 3e7])
    acc = np.full(shape, 0.85)
    flops = np.full(shape, 4e8)
    y = t.forward(acc, flops)
    assert np.shape(y) == shape
    np.testing.assert_allclose(t.inverse(y, flops), acc, rtol=1e-14)


@pytest.mark.parametrize("use_flops", [True, False])
def test_training_targets_are_standardised(use_flops):
    acc, flops = _family(300, 1, 2e9)
    y = make_transform(use_flops).fit(acc, flops).forward(acc, flops)
    assert abs(y.mean()) < 1e-12
    assert abs(y.std() - 1.0) < 1e-12


def test_eq5_by_hand_in_giga_flops():
    # two networks: 1 GFLOP (divisor log10(2) + 1) and 0 FLOPs (divisor 1)
    acc, flops = np.array([0.9, 0.6]), np.array([1e9, 0.0])
    scaled = acc / np.array([np.log10(2.0) + 1.0, 1.0])
    t = FlopsTransform.fit(acc, flops)
    assert t.mean == pytest.approx(scaled.mean())
    assert t.std == pytest.approx(scaled.std())
    np.testing.assert_allclose(flops_divisor(flops), [np.log10(2.0) + 1.0, 1.0])


def test_test_family_uses_the_training_statistics():
    acc, flops = _family(100, 2, 1e9)
    t = FlopsTransform.fit(acc, flops)
    other_acc, other_flops = _family(50, 3, 1e8)
    y = t.forward(other_acc, other_flops)
    expected = (other_acc / (np.log10(other_flops / 1e9 + 1) + 1) - t.mean) / t.std
    np.testing.assert_allclose(y, expected, rtol=1e-14)


@pytest.mark.parametrize("cls", [FlopsTransform, IdentityTransform])
def test_dict_round_trip(cls):
    t = cls.fit([0.9, 0.8, 0.75], [1e8, 2e9, 3e7])
    state = t.to_dict()
    assert all(isinstance(v, str | float) for v in state.values())
    assert cls.from_dict(state) == t
    assert transform_from_dict(state) == t


@pytest.mark.parametrize(
    ("acc", "flops"),
    [
        ([0.9, np.nan, 0.8], [1e8, 1e8, 1e8]),
        ([0.9, 0.8, 0.7], [1e8, np.inf, 1e8]),
        ([0.9, 0.9, 0.9], [1e8, 1e8, 1e8]),  # zero spread
        ([], []),
        ([0.9, 0.8], [1e8, -1.0]),
    ],
)
def test_bad_training_rows_are_refused(acc, flops):
    with pytest.raises(InvalidOption):
        FlopsTransform.fit(acc, flops)


def test_identity_refuses_constant_targets():
    with pytest.raises(InvalidOption):
        IdentityTransform.fit([0.5, 0.5])


def test_from_dict_refuses_the_other_kind_and_bad_numbers():
    with pytest.raises(InvalidOption):
        FlopsTransform.from_dict({"kind": "identity", "mean": 0.0, "std": 1.0})
    with pytest.raises(InvalidOption):
        transform_from_dict({"kind": "log", "mean": 0.0, "std": 1.0})
    with pytest.raises(InvalidOption):
        IdentityTransform.from_dict({"kind": "identity", "mean": 0.0, "std": 0.0})
