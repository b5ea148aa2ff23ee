"""Sensitive values in customers' words, masked before the words are kept: card numbers
(Luhn-valid runs of 13-19 digits, with spaces or dashes), IBANs, e-mail addresses, phone
numbers and other long digit runs (account numbers). What remains says what was there
("[card]", "[iban]", "[email]", "[hkid]", "[account]", "[fps]", "[phone]", "[number]"),
so a record stays readable.

Hong Kong writes them its own ways, and those are covered too: mobile and fixed numbers
as eight digits, two groups of four ("9123 4567", "9123-4567") with or without +852; HKID
numbers ("A123456(7)", "AB123456 9"); bank account numbers in dashed groups
("012-345-678901-2", "004-123456-001"); FPS (轉數快) identifiers after their name; and
digits written in Chinese numerals ("九一二三四五六七"), six or more like Arabic ones.
"""

from __future__ import annotations

import re

_CARD = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w])\+?\d[\d ()-]{6,}\d(?![\w])")
_DIGITS = re.compile(r"\d{6,}")
_HKID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,2}\d{6}\s?(?:\(\s?[0-9Aa]\s?\)|[0-9Aa])(?![A-Za-z0-9])")
_ACCOUNT = re.compile(r"(?<![\d-])\d{3}-\d{3,6}-\d{3,9}(?:-\d{1,3})?(?![\d-])")
_FPS = re.compile(r"(?i)(fps|转数快|轉數快)(\s*(?:id|identifier|號碼|号码|編號|编号)?\s*[:：]?\s*)([\d][\d -]{5,12}\d)")
# Two groups of four, the first 2-9 (HK numbers never start with 0 or 1), maybe after 852.
_HK_PHONE = re.compile(r"(?<![\d-])(?:\(?\+?852\)?[ -]?)?[2-9]\d{3}[ -]\d{4}(?![\d-])")
# The words that say the four digits after them are a card's last four (slots.py reads them).
LAST_FOUR_WORDS = (
    r"(?:ending(?: in| with)?|ends? (?:in|with)|last (?:4|four)(?: digits)?(?: (?:are|is|being))?|"
    r"尾號|尾号|尾數|尾数|尾四位|末四位)\s*(?:[:：]|係|是|為|为)?\s*"
)
_LAST_FOUR = re.compile(rf"(?i)({LAST_FOUR_WORDS})\d{{4}}(?!\d)")
_HAN_DIGITS = re.compile(r"[零〇一二三四五六七八九](?:[ -]?[零〇一二三四五六七八九]){5,}")


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if luhn(digits) else match.group()


def _phone(match: re.Match[str]) -> str:
    """An international number (+ and 7 digits or more), or 9 digits or more (a date's 8
    digits, 2026-11-29, stay)."""
    digits = sum(c.isdigit() for c in match.group())
    international = match.group().startswith("+") and digits >= 7
    return "[phone]" if international or digits >= 9 else match.group()


def mask(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub("[iban]", text)
    text = _HKID.sub("[hkid]", text)
    text = _FPS.sub(lambda m: f"{m.group(1)}{m.group(2)}[fps]", text)
    text = _CARD.sub(_card, text)
    text = _ACCOUNT.sub("[account]", text)
    text = _PHONE.sub(_phone, text)  # international numbers whole, before their last eight digits
    text = _HK_PHONE.sub("[phone]", text)
    text = _HAN_DIGITS.sub("[number]", text)
    text = _LAST_FOUR.sub(lambda m: f"{m.group(1)}[last4]", text)
    return _DIGITS.sub("[number]", text)
