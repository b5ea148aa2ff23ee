"""twinteller/knowledge/insights_document.py: the document stored under insights/latest."""

from __future__ import annotations

import json

from twinteller.knowledge.insights_document import Cluster, Document, Member, Rating, Trend


def _document() -> Document:
    members = [
        Member("/twinteller/unrecognised/s2/t1", "我的卡在国外被吞了", 1_700_000_300.5, "app"),
        Member("/twinteller/unrecognised/s1/t4", "ATM ate my card abroad", 1_700_000_100.0, "other"),
    ]
    return Document(
        computed_at=1_700_000_400.25,
        clusters=[
            Cluster(
                id="c-0123456789",
                label="ate abroad atm",
                size=2,
                first_seen=1_700_000_100.0,
                last_seen=1_700_000_300.5,
                representatives=["ATM ate my card abroad"],
                members=members,
                suggested_faq="card_swallowed",
                suggested_similarity=0.81,
            ),
            Cluster("c-abcdef0123", "crypto", 4, 1.0, 2.0, [], [], proposed_id="crypto", proposed_title="Crypto"),
        ],
        trends=[Trend("intent", "card_arrival", "card_arrival", 20, 10, 1.1, 13.05)],
        ratings=[Rating("channel", "", 1, 3.0, 0.0), Rating("day", "2024-03-02", 3, 3.333, 0.667)],
    )


def test_round_trip() -> None:
    document = _document()
    restored = Document.from_json(document.to_json())
    assert restored == document
    assert all(isinstance(c, Cluster) for c in restored.clusters)
    assert all(isinstance(m, Member) for m in restored.clusters[0].members)
    assert isinstance(restored.trends[0], Trend)
    assert all(isinstance(r, Rating) for r in restored.ratings)


def test_json_is_utf8_with_plain_fields() -> None:
    raw = _document().to_json()
    assert isinstance(raw, bytes)
    assert "我的卡在国外被吞了".encode() in raw  # not \u-escaped
    data = json.loads(raw)
    assert data["clusters"][0]["members"][1] == {
        "key": "/twinteller/unrecognised/s1/t4",
        "text": "ATM ate my card abroad",
        "at": 1_700_000_100.0,
        "channel": "other",
    }
    assert data["trends"][0]["window_count"] == 20
    assert data["ratings"][1]["satisfied"] == 0.667


def test_empty_document() -> None:
    assert Document.from_json(Document(5.0).to_json()) == Document(5.0)
    assert Document.from_json(b'{"computed_at": 7.5}') == Document(7.5)
