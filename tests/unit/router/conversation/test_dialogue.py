"""router.conversation.dialogue.decide: the answer / fallback policy over plain values."""

from __future__ import annotations

from router.conversation.dialogue import MAX_ALTERNATIVES, Candidate, Policy, decide
from router.conversation.sessions import Context
from router.zones.inference import ModelResult
from twinteller.knowledge.schema import Faq, Snapshot

THRESHOLDS = Policy(confidence=0.2, similarity=0.55)

FAQS = {
    f.id: f
    for f in [
        Faq("card_arrival", "Card not arrived", "Cards arrive within 5 working days."),
        Faq("top_up", "Topping up", "Top up from the Payments tab."),
        Faq("exchange_rate", "Exchange rates", "We use the interbank rate."),
        Faq("lost_card", "Lost card", "Freeze your card in the app."),
        Faq("pin_blocked", "PIN blocked", "Unblock your PIN at any ATM."),
        Faq("refund", "Refunds", "Refunds take up to 5 days."),
        Faq("transfer", "Transfers", "Transfers are instant."),
        Faq("fees", "Fees", "No monthly fee."),
    ]
}
SNAPSHOT = Snapshot("3", FAQS)


def result(intents: list[str], scores: list[float], similarity: float = 0.9) -> ModelResult:
    return ModelResult(zone="a", version="3", intents=intents, scores=scores, similarity=similarity)


def test_answer_above_thresholds() -> None:
    r = result(["card_arrival", "lost_card", "top_up"], [0.8, 0.15, 0.05])
    d = decide("a question", r, SNAPSHOT, Context(), THRESHOLDS)
    assert d.action == "ANSWER"
    assert d.reply == "Cards arrive within 5 working days."
    assert d.intent == "card_arrival"
    assert d.confidence == 0.8
    # Alternatives: the other candidates, in model order, with titles; never the answer itself.
    assert d.alternatives == [Candidate("lost_card", 0.15, "Lost card"), Candidate("top_up", 0.05, "Topping up")]


def test_answer_at_exactly_the_thresholds() -> None:
    r = result(["top_up", "fees"], [0.2, 0.09], similarity=0.55)  # fees under half of top_up: no CLARIFY
    d = decide("a question", r, SNAPSHOT, Context(), THRESHOLDS)
    assert d.action == "ANSWER"
    assert d.reply == "Top up from the Payments tab."


def test_answer_uses_the_given_snapshot() -> None:
    other = Snapshot("4", {"top_up": Faq("top_up", "Top-ups v4", "New top-up answer.")})
    d = decide("a question", result(["top_up"], [0.9]), other, Context(), THRESHOLDS)
    assert d.action == "ANSWER"
    assert d.reply == "New top-up answer."
    assert d.alternatives == []


def test_fallback_when_confidence_below_threshold() -> None:
    r = result(["card_arrival", "lost_card", "top_up"], [0.19, 0.18, 0.1], similarity=0.95)
    d = decide("a question", r, SNAPSHOT, Context(), THRESHOLDS)
    assert d.action == "FALLBACK"
    assert d.intent == ""
    assert d.confidence == 0.19
    assert d.reply not in {f.answer for f in FAQS.values()}
    # A fallback offers the candidates, the top one included, as suggestions.
    assert [c.intent for c in d.alternatives] == ["card_arrival", "lost_card", "top_up"]
    assert d.alternatives[0].title == "Card not arrived"


def test_fallback_when_similarity_below_threshold() -> None:
    r = result(["card_arrival", "lost_card"], [0.97, 0.02], similarity=0.54)
    d = decide("a question", r, SNAPSHOT, Context(), THRESHOLDS)
    assert d.action == "FALLBACK"
    assert d.intent == ""
    assert d.reply not in {f.answer for f in FAQS.values()}


def test_repeated_fallback_says_something_else() -> None:
    r = result(["card_arrival"], [0.05], similarity=0.1)
    first = decide("a question", r, SNAPSHOT, Context(consecutive_fallbacks=0), THRESHOLDS)
    second = decide("a question", r, SNAPSHOT, Context(consecutive_fallbacks=1), THRESHOLDS)
    third = decide("a question", r, SNAPSHOT, Context(consecutive_fallbacks=1), THRESHOLDS)
    assert first.action == second.action == third.action == "FALLBACK"
    assert first.reply and second.reply
    assert second.reply != first.reply
    assert third.reply == second.reply


def test_repeated_fallback_context_does_not_block_an_answer() -> None:
    r = result(["fees"], [0.9])
    d = decide("a question", r, SNAPSHOT, Context(consecutive_fallbacks=3), THRESHOLDS)
    assert d.action == "ANSWER"
    assert d.reply == "No monthly fee."


def test_intents_not_in_snapshot_are_skipped() -> None:
    r = result(["retired_intent", "card_arrival", "ghost", "top_up"], [0.5, 0.3, 0.15, 0.05])
    d = decide("a question", r, SNAPSHOT, Context(), THRESHOLDS)
    assert d.action == "ANSWER"
    assert d.intent == "card_arrival"
    assert d.confidence == 0.3
    assert d.reply == "Cards arrive within 5 working days."
    assert [c.intent for c in d.alternatives] == ["top_up"]


def test_unknown_intents_skipped_in_fallback_alternatives() -> None:
    r = result(["ghost", "top_up", "retired"], [0.1, 0.05, 0.01], similarity=0.9)
    d = decide("a question", r, SNAPSHOT, Context(), THRESHOLDS)
    assert d.action == "FALLBACK"
    assert [c.intent for c in d.alternatives] == ["top_up"]


def test_no_known_intent_falls_back() -> None:
    r = result(["ghost", "retired"], [0.99, 0.01], similarity=0.99)
    d = decide("a question", r, SNAPSHOT, Context(), THRESHOLDS)
    assert d.action == "FALLBACK"
    assert d.alternatives == []
    assert d.confidence == 0.0
    assert d.intent == ""


def test_no_known_intent_repeated_fallback() -> None:
    r = result([], [], similarity=0.0)
    first = decide("a question", r, SNAPSHOT, Context(), THRESHOLDS)
    again = decide("a question", r, SNAPSHOT, Context(consecutive_fallbacks=1), THRESHOLDS)
    assert first.action == again.action == "FALLBACK"
    assert first.reply != again.reply


def test_answer_alternatives_capped() -> None:
    intents = list(FAQS)  # 8 known intents
    scores = [0.5, 0.2, 0.1, 0.08, 0.05, 0.04, 0.02, 0.01]
    d = decide("a question", result(intents, scores), SNAPSHOT, Context(), THRESHOLDS)
    assert d.action == "ANSWER"
    assert MAX_ALTERNATIVES < len(intents) - 1
    assert len(d.alternatives) == MAX_ALTERNATIVES
    assert [c.intent for c in d.alternatives] == intents[1 : 1 + MAX_ALTERNATIVES]
    assert intents[0] not in [c.intent for c in d.alternatives]


def test_fallback_alternatives_capped() -> None:
    intents = list(FAQS)
    scores = [0.15, 0.14, 0.13, 0.12, 0.11, 0.1, 0.09, 0.08]
    d = decide("a question", result(intents, scores), SNAPSHOT, Context(), THRESHOLDS)
    assert d.action == "FALLBACK"
    assert [c.intent for c in d.alternatives] == intents[:MAX_ALTERNATIVES]


def test_an_answer_uses_the_channels_own_text_when_the_faq_has_one() -> None:
    faq = Faq("fees", "Fees", "No monthly fee, and card payments abroad are free.", channel_answers={"ivr": "No fee."})
    snapshot = Snapshot("3", {**FAQS, "fees": faq})
    r = result(["fees"], [0.9])
    assert decide("fees?", r, snapshot, Context(), THRESHOLDS, channel="ivr").reply == "No fee."
    assert decide("fees?", r, snapshot, Context(), THRESHOLDS, channel="app").reply == faq.answer
    assert decide("fees?", r, snapshot, Context(), THRESHOLDS).reply == faq.answer
