"""twinteller.model.speller: misspelt English words corrected against the model's own
vocabulary, and everything that is not a misspelling left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinteller.model.speller import Speller

TRAINING = [
    "my card has not arrived yet",
    "my card has not arrived",
    "how do I top up my account",
    "top up with a card",
    "the transfer is still pending",
    "my transfer is pending",
    "I want a refund",
    "where is my refund",
    "change my pin",
    "change my address",
    "my pin is blocked",
    "is sepa supported",
    "sepa transfer fees",
    "chargeback on a payment",
    "chargeback request",
    "the cashpoint kept my card",
    "which cashpoint can I use",
    "my account balance",
]
SPELLER = Speller.from_texts(TRAINING)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("my crad has not arived", "my card has not arrived"),  # a swap and a dropped letter
        ("tranfser still pendng", "transfer still pending"),
        ("wheres my refnud", "wheres my refund"),  # an unknown word with no near one stays
        ("chnage my pni", "change my pin"),
        ("acount balance", "account balance"),
    ],
)
def test_misspellings_become_the_known_words(text: str, read: str) -> None:
    assert SPELLER.correct(text) == read


@pytest.mark.parametrize(
    "text",
    [
        "is sepa supported",  # domain words are known words
        "chargeback on a payment",
        "card ending 4111 paid 250.00",  # numbers untouched
        "ref a1b2c3 id 77x9",  # ids untouched
        "send 500 HKD via FPS",  # capitalised acronyms untouched
        "我張卡仲未收到",  # Chinese untouched
        "我想check下個balance",
        "it is ok",  # words of one or two letters
        "my cars are ending up in the wrong place",  # ordinary English words: no slip corrected
        "",
    ],
)
def test_what_is_no_misspelling_stays(text: str) -> None:
    assert SPELLER.correct(text) == text


def test_a_word_seen_once_is_known_but_no_correction_target() -> None:
    speller = Speller.from_texts(["the colour is blue", "blue card"])
    assert speller.correct("colour") == "colour"  # known
    assert speller.correct("colout") == "colout"  # too rare to be where a typo came from
    assert speller.correct("bluue") == "blue"


def test_saved_with_the_version(tmp_path: Path) -> None:
    SPELLER.save(tmp_path)
    loaded = Speller.load(tmp_path)
    assert loaded is not None and loaded.correct("my crad") == "my card"
    assert Speller.load(tmp_path / "nothing") is None  # a version built before the speller
