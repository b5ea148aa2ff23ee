"""twinteller.model.intent_model: LinearHead against sklearn's own predict_proba, and the warm
start of IntentClassifier.fit from the previous model."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from twinteller.model.intent_model import HEADS_FILE, IntentClassifier, LinearHead, _fit_head, chinese_rows


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread() -> Iterator[None]:
    """These problems are tiny: BLAS threads only contend for the cores (2x slower on a
    busy machine)."""
    with threadpool_limits(limits=1):
        yield


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


# Warm start: IntentClassifier.fit(..., previous) starts each regression from the weights of
# the version it replaces, matched by label and feature name.

PHRASES = {
    "atm": ["atm swallowed my card", "cash withdrawal failed", "atm fee charged", "atm refused my card"],
    "balance": ["check my balance", "how much money is left", "account total", "funds remaining"],
    "card_lost": ["lost my card", "card was stolen", "missing card", "cannot find my card"],
    "pin": ["change my pin", "forgot my pin", "pin is blocked", "reset the pin"],
    "transfer": ["send money abroad", "transfer funds to a friend", "pay my landlord", "wire a payment"],
    "refund": ["get a refund", "money back for an order", "return an item", "refund not received"],
    "topup": ["top up by card", "add money with apple pay", "topup failed", "top up limit"],
}
OTHER_PHRASES = {  # the same intents in other words: a vocabulary the previous model never saw
    "atm": ["machine kept plastic", "machine gave no notes"],
    "balance": ["what remains in savings", "statement amount"],
    "card_lost": ["wallet gone with plastic", "misplaced debit plastic"],
    "pin": ["secret number wrong", "unlock secret number"],
    "transfer": ["move sums overseas", "remit sums home"],
    "refund": ["reimburse purchase", "reimbursement pending"],
}
PREFIXES = ["", "please ", "hi, ", "i want to ", "help: ", "urgent "]


def intent_data(
    labels: list[str], seed: int, dim: int = 16, phrases: dict[str, list[str]] = PHRASES
) -> tuple[list[str], list[str], np.ndarray]:
    """Short texts and unit embeddings clustered by label (a centre per label and seed)."""
    rng = np.random.default_rng(seed)
    texts, ys = [], []
    for label in labels:
        for i, prefix in enumerate(PREFIXES):
            texts.append(prefix + phrases[label][i % len(phrases[label])])
            ys.append(label)
    centres = {label: rng.normal(size=dim) for label in labels}
    embeddings = np.array([centres[label] + 0.7 * rng.normal(size=dim) for label in ys])
    return texts, ys, embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)


FIVE = ["atm", "balance", "card_lost", "pin", "transfer"]


@pytest.fixture(scope="module")
def previous() -> IntentClassifier:
    return IntentClassifier.fit(*intent_data(FIVE, 0))


class FitSpy:
    """Records, for each LogisticRegression.fit, whether it warm-starts and its starting weights."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[bool, np.ndarray | None, np.ndarray | None]] = []
        fit = LogisticRegression.fit

        def spy(model: LogisticRegression, x: Any, y: Any, sample_weight: Any = None) -> LogisticRegression:
            coef, intercept = getattr(model, "coef_", None), getattr(model, "intercept_", None)
            self.calls.append((model.warm_start, None if coef is None else np.array(coef), intercept))
            return fit(model, x, y, sample_weight)

        monkeypatch.setattr(LogisticRegression, "fit", spy)


def assert_same_model(warm: IntentClassifier, cold: IntentClassifier, texts: list[str], emb: np.ndarray) -> None:
    assert warm.labels == cold.labels
    p_warm, p_cold = warm.predict(texts, emb), cold.predict(texts, emb)
    np.testing.assert_array_equal(p_warm.probabilities.argmax(axis=1), p_cold.probabilities.argmax(axis=1))
    np.testing.assert_allclose(p_warm.probabilities, p_cold.probabilities, atol=0.02)
    np.testing.assert_allclose(p_warm.similarity, p_cold.similarity, atol=1e-6)


def accuracy(model: IntentClassifier, texts: list[str], labels: list[str], emb: np.ndarray) -> float:
    predicted = np.array(model.labels)[model.predict(texts, emb).probabilities.argmax(axis=1)]
    return float(np.mean(predicted == np.array(labels)))


def test_fit_head_starts_from_weights_matched_by_label_and_feature(monkeypatch: pytest.MonkeyPatch) -> None:
    # Previous head: labels a, b, c over features f, g, h, i (coef rows are labels).
    old = LinearHead(np.arange(1.0, 13.0).reshape(3, 4), np.array([10.0, 20.0, 30.0]))
    start = (old, ["a", "b", "c"], ["f", "g", "h", "i"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    y = np.argmax(x + 0.3 * rng.normal(size=(60, 3)), axis=1)
    spy = FitSpy(monkeypatch)
    head = _fit_head(x, y, 1.0, ["b", "c", "d"], ["g", "x", "f"], start)
    [(warm, coef, intercept)] = spy.calls
    assert warm and coef is not None and intercept is not None
    # b and c keep their weights for g and f; the new label d and new feature x start at 0.
    np.testing.assert_allclose(coef, [[6.0, 0.0, 5.0], [10.0, 0.0, 9.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(intercept, [20.0, 30.0, 0.0])
    # The optimum does not depend on the start.
    cold = _fit_head(x, y, 1.0, ["b", "c", "d"], ["g", "x", "f"], None)
    np.testing.assert_allclose(head.probabilities(x), cold.probabilities(x), atol=1e-3)


def test_fit_head_without_anything_in_common_starts_at_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    old = LinearHead(np.ones((3, 2)), np.ones(3))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 3))
    y = np.argmax(x + 0.3 * rng.normal(size=(60, 3)), axis=1)
    spy = FitSpy(monkeypatch)
    _fit_head(x, y, 1.0, ["p", "q", "r"], ["u", "v", "w"], (old, ["a", "b", "c"], ["f", "g"]))
    [(warm, coef, intercept)] = spy.calls
    assert warm and coef is not None and intercept is not None
    np.testing.assert_array_equal(coef, np.zeros((3, 3)))
    np.testing.assert_array_equal(intercept, np.zeros(3))


def test_warm_start_fits_from_previous_weights(previous: IntentClassifier, monkeypatch: pytest.MonkeyPatch) -> None:
    texts, labels, emb = intent_data(FIVE, 1)
    spy = FitSpy(monkeypatch)
    IntentClassifier.fit(texts, labels, emb, previous)
    [(warm_embedding, coef_embedding, _), (warm_tfidf, coef_tfidf, _)] = spy.calls
    assert warm_embedding and warm_tfidf and coef_embedding is not None
    # Same labels, same dimensions: the embedding head starts exactly where the previous ended.
    assert isinstance(previous._embedding_head, LinearHead)
    np.testing.assert_allclose(coef_embedding, previous._embedding_head.coef.T, rtol=1e-6)
    # TF-IDF: every feature the previous model had starts from its weights (the texts here
    # are the same phrases, so the vocabularies mostly overlap).
    old_names = list(previous._tfidf.get_feature_names_out())
    assert coef_tfidf is not None and coef_tfidf.shape[0] == len(FIVE)
    fitted = IntentClassifier.fit(texts, labels, emb)  # the new vocabulary, fitted cold
    new_names = list(fitted._tfidf.get_feature_names_out())
    common = [(j, old_names.index(name)) for j, name in enumerate(new_names) if name in set(old_names)]
    assert len(common) > len(new_names) // 2
    for j, i in common[:: max(1, len(common) // 50)]:
        np.testing.assert_allclose(coef_tfidf[:, j], previous._tfidf_head.coef[i], rtol=1e-6)
    only_new = [j for j, name in enumerate(new_names) if name not in set(old_names)]
    np.testing.assert_array_equal(coef_tfidf[:, only_new], 0.0)


def test_warm_start_predicts_like_a_cold_fit(previous: IntentClassifier) -> None:
    texts, labels, emb = intent_data(FIVE, 1)
    texts += ["i lost my card at the atm", "pin for my new card"]
    labels += ["card_lost", "pin"]
    emb = np.vstack([emb, emb[labels.index("card_lost")], emb[labels.index("pin")]])
    warm = IntentClassifier.fit(texts, labels, emb, previous)
    cold = IntentClassifier.fit(texts, labels, emb)
    test_texts, _, test_emb = intent_data(FIVE, 1)
    assert_same_model(warm, cold, [*test_texts, "where is my money", "atm"], np.vstack([test_emb, test_emb[:2]]))
    assert accuracy(warm, texts, labels, emb) == 1.0


@pytest.mark.parametrize(
    ("labels", "phrases"),
    [
        (["atm", "balance", "card_lost", "pin"], PHRASES),  # transfer removed
        ([*FIVE, "refund"], PHRASES),  # refund added
        (["atm", "balance", "card_lost", "pin", "refund", "topup"], PHRASES),  # one removed, two added
        (["atm", "balance", "card_lost", "pin", "transfer", "refund"], OTHER_PHRASES),  # new words
    ],
)
def test_warm_start_from_another_label_set_or_vocabulary(
    previous: IntentClassifier, labels: list[str], phrases: dict[str, list[str]]
) -> None:
    texts, ys, emb = intent_data(labels, 2, phrases=phrases)
    warm = IntentClassifier.fit(texts, ys, emb, previous)
    assert warm.labels == sorted(labels)
    prediction = warm.predict(texts, emb)
    assert prediction.probabilities.shape == (len(texts), len(labels))
    np.testing.assert_allclose(prediction.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert accuracy(warm, texts, ys, emb) >= 0.95
    assert_same_model(warm, IntentClassifier.fit(texts, ys, emb), texts, emb)


def test_two_labels_with_previous(previous: IntentClassifier, monkeypatch: pytest.MonkeyPatch) -> None:
    """sklearn keeps one row for two classes: no warm start then, but fit still works."""
    texts, ys, emb = intent_data(["card_lost", "pin"], 3)
    spy = FitSpy(monkeypatch)
    warm = IntentClassifier.fit(texts, ys, emb, previous)
    assert [call[0] for call in spy.calls] == [False, False]
    assert warm.labels == ["card_lost", "pin"]
    assert accuracy(warm, texts, ys, emb) == 1.0
    monkeypatch.undo()
    assert_same_model(warm, IntentClassifier.fit(texts, ys, emb), texts, emb)
    # And back from two labels to five.
    texts5, ys5, emb5 = intent_data(FIVE, 4)
    again = IntentClassifier.fit(texts5, ys5, emb5, warm)
    assert_same_model(again, IntentClassifier.fit(texts5, ys5, emb5), texts5, emb5)


@pytest.mark.parametrize("dim", [8, 32])
def test_warm_start_after_the_encoder_changed_width(previous: IntentClassifier, dim: int) -> None:
    texts, ys, emb = intent_data(FIVE, 5, dim=dim)  # previous had 16 dimensions
    warm = IntentClassifier.fit(texts, ys, emb, previous)
    assert_same_model(warm, IntentClassifier.fit(texts, ys, emb), texts, emb)


# A version built before the package layout of issue 14 pickled its heads' class under the
# module's old name, twinteller.intent_model: it must still load (and predict the same).


def test_a_version_built_before_the_move_still_loads(previous: IntentClassifier, tmp_path: Path) -> None:
    previous.save(tmp_path)
    saved = IntentClassifier.load(tmp_path)
    heads = tmp_path / HEADS_FILE
    with heads.open("rb") as f:
        parts = pickle.load(f)
    # Protocol 2 names classes as text ("c<module>\n<name>\n"), so the old name can be written in.
    old = pickle.dumps(parts, protocol=2).replace(b"ctwinteller.model.intent_model\n", b"ctwinteller.intent_model\n")
    assert b"ctwinteller.intent_model\n" in old
    heads.write_bytes(old)
    with pytest.raises(ModuleNotFoundError):
        pickle.loads(old)  # what a plain unpickler makes of it
    texts, _, emb = intent_data(FIVE, 1)
    assert_same_model(IntentClassifier.load(tmp_path), saved, texts, emb)


# -- the Chinese head (issue 15): the multilingual encoder's embeddings of the texts read as
# Chinese, with labels of their own (an entry may have no Chinese question at all) ---------


def chinese_data(labels: list[str], seed: int) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """intent_data plus Chinese questions for all labels but the last, and fake multilingual
    embeddings of those (clustered per label, 8-d)."""
    texts, ys, emb = intent_data(labels, seed)
    rng = np.random.default_rng(seed)
    centres = {label: rng.normal(size=8) for label in labels}
    chinese = [(f"我想问{label}的问题{n}号", label) for label in labels[:-1] for n in range(6)]
    texts += [t for t, _ in chinese]
    ys += [y for _, y in chinese]
    emb = np.vstack([emb, rng.normal(size=(len(chinese), emb.shape[1]))])
    multilingual = np.array([centres[y] + 0.3 * rng.normal(size=8) for _, y in chinese])
    return texts, ys, emb, multilingual / np.linalg.norm(multilingual, axis=1, keepdims=True)


def test_the_chinese_head_knows_only_the_labels_it_has_questions_for(tmp_path: Path) -> None:
    texts, ys, emb, multilingual = chinese_data(FIVE, 3)
    model = IntentClassifier.fit(texts, ys, emb, None, multilingual)
    assert model.reads_chinese_with_encoder
    rows = chinese_rows(texts)
    assert len(rows) == len(multilingual) == 24
    p = model.predict([texts[i] for i in rows], emb[rows], multilingual)
    assert p.probabilities.shape == (24, len(FIVE))
    np.testing.assert_allclose(p.probabilities.sum(axis=1), 1.0, rtol=1e-5)
    predicted = np.array(model.labels)[p.probabilities.argmax(axis=1)]
    assert (predicted == np.array([ys[i] for i in rows])).mean() > 0.9
    assert np.all(p.similarity > 0.5)  # its own questions: the nearest is itself
    with pytest.raises(ValueError, match="multilingual embeddings"):
        model.predict([texts[rows[0]]], emb[rows[:1]])
    # Saved and loaded: the same readings.
    model.save(tmp_path)
    loaded = IntentClassifier.load(tmp_path)
    again = loaded.predict([texts[i] for i in rows], emb[rows], multilingual)
    np.testing.assert_allclose(again.probabilities, p.probabilities, atol=1e-3)


def test_a_warm_start_across_different_chinese_labels(previous: IntentClassifier) -> None:
    """A new entry with no Chinese question (the trainer's case that once failed: the head's
    labels differ from the version it starts from)."""
    texts, ys, emb, multilingual = chinese_data(FIVE, 4)
    before = IntentClassifier.fit(texts, ys, emb, None, multilingual)
    more = [*FIVE, "refund"]
    texts2, ys2, emb2, multilingual2 = chinese_data(more, 5)
    after = IntentClassifier.fit(texts2, ys2, emb2, before, multilingual2)
    rows = chinese_rows(texts2)
    p = after.predict([texts2[i] for i in rows], emb2[rows], multilingual2)
    assert p.probabilities.shape == (len(rows), len(more))


def test_a_version_without_the_chinese_head_reads_chinese_by_the_ngrams_alone() -> None:
    texts, ys, emb, _ = chinese_data(FIVE, 6)
    model = IntentClassifier.fit(texts, ys, emb)
    assert not model.reads_chinese_with_encoder
    rows = chinese_rows(texts)
    p = model.predict([texts[i] for i in rows], emb[rows])
    assert p.probabilities.shape == (len(rows), len(FIVE))
