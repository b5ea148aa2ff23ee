"""The n-gram head's features, computed per turn without scikit-learn's per-call overhead.

The trainer fits a scikit-learn `FeatureUnion` of two `TfidfVectorizer`s (word and
character n-grams). Its `transform` of one sentence took about 1 ms here, of which the
n-gram counting is a tenth: the rest is joblib's dispatch inside FeatureUnion, input
validation and sparse-format checks repeated on every call (py-spy and cProfile,
docs/benchmarks.md "Cost per turn"). `NgramFeatures` reads the fitted vectorizers once
and does the same arithmetic: the vectorizer's own analyzer (tokenising, lower-casing and
n-grams stay scikit-learn's), counts of the in-vocabulary terms, sublinear tf
(1 + log count) times idf, L2 norm per vectorizer, columns side by side as FeatureUnion
puts them. Only settings the trainer uses are accepted; anything else is refused at load
rather than computed differently (tests/unit/twinteller/model/test_ngrams.py checks
equality with `transform` on real text).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class _Block:
    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int  # the block's first column in the union


class NgramFeatures:
    """`transform(texts)` == the fitted FeatureUnion's `transform(texts)`, as CSR float64."""

    def __init__(self, union: Any) -> None:
        blocks = []
        offset = 0
        for name, vectorizer in union.transformer_list:
            settings = (vectorizer.norm, vectorizer.use_idf, vectorizer.sublinear_tf, vectorizer.binary)
            if settings != ("l2", True, True, False) or union.transformer_weights:
                raise ValueError(f"n-gram block {name!r}: settings {settings} are not the trainer's")
            idf = np.asarray(vectorizer.idf_, dtype=np.float64)
            blocks.append(_Block(vectorizer.build_analyzer(), vectorizer.vocabulary_, idf, offset))
            offset += len(idf)
        self._blocks = tuple(blocks)
        self.width = offset

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        data: list[float] = []
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            for block in self._blocks:
                counts = Counter(j for term in block.analyze(text) if (j := block.vocabulary.get(term)) is not None)
                columns = sorted(counts)
                values = [(1.0 + math.log(counts[j])) * block.idf[j] for j in columns]
                norm = math.sqrt(sum(v * v for v in values))
                indices += [block.offset + j for j in columns]
                data += [v / norm for v in values] if norm else values
            indptr.append(len(indices))
        return sp.csr_matrix(
            (np.array(data, dtype=np.float64), np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int32)),
            shape=(len(texts), self.width),
        )
