"""The prototype heads of a large base (twinteller.model.intent_model, PROTOTYPE_ENTRIES):
chosen by the base's size, fitted without any regression, linear in the base, each
checked against the same scores computed plainly, and saved, loaded and read in Chinese."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from tests.unit.twinteller.model.test_intent_model import FIVE, FitSpy, chinese_data, intent_data
from twinteller.model import intent_model
from twinteller.model.intent_model import IntentClassifier, LinearHead, NearestHead, chinese_rows


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any base counts as large."""
    monkeypatch.setattr(intent_model, "PROTOTYPE_ENTRIES", 0)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_the_base_size_picks_the_heads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intent_model, "PROTOTYPE_ENTRIES", len(FIVE))
    regressions = IntentClassifier.fit(*intent_data(FIVE, 0))
    assert isinstance(regressions._embedding_head, LinearHead)
    assert not sp.issparse(regressions._tfidf_head.coef)
    monkeypatch.setattr(intent_model, "PROTOTYPE_ENTRIES", len(FIVE) - 1)
    prototypes = IntentClassifier.fit(*intent_data(FIVE, 0))
    assert isinstance(prototypes._embedding_head, NearestHead)
    assert sp.issparse(prototypes._tfidf_head.coef)


@pytest.mark.usefixtures("large")
def test_prototypes_fit_no_regression_and_stay_as_small_as_the_questions(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = FitSpy(monkeypatch)
    texts, labels, emb = intent_data(FIVE, 0)
    model = IntentClassifier.fit(texts, labels, emb)
    assert spy.calls == []
    # The n-gram centroids hold no more weights than the questions have n-grams (a regression
    # holds features x entries of them).
    coef = model._tfidf_head.coef
    assert coef.nnz <= model._ngrams.transform(texts).nnz
    assert coef.nnz < coef.shape[0] * coef.shape[1] / 2
    held_texts, held_labels, held_emb = intent_data(FIVE, 1)
    predicted = np.array(model.labels)[model.predict(held_texts, held_emb).probabilities.argmax(axis=1)]
    assert (predicted == np.array(held_labels)).mean() > 0.9


@pytest.mark.usefixtures("large")
def test_the_heads_score_as_plain_centroids_and_nearest_questions() -> None:
    texts, labels, emb = intent_data(FIVE, 0)
    model = IntentClassifier.fit(texts, labels, emb)
    queries, _, query_emb = intent_data(FIVE, 2)
    y = np.array([model.labels.index(label) for label in labels])
    scale = intent_model.PROTOTYPE_SCALE
    # n-grams: cosine to each label's mean row.
    features = model._ngrams.transform(texts).toarray()
    centroids = np.array([features[y == k].sum(axis=0) for k in range(len(FIVE))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    plain = softmax(scale * model._ngrams.transform(queries).toarray() @ centroids.T)
    np.testing.assert_allclose(model._tfidf_head.probabilities(model._ngrams.transform(queries)), plain, atol=1e-5)
    # Embeddings: cosine to each label's nearest training question.
    nearest = np.array([(query_emb @ emb[y == k].T).max(axis=1) for k in range(len(FIVE))]).T
    products = query_emb @ model._neighbours.T
    np.testing.assert_allclose(model._embedding_head.probabilities(products), softmax(scale * nearest), atol=1e-4)
    np.testing.assert_allclose(model.predict(queries, query_emb).similarity, nearest.max(axis=1), atol=1e-5)


@pytest.mark.usefixtures("large")
def test_chinese_prototypes_save_load_and_read(tmp_path: Path) -> None:
    texts, labels, emb, multilingual = chinese_data(FIVE, 3)
    model = IntentClassifier.fit(texts, labels, emb, None, multilingual)
    assert isinstance(model._chinese_head, NearestHead)
    rows = chinese_rows(texts)
    chinese = [texts[i] for i in rows]
    p = model.predict(chinese, emb[rows], multilingual)
    predicted = np.array(model.labels)[p.probabilities.argmax(axis=1)]
    assert (predicted == np.array([labels[i] for i in rows])).mean() > 0.9
    np.testing.assert_allclose(p.similarity, 1.0, atol=1e-3)  # each is its own nearest question
    model.save(tmp_path)
    again = IntentClassifier.load(tmp_path).predict(chinese, emb[rows], multilingual)
    np.testing.assert_allclose(again.probabilities, p.probabilities, atol=1e-2)  # float16 neighbours on disk
    np.testing.assert_array_equal(again.probabilities.argmax(axis=1), p.probabilities.argmax(axis=1))


def test_a_base_that_shrinks_below_the_threshold_fits_regressions_from_scratch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intent_model, "PROTOTYPE_ENTRIES", 0)
    texts, labels, emb = intent_data(FIVE, 0)
    before = IntentClassifier.fit(texts, labels, emb)
    monkeypatch.setattr(intent_model, "PROTOTYPE_ENTRIES", 100)
    spy = FitSpy(monkeypatch)
    after = IntentClassifier.fit(texts, labels, emb, before)
    assert isinstance(after._embedding_head, LinearHead)
    assert [warm for warm, _, _ in spy.calls] == [False, False]  # nothing to start from
    held_texts, held_labels, held_emb = intent_data(FIVE, 1)
    predicted = np.array(after.labels)[after.predict(held_texts, held_emb).probabilities.argmax(axis=1)]
    assert (predicted == np.array(held_labels)).mean() > 0.9
