"""router.conversation.sessions.Context JSON (what is stored under sessions/<sid>)."""

from __future__ import annotations

import json

from router.conversation.sessions import Context, TurnSummary


def test_round_trip() -> None:
    context = Context(
        turns=[
            TurnSummary("t1", "我的卡还没到", "ANSWER", "card_arrival"),
            TurnSummary("t2", "what?", "FALLBACK", ""),
        ],
        last_intent="card_arrival",
        consecutive_fallbacks=1,
        started_at=1_700_000_000.25,
    )
    restored = Context.from_json(context.to_json())
    assert restored == context
    assert all(isinstance(t, TurnSummary) for t in restored.turns)
    assert restored.turns[0].text == "我的卡还没到"


def test_default_round_trip() -> None:
    assert Context.from_json(Context().to_json()) == Context()


def test_json_is_utf8_bytes() -> None:
    raw = Context(turns=[TurnSummary("t1", "余额", "ANSWER", "balance", "ivr")]).to_json()
    assert isinstance(raw, bytes)
    data = json.loads(raw.decode("utf-8"))
    assert data["turns"][0] == {
        "turn_id": "t1",
        "text": "余额",
        "action": "ANSWER",
        "intent": "balance",
        "channel": "ivr",
        "system": "",
        "language": "",
        "at": 0.0,
        "version": "",
    }


def test_a_turn_stored_before_channels_were_kept_reads_back() -> None:
    old = b'{"turns": [{"turn_id": "t1", "text": "hi", "action": "ANSWER", "intent": "greeting"}]}'
    assert Context.from_json(old).turns[0].channel == ""


def test_missing_fields_take_defaults() -> None:
    restored = Context.from_json(b'{"last_intent": "top_up"}')
    assert restored == Context(last_intent="top_up")


def test_round_trip_is_independent_copy() -> None:
    context = Context(turns=[TurnSummary("t1", "hi", "ANSWER", "greeting")])
    restored = Context.from_json(context.to_json())
    restored.turns.append(TurnSummary("t2", "bye", "ANSWER", "goodbye"))
    assert len(context.turns) == 1
