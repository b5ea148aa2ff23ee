"""The intent classifier that one model version serves.

Two heads vote: logistic regression over frozen MiniLM embeddings (meaning) and logistic
regression over TF-IDF word and character n-grams (surface form, robust to typos); their
probabilities are averaged, which measured 94.2 % on BANKING77 test here against 93.0 %
and 91.5 % for each alone. Besides the probabilities the model reports `similarity`, the
cosine to the nearest training question: softmax probabilities stay confident on text
far from every intent, the nearest-neighbour distance does not, so the dialogue policy
uses both to decide FALLBACK.

Text read as Chinese (twinteller/knowledge/text.py `reads_chinese`) is read with the
multilingual encoder instead of MiniLM, which is English-only (README "Languages"): a third
head, logistic regression over its embeddings of the Chinese training questions, votes with
the n-gram head, and `similarity` is its cosine to the nearest Chinese training question.
The word n-grams see Chinese segmented into words by jieba (else a run of Chinese
characters is one "word"). A version built before the multilingual head reads Chinese by
the n-grams alone, as it was evaluated.

A base of more than `PROTOTYPE_ENTRIES` entries gets prototype heads instead of the
regressions, fitted in one pass and linear in the base: the n-grams score each entry by
cosine to its centroid (`_centroid_head`, as sparse as the questions themselves), the
embeddings by cosine to its nearest training question (`NearestHead`, read off the product
the similarity computes anyway). A dense regression over every n-gram has features x
entries weights, and both grow with the base (1,000 entries: 8.6 min and 15 GB to fit
here; 5,000 would need ~138 GB). The prototypes are less accurate on a small base
(docs/benchmarks.md "How cost grows"), so a base of a few hundred entries keeps the
regressions.

The same class is used by the trainer (fit, offline evaluation) and by the Triton model
(`model_repo/intent/1/model.py`), so what is evaluated is what is served.
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from twinteller.knowledge.text import reads_chinese
from twinteller.model.calibration import Calibration, scaled
from twinteller.model.ngrams import NgramFeatures
from twinteller.model.speller import Speller

LABELS_FILE = "labels.json"
HEADS_FILE = "heads.pkl"
NEIGHBOURS_FILE = "neighbours.npy"
CHINESE_NEIGHBOURS_FILE = "chinese_neighbours.npy"  # absent in versions built before it
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
# Above this many entries the heads are prototypes (module docstring): at 1,000 the
# regressions took 8.6 minutes and 15 GB to fit here, at 77 they take under a minute.
PROTOTYPE_ENTRIES = 500
# A prototype head's cosines are multiplied by this before the softmax: they differ by
# tenths between entries, so unscaled the probabilities would be nearly uniform. Chosen on
# a split of BANKING77's training set (docs/benchmarks.md "How cost grows"); each head
# keeps the value it was fitted with.
PROTOTYPE_SCALE = 20.0


def words(text: str) -> list[str]:
    """The word n-grams' tokens: scikit-learn's default words (English is read exactly as
    before), and each run of Chinese characters segmented into words by jieba."""
    lowered = text.lower()
    if not _HAN_RUN.search(lowered):
        return _WORD.findall(lowered)
    import jieba  # loads its dictionary (~1 s) on first use: only where Chinese is read

    tokens: list[str] = []
    position = 0
    for run in _HAN_RUN.finditer(lowered):
        tokens += _WORD.findall(lowered[position : run.start()])
        tokens += [t for t in jieba.lcut(run.group()) if t.strip()]
        position = run.end()
    return tokens + _WORD.findall(lowered[position:])


# Versions built before the package layout of issue 14 name the heads' class by the module
# it lived in then: they still load (the trainer also refreshes their model.py).
MOVED_MODULES = {"twinteller.intent_model": __name__}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(MOVED_MODULES.get(module, module), name)


@dataclass(frozen=True)
class Prediction:
    probabilities: np.ndarray  # (n, n_labels)
    similarity: np.ndarray  # (n,) cosine to the nearest training question


class LinearHead:
    """Softmax over a linear map, evaluated in numpy: a fitted multinomial logistic
    regression (sklearn's predict_proba spends ~5 ms per call on input checks, more than
    the maths), or a prototype head's scaled centroids (sparse for the n-grams)."""

    def __init__(self, coef, intercept: np.ndarray) -> None:  # type: ignore[no-untyped-def]
        if coef.shape[0] == 1:
            # sklearn stores a 2-class model as one sigmoid row; softmax([0, z]) == sigmoid(z).
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([np.zeros_like(intercept), intercept])
        # (features, labels); as CSR a sentence's product reads only its own n-grams' rows.
        if sp.issparse(coef):
            self.coef = sp.csr_matrix(coef.T, dtype=np.float32)
        else:
            self.coef = np.ascontiguousarray(coef.T, dtype=np.float32)
        self.intercept = intercept.astype(np.float32)

    def probabilities(self, features) -> np.ndarray:  # type: ignore[no-untyped-def]
        # Same dtype on both sides, or numpy/scipy copies the whole weight matrix per call.
        product = features.astype(np.float32) @ self.coef
        return _softmax((product.toarray() if sp.issparse(product) else np.asarray(product)) + self.intercept)


class NearestHead:
    """A prototype head over embeddings: each label scored by its nearest training question,
    read off the cosine products with every training question (which `similarity` needs
    anyway), so it adds no matrix product. The questions are stored grouped by label;
    `starts[k]` is where the k-th label's rows begin."""

    def __init__(self, starts: np.ndarray, scale: float) -> None:
        self.starts = starts
        self.scale = scale

    def probabilities(self, products: np.ndarray) -> np.ndarray:
        return _softmax(self.scale * np.maximum.reduceat(products, self.starts, axis=1))


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def _probabilities(head: LinearHead | NearestHead, embeddings: np.ndarray, products: np.ndarray) -> np.ndarray:
    """An embedding head's probabilities: a regression reads the embeddings, a nearest-
    question head their products with the training questions."""
    return head.probabilities(products if isinstance(head, NearestHead) else embeddings)


def _fit_head(
    features,  # type: ignore[no-untyped-def]
    y: np.ndarray,
    c: float,
    labels: list[str],
    feature_names: list[str],
    start: tuple[LinearHead, list[str], list[str]] | None,
) -> LinearHead:
    """Multinomial logistic regression, started from `start`'s weights where it has any
    (a head, its labels and its feature names); new labels and features start at zero."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, warm_start=start is not None and len(labels) > 2)
    if model.warm_start and start is not None:
        head, old_labels, old_features = start
        rows = {name: i for i, name in enumerate(old_labels)}
        columns = {name: i for i, name in enumerate(old_features)}
        old_rows = [(i, rows[name]) for i, name in enumerate(labels) if name in rows]
        old_columns = [(j, columns[name]) for j, name in enumerate(feature_names) if name in columns]
        coef = np.zeros((len(labels), len(feature_names)))
        intercept = np.zeros(len(labels))
        if old_rows and old_columns:
            new_i, old_i = map(list, zip(*old_rows, strict=True))
            new_j, old_j = map(list, zip(*old_columns, strict=True))
            coef[np.ix_(new_i, new_j)] = head.coef[np.ix_(old_j, old_i)].T
            intercept[new_i] = head.intercept[old_i]
        model.coef_, model.intercept_ = coef, intercept
    model.fit(features, y)
    return LinearHead(model.coef_, model.intercept_)


def _centroid_head(features: sp.csr_matrix, y: np.ndarray, n_labels: int) -> LinearHead:
    """Each label's centroid of its (unit) n-gram rows, L2-normalised and scaled, kept
    sparse: the logits are the cosine to each centroid times PROTOTYPE_SCALE."""
    members = sp.csr_matrix((np.ones(len(y)), (y, np.arange(len(y)))), shape=(n_labels, len(y)))
    sums = sp.csr_matrix(members @ features)
    norms = np.sqrt(np.asarray(sums.multiply(sums).sum(axis=1))).ravel()
    return LinearHead(sp.diags(PROTOTYPE_SCALE / np.maximum(norms, 1e-12)) @ sums, np.zeros(n_labels))


class IntentClassifier:
    def __init__(
        self,
        labels: list[str],
        embedding_head: LinearHead | NearestHead,
        tfidf,  # type: ignore[no-untyped-def]
        tfidf_head: LinearHead,
        neighbours,  # type: ignore[no-untyped-def]
        chinese_head: LinearHead | NearestHead | None = None,
        chinese_neighbours=None,  # type: ignore[no-untyped-def]
        chinese_classes=None,  # type: ignore[no-untyped-def]
        english_classes=None,  # type: ignore[no-untyped-def]
    ) -> None:
        self.labels = labels
        self._embedding_head = embedding_head
        self._tfidf = tfidf
        self._ngrams = NgramFeatures(tfidf)  # the same features, without scikit-learn's per-call cost
        self._tfidf_head = tfidf_head
        # Unit rows, stored as float16 (half the disk), computed with in float32.
        self._neighbours = np.asarray(neighbours, dtype=np.float32)
        # Over the multilingual encoder's embeddings of the Chinese training questions
        # (None in versions built before it: Chinese is read by the n-grams alone).
        self._chinese_head = chinese_head
        self._chinese_neighbours = None if chinese_neighbours is None else np.asarray(chinese_neighbours, np.float32)
        # The labels the Chinese head knows (indices into `labels`): an entry with no Chinese
        # training question is one it cannot name (its probability there is 0).
        self._chinese_classes = np.arange(len(labels)) if chinese_classes is None else np.asarray(chinese_classes)
        # Likewise the MiniLM head, fitted on the texts not read as Chinese (only those reach it).
        self._english_classes = np.arange(len(labels)) if english_classes is None else np.asarray(english_classes)
        # Corrects misspelt English words before the model reads them (twinteller/model/
        # speller.py); set by the trainer from the training questions, None in older versions.
        self.speller: Speller | None = None
        # Temperatures that make the probabilities mean P(right) (twinteller/model/
        # calibration.py); fitted by the trainer, 1 in older versions.
        self.calibration = Calibration()

    @property
    def reads_chinese_with_encoder(self) -> bool:
        """Whether `predict` needs the multilingual embeddings of the Chinese texts."""
        return self._chinese_head is not None

    @classmethod
    def fit(
        cls,
        texts: list[str],
        labels: list[str],
        embeddings: np.ndarray,
        previous: IntentClassifier | None = None,
        chinese_embeddings: np.ndarray | None = None,
    ) -> IntentClassifier:
        """Fit the heads: `embeddings` are MiniLM's of every text; `chinese_embeddings` the
        multilingual encoder's of the texts read as Chinese (`chinese_rows`), in order (None:
        no Chinese head). With `previous` (the version this one replaces) each regression
        starts from its weights, matched by label and feature name: the loss is convex, so
        the optimum is the same, and after a small edit it is a few iterations away instead
        of ~40 (the TF-IDF head's fit is most of a train: ~40 s on BANKING77 here). lbfgs
        stops within its tolerance of the optimum, from the other side when warm: accuracy
        can differ from a cold fit's by a few tenths of a point."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        names = sorted(set(labels))
        index = {name: i for i, name in enumerate(names)}
        y = np.array([index[label] for label in labels])
        rows = chinese_rows(texts)
        english = np.setdiff1d(np.arange(len(texts)), rows)
        prototypes = len(names) > PROTOTYPE_ENTRIES
        if prototypes:  # the nearest-question heads read their questions grouped by label
            english = english[np.argsort(y[english], kind="stable")]
            order = np.argsort(y[rows], kind="stable")
            rows = [rows[i] for i in order]
            chinese_embeddings = None if chinese_embeddings is None else chinese_embeddings[order]
        before = (previous._embedding_head, previous.labels, previous._english_classes) if previous else None
        embedding_head, english_classes = _fit_subset(embeddings[english], y[english], names, before, prototypes)
        tfidf = FeatureUnion(
            [
                (
                    "word",
                    TfidfVectorizer(
                        tokenizer=words,
                        token_pattern=None,
                        lowercase=False,
                        ngram_range=(1, 2),
                        sublinear_tf=True,
                        min_df=1,
                    ),
                ),
                # From single characters: one Chinese character often carries a word's meaning
                # (on our bilingual set 85% -> 95% top-1; BANKING77 unchanged at 94.1%).
                ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True, min_df=2)),
            ]
        )
        features = tfidf.fit_transform(texts)
        if prototypes:
            tfidf_head = _centroid_head(features, y, len(names))
        else:
            start = None
            if previous and not sp.issparse(previous._tfidf_head.coef):
                start = (previous._tfidf_head, previous.labels, list(previous._tfidf.get_feature_names_out()))
            tfidf_head = _fit_head(features, y, 20.0, names, list(tfidf.get_feature_names_out()), start)
        chinese_head = chinese_classes = None
        if chinese_embeddings is not None and len({labels[i] for i in rows}) >= 2:
            before = None
            if previous and previous._chinese_head is not None:
                before = (previous._chinese_head, previous.labels, previous._chinese_classes)
            chinese_head, chinese_classes = _fit_subset(chinese_embeddings, y[rows], names, before, prototypes)
        chinese_neighbours = chinese_embeddings if chinese_head is not None else None
        return cls(names, embedding_head, tfidf, tfidf_head, embeddings[english], chinese_head, chinese_neighbours,
                   chinese_classes, english_classes)  # fmt: skip

    def spelled(self, texts: list[str]) -> list[str]:
        """`texts` as the model reads them: misspelt English words corrected."""
        return texts if self.speller is None else [self.speller.correct(t) for t in texts]

    def predict(
        self, texts: list[str], embeddings: np.ndarray, chinese_embeddings: np.ndarray | None = None
    ) -> Prediction:
        """`chinese_embeddings`: the multilingual encoder's of `chinese_rows(texts)`, in
        order, when `reads_chinese_with_encoder`."""
        products = embeddings @ self._neighbours.T
        similarity = products.max(axis=1)
        p_embedding = np.zeros((len(texts), len(self.labels)))
        p_embedding[:, self._english_classes] = _probabilities(self._embedding_head, embeddings, products)
        p_tfidf = self._tfidf_head.probabilities(self._ngrams.transform(texts))
        chinese = np.zeros(len(texts), dtype=bool)
        chinese[chinese_rows(texts)] = True
        # English: the two heads' average. Chinese: the n-grams with the multilingual head,
        # or alone in a version without one (MiniLM reads Chinese poorly).
        probabilities = np.where(chinese[:, None], p_tfidf, 0.5 * p_tfidf + 0.5 * p_embedding)
        if self._chinese_head is not None and chinese.any():
            if chinese_embeddings is None or len(chinese_embeddings) != chinese.sum():
                raise ValueError("predict: the multilingual embeddings of the Chinese texts are needed")
            rows = np.flatnonzero(chinese)
            assert self._chinese_neighbours is not None
            products = chinese_embeddings @ self._chinese_neighbours.T
            p_chinese = np.zeros((len(rows), len(self.labels)))
            p_chinese[:, self._chinese_classes] = _probabilities(self._chinese_head, chinese_embeddings, products)
            probabilities[rows] = 0.5 * p_tfidf[rows] + 0.5 * p_chinese
            similarity[rows] = products.max(axis=1)
        temperature = np.where(chinese, self.calibration.chinese, self.calibration.english)
        return Prediction(scaled(probabilities, temperature), similarity)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / LABELS_FILE).write_text(json.dumps(self.labels), encoding="utf-8")
        with (directory / HEADS_FILE).open("wb") as f:
            heads = (self._embedding_head, self._tfidf, self._tfidf_head, self._chinese_head, self._chinese_classes,
                     self._english_classes)  # fmt: skip
            pickle.dump(heads, f)
        np.save(directory / NEIGHBOURS_FILE, self._neighbours.astype(np.float16))
        if self._chinese_neighbours is not None:
            np.save(directory / CHINESE_NEIGHBOURS_FILE, self._chinese_neighbours.astype(np.float16))
        if self.speller is not None:
            self.speller.save(directory)
        self.calibration.save(directory)

    @classmethod
    def load(cls, directory: Path) -> IntentClassifier:
        labels = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
        # The pickle is written by our own trainer into the model repository; loading it
        # trusts that repository exactly as Triton trusts the model.py beside it.
        with (directory / HEADS_FILE).open("rb") as f:
            heads = _Unpickler(f).load()
        # Three heads in a version built before the Chinese head; its label subsets after.
        embedding_head, tfidf, tfidf_head, chinese_head, chinese_classes, english_classes = (*heads, None, None, None)[
            :6
        ]
        neighbours = np.load(directory / NEIGHBOURS_FILE)
        chinese_neighbours = np.load(directory / CHINESE_NEIGHBOURS_FILE) if chinese_head is not None else None
        classifier = cls(labels, embedding_head, tfidf, tfidf_head, neighbours, chinese_head, chinese_neighbours,
                         chinese_classes, english_classes)  # fmt: skip
        classifier.speller = Speller.load(directory)
        classifier.calibration = Calibration.load(directory)
        return classifier


def _fit_subset(
    features: np.ndarray,
    y: np.ndarray,
    names: list[str],
    before: tuple[LinearHead | NearestHead, list[str], np.ndarray] | None,
    prototypes: bool = False,
) -> tuple[LinearHead | NearestHead, np.ndarray]:
    """A head over the labels that occur in `y` (indices into `names`), and those labels;
    `before`: a head to start from, its version's labels and the ones it knew (a
    regression's only). `prototypes`: a nearest-question head, `y` grouped by label."""
    classes = np.unique(y)
    if prototypes:
        return NearestHead(np.searchsorted(y, classes), PROTOTYPE_SCALE), classes
    dims = [str(i) for i in range(features.shape[1])]
    start = None
    # A regression starts from its version's regression (a prototype head has no weights),
    # in its own dimensions: the encoder (and its width) may have changed.
    head, old_names, old_classes = before or (None, [], np.array([]))
    if isinstance(head, LinearHead):
        start = (head, [old_names[c] for c in old_classes], [str(i) for i in range(head.coef.shape[0])])
    return _fit_head(features, np.searchsorted(classes, y), 10.0, [names[c] for c in classes], dims, start), classes


def chinese_rows(texts: list[str]) -> list[int]:
    """The texts read as Chinese (with the multilingual encoder), by index."""
    return [i for i, text in enumerate(texts) if reads_chinese(text)]
