"""The IVR as a caller, through the real routers and Triton, one `StreamConverse` per call
(router/voice, README "IVR integration"): n-best hypotheses read in one batched model call
and the right one answered, a clarification chosen by a key, an amount keyed, replies for
voice in English and Cantonese (valid SSML, barge-in), no input re-prompted then handed off."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import grpc
import pytest

from tests.integration.test_metrics import scrape, value
from twinteller.devcluster.local_cluster import LocalCluster
from twinteller.knowledge.schema import seed_faqs
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
FAQS = {f.id: f for f in seed_faqs()}
SSML = "{http://www.w3.org/2001/10/synthesis}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
END = object()


class Call:
    """One phone call: a StreamConverse kept open, each turn sent once the last is answered,
    as an IVR does (it plays the reply, then listens)."""

    def __init__(self, stub: pb_grpc.AssistantStub, **defaults: Any) -> None:
        self.session = f"ivr-{uuid.uuid4().hex[:10]}"
        self._requests: queue.Queue[object] = queue.Queue()
        self._defaults = {"channel": "ivr", **defaults}
        self._replies = stub.StreamConverse(self._sent(), timeout=60)
        self._turn = 0

    def _sent(self) -> Iterator[pb.ConverseRequest]:
        while (request := self._requests.get(timeout=60)) is not END:
            assert isinstance(request, pb.ConverseRequest)
            yield request

    def turn(self, **fields: Any) -> pb.ConverseResponse:
        self._turn += 1
        hypotheses = [pb.Hypothesis(text=t, confidence=c) for t, c in fields.pop("hypotheses", [])]
        request = pb.ConverseRequest(session_id=self.session, turn_id=f"t{self._turn}", hypotheses=hypotheses,
                                     **{**self._defaults, **fields})  # fmt: skip
        self._requests.put(request)
        reply: pb.ConverseResponse = next(self._replies)
        assert reply.turn_id == request.turn_id
        return reply

    def hang_up(self) -> None:
        self._requests.put(END)
        assert list(self._replies) == []


def spoken(reply: pb.ConverseResponse) -> tuple[str, list[str]]:
    """The SSML's language and its sentences' text (it must parse: valid, escaped XML)."""
    root = ElementTree.fromstring(reply.ssml)
    assert root.tag == f"{SSML}speak" and root.get("version") == "1.1"
    return root.get(XML_LANG, ""), ["".join(s.itertext()) for s in root.iter(f"{SSML}s")]


@pytest.mark.parametrize(
    ("heard", "intent"),
    [
        ([("I lost my car", 0.62), ("I lost my card", 0.38)], "lost_or_stolen_card"),
        ([("my pen is blocked", 0.55), ("my PIN is blocked", 0.45)], "pin_blocked"),
        ([("how do I top of with a card", 0.5), ("how do I top up with a card", 0.4)], "topping_up_by_card"),
        # Cantonese homophones: 咖 (coffee) for 卡 (card), 蜜 (honey) for 密 (secret).
        ([("我張咖俾人偷咗", 0.6), ("我張卡俾人偷咗", 0.4)], "lost_or_stolen_card"),
        ([("我嘅蜜碼鎖咗", 0.6), ("我嘅密碼鎖咗", 0.3), ("我嘅密碼所左", 0.1)], "pin_blocked"),
    ],
)
def test_an_n_best_list_whose_first_hypothesis_is_wrong_is_answered_by_the_second(
    stubs: dict[str, pb_grpc.AssistantStub], heard: list[tuple[str, float]], intent: str
) -> None:
    call = Call(stubs["a"])
    reply = call.turn(hypotheses=heard)
    assert (reply.hypothesis, reply.intent, reply.action) == (2, intent, pb.ANSWER), reply
    call.hang_up()


def test_ivr_turns_are_counted_by_kind_and_the_hypothesis_answered(
    cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub]
) -> None:
    url = cluster.layout.metrics_url("a")
    before = scrape(url)
    call = Call(stubs["a"])
    call.turn(hypotheses=[("I lost my car", 0.62), ("I lost my card", 0.38)])
    call.turn(dtmf="*")
    call.turn(no_input=True)
    call.hang_up()
    after = scrape(url)
    for kind, hypothesis in (("nbest", "2"), ("keys", "0"), ("no_input", "0")):
        grown = value(after, "twinteller_ivr_turns_total", kind=kind, hypothesis=hypothesis) - value(
            before, "twinteller_ivr_turns_total", kind=kind, hypothesis=hypothesis
        )
        assert grown == 1, (kind, hypothesis)


def test_a_clarification_chosen_by_key_2(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    call = Call(stubs["b"])
    offer = call.turn(text="how long does a transfer take?")
    assert offer.action == pb.CLARIFY and len(offer.alternatives) >= 2
    second = offer.alternatives[1]
    # Read with their keys, not numbered as on a screen.
    assert f"For {second.title}, press 2." in offer.reply and "2." not in offer.reply.split("press")[0]
    chosen = call.turn(dtmf="2")
    assert chosen.intent == second.intent and chosen.action in (pb.ANSWER, pb.CLARIFY)
    assert chosen.hypothesis == 0 and chosen.zone == ""  # keys alone ask no model
    call.hang_up()


def test_an_amount_keyed_on_the_keypad_fills_the_transfer_question(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    call = Call(stubs["a"])
    offer = call.turn(text="how long does a transfer take?")
    key = [a.intent for a in offer.alternatives].index("transfer_timing") + 1
    asked = call.turn(dtmf=str(key))
    assert (asked.action, asked.intent) == (pb.CLARIFY, "transfer_timing")
    assert "key in the amount, then press the hash key" in asked.reply
    keyed = call.turn(dtmf="1500*5#")  # * is the decimal point
    assert (keyed.action, keyed.intent) == (pb.CLARIFY, "transfer_timing") and "currency" in keyed.reply
    answer = call.turn(text="in euros")
    assert (answer.action, answer.intent) == (pb.ANSWER, "transfer_timing")
    # The slot answer, written to be read aloud: "1500.50 EUR" is said "1500.50 euros".
    written = FAQS["transfer_timing"].slot_answer.format(amount="1500.50", currency="EUR")
    assert answer.reply == written.replace("1500.50 EUR", "1500.50 euros")
    call.hang_up()


def test_spoken_numbers_are_read_as_figures(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    call = Call(stubs["b"])
    offer = call.turn(text="how long does a transfer take?")
    key = [a.intent for a in offer.alternatives].index("transfer_timing") + 1
    call.turn(dtmf=str(key))
    answer = call.turn(hypotheses=[("two thousand five hundred pounds", 0.8)])
    written = FAQS["transfer_timing"].slot_answer.format(amount="2500", currency="GBP")
    assert answer.reply == written.replace("2500 GBP", "2500 pounds")
    call.hang_up()


def test_a_reply_for_voice_in_english(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    call = Call(stubs["a"], locale="en-GB")
    reply = call.turn(text="my card still hasn't arrived")
    assert (reply.action, reply.intent, reply.language) == (pb.ANSWER, "card_arrival", "en")
    language, sentences = spoken(reply)
    assert language == "en-GB" and " ".join(sentences) == reply.reply
    assert reply.barge_in
    assert not any(mark in reply.reply for mark in ("http", "www.", "**", "](")) and reply.reply
    call.hang_up()


def test_a_reply_for_voice_in_cantonese(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    call = Call(stubs["b"], heard_language="yue-HK")  # the recogniser listened in Cantonese
    reply = call.turn(text="我張卡仲未收到")
    assert (reply.action, reply.intent, reply.language) == (pb.ANSWER, "card_arrival", "zh-Hant")
    language, sentences = spoken(reply)
    assert language == "zh-HK" and "".join(sentences) == reply.reply
    assert len(sentences) >= 2 and reply.barge_in
    # The app's menu path "「卡片 > 追蹤派遞」" is read with a pause, not "greater than".
    assert ">" in FAQS["card_arrival"].localized("zh-Hant").answer and "「卡片、追蹤派遞」" in reply.reply
    call.hang_up()


def test_no_input_is_reprompted_then_handed_off(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    call = Call(stubs["a"])
    offer = call.turn(text="how long does a transfer take?")
    first = call.turn(no_input=True)
    assert first.action == pb.FALLBACK and first.reply.startswith("Sorry, I didn't hear anything.")
    assert f"For {offer.alternatives[0].title}, press 1." in first.reply  # the open question, again
    assert call.turn(dtmf="9").action == pb.FALLBACK  # no match: not an option
    handoff = call.turn(no_input=True)
    assert handoff.action == pb.HANDOFF and not handoff.barge_in
    assert "went unanswered or unmatched" in handoff.handoff_summary and '"[no input]"' in handoff.handoff_summary
    call.hang_up()


def test_a_bad_ivr_turn_ends_the_call_naming_the_field_and_earlier_turns_stand(
    stubs: dict[str, pb_grpc.AssistantStub],
) -> None:
    call = Call(stubs["b"])
    assert call.turn(text="my card still hasn't arrived").action == pb.ANSWER
    with pytest.raises(grpc.RpcError) as error:
        call.turn(hypotheses=[("top up", 0.7), ("top of", 1.7)])
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "message 2: hypotheses[1].confidence" in (error.value.details() or "")
