"""router.conversation.dialogue.decide over whole scripted conversations: handoff on request and after
repeated fallbacks, CLARIFY and the choice that answers it, slot filling (re-prompts, the
way out, leaving for a new question) and follow-ups. Between turns the context is advanced
the way the router does it (router/conversation/turns.py)."""

from __future__ import annotations

import pytest

from router.conversation.dialogue import (
    CLARIFY_REPLY,
    CONFIDENT,
    FALLBACK_REPLY,
    FALLBACK_REPLY_REPEATED,
    HANDOFF_REPLY,
    MAX_OPTIONS,
    MAX_REPROMPTS,
    Candidate,
    Decision,
    Policy,
    decide,
)
from router.conversation.sessions import Context, Pending, TurnSummary
from router.conversation.slots import prompt
from router.zones.inference import ModelResult
from twinteller.knowledge.schema import Faq, Snapshot

POLICY = Policy(confidence=0.3, similarity=0.5, clarify_ratio=0.5, handoff_after=3)

TRANSFER_TEMPLATE = "A transfer of {amount} {currency} arrives within one working day."
FAQS = {
    f.id: f
    for f in [
        Faq("card_arrival", "Card not arrived", "Cards arrive within 5 working days."),
        Faq("card_delivery_estimate", "Delivery time", "Delivery takes 3 days."),
        Faq("lost_card", "Lost or stolen card", "Freeze your card in the app."),
        Faq("top_up", "Topping up", "Top up from the Payments tab."),
        Faq("fees", "Fees", "No monthly fee."),
        Faq(
            "transfer_timing",
            "Transfer times",
            "Transfers arrive within one working day.",
            slots=("amount", "currency"),
            slot_answer=TRANSFER_TEMPLATE,
        ),
    ]
}
SNAPSHOT = Snapshot("7", FAQS)


def reading(*ranked: tuple[str, float], similarity: float = 0.9) -> ModelResult:
    return ModelResult(
        zone="a", version="7", intents=[i for i, _ in ranked], scores=[s for _, s in ranked], similarity=similarity
    )


def sure(intent: str) -> ModelResult:
    return reading((intent, 0.9), ("fees", 0.02))


# What the model makes of words that are no question at all ("2", "hmm", "500 euros").
UNSURE = reading(("fees", 0.1), ("top_up", 0.08), similarity=0.2)
# Close enough to the top intent to ask which one was meant (clarify_ratio 0.5).
CLOSE_TWO = reading(("card_arrival", 0.5), ("card_delivery_estimate", 0.3), ("lost_card", 0.1))
CLOSE_THREE = reading(("card_arrival", 0.4), ("card_delivery_estimate", 0.3), ("lost_card", 0.25), ("fees", 0.05))


class Conversation:
    """One customer's turns through the policy, the context carried as the router does."""

    def __init__(self, policy: Policy = POLICY) -> None:
        self.policy = policy
        self.context = Context()
        self.count = 0

    def say(self, text: str, result: ModelResult = UNSURE, follow_up: ModelResult | None = None) -> Decision:
        d = decide(text, result, SNAPSHOT, self.context, self.policy, follow_up)
        self.count += 1
        summary = TurnSummary(f"t{self.count}", text, d.action, d.intent)
        self.context = self.context.advance(summary, history=10, pending=d.pending)
        return d


def answered(d: Decision, intent: str) -> None:
    assert d.action == "ANSWER", d
    assert d.intent == intent
    assert d.pending == Pending()


# --- handoff ---------------------------------------------------------------------------


def test_handoff_on_request_summarises_topics_and_words() -> None:
    c = Conversation()
    answered(c.say("my card hasn't arrived", sure("card_arrival")), "card_arrival")
    answered(c.say("how do I top up", sure("top_up")), "top_up")
    answered(c.say("when will my card come", sure("card_arrival")), "card_arrival")
    d = c.say("can I talk to a person", sure("fees"))  # the request wins over a confident intent
    assert d.action == "HANDOFF"
    assert d.reply == HANDOFF_REPLY
    assert d.intent == ""
    assert not d.unrecognised
    assert d.pending == Pending()
    summary = d.handoff_summary
    assert "the customer asked for a person" in summary
    assert "4 turns" in summary
    assert "topics: Card not arrived, Topping up;" in summary  # each topic once, in order
    assert "Fees" not in summary
    said = summary.split("customer said: ")[1]
    assert said == '"my card hasn\'t arrived" | "how do I top up" | "when will my card come" | "can I talk to a person"'


def test_handoff_summary_quotes_the_last_three_turns_and_this_one() -> None:
    c = Conversation()
    for text in ["one", "two", "three", "four"]:
        c.say(text, sure("fees"))
    d = c.say("agent please")
    assert d.action == "HANDOFF"
    assert d.handoff_summary.endswith('customer said: "two" | "three" | "four" | "agent please"')
    assert '"one"' not in d.handoff_summary


@pytest.mark.parametrize("text", ["转人工", "我要人工客服", "轉人工", "I want a human"])
def test_handoff_on_the_first_turn(text: str) -> None:
    d = Conversation().say(text, sure("top_up"))
    assert d.action == "HANDOFF"
    assert "1 turns" in d.handoff_summary
    assert "topics: none recognised" in d.handoff_summary
    assert f'customer said: "{text}"' in d.handoff_summary


def test_handoff_request_wins_over_a_pending_clarify_or_slot_question() -> None:
    c = Conversation()
    assert c.say("a card question", CLOSE_THREE).action == "CLARIFY"
    assert c.say("agent please").action == "HANDOFF"
    assert c.context.pending == Pending()

    c = Conversation()
    assert c.say("how long does a transfer take", sure("transfer_timing")).action == "CLARIFY"
    d = c.say("转人工")
    assert d.action == "HANDOFF"
    assert "topics: Transfer times" in d.handoff_summary  # the turn that asked for details counts


def test_fallbacks_then_handoff_after_three_in_a_row() -> None:
    c = Conversation()
    first = c.say("blah")
    assert (first.action, first.reply, first.intent) == ("FALLBACK", FALLBACK_REPLY, "")
    assert first.unrecognised
    second = c.say("blah blah")
    assert (second.action, second.reply) == ("FALLBACK", FALLBACK_REPLY_REPEATED)
    assert second.unrecognised
    assert c.context.consecutive_fallbacks == 2
    third = c.say("blah blah blah")
    assert third.action == "HANDOFF"
    assert third.reply == HANDOFF_REPLY
    assert third.unrecognised
    assert "3 questions in a row were not understood" in third.handoff_summary
    assert '"blah" | "blah blah" | "blah blah blah"' in third.handoff_summary
    assert c.context.consecutive_fallbacks == 0


def test_an_answer_between_fallbacks_restarts_the_count() -> None:
    c = Conversation()
    assert [c.say("blah").action for _ in range(2)] == ["FALLBACK", "FALLBACK"]
    d = c.say("how do I top up", sure("top_up"))
    answered(d, "top_up")
    assert not d.unrecognised
    assert [c.say("blah").action for _ in range(3)] == ["FALLBACK", "FALLBACK", "HANDOFF"]


def test_handoff_after_follows_the_policy() -> None:
    c = Conversation(Policy(confidence=0.3, similarity=0.5, handoff_after=2))
    assert [c.say("blah").action for _ in range(2)] == ["FALLBACK", "HANDOFF"]


def test_low_similarity_counts_as_not_understood() -> None:
    far = reading(("top_up", 0.95), similarity=0.1)
    c = Conversation()
    assert [c.say("xyzzy", far).action for _ in range(3)] == ["FALLBACK", "FALLBACK", "HANDOFF"]


# --- clarify -----------------------------------------------------------------------------


def test_clarify_when_second_intent_is_close() -> None:
    d = Conversation().say("where is my card", CLOSE_TWO)
    assert d.action == "CLARIFY"
    assert d.intent == ""
    assert d.confidence == 0.5
    assert not d.unrecognised
    # lost_card (0.1) is under half of the top score: not offered.
    assert d.pending == Pending(options=["card_arrival", "card_delivery_estimate"])
    assert d.alternatives == [
        Candidate("card_arrival", 0.5, "Card not arrived"),
        Candidate("card_delivery_estimate", 0.3, "Delivery time"),
    ]
    assert d.reply == f"{CLARIFY_REPLY} 1. Card not arrived 2. Delivery time"


def test_no_clarify_when_second_intent_under_the_ratio() -> None:
    d = Conversation().say("where is my card", reading(("card_arrival", 0.6), ("card_delivery_estimate", 0.29)))
    answered(d, "card_arrival")


def test_clarify_at_exactly_the_ratio() -> None:
    d = Conversation().say("where is my card", reading(("card_arrival", 0.6), ("card_delivery_estimate", 0.3)))
    assert d.action == "CLARIFY"


def test_an_intent_less_sure_than_the_answer_confidence_is_offered_with_the_next_best() -> None:
    cautious = Policy(confidence=0.3, similarity=0.5, clarify_ratio=0.5, handoff_after=3, answer_confidence=0.8)
    unsure = reading(("card_arrival", 0.75), ("card_delivery_estimate", 0.05), ("lost_card", 0.04))
    d = Conversation(cautious).say("where is my card", unsure)  # under the ratio, but under 0.8 too
    assert d.action == "CLARIFY" and not d.intent
    assert [c.intent for c in d.alternatives] == ["card_arrival", "card_delivery_estimate"]
    assert d.pending == Pending(options=["card_arrival", "card_delivery_estimate"])
    sure_enough = reading(("card_arrival", 0.85), ("card_delivery_estimate", 0.05))
    answered(Conversation(cautious).say("where is my card", sure_enough), "card_arrival")
    answered(Conversation().say("where is my card", unsure), "card_arrival")  # 0 (the default): answered


def test_clarify_offers_at_most_max_options_best_first() -> None:
    close_four = reading(("card_arrival", 0.3), ("card_delivery_estimate", 0.29), ("lost_card", 0.28), ("fees", 0.27))
    d = Conversation().say("card?", close_four)
    assert d.action == "CLARIFY"
    assert MAX_OPTIONS == 3
    assert d.pending.options == ["card_arrival", "card_delivery_estimate", "lost_card"]
    assert d.reply.endswith("1. Card not arrived 2. Delivery time 3. Lost or stolen card")


@pytest.mark.parametrize(
    ("reply", "intent"),
    [
        ("2", "card_delivery_estimate"),
        ("the second one", "card_delivery_estimate"),
        ("第二个", "card_delivery_estimate"),
        ("1", "card_arrival"),
        ("last", "lost_card"),
        ("delivery time", "card_delivery_estimate"),  # title words
        ("it was stolen", "lost_card"),
    ],
)
def test_clarify_answered_by_choice(reply: str, intent: str) -> None:
    c = Conversation()
    assert c.say("a card question", CLOSE_THREE).action == "CLARIFY"
    d = c.say(reply)  # the model cannot place the reply on its own
    answered(d, intent)
    assert d.reply == FAQS[intent].answer
    assert d.confidence == 1.0
    assert d.alternatives == []
    assert c.context.last_intent == intent


def test_clarify_answered_by_the_model_recognising_an_option() -> None:
    c = Conversation()
    c.say("a card question", CLOSE_THREE)
    # On its own this reading would be asked about again (card_arrival is close); as the reply
    # to the CLARIFY it picks the option the model recognises.
    d = c.say("someone took it from my bag", reading(("lost_card", CONFIDENT), ("card_arrival", 0.4)))
    answered(d, "lost_card")
    assert d.confidence == 1.0


def test_unrelated_confident_question_after_clarify_is_answered_normally() -> None:
    c = Conversation()
    c.say("a card question", CLOSE_THREE)
    d = c.say("how do I top up", reading(("top_up", 0.85), ("fees", 0.05)))
    answered(d, "top_up")
    assert d.confidence == 0.85
    assert d.reply == FAQS["top_up"].answer


def test_unclear_reply_to_clarify_falls_back_and_drops_the_options() -> None:
    c = Conversation()
    c.say("a card question", CLOSE_THREE)
    assert c.say("4").action == "FALLBACK"  # out of range: no choice, and the model is unsure
    assert c.context.pending == Pending()
    assert c.say("2").action == "FALLBACK"  # the options are no longer on offer


def test_ambiguous_title_words_are_no_choice() -> None:
    c = Conversation()
    assert c.say("card?", reading(("card_arrival", 0.5), ("lost_card", 0.4))).action == "CLARIFY"
    assert c.say("card").action == "FALLBACK"  # "card" is in both titles


# --- slot filling ---------------------------------------------------------------------------


def start_transfer_question(c: Conversation) -> Decision:
    d = c.say("how long does a transfer take", sure("transfer_timing"))
    assert d.action == "CLARIFY"
    return d


def test_question_without_details_asks_for_them() -> None:
    d = start_transfer_question(Conversation())
    assert d.reply == prompt(["amount", "currency"])
    assert d.intent == "transfer_timing"
    assert d.alternatives == []
    assert d.pending == Pending(slot_intent="transfer_timing", slots={}, reprompts=0)
    assert not d.unrecognised


@pytest.mark.parametrize(
    ("reply", "amount", "currency"),
    [
        ("500 euros", "500", "EUR"),
        ("€1,200.5", "1200.50", "EUR"),
        ("2k dollars", "2000", "USD"),
        ("3万 港币", "30000", "HKD"),
    ],
)
def test_details_in_the_next_turn_fill_the_template(reply: str, amount: str, currency: str) -> None:
    c = Conversation()
    start_transfer_question(c)
    d = c.say(reply)
    answered(d, "transfer_timing")
    assert d.reply == TRANSFER_TEMPLATE.format(amount=amount, currency=currency)
    assert f"{amount} {currency}" in d.reply


def test_question_with_the_details_is_answered_at_once() -> None:
    d = Conversation().say("how long does a transfer of 500 euros take", sure("transfer_timing"))
    answered(d, "transfer_timing")
    assert "500 EUR" in d.reply
    assert d.confidence == 0.9


def test_details_given_in_parts() -> None:
    c = Conversation()
    d = c.say("how long will a transfer of 500 take", sure("transfer_timing"))
    assert d.action == "CLARIFY"
    assert d.reply == prompt(["currency"])
    assert d.pending.slots == {"amount": "500"}
    answered(c.say("in dollars please"), "transfer_timing")


def test_missing_detail_asked_again_after_a_partial_reply() -> None:
    c = Conversation()
    start_transfer_question(c)
    d = c.say("500")
    assert d.action == "CLARIFY"
    assert d.reply == prompt(["currency"])
    assert d.pending == Pending(slot_intent="transfer_timing", slots={"amount": "500"}, reprompts=0)
    d = c.say("euros")
    assert "500 EUR" in d.reply


def test_unhelpful_replies_are_reprompted_then_the_plain_answer_is_given() -> None:
    c = Conversation()
    start_transfer_question(c)
    for n in range(1, MAX_REPROMPTS + 1):
        d = c.say("hmm")
        assert d.action == "CLARIFY"
        assert d.reply == prompt(["amount", "currency"])
        assert d.pending.reprompts == n
    d = c.say("what?")
    answered(d, "transfer_timing")
    assert d.reply == FAQS["transfer_timing"].answer  # the way out: without the details
    assert MAX_REPROMPTS == 2


def test_partial_reply_does_not_use_up_a_reprompt() -> None:
    c = Conversation()
    start_transfer_question(c)
    assert c.say("hmm").pending.reprompts == 1
    assert c.say("500").pending.reprompts == 1
    assert c.say("hmm").pending.reprompts == 2
    d = c.say("hmm")
    answered(d, "transfer_timing")
    assert d.reply == FAQS["transfer_timing"].answer


@pytest.mark.parametrize("reply", ["cancel", "never mind", "skip", "算了", "I don't know"])
def test_cancel_gives_the_plain_answer(reply: str) -> None:
    c = Conversation()
    start_transfer_question(c)
    d = c.say(reply)
    answered(d, "transfer_timing")
    assert d.reply == FAQS["transfer_timing"].answer
    assert c.context.pending == Pending()


def test_confident_different_question_leaves_the_slot_flow() -> None:
    c = Conversation()
    start_transfer_question(c)
    d = c.say("how do I top up", sure("top_up"))
    answered(d, "top_up")
    assert d.reply == FAQS["top_up"].answer
    assert c.context.pending == Pending()


def test_hesitant_different_question_stays_in_the_slot_flow() -> None:
    c = Conversation()
    start_transfer_question(c)
    d = c.say("top up?", reading(("top_up", CONFIDENT - 0.01), ("fees", 0.01)))
    assert d.action == "CLARIFY"
    assert d.pending.slot_intent == "transfer_timing"
    assert d.pending.reprompts == 1


def test_asking_the_same_question_again_is_reprompted() -> None:
    c = Conversation()
    start_transfer_question(c)
    d = c.say("how long does a transfer take", sure("transfer_timing"))
    assert d.action == "CLARIFY"
    assert d.pending.reprompts == 1


CARD_OR_TRANSFER = reading(("card_arrival", 0.5), ("transfer_timing", 0.4), ("fees", 0.05))


def test_clarify_choice_of_a_slot_faq_uses_the_clarified_question() -> None:
    c = Conversation()
    assert c.say("how long will my 300 dollars take to arrive", CARD_OR_TRANSFER).action == "CLARIFY"
    d = c.say("2")
    answered(d, "transfer_timing")
    assert "300 USD" in d.reply


def test_clarify_choice_of_a_slot_faq_asks_for_what_the_question_lacked() -> None:
    c = Conversation()
    c.say("how long will my dollars take to arrive", CARD_OR_TRANSFER)
    d = c.say("2")
    assert d.action == "CLARIFY"
    assert d.reply == prompt(["amount"])  # "2" is the choice, not the amount
    assert d.pending == Pending(slot_intent="transfer_timing", slots={"currency": "USD"})
    d = c.say("750")
    answered(d, "transfer_timing")
    assert "750 USD" in d.reply


def test_clarify_choice_by_words_also_gives_the_details() -> None:
    c = Conversation()
    c.say("how long will it take to arrive", CARD_OR_TRANSFER)
    d = c.say("the transfer one, 500 euros", reading(("transfer_timing", 0.6), ("card_arrival", 0.1)))
    answered(d, "transfer_timing")
    assert "500 EUR" in d.reply


# --- follow-ups ----------------------------------------------------------------------------


def test_confident_follow_up_reading_wins_over_an_unsure_plain_one() -> None:
    c = Conversation()
    answered(c.say("has my card been sent", sure("card_arrival")), "card_arrival")
    plain = reading(("fees", 0.2), ("top_up", 0.1), similarity=0.4)
    together = reading(("card_delivery_estimate", 0.8), ("card_arrival", 0.1))
    d = c.say("and how long does that take?", plain, follow_up=together)
    answered(d, "card_delivery_estimate")
    assert d.confidence == 0.8
    assert d.result is together
    assert not d.unrecognised
    assert c.context.consecutive_fallbacks == 0


def test_follow_up_wins_over_a_plain_reading_far_from_every_question() -> None:
    c = Conversation()
    c.say("has my card been sent", sure("card_arrival"))
    plain = reading(("top_up", 0.95), similarity=0.1)  # a higher score, but not a confident reading
    together = reading(("card_delivery_estimate", 0.8), ("card_arrival", 0.1))
    d = c.say("and how long does that take?", plain, follow_up=together)
    answered(d, "card_delivery_estimate")
    assert d.result is together


def test_more_confident_plain_reading_wins() -> None:
    c = Conversation()
    c.say("has my card been sent", sure("card_arrival"))
    plain = reading(("top_up", 0.9), ("fees", 0.05))
    together = reading(("card_delivery_estimate", 0.6), ("card_arrival", 0.1))
    d = c.say("and how do I top up?", plain, follow_up=together)
    answered(d, "top_up")
    assert d.result is plain


def test_more_confident_follow_up_wins_when_both_are_confident() -> None:
    c = Conversation()
    c.say("has my card been sent", sure("card_arrival"))
    plain = reading(("top_up", 0.5), ("fees", 0.05))
    together = reading(("card_delivery_estimate", 0.7), ("card_arrival", 0.1))
    d = c.say("and that one?", plain, follow_up=together)
    answered(d, "card_delivery_estimate")
    assert d.result is together


def test_unsure_follow_up_reading_does_not_rescue_the_turn() -> None:
    c = Conversation()
    c.say("has my card been sent", sure("card_arrival"))
    together = reading(("card_delivery_estimate", 0.2), similarity=0.9)
    d = c.say("and then?", UNSURE, follow_up=together)
    assert d.action == "FALLBACK"
    assert d.result is UNSURE


def test_follow_up_to_a_slot_faq_takes_details_from_the_new_words() -> None:
    c = Conversation()
    assert "500 EUR" in c.say("how long does a transfer of 500 euros take", sure("transfer_timing")).reply
    d = c.say("what about 900 dollars?", UNSURE, follow_up=sure("transfer_timing"))
    answered(d, "transfer_timing")
    assert "900 USD" in d.reply


def test_chinese_text_is_read_with_its_own_confidence_threshold() -> None:
    """Mostly-Chinese text is recognised by character n-grams alone, whose probabilities are
    flatter: the same reading answers a Chinese question and falls back on an English one."""
    flat = reading(("lost_card", 0.12), ("fees", 0.03), ("top_up", 0.02))
    policy = Policy(confidence=0.3, similarity=0.5, cjk_confidence=0.07)
    assert Conversation(policy).say("我的卡丢了怎么办", flat).action == "ANSWER"
    assert Conversation(policy).say("my card is gone what now", flat).action == "FALLBACK"
    below = reading(("lost_card", 0.05), ("fees", 0.03))
    assert Conversation(policy).say("我的卡丢了怎么办", below).action == "FALLBACK"
