"""twinteller.model.calibration: temperature scaling, its fit, and the calibration error."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twinteller.model.calibration import (
    MIN_ROWS,
    Calibration,
    expected_calibration_error,
    fit_temperature,
    reliability,
    scaled,
)


def underconfident(n: int = 2000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose top class is right 90 % of the time but whose probabilities say about 0.5
    (an average of two heads is like this)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 5, n)
    top = np.where(rng.random(n) < 0.9, truth, (truth + 1) % 5)
    p = np.full((n, 5), 0.125)
    p[np.arange(n), top] = 0.5
    return p, truth


def test_scaling_keeps_the_order_and_sums_to_one() -> None:
    p = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    for t in (0.5, 1.0, 2.0):
        q = scaled(p, t)
        assert np.allclose(q.sum(axis=1), 1.0)
        assert (q.argmax(axis=1) == p.argmax(axis=1)).all()
    assert np.allclose(scaled(p, 1.0), p)
    assert scaled(p, 0.5)[0, 0] > 0.5 > scaled(p, 2.0)[0, 0]  # below 1 sharpens, above flattens
    per_row = scaled(p, np.array([0.5, 2.0]))
    assert np.allclose(per_row[0], scaled(p[:1], 0.5)[0]) and np.allclose(per_row[1], scaled(p[1:], 2.0)[0])


def test_the_fitted_temperature_makes_confidence_mean_the_share_right() -> None:
    p, truth = underconfident()
    correct = p.argmax(axis=1) == truth
    before = expected_calibration_error(p.max(axis=1), correct)
    t = fit_temperature(p, truth)
    after = expected_calibration_error(scaled(p, t).max(axis=1), correct)
    assert t < 1.0  # underconfident: sharpened
    assert before > 0.3 and after < 0.03
    assert abs(scaled(p, t).max(axis=1).mean() - correct.mean()) < 0.03


def test_too_few_rows_leave_the_probabilities_alone() -> None:
    p, truth = underconfident(MIN_ROWS - 1)
    assert fit_temperature(p, truth) == 1.0


def test_reliability_bins_and_error() -> None:
    confidence = np.array([0.15, 0.15, 0.95, 0.95, 0.95, 0.95])
    correct = np.array([False, True, True, True, True, False])
    assert reliability(confidence, correct) == [(0.15, 0.5, 2), (0.95, 0.75, 4)]
    assert np.isclose(expected_calibration_error(confidence, correct), 2 / 6 * 0.35 + 4 / 6 * 0.2)
    assert expected_calibration_error(np.array([0.8] * 5), np.array([True] * 4 + [False])) < 1e-9


def test_saved_with_the_version(tmp_path: Path) -> None:
    assert Calibration.load(tmp_path) == Calibration()  # a version built before it: T = 1
    Calibration(english=0.6, chinese=0.8).save(tmp_path)
    assert Calibration.load(tmp_path) == Calibration(english=0.6, chinese=0.8)
