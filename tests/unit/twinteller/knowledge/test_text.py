"""twinteller.knowledge.text.normalise."""

from __future__ import annotations

import unicodedata

import pytest

from twinteller.knowledge.text import cjk_share, mostly_cjk, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ｍｙ　ｃａｒｄ１２３", "my card123"),
        ("Ｉ　ｌｏｓｔ　ｍｙ　ＰＩＮ！", "I lost my PIN!"),
        ("ＡＴＭ", "ATM"),
        ("０１２３４５６７８９", "0123456789"),
        ("我的ｃａｒｄ", "我的card"),
    ],
)
def test_full_width_folded(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  my\t\tcard \n\n is   lost  ", "my card is lost"),
        ("my\u00a0card", "my card"),  # no-break space
        ("my\u2003\u2003card", "my card"),  # em spaces
        ("my\u2028card\u2029lost", "my card lost"),  # line / paragraph separators
        ("my\r\ncard", "my card"),
        ("\u3000我的卡\u3000\u3000丢了\u3000", "我的卡 丢了"),
    ],
)
def test_whitespace_collapsed_and_stripped(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x00my card\x07", "my card"),
        ("my \x1bcard\x7f", "my card"),
        ("\ufeffmy card", "my card"),  # byte-order mark (format character)
        ("my \x85\x9fcard", "my card"),  # C1 controls
    ],
)
def test_control_characters_removed(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_no_control_characters_survive() -> None:
    raw = "".join(chr(c) for c in range(0x20)) + "card" + "\x7f\u200b\u200e\u2066"
    out = normalise(raw)
    assert "card" in out
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in out)


@pytest.mark.parametrize("text", ["我的信用卡丢了", "如何开通网上银行", "我想查询余额"])
def test_chinese_preserved(text: str) -> None:
    assert normalise(text) == text


def test_chinese_punctuation_folded_but_characters_kept() -> None:
    assert normalise("我的卡丢了，怎么办？") == "我的卡丢了,怎么办?"


def test_empty_and_blank() -> None:
    assert normalise("") == ""
    assert normalise(" \t\u3000\n ") == ""


@pytest.mark.parametrize("raw", ["ｍｙ　ｃａｒｄ１２３", "  a \x00 b  ", "我的卡\u3000丢了", "ﬁnance ①"])
def test_idempotent(raw: str) -> None:
    once = normalise(raw)
    assert normalise(once) == once


def test_format_characters_inside_words_are_dropped_not_split() -> None:
    assert normalise("pay\u00adment") == "payment"
    assert normalise("top\u200bup") == "topup"


def test_cjk_share() -> None:
    assert cjk_share("我的卡丢了") == 1.0
    assert cjk_share("my card") == 0.0
    assert cjk_share("ATM吞了我的卡") == 5 / 8
    assert cjk_share("   ") == 0.0
    assert mostly_cjk("ATM吞了我的卡") and not mostly_cjk("ATM 吞了 my card")
