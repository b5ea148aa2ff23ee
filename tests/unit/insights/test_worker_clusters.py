"""The insights worker's clusters across rounds (the encoder is a fake that points each
text along its need's direction: this is the worker's bookkeeping; the clustering and the
encoder are tested elsewhere): a tag stays while its cluster grows, each cluster has its
members per day and a suggested split, and a dismissed cluster is not proposed again."""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from insights import insight_worker
from insights.insight_worker import DAYS, Insights, Settings
from tests.helpers.memory_store import MemoryStore
from twinteller.etcd import keys
from twinteller.knowledge.cluster_rules import Rule
from twinteller.knowledge.faqs import FaqRecord

NEEDS = {"score": 0, "points": 1}


class NeedEncoder:
    """Each text along its need's axis (by the word it names), with a little noise of its own."""

    dimension = 8

    def __init__(self, *_: object, **__: object) -> None:
        pass

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            row = np.random.default_rng(zlib.crc32(text.encode())).normal(scale=0.05, size=8)
            row[next((axis for word, axis in NEEDS.items() if word in text), 2)] += 1.0
            rows.append(row / np.linalg.norm(row))
        return np.array(rows, dtype=np.float32)


def record(store: MemoryStore, n: int, text: str, at: float) -> None:
    store.put_now(keys.unrecognised(f"s{n}", "1"), json.dumps({"text": text, "at": at, "language": "en"}))


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Insights, MemoryStore]:
    monkeypatch.setattr(insight_worker, "MultilingualEncoder", NeedEncoder)
    store = MemoryStore()
    faq = FaqRecord(id="card_arrival", title="Card", answer="Soon.", questions=["where is my card"])
    store.put_now(keys.faq(faq.id), faq.to_json())
    return Insights(store, tmp_path / "cache.npz", Settings(lexicon_proposals=0)), store  # type: ignore[arg-type]


def test_tags_stay_while_clusters_grow_and_dismissed_ones_go(worker: tuple[Insights, MemoryStore]) -> None:
    insights, store = worker
    now = time.time()
    for n in range(5):
        record(store, n, f"what is my credit score number {n}", now - 86400)
        record(store, 10 + n, f"how many reward points do I have {n}", now)
    first = {c.tag: c for c in asyncio.run(insights._clusters())}
    score = next(c for tag, c in first.items() if "score" in tag)
    points = next(c for tag, c in first.items() if "points" in tag)
    assert score.size == 5 and points.size == 5 and score.language == "en"
    assert len(score.daily) == DAYS and [d.count for d in score.daily][-2:] == [5, 0]
    assert score.split is not None and 2 <= len(score.split.member_keys) < 5

    # More score questions, in other words: the same cluster (its oldest member stays), same tag.
    for n in range(5):
        record(store, 20 + n, f"my credit score rating dropped again {n}", now)
    again = {c.id: c for c in asyncio.run(insights._clusters())}
    assert again[score.id].size == 10 and again[score.id].tag == score.tag

    rule = Rule(id="r-1", kind="dismiss", cluster=points.id, members=tuple(m.key for m in points.members),
                texts=tuple(m.text for m in points.members), at=now)  # fmt: skip
    store.put_now(keys.cluster_rule(rule.id), rule.to_json())
    # Dismissed, with more points questions since: nothing of it is proposed.
    for n in range(5):
        record(store, 30 + n, f"redeem reward points today {n}", now + 1)
    left = asyncio.run(insights._clusters())
    assert [c.id for c in left] == [score.id]


def test_a_base_without_enabled_entries_still_clusters(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(insight_worker, "MultilingualEncoder", NeedEncoder)
    store = MemoryStore()
    off = FaqRecord(id="card_arrival", title="Card", answer="Soon.", questions=["where is my card"], enabled=False)
    store.put_now(keys.faq(off.id), off.to_json())
    for n in range(5):
        record(store, n, f"what is my credit score number {n}", time.time())
    insights = Insights(store, tmp_path / "cache.npz", Settings(lexicon_proposals=0))  # type: ignore[arg-type]
    [only] = asyncio.run(insights._clusters())
    assert only.size == 5 and not only.suggested_faq
