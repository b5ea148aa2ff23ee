"""loadtest/ivr_calls.py: the IVR load-test caller's mix, and that every turn it makes is
one the router accepts (router/api/validation.py)."""

from __future__ import annotations

import random
from collections import Counter

from loadtest.ivr_calls import ivr_turn, misheard
from router.api.validation import converse_request
from router.conversation.slots import prompt
from router.voice import keypad
from twinteller.internal import raw_pb2
from twinteller.v1 import assistant_pb2 as pb

QUERIES = ["I lost my card", "how do I top up", "what is the exchange rate", "hello there"]
PICKS = ["the second one", "1"]
OFFER = pb.ConverseResponse(action=pb.CLARIFY, reply="Did you mean one of these?",
                            alternatives=[pb.Candidate(intent="a"), pb.Candidate(intent="b")])  # fmt: skip
ASK_AMOUNT = pb.ConverseResponse(action=pb.CLARIFY, intent="transfer_timing", reply=prompt(["amount"], keys=True))
ANSWER = pb.ConverseResponse(action=pb.ANSWER, intent="card_arrival", reply="Cards arrive in 5 days.")


def accepted(fields: dict) -> None:
    request = pb.ConverseRequest(session_id="s", turn_id="1", channel="ivr", **fields)
    raw = raw_pb2.RawConverseRequest.FromString(request.SerializeToString())
    converse_request(raw, max_text_bytes=2048, max_id_chars=128)  # raises when refused


def kinds(reply: pb.ConverseResponse | None, n: int = 400) -> Counter[str]:
    rng, seen = random.Random(7), Counter[str]()
    for _ in range(n):
        chosen = ivr_turn(reply, rng, QUERIES, PICKS)
        assert chosen is not None
        kind, fields = chosen
        accepted(fields)
        seen[kind] += 1
        if "dtmf" in fields and reply is OFFER:
            assert keypad.parse(fields["dtmf"]).choice(2) is not None  # a key that names an option
        if "dtmf" in fields and reply is ASK_AMOUNT:
            assert keypad.parse(fields["dtmf"]).amount() is not None
    return seen


def test_options_are_mostly_chosen_by_key_and_amounts_mostly_keyed() -> None:
    assert kinds(OFFER)["dtmf"] > 0.7 * 400
    assert kinds(ASK_AMOUNT)["dtmf"] > 0.6 * 400


def test_new_questions_are_mostly_n_best_lists_and_some_turns_repeat_or_say_nothing() -> None:
    first = kinds(None)
    assert first["nbest"] > 0.6 * 400 and first["turn"] > 0 and set(first) == {"nbest", "turn"}
    later = kinds(ANSWER)
    assert later["dtmf"] > 0 and later["no_input"] > 0 and later["nbest"] > later["turn"]


def test_a_handed_off_call_hangs_up() -> None:
    assert ivr_turn(pb.ConverseResponse(action=pb.HANDOFF), random.Random(1), QUERIES, PICKS) is None


def test_misheard_words() -> None:
    assert misheard("I lost my card", random.Random(1)) == "i lost my car"
    assert misheard("hello there", random.Random(1)) == "hello there"
