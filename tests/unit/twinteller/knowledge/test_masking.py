"""Masking of sensitive values in customers' words (twinteller/knowledge/masking.py)."""

from __future__ import annotations

import pytest

from twinteller.knowledge.masking import luhn, mask


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("my card 4111 1111 1111 1111 was stolen", "my card [card] was stolen"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("card4111111111111111please", "card[card]please"),
        ("mail me at a.b+c@bank.co.uk", "mail me at [email]"),
        ("call +44 20 7946 0958 today", "call [phone] today"),
        ("my number is 07700 900123", "my number is [phone]"),
        ("iban GB82 WEST 1234 5698 7654 32 please", "iban [iban] please"),
        ("account 12345678", "account [number]"),
        ("我的卡号是4111111111111111", "我的卡号是[card]"),
    ],
)
def test_sensitive_values_are_masked(text: str, masked: str) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text",
    ["on 2026-11-29 I paid 500 euros", "how do I top up £20", "my pin is blocked", "transfer 1,000 GBP", ""],
)
def test_ordinary_words_and_small_numbers_stay(text: str) -> None:
    assert mask(text) == text


def test_a_digit_run_that_fails_luhn_is_still_not_kept() -> None:
    masked = mask("card 4111 1111 1111 1112")
    assert "4111" not in masked


def test_luhn() -> None:
    assert luhn("4111111111111111") and luhn("79927398713")
    assert not luhn("4111111111111112")
