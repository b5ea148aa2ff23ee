"""router.conversation.slots: amounts, currencies and card types taken from the customer's words, and the
question asked for the missing ones."""

from __future__ import annotations

import pytest

from router.conversation.slots import PROMPTS, SLOT_NAMES, extract, keyed, prompt
from router.voice import keypad


def amount(text: str) -> str | None:
    return extract(["amount"], text).get("amount")


def currency(text: str) -> str | None:
    return extract(["currency"], text).get("currency")


def card_type(text: str) -> str | None:
    return extract(["card_type"], text).get("card_type")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500", "500"),
        ("I want to send 500 euros", "500"),
        ("1,200.5", "1200.50"),
        ("1,200", "1200"),
        ("12,345,678", "12345678"),
        ("99.99", "99.99"),
        ("2k", "2000"),
        ("2K euros", "2000"),
        ("2 k", "2000"),
        ("5 thousand", "5000"),
        ("3万", "30000"),
        ("3萬", "30000"),
        ("8千", "8000"),
        ("€20", "20"),
        ("$1,200", "1200"),
        ("send 250, please", "250"),
    ],
)
def test_amount(text: str, expected: str) -> None:
    assert amount(text) == expected


@pytest.mark.parametrize("text", ["a lot of money", "euros", "abc123", "v2.5", "", "几百块"])
def test_no_amount(text: str) -> None:
    assert amount(text) is None


@pytest.mark.parametrize(("text", "expected"), [("1.5k", "1500"), ("2.5万", "25000")])
def test_fractional_amount_with_multiplier(text: str, expected: str) -> None:
    assert amount(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("500欧元", "500"), ("我想换500欧元", "500"), ("3万元", "30000")])
def test_amount_inside_chinese_text(text: str, expected: str) -> None:
    assert amount(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500 euros", "EUR"),
        ("one euro", "EUR"),
        ("€20", "EUR"),
        ("EUR", "EUR"),
        ("500欧元", "EUR"),
        ("500歐元", "EUR"),
        ("$50", "USD"),
        ("50 dollars", "USD"),
        ("美元", "USD"),
        ("hong kong dollars", "HKD"),  # not also USD for "dollars"
        ("a hong kong dollar", "HKD"),
        ("港币", "HKD"),
        ("20 pounds", "GBP"),
        ("£5", "GBP"),
        ("yen", "JPY"),
        ("RMB", "CNY"),
        ("swiss francs", "CHF"),
    ],
)
def test_currency(text: str, expected: str) -> None:
    assert currency(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "euros to dollars",  # two different currencies: ambiguous
        "€ or $",
        "hong kong dollars or euros",
        "how much is it",
        "europe",  # "eur" only as a whole word
        "neuro",
    ],
)
def test_no_currency(text: str) -> None:
    assert currency(text) is None


def test_same_currency_twice_is_not_ambiguous() -> None:
    assert currency("500 euros, yes euros") == "EUR"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("for a virtual card", "virtual"),
        ("Virtual", "virtual"),
        ("a disposable one", "disposable"),
        ("single-use card", "disposable"),
        ("single use", "disposable"),
        ("the physical card", "physical"),
        ("plastic", "physical"),
        ("虚拟卡", "virtual"),
        ("實體卡", "physical"),
        ("一次性", "disposable"),
    ],
)
def test_card_type(text: str, expected: str) -> None:
    assert card_type(text) == expected


@pytest.mark.parametrize("text", ["my card", "virtual or physical", "500 euros"])
def test_no_card_type(text: str) -> None:
    assert card_type(text) is None


def test_extract_all_three() -> None:
    assert extract(SLOT_NAMES, "500 euros on my virtual card") == {
        "amount": "500",
        "currency": "EUR",
        "card_type": "virtual",
    }


def test_extract_returns_only_the_requested_names() -> None:
    text = "500 euros on my virtual card"
    assert extract(["currency"], text) == {"currency": "EUR"}
    assert extract(("amount", "card_type"), text) == {"amount": "500", "card_type": "virtual"}
    assert extract([], text) == {}


def test_extract_leaves_out_names_without_a_value() -> None:
    assert extract(["amount", "currency"], "500 please") == {"amount": "500"}
    assert extract(["amount", "currency"], "no idea") == {}


def test_extract_unknown_name_is_an_error() -> None:
    with pytest.raises(KeyError):
        extract(["colour"], "red")


def test_prompt_single() -> None:
    assert prompt(["currency"]) == PROMPTS["currency"]
    assert "EUR" in prompt(["currency"])


def test_prompt_joins_in_the_order_given() -> None:
    assert prompt(["amount", "currency"]) == f"{PROMPTS['amount']} {PROMPTS['currency']}"
    assert prompt(["currency", "amount"]) == f"{PROMPTS['currency']} {PROMPTS['amount']}"
    assert prompt(["card_type", "amount", "currency"]).startswith(PROMPTS["card_type"])


def test_prompt_nothing_missing() -> None:
    assert prompt([]) == ""


def test_every_slot_has_a_distinct_question() -> None:
    assert set(SLOT_NAMES) == {"amount", "currency", "card_type", "card_last_four"}
    questions = [PROMPTS[name] for name in SLOT_NAMES]
    assert all(q.endswith("?") for q in questions)
    assert len(set(questions)) == len(questions)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("my card ending 4567 was charged 20 pounds", {"card_last_four": "4567", "amount": "20"}),
        ("the last four digits are 0987", {"card_last_four": "0987"}),
        ("4567", {"card_last_four": "4567"}),  # said alone, in answer to the question
        ("尾號4567張卡俾人扣咗500蚊", {"card_last_four": "4567", "amount": "500"}),
        ("I paid 4567 pounds", {"amount": "4567"}),  # no card's digits without saying so
        ("ending 45678", {"amount": "45678"}),
    ],
)
def test_a_cards_last_four_digits(text: str, found: dict[str, str]) -> None:
    assert extract(["card_last_four", "amount"], text) == found


@pytest.mark.parametrize(
    ("missing", "pressed", "found"),
    [
        (["amount", "currency"], "150*5#", {"amount": "150.50"}),
        (["amount"], "2000#", {"amount": "2000"}),
        (["card_last_four"], "4567#", {"card_last_four": "4567"}),
        (["card_last_four"], "456#", {}),  # not four digits
        (["currency", "amount"], "500#", {}),  # the first missing detail cannot be keyed
        (["amount"], "*", {}),  # repeat, not an amount
        (["amount"], "1*2*3#", {}),
    ],
)
def test_keyed_details(missing: list[str], pressed: str, found: dict[str, str]) -> None:
    assert keyed(missing, keypad.parse(pressed)) == found


def test_an_ivr_prompt_says_which_keys_to_press_after_the_question_they_answer() -> None:
    asked = prompt(["amount", "currency"], keys=True)
    assert asked.startswith(PROMPTS["amount"] + " You can also key in the amount")
    assert asked.endswith(PROMPTS["currency"]) and "hash" in asked and "star" in asked
    assert prompt(["currency"], keys=True) == PROMPTS["currency"]  # a currency cannot be keyed
    assert "井號" in prompt(["card_last_four"], "zh-Hant", keys=True)


def test_hong_kong_dollar_sign_is_hkd_not_usd() -> None:
    assert extract(["currency", "amount"], "HK$500") == {"currency": "HKD", "amount": "500"}
