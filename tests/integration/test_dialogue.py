"""Multi-turn dialogue through the real cluster: scripted conversations that exercise
HANDOFF, CLARIFY and its resolution, slot filling, follow-ups read in context, and the
record of unrecognised queries. Each turn alternates between the two routers, so every
behaviour also shows that the dialogue state lives in etcd, not in a router."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from router.conversation.dialogue import HANDOFF_REPLY
from tests.integration.conftest import read_session
from twinteller.devcluster.local_cluster import LocalCluster
from twinteller.etcd import keys
from twinteller.knowledge.schema import seed_faqs
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
FAQS = {f.id: f for f in seed_faqs()}


class Conversation:
    def __init__(self, stubs: dict[str, pb_grpc.AssistantStub]) -> None:
        self.session = f"dlg-{uuid.uuid4().hex[:10]}"
        self._stubs = stubs
        self._turn = 0

    def say(self, text: str) -> pb.ConverseResponse:
        self._turn += 1
        stub = self._stubs["ab"[self._turn % 2]]
        request = pb.ConverseRequest(session_id=self.session, turn_id=str(self._turn), text=text, channel="app")
        return stub.Converse(request, timeout=10)


def test_asking_for_a_person_hands_off_with_a_summary(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    talk = Conversation(stubs)
    first = talk.say("my card still hasn't arrived")
    assert (first.action, first.intent) == (pb.ANSWER, "card_arrival")
    handoff = talk.say("this is useless, I want to talk to a person")
    assert handoff.action == pb.HANDOFF
    assert handoff.reply == HANDOFF_REPLY
    summary = handoff.handoff_summary
    assert "asked for a person" in summary
    assert FAQS["card_arrival"].title in summary  # the topic so far
    assert '"my card still hasn\'t arrived"' in summary and "talk to a person" in summary
    assert first.handoff_summary == ""


def test_three_unrecognised_questions_in_a_row_hand_off_and_are_recorded(
    cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub]
) -> None:
    talk = Conversation(stubs)
    replies = [talk.say(t) for t in ("what is the weather like", "tell me a joke", "who won the football")]
    assert [r.action for r in replies] == [pb.FALLBACK, pb.FALLBACK, pb.HANDOFF]
    assert "3 questions in a row were not understood" in replies[2].handoff_summary
    assert "tell me a joke" in replies[2].handoff_summary

    async def recorded() -> dict[str, dict]:
        async with cluster.store() as store:
            entries, _ = await store.get_prefix(keys.UNRECOGNISED)
            records = {}
            for e in entries:
                record = json.loads(e.value)
                if record["session_id"] == talk.session:
                    # Written in the turn's own commit: one transaction, one revision.
                    turn = await store.get(keys.turn(talk.session, record["turn_id"]))
                    records[record["turn_id"]] = record | {
                        "same_revision": turn and turn.mod_revision == e.mod_revision
                    }
            return records

    records = asyncio.run(recorded())
    assert sorted(records) == ["1", "2", "3"]
    assert all(r["same_revision"] for r in records.values())
    assert records["2"]["text"] == "tell me a joke"
    assert records["2"]["session_id"] == talk.session and records["2"]["channel"] == "app"
    assert records["3"]["action"] == "HANDOFF" and records["1"]["model_version"] == "1"
    assert records["1"]["candidates"] and records["1"]["at"] > 0


def test_recognised_questions_are_not_recorded_as_unrecognised(
    cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub]
) -> None:
    talk = Conversation(stubs)
    assert talk.say("my card still hasn't arrived").action == pb.ANSWER

    async def recorded() -> int:
        async with cluster.store() as store:
            entries, _ = await store.get_prefix(keys.UNRECOGNISED)
            return sum(1 for e in entries if json.loads(e.value)["session_id"] == talk.session)

    assert asyncio.run(recorded()) == 0


def test_close_intents_clarify_then_a_choice_and_the_missing_details_answer(
    cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub]
) -> None:
    talk = Conversation(stubs)
    clarify = talk.say("how long does a transfer take?")
    assert clarify.action == pb.CLARIFY
    options = [a.intent for a in clarify.alternatives]
    assert "transfer_timing" in options and len(options) >= 2
    assert all(f"{n}. {FAQS[o].title}" in clarify.reply for n, o in enumerate(options, 1))
    position = options.index("transfer_timing") + 1

    # "2" picks the option; its answer needs an amount and a currency, so it asks for them
    # (from the clarified question, which had none, not from the digit).
    ask = talk.say(str(position))
    assert (ask.action, ask.intent) == (pb.CLARIFY, "transfer_timing")
    assert "How much" in ask.reply and "currency" in ask.reply
    answer = talk.say("500 euros")
    assert (answer.action, answer.intent) == (pb.ANSWER, "transfer_timing")
    assert answer.reply == FAQS["transfer_timing"].slot_answer.format(amount="500", currency="EUR")

    context = read_session(cluster, talk.session)
    assert context is not None and context["pending"]["slot_intent"] == ""  # nothing left open


def test_a_clarify_is_resolved_by_the_words_of_an_option(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    talk = Conversation(stubs)
    clarify = talk.say("how long does a transfer take?")
    assert clarify.action == pb.CLARIFY
    chosen = talk.say("the one about how long transfers take")
    assert chosen.intent == "transfer_timing" and chosen.action == pb.CLARIFY  # now asking for the details


def test_slot_filling_reprompts_then_answers_without_the_details(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    talk = Conversation(stubs)
    ask = talk.say("what's the exchange rate?")
    assert (ask.action, ask.intent) == (pb.CLARIFY, "exchange_rate")
    assert "Which currency" in ask.reply
    again = talk.say("hmm")
    assert (again.action, again.intent) == (pb.CLARIFY, "exchange_rate")
    assert talk.say("not sure").action == pb.ANSWER  # "not sure" is a way out
    # Given at once, the detail is used without a question.
    direct = Conversation(stubs).say("what's the exchange rate for euros?")
    assert (direct.action, direct.intent) == (pb.ANSWER, "exchange_rate")
    assert direct.reply == FAQS["exchange_rate"].slot_answer.format(currency="EUR")


def test_slot_question_answered_with_the_detail(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    talk = Conversation(stubs)
    assert talk.say("what's the exchange rate?").action == pb.CLARIFY
    answer = talk.say("in US dollars please")
    assert (answer.action, answer.intent) == (pb.ANSWER, "exchange_rate")
    assert "USD" in answer.reply


def test_a_follow_up_is_resolved_against_the_previous_topic(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    # Alone, "and how long does that take?" is too vague to answer (a fresh session falls
    # back, or asks which of several topics was meant), and nothing points to virtual cards.
    alone = Conversation(stubs).say("and how long does that take?")
    assert alone.action in (pb.FALLBACK, pb.CLARIFY) and not alone.intent
    assert "getting_virtual_card" not in [a.intent for a in alone.alternatives[:1]]
    talk = Conversation(stubs)
    first = talk.say("I'd like a virtual card")
    assert (first.action, first.intent) == (pb.ANSWER, "getting_virtual_card")
    follow = talk.say("and how long does that take?")
    assert (follow.action, follow.intent) == (pb.ANSWER, "getting_virtual_card")
    assert follow.reply == FAQS["getting_virtual_card"].answer


def test_a_follow_up_can_move_to_the_related_question(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    alone = Conversation(stubs).say("and how much does that cost?")
    assert alone.intent != "top_up_by_card_charge"
    talk = Conversation(stubs)
    assert talk.say("how do I top up with my card?").intent == "topping_up_by_card"
    follow = talk.say("and how much does that cost?")
    assert (follow.action, follow.intent) == (pb.ANSWER, "top_up_by_card_charge")
