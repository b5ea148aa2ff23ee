"""twinteller.knowledge.lexicon: matching rules, validation and the seed lexicon."""

from __future__ import annotations

import pytest

from twinteller.errors import InvalidArgument
from twinteller.etcd import keys
from twinteller.knowledge.lexicon import Lexicon, LexiconEntry, seed_entries, validate

LEXICON = Lexicon(
    [
        LexiconEntry("hole in the wall", "ATM"),
        LexiconEntry("hole", "gap"),
        LexiconEntry("quid", "pounds"),
        LexiconEntry("唔見咗", "丢失了"),
        LexiconEntry("賬戶", "账户"),
    ]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the hole in the wall ate my card", "the ATM ate my card"),  # longest term first
        ("a hole in my pocket", "a gap in my pocket"),
        ("The HOLE IN THE WALL", "The ATM"),  # case-insensitive
        ("50 quid, please", "50 pounds, please"),
        ("liquid assets and quidditch", "liquid assets and quidditch"),  # whole words only
        ("我张卡唔见咗", "我张卡丢失了"),  # Chinese: no word boundaries needed
        ("nothing to change", "nothing to change"),
    ],
)
def test_apply(text: str, expected: str) -> None:
    assert LEXICON.apply(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我張卡唔見咗", "我张卡丢失了"),  # traditional terms match: both sides are converted
        ("我张卡唔见咗", "我张卡丢失了"),
        ("我的賬戶被凍結", "我的账户被冻结"),  # script alone: OpenCC, no entry needed
        ("  The  HOLE IN THE WALL\t", "The ATM"),  # normalised first
        ("ＡＴＭ機", "ATM机"),  # full-width forms folded (NFKC)
    ],
)
def test_model_text(text: str, expected: str) -> None:
    assert LEXICON.model_text(text) == expected


def test_a_script_variant_is_no_entry() -> None:
    assert len(Lexicon([LexiconEntry("賬戶", "账户")])) == 0


def test_an_empty_lexicon_changes_nothing() -> None:
    assert Lexicon([]).apply("hole in the wall") == "hole in the wall"
    assert len(Lexicon([])) == 0


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (LexiconEntry("", "atm"), "term"),
        (LexiconEntry(" dosh", "money"), "term"),
        (LexiconEntry("dosh", ""), "canonical"),
        (LexiconEntry("x" * 65, "y"), "term"),
        (LexiconEntry("Card", "card"), "canonical"),
    ],
)
def test_validate_refuses(entry: LexiconEntry, field: str) -> None:
    with pytest.raises(InvalidArgument, match=f"^{field}:"):
        validate(entry)


def test_the_seed_lexicon_is_valid_and_covers_english_and_chinese() -> None:
    entries = seed_entries()
    lexicon = Lexicon(entries)
    assert len(lexicon) == len(entries) >= 50
    assert lexicon.apply("I need 50 quid from the cashpoint") == "I need 50 pounds from the ATM"
    assert lexicon.model_text("點樣轉賬") == "怎么转账"


def test_keys_of_terms_are_case_insensitive_and_safe() -> None:
    assert keys.lexicon("Hole In The Wall") == keys.lexicon("hole in the wall")
    assert "/" not in keys.lexicon("a/b")[len(keys.KB_LEXICON) :]
    assert keys.lexicon("賬戶") != keys.lexicon("账户")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("two cash machines nearby", "two ATMs nearby"),  # the longest term that fits wins
        ("a cash machine", "a ATM"),
        ("cash machinery", "money machinery"),  # "cash machine" is no whole word here
        ("CASH", "money"),
        ("cashier", "cashier"),
        ("cash, then cash machines", "money, then ATMs"),
        ("撳錢唔到", "取钱不到"),  # Chinese terms match inside a run of characters
    ],
)
def test_terms_sharing_a_prefix(text: str, expected: str) -> None:
    lexicon = Lexicon(
        [
            LexiconEntry("cash", "money"),
            LexiconEntry("cash machine", "ATM"),
            LexiconEntry("cash machines", "ATMs"),
            LexiconEntry("撳錢", "取钱"),
            LexiconEntry("唔", "不"),
        ]
    )
    assert lexicon.model_text(text) == expected
