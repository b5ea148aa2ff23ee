"""Embedding caches keyed by question text, one per encoder.

A retrain after an edit re-embeds only the questions that changed: a cold embedding of
the 10k BANKING77 questions takes a minute or more on 2 cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from twinteller.model.intent_model import IntentClassifier, Prediction, chinese_rows


class TextEncoder(Protocol):
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class EmbeddingCache:
    """One cache per encoder (MiniLM, the multilingual one): its own file."""

    def __init__(self, path: Path, encoder: TextEncoder) -> None:
        self._path = path
        self._encoder = encoder
        self._vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                for text, vector in zip(data["texts"].tolist(), data["vectors"], strict=True):
                    self._vectors[text] = vector

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self._vectors})
        if missing:
            for text, vector in zip(missing, self._encoder.encode(missing), strict=True):
                self._vectors[text] = vector
            self._save()
        if not texts:
            return np.zeros((0, self._encoder.dimension), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self._vectors)
        tmp = self._path.with_name(self._path.name + ".tmp.npz")
        np.savez(tmp, texts=np.array(texts, dtype=str), vectors=np.stack([self._vectors[t] for t in texts]))
        tmp.replace(self._path)


@dataclass
class Embeddings:
    """Both encoders' caches, as a model needs them: MiniLM's embeddings of every text, and
    the multilingual encoder's of the texts read as Chinese (intent_model.chinese_rows)."""

    english: EmbeddingCache
    chinese: EmbeddingCache

    @classmethod
    def at(cls, path: Path, model_repo: Path, threads: int = 0) -> Embeddings:
        """The caches in `path` (MiniLM's) and beside it (`<name>-multilingual.npz`)."""
        from twinteller.model.encoder import Encoder
        from twinteller.model.multilingual import MultilingualEncoder
        from twinteller.model.paths import encoder_dir

        chinese = path.with_name(f"{path.stem}-multilingual{path.suffix}")
        return cls(
            EmbeddingCache(path, Encoder(encoder_dir(model_repo), threads=threads)),
            EmbeddingCache(chinese, MultilingualEncoder(threads=max(1, threads))),
        )

    def of_chinese(self, texts: list[str]) -> np.ndarray:
        return self.chinese.embed([texts[i] for i in chinese_rows(texts)])

    def fit(self, texts: list[str], labels: list[str], previous: IntentClassifier | None = None) -> IntentClassifier:
        return IntentClassifier.fit(texts, labels, self.english.embed(texts), previous, self.of_chinese(texts))

    def predict(self, classifier: IntentClassifier, texts: list[str]) -> Prediction:
        texts = classifier.spelled(texts)
        chinese = self.of_chinese(texts) if classifier.reads_chinese_with_encoder else None
        return classifier.predict(texts, self.english.embed(texts), chinese)
