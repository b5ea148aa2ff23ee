"""insights.suggestions: lexicon entries proposed from unrecognised queries one word away
from a training question, and the pairs that must not be proposed."""

from __future__ import annotations

from insights.suggestions import Index, suggest

QUESTIONS = [
    "where is my money",
    "how do i get my money back",
    "my card has not arrived",
    "can i use the atm abroad",
    "i want to top up my account",
    "i want to close my account",
    "i want to open my account",
]
INDEX = Index(QUESTIONS)


def pairs(queries: list[str], known: set[str] | None = None) -> dict[str, str]:
    return {s.term: s.canonical for s in suggest(queries, INDEX, known or set())}


def test_a_new_word_where_a_known_one_stood_is_proposed() -> None:
    found = suggest(["where is my dosh", "Where is my dosh?", "how do i get my dosh back"], INDEX, set())
    assert [(s.term, s.canonical) for s in found] == [("dosh", "money")]
    assert found[0].support == 2  # "Where is my dosh?" is the same words as the first
    assert found[0].queries == ("where is my dosh", "how do i get my dosh back")
    assert found[0].question == "where is my money"


def test_most_supported_first() -> None:
    found = suggest(["can i use the cashpoint abroad", "where is my dosh", "how do i get my dosh back"], INDEX, set())
    assert [s.term for s in found] == ["dosh", "cashpoint"]


def test_known_words_are_never_remapped() -> None:
    assert pairs(["where is my card"]) == {}  # "card" is a training word
    assert pairs(["where is my dosh"], known={"dosh"}) == {}  # already in the lexicon


def test_two_words_away_or_another_order_is_not_one_word_away() -> None:
    assert pairs(["where was my dosh", "my dosh is where"]) == {}


def test_a_gap_more_than_one_word_fits_says_nothing() -> None:
    # "close" and "open" both stand there: "i want to zap my account" could be either
    assert pairs(["i want to zap my account"]) == {}


def test_a_term_tied_to_two_words_equally_is_not_proposed() -> None:
    assert pairs(["where is my wonga", "my wonga has not arrived"]) == {}


def test_numbers_short_questions_and_chinese_are_left_alone() -> None:
    assert pairs(["where is my 500", "where is my x", "my dosh", "我的dosh在哪裡 where is my dosh"]) == {}
