"""Sensitive values in customers' words, masked before the words are kept: card numbers
(Luhn-valid runs of 13-19 digits, with spaces or dashes), IBANs, e-mail addresses, phone
numbers and other long digit runs (account numbers). What remains says what was there
("[card]", "[iban]", "[email]", "[phone]", "[number]"), so a record stays readable.
"""

from __future__ import annotations

import re

_CARD = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w])\+?\d[\d ()-]{6,}\d(?![\w])")
_DIGITS = re.compile(r"\d{6,}")


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
    text = _CARD.sub(_card, text)
    text = _PHONE.sub(_phone, text)
    return _DIGITS.sub("[number]", text)
