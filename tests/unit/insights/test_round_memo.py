"""What a round of the insights worker recomputes: a new unrecognised query changes the
clusters, not the projection and the FAQs' centres; a changed FAQ does (the encoder is a fake of fixed
vectors: this is the worker's bookkeeping, the clustering itself is tested elsewhere)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from insights import insight_worker
from insights.insight_worker import Insights, Settings
from tests.helpers.memory_store import MemoryStore
from twinteller.etcd import keys
from twinteller.knowledge.faqs import FaqRecord


class FixedEncoder:
    def __init__(self, *_: object, **__: object) -> None:
        pass

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = np.array([[1.0, 0.1 * len(t), 0.0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_projection_is_refitted_only_when_the_faqs_change(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(insight_worker, "MultilingualEncoder", FixedEncoder)
    store = MemoryStore()
    worker = Insights(store, tmp_path / "cache.npz", Settings(lexicon_proposals=0))  # type: ignore[arg-type]
    calls: list[int] = []
    compute = worker._fit_space

    def counted(*args: object) -> object:
        calls.append(1)
        return compute(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(worker, "_fit_space", counted)

    def unrecognised(n: int) -> None:
        record = {"text": f"question {n}", "at": float(n), "channel": "app"}
        store.put_now(keys.unrecognised(f"s{n}", "1"), json.dumps(record))

    faq = FaqRecord(id="card_arrival", title="Card", answer="Soon.", questions=["where is my card"])
    store.put_now(keys.faq(faq.id), faq.to_json())
    unrecognised(1)
    asyncio.run(worker._clusters())
    unrecognised(2)
    asyncio.run(worker._clusters())
    assert len(calls) == 1  # two rounds with new queries, the same FAQs
    store.put_now(keys.faq(faq.id), FaqRecord(id=faq.id, title="Card", answer="Soon.", questions=["card?"]).to_json())
    unrecognised(3)
    asyncio.run(worker._clusters())
    assert len(calls) == 2


def test_each_query_is_read_through_the_lexicon_once_while_the_lexicon_stands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(insight_worker, "MultilingualEncoder", FixedEncoder)
    read: list[str] = []
    original = insight_worker.Lexicon.model_text

    def model_text(self: insight_worker.Lexicon, text: str) -> str:
        if text.startswith("question"):
            read.append(text)
        return original(self, text)

    monkeypatch.setattr(insight_worker.Lexicon, "model_text", model_text)
    store = MemoryStore()
    worker = Insights(store, tmp_path / "cache.npz", Settings())  # type: ignore[arg-type]
    faq = FaqRecord(id="card_arrival", title="Card", answer="Soon.", questions=["where is my card"])
    store.put_now(keys.faq(faq.id), faq.to_json())
    for n in (1, 2):
        store.put_now(keys.unrecognised(f"s{n}", "1"), json.dumps({"text": f"question {n}", "at": float(n)}))
    asyncio.run(worker._clusters())
    store.put_now(keys.unrecognised("s3", "1"), json.dumps({"text": "question 3", "at": 3.0}))
    asyncio.run(worker._clusters())
    assert sorted(read) == ["question 1", "question 2", "question 3"]
