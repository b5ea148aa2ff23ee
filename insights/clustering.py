"""Grouping unrecognised queries by need.

Each query is embedded by the multilingual encoder (twinteller/model/multilingual.py: English
and Chinese in one space) and projected by `Projection`: linear discriminant analysis fitted
on the knowledge base's own training questions, labelled by entry. General sentence
embeddings group by topic and style ("fixed deposit" questions together, whether they ask
the rate or how to break one); the discriminant directions are the ones that separate the
bank's needs from one another and shrink the variation within one need (wording, language,
style), and they carry over to needs the base does not have yet: measured on needs written
apart from the base (issue 21; twinteller/data/cluster_needs_heldout.csv, README "Insights")
adjusted Rand 0.15 -> 0.58 and purity 53 % -> 89 % against MiniLM's plain embeddings. As
entries are adopted from clusters the projection learns their needs too.

Then agglomerative clustering (scikit-learn), cosine distance, average linkage, cut at
`THRESHOLD`; groups smaller than `min_size` are left unclustered. The threshold and the
projection's width were chosen on the tuning set (cluster_needs_tuning.csv), with an eye
on `make eval`'s five BANKING77 intents so as not to lose them; never on the held-out needs.

A cluster's label is its most distinctive words (class-based TF-IDF: frequent in the
cluster, rare in the others), by characters for Chinese; its tag is a short name in its
language (insights/tags.py).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np

from twinteller.knowledge.text import mostly_cjk

THRESHOLD = 0.5
MIN_SIZE = 4
DIMENSIONS = 50  # the projection's width (at most the base's entries - 1)
SPLIT_MIN = 2  # each part of a suggested split has at least this many members
LABEL_TERMS = 3
_STOP = frozenset(
    "a an and are am be can do does did for from have has how i i'm is it its me my no not of on or "
    "please so that the this to was what when where which why will with you your yet still just get "
    "got there into about want like would could should some any much many also than".split()
)
_WORD = re.compile(r"[a-z][a-z']+")
_CJK = re.compile(r"[\u3400-\u9fff]{2}")


class Projection:
    """The discriminant projection of the base's questions (module docstring); with fewer
    than three entries to learn from, the embeddings as they are. Rows come out unit."""

    def __init__(self, model: Any = None) -> None:
        self._model = model

    @classmethod
    def fit(cls, embeddings: np.ndarray, entries: list[str]) -> Projection:
        classes = len(set(entries))
        if classes < 3 or len(entries) <= classes:
            return cls()
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        # Shrinkage: 512 dimensions, and entries with a handful of questions each.
        model = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto", n_components=min(DIMENSIONS, classes - 1))
        return cls(model.fit(embeddings, entries))

    def __call__(self, embeddings: np.ndarray) -> np.ndarray:
        if len(embeddings) == 0:
            return embeddings
        rows = self._model.transform(embeddings) if self._model is not None else embeddings
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def cluster(embeddings: np.ndarray, threshold: float = THRESHOLD, min_size: int = MIN_SIZE) -> np.ndarray:
    """A cluster number per row, -1 for rows in no cluster of at least `min_size`."""
    n = len(embeddings)
    if n < max(2, min_size):
        return np.full(n, -1)
    from sklearn.cluster import AgglomerativeClustering

    labels = AgglomerativeClustering(
        n_clusters=None, distance_threshold=threshold, metric="cosine", linkage="average"
    ).fit_predict(embeddings)
    sizes = np.bincount(labels)
    kept = {c: i for i, c in enumerate(c for c in np.argsort(-sizes, kind="stable") if sizes[c] >= min_size)}
    return np.array([kept.get(c, -1) for c in labels])


def _terms(text: str) -> list[str]:
    if mostly_cjk(text):
        return [text[i : i + 2] for i in range(len(text) - 1) if _CJK.fullmatch(text[i : i + 2])]
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def labels(texts: list[str], assignment: np.ndarray, terms: int = LABEL_TERMS) -> dict[int, list[str]]:
    """Each cluster's most distinctive terms: term frequency in the cluster times the log
    inverse share of clusters that use it."""
    counts: dict[int, dict[str, int]] = {}
    for text, c in zip(texts, assignment, strict=True):
        if c >= 0:
            bag = counts.setdefault(int(c), {})
            for term in _terms(text):
                bag[term] = bag.get(term, 0) + 1
    spread: dict[str, int] = {}
    for bag in counts.values():
        for term in bag:
            spread[term] = spread.get(term, 0) + 1
    k = len(counts)
    out = {}
    for c, bag in counts.items():
        scored = sorted(bag, key=lambda t: (-bag[t] * np.log(1 + k / spread[t]), t))
        out[c] = scored[:terms]
    return out


def representatives(embeddings: np.ndarray, rows: list[int], n: int = 3) -> list[int]:
    """The `n` rows nearest the cluster's centre."""
    centre = embeddings[rows].mean(axis=0)
    order = np.argsort(-(embeddings[rows] @ centre), kind="stable")
    return [rows[i] for i in order[:n]]


def suggested_split(embeddings: np.ndarray, rows: list[int]) -> tuple[list[int], float] | None:
    """The part of a cluster that a two-way split (average linkage over its members) would
    take off, the smaller side, and how far apart the two sides are (1 - the cosine of
    their centres): shown to a knowledge manager before a split. None when the cluster is
    too small to split in two parts of `SPLIT_MIN`."""
    if len(rows) < 2 * SPLIT_MIN:
        return None
    from sklearn.cluster import AgglomerativeClustering

    halves = AgglomerativeClustering(n_clusters=2, metric="cosine", linkage="average").fit_predict(embeddings[rows])
    sizes = np.bincount(halves, minlength=2)
    if sizes.min() < SPLIT_MIN:
        return None
    smaller = int(sizes.argmin()) if sizes[0] != sizes[1] else int(halves[-1])  # ties: the newest member's
    part = [r for r, h in zip(rows, halves, strict=True) if h == smaller]
    rest = [r for r, h in zip(rows, halves, strict=True) if h != smaller]
    a, b = (embeddings[side].mean(axis=0) for side in (part, rest))
    cosine = float(a @ b / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))
    return part, 1.0 - cosine


def stable_id(member_keys: list[str]) -> str:
    """Named after its oldest member (keys sort by time within a session, and the worker
    passes them oldest first), so the id survives new members joining."""
    return "c-" + hashlib.sha1(member_keys[0].encode()).hexdigest()[:10]
