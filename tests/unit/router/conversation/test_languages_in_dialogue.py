"""router.conversation.dialogue in the customer's language: every message (fallbacks,
clarifications with their option titles, slot prompts and the slot answer's currency,
the handoff) in the reply's language, FAQ answers and titles along the fallback chain with
the fallback reported, and the agents' summary in theirs."""

from __future__ import annotations

import pytest

from router.conversation.dialogue import Decision, Policy, decide
from router.conversation.messages import MESSAGES, Messages
from router.conversation.sessions import Context, TurnSummary
from router.zones.inference import ModelResult
from twinteller.knowledge.languages import EN, HANS, HANT, LANGUAGES
from twinteller.knowledge.schema import Faq, FaqText, Snapshot

POLICY = Policy(confidence=0.3, similarity=0.5, clarify_ratio=0.5, handoff_after=3)
FAQS = {
    f.id: f
    for f in [
        Faq(
            "card_arrival",
            "Card not arrived",
            "Cards arrive within 5 working days.",
            translations={HANT: FaqText("卡片尚未收到", "卡片會在5個工作天內寄達。")},
        ),
        Faq(
            "card_delivery_estimate",
            "Delivery time",
            "Delivery takes 3 days.",
            translations={HANS: FaqText("配送时间", "配送需要3天。")},
        ),
        Faq("fees", "Fees", "No monthly fee."),
        Faq(
            "transfer_timing",
            "Transfer times",
            "Transfers arrive within one working day.",
            slots=("amount", "currency"),
            slot_answer="A transfer of {amount} {currency} arrives within one working day.",
            translations={
                HANT: FaqText(
                    "轉賬時間", "轉賬一個工作天內到賬。", slot_answer="{amount} {currency}的轉賬一個工作天內到賬。"
                )
            },
        ),
    ]
}
SNAPSHOT = Snapshot("7", FAQS)
UNSURE = ModelResult("a", "7", ["fees", "card_arrival"], [0.1, 0.08], 0.2)
CLOSE = ModelResult("a", "7", ["card_arrival", "card_delivery_estimate", "fees"], [0.5, 0.3, 0.1], 0.9)


def sure(intent: str) -> ModelResult:
    return ModelResult("a", "7", [intent, "fees"], [0.9, 0.02], 0.9)


def say(text: str, result: ModelResult, language: str, context: Context | None = None, **policy: str) -> Decision:
    chosen = Policy(**{**POLICY.__dict__, **policy}) if policy else POLICY
    return decide(text, result, SNAPSHOT, context or Context(), chosen, None, "app", language)


def test_answers_in_the_language_asked_and_says_which() -> None:
    d = say("我張卡仲未收到", sure("card_arrival"), HANT)
    assert (d.action, d.reply, d.language, d.untranslated) == ("ANSWER", "卡片會在5個工作天內寄達。", HANT, "")


def test_a_missing_translation_falls_back_along_the_chain_and_is_reported() -> None:
    converted = say("我的卡还没收到", sure("card_arrival"), HANS)
    assert converted.reply == "卡片会在5个工作天内寄达。" and converted.untranslated == "zh-Hant converted"
    english = say("费用", sure("fees"), HANT)
    assert english.reply == "No monthly fee." and english.untranslated == "en"
    assert say("fees?", sure("fees"), EN).untranslated == ""


@pytest.mark.parametrize("language", LANGUAGES)
def test_fallbacks_are_in_the_language_asked(language: str) -> None:
    first = say("嗯", UNSURE, language)
    assert first.action == "FALLBACK" and first.reply == MESSAGES.text("fallback", language)
    again = say("嗯", UNSURE, language, Context(consecutive_fallbacks=1))
    assert again.reply == MESSAGES.text("fallback_repeated", language)


def test_a_clarification_offers_titles_in_the_language_asked() -> None:
    d = say("張卡", CLOSE, HANT)
    assert d.action == "CLARIFY"
    assert d.reply == "請問您是指以下哪一項？ 1. 卡片尚未收到 2. 配送時間"
    assert [c.title for c in d.alternatives] == ["卡片尚未收到", "配送時間"]


def test_an_option_is_chosen_by_the_words_of_its_translated_title() -> None:
    offered = say("張卡", CLOSE, HANT)
    context = Context().advance(TurnSummary("t1", "張卡", "CLARIFY", ""), 10, offered.pending)
    d = say("配送時間", UNSURE, HANT, context)
    assert (d.action, d.intent) == ("ANSWER", "card_delivery_estimate")


def test_slots_are_asked_for_and_shown_in_the_language_asked() -> None:
    asked = say("轉賬要幾耐", sure("transfer_timing"), HANT)
    assert asked.action == "CLARIFY" and asked.reply == "請問金額是多少？ 請問是哪種貨幣（例如港元、美元或歐元）？"
    context = Context().advance(TurnSummary("t1", "轉賬要幾耐", "CLARIFY", "transfer_timing"), 10, asked.pending)
    d = say("五百蚊", UNSURE, HANT, context)
    assert (d.action, d.reply) == ("ANSWER", "500 港元的轉賬一個工作天內到賬。")


def test_the_handoff_speaks_to_the_customer_and_summarises_for_the_agents() -> None:
    context = Context().advance(TurnSummary("t1", "我張卡仲未收到", "ANSWER", "card_arrival"), 10)
    for_english_agents = say("我要搵真人", UNSURE, HANT, context)
    assert for_english_agents.action == "HANDOFF" and for_english_agents.reply == MESSAGES.text("handoff", HANT)
    assert for_english_agents.handoff_summary.startswith("Handoff: the customer asked for a person; 2 turns")
    assert "topics: Card not arrived" in for_english_agents.handoff_summary
    for_hong_kong_agents = say("我要搵真人", UNSURE, HANT, context, agent_language=HANT)
    assert for_hong_kong_agents.handoff_summary.startswith(
        "轉接原因：客戶要求轉接真人; 共 2 輪對話; 話題：卡片尚未收到"
    )


def test_every_message_has_every_language() -> None:
    for key in MESSAGES.keys():
        for language in LANGUAGES:
            assert MESSAGES.text(key, language, number=1, title="t", count=2, reason="r", topics="x", said="s")


def test_a_message_without_a_language_or_with_other_placeholders_is_refused() -> None:
    with pytest.raises(ValueError, match="no text in"):
        Messages({"hello": {EN: "Hello", HANT: "你好"}})
    with pytest.raises(ValueError, match="placeholders"):
        Messages({"count": {EN: "{n} turns", HANT: "{count} 輪", HANS: "{n} 轮"}})


@pytest.mark.parametrize(
    ("text", "language"), [("hi!", EN), ("Good morning", EN), ("你好", HANS), ("哈囉～", HANT), ("早晨", HANT)]
)
def test_a_greeting_is_greeted_in_the_language_asked(text: str, language: str) -> None:
    d = say(text, UNSURE, language)
    assert (d.action, d.intent, d.alternatives) == ("CLARIFY", "", [])
    assert d.reply == MESSAGES.text("greeting", language) and not d.unrecognised


def test_a_greeting_with_a_question_is_the_question() -> None:
    assert say("hi, my card hasn't arrived", sure("card_arrival"), EN).intent == "card_arrival"
    assert say("你好", sure("card_arrival"), HANT, Context(consecutive_fallbacks=2)).action == "CLARIFY"  # no handoff
