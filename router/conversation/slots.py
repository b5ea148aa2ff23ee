"""Slots: the details some FAQ answers need (an amount, a currency, a card type), taken
from the customer's words, with the question to ask when one is missing.

An FAQ entry lists the slots it needs (`Faq.slots`) and an answer template that uses
them (`Faq.slot_answer`, e.g. "... {amount} {currency} ..."). Extraction is plain
pattern matching over normalised text, English and Chinese.
"""

from __future__ import annotations

import re
from decimal import Decimal

# Most specific first: "hong kong dollars" is HKD, and is taken out before "dollars" is tried.
_CURRENCIES = {
    "HKD": r"hkd|hk\$|hong kong dollars?|港币|港幣|港元",
    "EUR": r"eur|euros?|€|欧元|歐元",
    "USD": r"usd|dollars?|bucks|\$|美元|美金",
    "GBP": r"gbp|pounds?|quid|sterling|£|英镑|英鎊",
    "JPY": r"jpy|yen|¥|日元|日圓",
    "CNY": r"cny|rmb|yuan|renminbi|人民币|人民幣",
    "CHF": r"chf|swiss francs?|francs?|瑞士法郎",
}
_CURRENCY = {code: re.compile(rf"(?<![a-z])(?:{pattern})(?![a-z])") for code, pattern in _CURRENCIES.items()}
# Only ASCII letters and digits bound a number: Chinese puts no space around it ("换500欧元").
_AMOUNT = re.compile(
    r"(?<![A-Za-z0-9.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?:\s*(k|thousand|千|万|萬))?(?![A-Za-z0-9])"
)
_MULTIPLIERS = {"k": 1000, "thousand": 1000, "千": 1000, "万": 10000, "萬": 10000}
_CARD_TYPES = {
    "virtual": r"virtual|online card|虚拟卡|虛擬卡",
    "disposable": r"disposable|single[- ]use|一次性",
    "physical": r"physical|plastic|real card|实体卡|實體卡",
}
_CARD_TYPE = {kind: re.compile(rf"(?:{pattern})") for kind, pattern in _CARD_TYPES.items()}

PROMPTS = {
    "amount": "How much is it for?",
    "currency": "Which currency is that in (for example EUR, USD or GBP)?",
    "card_type": "Is that for a physical, virtual or disposable card?",
}
SLOT_NAMES = tuple(PROMPTS)


def _currency(text: str) -> str | None:
    found = []
    for code, pattern in _CURRENCY.items():
        if pattern.search(text):
            found.append(code)
            text = pattern.sub(" ", text)
    return found[0] if len(found) == 1 else None


def _amount(text: str) -> str | None:
    match = _AMOUNT.search(text)
    if match is None:
        return None
    whole, fraction, scale = match.groups()
    value = Decimal(f"{whole.replace(',', '')}.{fraction or '0'}") * _MULTIPLIERS.get(scale or "", 1)
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


def _card_type(text: str) -> str | None:
    found = [kind for kind, pattern in _CARD_TYPE.items() if pattern.search(text)]
    return found[0] if len(found) == 1 else None


_EXTRACTORS = {"amount": _amount, "currency": _currency, "card_type": _card_type}


def extract(names: tuple[str, ...] | list[str], text: str) -> dict[str, str]:
    """The slots among `names` that `text` gives a value for (unambiguously)."""
    lowered = text.lower()
    values = {name: _EXTRACTORS[name](lowered) for name in names}
    return {name: value for name, value in values.items() if value is not None}


def prompt(missing: list[str]) -> str:
    return " ".join(PROMPTS[name] for name in missing)
