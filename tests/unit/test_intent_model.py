"""twinteller.intent_model.LinearHead against sklearn's own predict_proba."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from twinteller.intent_model import LinearHead


def problem(n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(8, n_classes))
    x = rng.normal(size=(200, 8))
    y = np.argmax(x @ weights + rng.normal(scale=1.0, size=(200, n_classes)), axis=1)
    assert len(set(y.tolist())) == n_classes
    return x, y, rng.normal(size=(40, 8))


@pytest.mark.parametrize(("n_classes", "seed"), [(3, 0), (4, 1)])
def test_matches_sklearn_dense(n_classes: int, seed: int) -> None:
    x, y, x_test = problem(n_classes, seed)
    fitted = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    head = LinearHead(fitted.coef_, fitted.intercept_)
    got = head.probabilities(x_test)
    assert got.shape == (40, n_classes)
    np.testing.assert_allclose(got, fitted.predict_proba(x_test), atol=1e-5)
    np.testing.assert_array_equal(got.argmax(axis=1), fitted.predict(x_test))


@pytest.mark.parametrize("matrix", [sp.csr_matrix, sp.csr_array])
def test_matches_sklearn_sparse(matrix: type) -> None:
    rng = np.random.default_rng(2)
    dense = rng.random((200, 30)) * (rng.random((200, 30)) < 0.2)
    weights = rng.normal(size=(30, 4))
    y = np.argmax(dense @ weights + rng.normal(scale=0.3, size=(200, 4)), axis=1)
    x = matrix(dense)
    fitted = LogisticRegression(C=5.0, max_iter=2000).fit(x, y)
    head = LinearHead(fitted.coef_, fitted.intercept_)
    test_dense = rng.random((25, 30)) * (rng.random((25, 30)) < 0.2)
    x_test = matrix(test_dense)
    got = head.probabilities(x_test)
    assert isinstance(got, np.ndarray) and not isinstance(got, np.matrix)
    assert got.shape == (25, 4)
    np.testing.assert_allclose(got, fitted.predict_proba(x_test), atol=1e-5)
    # Same answer as the dense path.
    np.testing.assert_allclose(got, head.probabilities(test_dense), atol=1e-6)


def test_rows_sum_to_one_and_stable_for_large_logits() -> None:
    coef = np.array([[1000.0, 0.0], [0.0, 1000.0], [-1000.0, -1000.0]])
    head = LinearHead(coef, np.zeros(3))
    got = head.probabilities(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0], [5.0, 5.0]]))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(got.argmax(axis=1), [0, 1, 2, 0])


def test_single_row() -> None:
    x, y, x_test = problem(3, 3)
    fitted = LogisticRegression(max_iter=1000).fit(x, y)
    head = LinearHead(fitted.coef_, fitted.intercept_)
    np.testing.assert_allclose(head.probabilities(x_test[:1]), fitted.predict_proba(x_test[:1]), atol=1e-5)


def test_two_class_head_matches_sklearn() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(60, 5))
    y = (x[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int)
    fitted = LogisticRegression(max_iter=500).fit(x, y)
    head = LinearHead(fitted.coef_, fitted.intercept_)
    np.testing.assert_allclose(head.probabilities(x), fitted.predict_proba(x), atol=1e-5)


def test_cjk_share() -> None:
    from twinteller.intent_model import cjk_share

    assert cjk_share("我的卡丢了") == 1.0
    assert cjk_share("my card") == 0.0
    assert cjk_share("ATM吞了我的卡") == 5 / 8
    assert cjk_share("   ") == 0.0
