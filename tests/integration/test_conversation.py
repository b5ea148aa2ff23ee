"""Conversations through the real cluster: multi-turn, streaming, idempotency, feedback."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from router.conversation.dialogue import FALLBACK_REPLY, FALLBACK_REPLY_REPEATED
from tests.integration.conftest import read_session
from twinteller.devcluster.local_cluster import LocalCluster
from twinteller.knowledge.schema import seed_faqs
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
ANSWERS = {f.id: f.answer for f in seed_faqs()}


def turn(session: str, turn_id: str, text: str) -> pb.ConverseRequest:
    return pb.ConverseRequest(session_id=session, turn_id=turn_id, text=text, channel="app", locale="en-GB")


def test_multi_turn_conversation_continues_on_either_router(
    cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub]
) -> None:
    session = uuid.uuid4().hex
    first = stubs["a"].Converse(
        turn(session, "1", "I ordered a card two weeks ago and it still hasn't come"), timeout=10
    )
    assert first.action == pb.ANSWER
    assert first.intent == "card_arrival"
    assert first.reply == ANSWERS["card_arrival"]
    assert 0.0 < first.confidence <= 1.0
    assert first.zone in ("a", "b") and first.model_version == "1"
    assert len(first.trace_id) == 32 and first.trace_id != "0" * 32
    assert first.alternatives and all(a.intent != first.intent and a.title for a in first.alternatives)

    # A question far from banking: FALLBACK, and the context makes the second one different.
    second = stubs["b"].Converse(turn(session, "2", "what's the weather like in Lisbon tomorrow"), timeout=10)
    third = stubs["a"].Converse(turn(session, "3", "recommend me a good pasta recipe"), timeout=10)
    assert (second.action, second.intent, second.reply) == (pb.FALLBACK, "", FALLBACK_REPLY)
    assert (third.action, third.reply) == (pb.FALLBACK, FALLBACK_REPLY_REPEATED)

    fourth = stubs["b"].Converse(turn(session, "4", "my card was stolen yesterday"), timeout=10)
    assert fourth.action == pb.ANSWER and fourth.intent == "lost_or_stolen_card"

    stored = read_session(cluster, session)
    assert stored is not None
    assert [t["turn_id"] for t in stored["turns"]] == ["1", "2", "3", "4"]
    assert [t["action"] for t in stored["turns"]] == ["ANSWER", "FALLBACK", "FALLBACK", "ANSWER"]
    assert stored["last_intent"] == "lost_or_stolen_card"
    assert stored["consecutive_fallbacks"] == 0


def test_stream_converse_answers_each_message_in_order(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    session = uuid.uuid4().hex
    texts = ["how do I top up with a card", "my card payment was declined", "can I change my PIN"]
    replies = list(stubs["b"].StreamConverse(iter(turn(session, str(i), t) for i, t in enumerate(texts)), timeout=20))
    assert [r.turn_id for r in replies] == ["0", "1", "2"]
    assert all(r.session_id == session and r.action == pb.ANSWER for r in replies)
    assert replies[0].intent != replies[1].intent
    assert len({r.trace_id for r in replies}) == 3  # one trace per turn, not per stream


def test_stream_with_a_bad_message_keeps_earlier_turns_and_names_the_message(
    stubs: dict[str, pb_grpc.AssistantStub],
) -> None:
    session = uuid.uuid4().hex
    requests = [turn(session, "1", "where is my card"), turn(session, "2", "   ")]
    received = []
    with pytest.raises(grpc.RpcError) as error:
        for reply in stubs["a"].StreamConverse(iter(requests), timeout=20):
            received.append(reply)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "message 2" in error.value.details() and "text" in error.value.details()
    assert [r.turn_id for r in received] == ["1"]


def test_repeated_turn_returns_the_stored_reply_and_does_not_advance(
    cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub]
) -> None:
    session = uuid.uuid4().hex
    original = stubs["a"].Converse(turn(session, "t1", "how long does a transfer take"), timeout=10)
    # A retry after a failover reaches the other router, even with different text.
    retried = stubs["b"].Converse(turn(session, "t1", "completely different words about the weather"), timeout=10)
    assert retried == original
    stored = read_session(cluster, session)
    assert stored is not None and [t["turn_id"] for t in stored["turns"]] == ["t1"]


def test_concurrent_duplicates_of_one_turn_are_applied_once(
    cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub]
) -> None:
    session = uuid.uuid4().hex
    request = turn(session, "dup", "I need to cancel a transfer")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(stubs["ab"[i % 2]].Converse, request, timeout=10) for i in range(4)]
        replies = [f.result() for f in futures]
    assert all(r == replies[0] for r in replies)
    stored = read_session(cluster, session)
    assert stored is not None and len(stored["turns"]) == 1


def test_feedback_is_recorded_for_a_known_turn(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    session = uuid.uuid4().hex
    stubs["a"].Converse(turn(session, "1", "what is the exchange rate for dollars"), timeout=10)
    assert stubs["b"].Feedback(
        pb.FeedbackRequest(session_id=session, turn_id="1", rating=5, comment="快"), timeout=5
    ) == (pb.FeedbackResponse())


@pytest.mark.parametrize(
    ("session_known", "turn_id", "field"),
    [(False, "1", "session_id"), (True, "no-such-turn", "turn_id")],
)
def test_feedback_for_unknown_session_or_turn_is_not_found(
    stubs: dict[str, pb_grpc.AssistantStub], session_known: bool, turn_id: str, field: str
) -> None:
    session = uuid.uuid4().hex
    if session_known:
        stubs["a"].Converse(turn(session, "1", "is there a fee for top ups"), timeout=10)
    with pytest.raises(grpc.RpcError) as error:
        stubs["a"].Feedback(pb.FeedbackRequest(session_id=session, turn_id=turn_id, rating=3), timeout=5)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert error.value.details().startswith(field)
