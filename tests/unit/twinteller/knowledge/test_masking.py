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


# -- Hong Kong's own ways of writing them ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call me on 9123 4567", "call me on [phone]"),  # the usual way: two groups of four
        ("9123-4567 please", "[phone] please"),
        ("91234567", "[number]"),
        ("+852 9123 4567", "[phone]"),
        ("(852) 2345-6789", "([phone]"),
        ("852-91234567", "[phone]"),
        ("電話 6123 4567 唔該", "電話 [phone] 唔該"),
        ("my hkid is A123456(7)", "my hkid is [hkid]"),
        ("HKID AB987654 3 ok", "HKID [hkid] ok"),
        ("身份證 z683365(a)", "身份證 [hkid]"),
        ("account 012-345-678901-2", "account [account]"),
        ("hsbc 004-123456-001", "hsbc [account]"),
        ("FPS ID 1234567", "FPS ID [fps]"),
        ("轉數快 123 4567", "轉數快 [fps]"),
        ("转数快号码：912345678", "转数快号码：[fps]"),
        ("我個電話係九一二三四五六七", "我個電話係[number]"),
        ("戶口號碼 九一二 三四五 六七八", "戶口號碼 [number]"),
    ],
)
def test_hong_kong_forms_are_masked(text: str, masked: str) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text",
    ["between 2000 and 3000", "我想轉三千五百蚊", "第一二三個", "transfer 2,000 HKD to 1 account", "卡號最後四位1234"],
)
def test_hong_kong_amounts_and_short_numbers_stay(text: str) -> None:
    assert mask(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("my card ending 4567 was declined", "my card ending [last4] was declined"),
        ("the last four digits are 0987", "the last four digits are [last4]"),
        ("Ending in 1234", "Ending in [last4]"),
        ("尾號4567張卡", "尾號[last4]張卡"),
        ("卡號尾四位係0987", "卡號尾四位係[last4]"),
        ("I paid 4567 pounds", "I paid 4567 pounds"),  # four digits alone say nothing of a card
    ],
)
def test_a_cards_last_four_digits_are_masked_where_the_words_say_so(text: str, masked: str) -> None:
    assert mask(text) == masked
