"""Slots: the details some FAQ answers need (an amount, a currency, a card type), taken
from the customer's words, with the question to ask when one is missing.

An FAQ entry lists the slots it needs (`Faq.slots`) and an answer template that uses
them (`Faq.slot_answer`, e.g. "... {amount} {currency} ..."). Extraction is plain
pattern matching over normalised text, English and Chinese; amounts in Chinese and
Cantonese numerals ("五百蚊", "三千五百港元", "兩百五", "1萬") are read with cn2an, chosen
over a hand-written numeral parser because it already knows the colloquial forms
(兩百五 is 250, 一萬二 is 12000). Prompts and the names a slot answer shows are in the
conversation's language (twinteller/data/dialogue.json).

On the IVR a caller may key a detail instead of saying it (router/voice/keypad.py): an amount
("150*50#": `*` is the decimal point) or a card's last four digits ("4567#"). `keyed` reads
the keys as the first missing detail keys can give, and an IVR prompt says which keys to press.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import cn2an

from router.conversation.messages import MESSAGES
from router.voice.keypad import Keys
from twinteller.knowledge import languages
from twinteller.knowledge.faqs import SLOT_NAMES
from twinteller.knowledge.masking import LAST_FOUR_WORDS

# Most specific first: "hong kong dollars" is HKD, and is taken out before "dollars" is tried.
# 蚊 and 港紙 are how Hong Kong says dollars; 歐羅 is its euro, 人仔 its renminbi.
_CURRENCIES = {
    "HKD": r"hkd|hk\$|hong kong dollars?|港币|港幣|港元|港纸|港紙|蚊",
    "EUR": r"eur|euros?|€|欧元|歐元|欧罗|歐羅",
    "USD": r"usd|us\$|dollars?|bucks|\$|美元|美金",
    "GBP": r"gbp|pounds?|quid|sterling|£|英镑|英鎊",
    "JPY": r"jpy|yen|¥|日元|日圓|日圆",
    "CNY": r"cny|rmb|yuan|renminbi|人民币|人民幣|人仔",
    "CHF": r"chf|swiss francs?|francs?|瑞士法郎",
    "AUD": r"aud|a\$|australian dollars?|澳元|澳币|澳幣",
    "CAD": r"cad|c\$|canadian dollars?|加元|加币|加幣",
}
_CURRENCY = {code: re.compile(rf"(?<![a-z])(?:{pattern})(?![a-z])") for code, pattern in _CURRENCIES.items()}
# Only ASCII letters and digits bound a number: Chinese puts no space around it ("换500欧元").
_AMOUNT = re.compile(
    r"(?<![A-Za-z0-9.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?:\s*(k|thousand|千|万|萬))?(?![A-Za-z0-9])"
)
_MULTIPLIERS = {"k": 1000, "thousand": 1000, "千": 1000, "万": 10000, "萬": 10000}
# A run of Chinese numerals (with Arabic digits in it, "1萬5千"), then perhaps a money unit
# and 半 (half a unit). Not after 第 (an ordinal) and not the 一 of 一次/一般 (no magnitude).
_CHINESE_AMOUNT = re.compile(
    r"(?<!第)(?<![0-9.])([0-9零〇一二三四五六七八九十百千万萬亿億两兩.]+)"
    r"(蚊|元|圆|圓|块|塊|港元|港币|港幣|美元|美金|英镑|英鎊|欧元|歐元|人民币|人民幣)?(半)?"
)
_MAGNITUDE = re.compile(r"[十百千万萬亿億]")
_HAN_DIGIT = re.compile(r"[零〇一二三四五六七八九十百千万萬亿億两兩]")
_CARD_TYPES = {
    "virtual": r"virtual|online card|虚拟卡|虛擬卡",
    "disposable": r"disposable|single[- ]use|一次性",
    "physical": r"physical|plastic|real card|实体卡|實體卡",
}
_CARD_TYPE = {kind: re.compile(rf"(?:{pattern})") for kind, pattern in _CARD_TYPES.items()}
# A card's last four digits where the words say so ("ending 4567", "尾號4567"), or four
# digits said alone in answer to the question.
_LAST_FOUR = re.compile(rf"{LAST_FOUR_WORDS}(\d{{4}})(?!\d)|^\s*(\d{{4}})\s*[.。]?\s*$")

# The English prompts (every language's are in twinteller/data/dialogue.json).
PROMPTS = {name: MESSAGES.text(f"prompt_{name}", languages.EN) for name in SLOT_NAMES}


def _currency(text: str) -> str | None:
    found = []
    for code, pattern in _CURRENCY.items():
        if pattern.search(text):
            found.append(code)
            text = pattern.sub(" ", text)
    return found[0] if len(found) == 1 else None


def _chinese_amount(text: str) -> Decimal | None:
    """The first amount written with Chinese numerals: with a magnitude (五百, 兩百五, 1萬)
    or a money unit (五蚊, 三元半); a bare 一 or 二 is no amount (一次, 二手)."""
    for match in _CHINESE_AMOUNT.finditer(text):
        number, unit, half = match.groups()
        if not _HAN_DIGIT.search(number) or not (_MAGNITUDE.search(number) or unit):
            continue
        try:
            value = Decimal(str(cn2an.cn2an(number, "smart")))
        except (ValueError, KeyError, InvalidOperation):
            continue
        return value + Decimal("0.5") if half and unit else value
    return None


def _amount(text: str) -> str | None:
    value = _chinese_amount(text)
    match = _AMOUNT.search(text)
    if value is None and match is None:
        return None
    if value is None and match is not None:
        whole, fraction, scale = match.groups()
        value = Decimal(f"{whole.replace(',', '')}.{fraction or '0'}") * _MULTIPLIERS.get(scale or "", 1)
    assert value is not None
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


def _card_type(text: str) -> str | None:
    found = [kind for kind, pattern in _CARD_TYPE.items() if pattern.search(text)]
    return found[0] if len(found) == 1 else None


_EXTRACTORS = {"amount": _amount, "currency": _currency, "card_type": _card_type}
# What keys can give, and the hint an IVR prompt adds for it.
_KEYED = {"amount": Keys.amount, "card_last_four": lambda keys: keys.digits if len(keys.digits) == 4 else None}


def extract(names: tuple[str, ...] | list[str], text: str) -> dict[str, str]:
    """The slots among `names` that `text` gives a value for (unambiguously)."""
    lowered = text.lower()
    values: dict[str, str | None] = {}
    if "card_last_four" in names:  # first, so that its digits are no amount
        found = _LAST_FOUR.search(lowered)
        values["card_last_four"] = next(g for g in found.groups() if g) if found else None
        lowered = _LAST_FOUR.sub(" ", lowered)
    values |= {name: _EXTRACTORS[name](lowered) for name in names if name != "card_last_four"}
    return {name: value for name, value in values.items() if value is not None}


def keyed(missing: list[str], keys: Keys) -> dict[str, str]:
    """The first missing detail, read from keys, when keys can give it and these do."""
    if keys.kind != "digits" or not missing or missing[0] not in _KEYED:
        return {}
    value = _KEYED[missing[0]](keys)
    return {missing[0]: value} if value else {}


def prompt(missing: list[str], language: str = languages.EN, *, keys: bool = False) -> str:
    """The question for the details still missing, in the conversation's language; with
    `keys` (the IVR), also how to key the first one, when it can be keyed."""
    asked = [MESSAGES.text(f"prompt_{name}", language) for name in missing]
    if keys and missing and missing[0] in _KEYED:
        asked.insert(1, MESSAGES.text(f"keys_{missing[0]}", language))
    return " ".join(asked)


def shown(filled: dict[str, str], language: str) -> dict[str, str]:
    """Slot values as a reply in `language` says them: a currency or card type by its name."""
    named = dict(filled)
    for slot in ("currency", "card_type"):
        if slot in named and f"{slot}_{named[slot]}" in MESSAGES.keys():
            named[slot] = MESSAGES.text(f"{slot}_{named[slot]}", language)
    return named
