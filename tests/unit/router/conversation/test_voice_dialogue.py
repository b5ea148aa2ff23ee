"""router.conversation.dialogue on the IVR: keys choose options and fill details, `*`
repeats, `0` asks for a person, no input and unusable keys ask the open question again and
hand off after `handoff_after` in a row, options are read with their keys, barge-in."""

from __future__ import annotations

from router.conversation.dialogue import NO_BARGE_IN, Decision, Policy, barge_in, decide
from router.conversation.sessions import Context, Pending, TurnSummary
from router.voice import keypad
from router.zones.inference import ModelResult
from twinteller.knowledge.schema import Faq, Snapshot

POLICY = Policy(confidence=0.2, similarity=0.55, handoff_after=3)
FAQS = {
    f.id: f
    for f in [
        Faq("card_arrival", "Card not arrived", "Cards arrive within 5 working days."),
        Faq("card_delivery", "Card delivery times", "Delivery takes 3 days."),
        Faq("transfer", "Transfers", "Transfers take a day.", slots=("amount", "currency"),
            slot_answer="A transfer of {amount} {currency} takes a day."),
        Faq("report_card", "Report a card", "Call us.", slots=("card_last_four",),
            slot_answer="We have noted the card ending {card_last_four}."),
        Faq("terms", "Terms", "Our terms changed on 1 May.", tags=(NO_BARGE_IN,)),
    ]
}  # fmt: skip
SNAPSHOT = Snapshot("3", FAQS)
NOTHING = ModelResult("", "3", [], [], 0.0)
OFFERED = Context(
    turns=[TurnSummary("1", "when does my card come", "CLARIFY", "")],
    pending=Pending(options=["card_arrival", "card_delivery"]),
)


def ivr(context: Context, dtmf: str = "", text: str = "", *, no_input: bool = False, language: str = "en") -> Decision:
    return decide(text, NOTHING, SNAPSHOT, context, POLICY, channel="ivr", language=language,
                  keys=keypad.parse(dtmf), no_input=no_input)  # fmt: skip


def test_a_key_chooses_an_offered_option() -> None:
    chosen = ivr(OFFERED, "2")
    assert (chosen.action, chosen.intent, chosen.reply) == ("ANSWER", "card_delivery", "Delivery takes 3 days.")


def test_a_key_that_is_not_an_option_reprompts_with_the_options_and_their_keys() -> None:
    again = ivr(OFFERED, "7")
    assert again.action == "FALLBACK" and again.pending == OFFERED.pending  # the question stays open
    assert again.intent == "" and not again.unrecognised  # nothing recognised, nothing to cluster
    assert again.reply.startswith("Sorry, that key is not one of the options.")
    assert "For Card not arrived, press 1. For Card delivery times, press 2." in again.reply


def test_keys_fill_an_amount_then_the_currency_is_said() -> None:
    asked = Context(turns=[TurnSummary("1", "transfer", "CLARIFY", "transfer")], pending=Pending([], "transfer"))
    keyed = ivr(asked, "150*5#")
    assert keyed.action == "CLARIFY" and keyed.pending.slots == {"amount": "150.50"}
    assert keyed.reply.startswith("Which currency")  # the amount needs no more asking
    said = ivr(Context(turns=asked.turns, pending=keyed.pending), text="euros")
    assert (said.action, said.reply) == ("ANSWER", "A transfer of 150.50 EUR takes a day.")
    both = ivr(asked, "2000#", "in pounds")  # said and keyed in one turn
    assert both.reply == "A transfer of 2000 GBP takes a day."


def test_keys_fill_a_cards_last_four_digits() -> None:
    asked = Context(pending=Pending(slot_intent="report_card"))
    assert ivr(asked, "4567#").reply == "We have noted the card ending 4567."
    wrong = ivr(asked, "45#")
    assert wrong.action == "CLARIFY" and wrong.pending.reprompts == 1 and "last four digits" in wrong.reply


def test_the_slot_prompt_on_the_ivr_says_which_keys_to_press() -> None:
    first = decide("transfer", ModelResult("a", "3", ["transfer"], [0.95], 0.9), SNAPSHOT, Context(), POLICY,
                   channel="ivr")  # fmt: skip
    assert first.action == "CLARIFY" and "key in the amount, then press the hash key" in first.reply
    on_screen = decide("transfer", ModelResult("a", "3", ["transfer"], [0.95], 0.9), SNAPSHOT, Context(), POLICY)
    assert "hash" not in on_screen.reply


def test_star_repeats_the_open_question_or_the_last_answer() -> None:
    again = ivr(OFFERED, "*")
    assert again.action == "CLARIFY" and [c.intent for c in again.alternatives] == OFFERED.pending.options
    assert again.pending == OFFERED.pending
    answered = Context(turns=[TurnSummary("1", "card?", "ANSWER", "card_arrival")])
    assert ivr(answered, "*").reply == "Cards arrive within 5 working days."
    assert ivr(Context(), "*").reply == "What can I help you with?"


def test_zero_alone_asks_for_a_person() -> None:
    handoff = ivr(OFFERED, "0")
    assert handoff.action == "HANDOFF" and '"[key 0]"' in handoff.handoff_summary


def test_keys_handed_off_after_repeated_no_match_are_not_kept() -> None:
    stuck = Context(turns=OFFERED.turns, pending=OFFERED.pending, consecutive_fallbacks=2)
    handoff = ivr(stuck, "45671234#")
    assert (
        handoff.action == "HANDOFF"
        and '"[8 keys]"' in handoff.handoff_summary
        and "4567" not in handoff.handoff_summary
    )


def test_no_input_reprompts_twice_then_hands_off() -> None:
    first = ivr(OFFERED, no_input=True)
    assert first.action == "FALLBACK" and first.reply.startswith("Sorry, I didn't hear anything.")
    assert "press 1" in first.reply and "press 0" in first.reply and not first.unrecognised
    second = ivr(Context(turns=OFFERED.turns, pending=OFFERED.pending, consecutive_fallbacks=1), no_input=True)
    assert second.action == "FALLBACK"
    third = ivr(Context(turns=OFFERED.turns, consecutive_fallbacks=2), no_input=True)
    assert third.action == "HANDOFF" and "went unanswered or unmatched" in third.handoff_summary


def test_keys_with_nothing_open_ask_what_they_need() -> None:
    stray = ivr(Context(), "5")
    assert stray.action == "FALLBACK" and stray.reply.startswith("Sorry, I wasn't expecting a key press.")


def test_no_input_in_cantonese() -> None:
    reply = ivr(OFFERED, no_input=True, language="zh-Hant").reply
    assert reply.startswith("對不起，我聽不到您的聲音。") and "請按2。" in reply and "請按0" in reply


def test_barge_in_except_for_a_handoff_or_a_disclosure() -> None:
    assert barge_in(ivr(OFFERED, "2"), SNAPSHOT)
    assert not barge_in(ivr(OFFERED, "0"), SNAPSHOT)
    disclosure = decide("terms", ModelResult("a", "3", ["terms"], [0.95], 0.9), SNAPSHOT, Context(), POLICY)
    assert disclosure.action == "ANSWER" and not barge_in(disclosure, SNAPSHOT)
