"""Embedding cache keyed by question text.

A retrain after an edit re-embeds only the questions that changed: a cold embedding of
the 10k BANKING77 questions takes a minute or more on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twinteller.model.encoder import DIMENSION, Encoder


class EmbeddingCache:
    def __init__(self, path: Path, encoder: Encoder) -> None:
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
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self._vectors)
        tmp = self._path.with_name(self._path.name + ".tmp.npz")
        np.savez(tmp, texts=np.array(texts, dtype=str), vectors=np.stack([self._vectors[t] for t in texts]))
        tmp.replace(self._path)
