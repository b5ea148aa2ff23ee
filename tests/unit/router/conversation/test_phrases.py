"""router.conversation.phrases: asking for a person, backing out, follow-ups and picking an offered option,
in English and Chinese (simplified and traditional)."""

from __future__ import annotations

import pytest

from router.conversation.phrases import cancels, choice, is_follow_up, wants_human

TITLES = ["Card not arrived", "Lost card", "Topping up"]


@pytest.mark.parametrize(
    "text",
    [
        "can I talk to a person",
        "Can I talk to a person?",
        "agent please",
        "AGENT",
        "I want a human",
        "let me speak to someone",
        "I'd like a representative",
        "转人工",
        "我要人工客服",
        "轉人工",
        "我想找真人",
    ],
)
def test_wants_human(text: str) -> None:
    assert wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "my card hasn't arrived",
        "how do I top up",
        "what is the exchange rate for euros",
        "humanitarian donations",  # "human" only as a whole word
        "我的卡丢了",
        "怎么充值",
    ],
)
def test_does_not_want_human(text: str) -> None:
    assert not wants_human(text)


@pytest.mark.parametrize("text", ["how do I send money to a person abroad", "I paid a person by mistake"])
def test_mentioning_a_person_is_not_asking_for_one(text: str) -> None:
    assert not wants_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "never mind",
        "Nevermind",
        "cancel",
        "Cancel that",
        "skip",
        "skip it",
        "forget it",
        "  stop  ",
        "算了",
        "取消",
        "不用了",
    ],
)
def test_cancels(text: str) -> None:
    assert cancels(text)


@pytest.mark.parametrize(
    "text",
    [
        "how do I cancel a transfer",  # a question about cancelling, not backing out
        "500 euros",
        "stopped card",  # "stop" only as a whole word
        "skipping a payment",
        "my card hasn't arrived",
        "我要取消转账",  # Chinese: only at the start
    ],
)
def test_does_not_cancel(text: str) -> None:
    assert not cancels(text)


@pytest.mark.parametrize(
    "text",
    [
        "and how long does that take?",
        "what about for a virtual card?",
        "how about this one",
        "is it free?",  # short and leans on "it"
        "那要多久呢",
        "還有呢",
        "那么手续费呢",
    ],
)
def test_is_follow_up(text: str) -> None:
    assert is_follow_up(text)


@pytest.mark.parametrize(
    "text",
    [
        # Leans on "it", but 16 words: a question of its own (the limit is 12 words or Chinese characters).
        "how long does a card take to arrive after I order it online from the app",
        "my card hasn't arrived",  # short, but neither starts nor leans like a follow-up
        "android pay not working",  # "and" only as a whole word
        "我的卡还没到",
    ],
)
def test_is_not_follow_up(text: str) -> None:
    assert not is_follow_up(text)


def test_follow_up_length_limit() -> None:
    twelve = "and " + " ".join(["word"] * 11)
    assert is_follow_up(twelve)
    assert not is_follow_up(twelve + " more")
    chinese = "那" + "要" * 10 + "呢"  # 12 characters
    assert is_follow_up(chinese)
    assert not is_follow_up(chinese + "呢")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 0),
        ("2", 1),
        ("3", 2),
        ("the second one", 1),
        ("second", 1),
        ("the first", 0),
        ("third option", 2),
        ("option 3", 2),
        ("number 2", 1),
        ("#1", 0),
        ("2nd", 1),
        ("two", 1),
        ("last", 2),
        ("the last one", 2),
        ("第二个", 1),
        ("第二個", 1),
        ("第一", 0),
        ("三", 2),
        ("最后一个", 2),
    ],
)
def test_choice_by_position(text: str, expected: int) -> None:
    assert choice(text, TITLES) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.", 1),
        ("The second one!", 1),
        ("Second?", 1),
        ("  option 3  ", 2),
        ("第二个。", 1),
        ("第一！", 0),
    ],
)
def test_choice_tolerates_case_spaces_and_punctuation(text: str, expected: int) -> None:
    assert choice(text, TITLES) == expected


@pytest.mark.parametrize("text", ["4", "fourth", "option 4", "第四个", "5", "0"])
def test_choice_out_of_range_is_none(text: str) -> None:
    assert choice(text, TITLES) is None


def test_last_follows_the_number_of_options() -> None:
    assert choice("last", TITLES[:2]) == 1
    assert choice("last", []) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("topping up", 2),
        ("the lost card", 1),  # "card" is in two titles, "lost" only in one: best overlap wins
        ("it has not arrived", 0),
        ("Lost card, please.", 1),
    ],
)
def test_choice_by_title_words(text: str, expected: int) -> None:
    assert choice(text, TITLES) == expected


@pytest.mark.parametrize(
    "text",
    [
        "card",  # in two titles equally
        "the one about my card",  # stop words do not count; "card" still ties
        "how do I change my PIN",  # no title word at all
        "",
    ],
)
def test_choice_none_when_no_title_or_several(text: str) -> None:
    assert choice(text, TITLES) is None


@pytest.mark.parametrize("text", ["人工智能能帮我查余额吗", "what are your customer service hours", "客服时间是几点"])
def test_words_about_staff_or_ai_are_not_asking_for_a_person(text: str) -> None:
    assert not wants_human(text)


@pytest.mark.parametrize("text", ["can I speak with customer service", "human", "I need a human", "转人工客服"])
def test_more_ways_to_ask_for_a_person(text: str) -> None:
    assert wants_human(text)
