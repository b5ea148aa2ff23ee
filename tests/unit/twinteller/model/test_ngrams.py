"""NgramFeatures computes what the fitted FeatureUnion's `transform` computes, without its
per-call overhead: the same matrix on English, Chinese (jieba words), mixed, unseen and
empty text, and a refusal of settings it does not implement."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from twinteller.model.intent_model import IntentClassifier, words
from twinteller.model.ngrams import NgramFeatures

from .test_intent_model import PHRASES, intent_data

CHINESE = ["我張卡唔見咗點算", "我的卡还没收到", "點樣改密碼", "转账到海外要几耐"]
PROBES = [
    "I lost my card yesterday, what now?",
    "atm atm atm swallowed my card card",  # repeated terms: sublinear tf
    "zzzz qqqq",  # nothing in the vocabulary: an empty row
    "",
    "!!!",
    "我張卡唔見咗 please help",
    "提款機食咗我張卡",
    "Top-Up 失敗",
]


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    texts, labels, embeddings = intent_data(list(PHRASES), 1)
    texts += CHINESE
    labels += ["card_lost", "card_lost", "pin", "transfer"]
    embeddings = np.vstack([embeddings, embeddings[: len(CHINESE)]])
    return IntentClassifier.fit(texts, labels, embeddings)


def test_same_matrix_as_the_fitted_union(classifier: IntentClassifier) -> None:
    union = classifier._tfidf
    texts = PROBES + [p for phrases in PHRASES.values() for p in phrases] + CHINESE
    expected = union.transform(texts).toarray()
    got = NgramFeatures(union).transform(texts)
    assert got.shape == expected.shape
    assert np.abs(got.toarray() - expected).max() < 1e-12
    assert (got.toarray() != 0).sum() == (expected != 0).sum() > 0


def test_rows_are_unit_per_block_and_empty_for_empty_text(classifier: IntentClassifier) -> None:
    features = NgramFeatures(classifier._tfidf)
    rows = features.transform(["", "lost my card"]).toarray()
    assert not rows[0].any()
    word_width = len(classifier._tfidf.transformer_list[0][1].vocabulary_)
    assert np.linalg.norm(rows[1][:word_width]) == pytest.approx(1.0)
    assert np.linalg.norm(rows[1][word_width:]) == pytest.approx(1.0)


@pytest.mark.parametrize("setting", [{"sublinear_tf": False}, {"norm": "l1"}, {"use_idf": False}, {"binary": True}])
def test_settings_it_does_not_compute_are_refused(setting: dict[str, object]) -> None:
    settings: dict[str, object] = {"sublinear_tf": True} | setting
    vectorizer = TfidfVectorizer(tokenizer=words, token_pattern=None, **settings)  # type: ignore[arg-type]
    union = FeatureUnion([("word", vectorizer)]).fit(["lost my card", "change my pin"])
    with pytest.raises(ValueError, match="not the trainer's"):
        NgramFeatures(union)
