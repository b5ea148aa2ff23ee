"""Replies for the `ivr` channel, ready to be spoken: SSML, or plain text safe to speak.

What a screen shows and a voice cannot say is rewritten:
- links and e-mail addresses become "our website" / "our e-mail address" (a caller cannot
  click, and a spelled-out URL is noise); markdown marks (`**`, `_`, `#`, list bullets,
  `[text](link)`) are removed, keeping the text;
- amounts are written to be read: "HK$1,500.50" / "HKD 1500.5" / "1500.5 HKD" -> "1500.50
  Hong Kong dollars" (and US$, £, €, ¥/RMB; in Chinese "1500.50港元"), so a synthesiser reads the
  number in its own language instead of "H K dollar sign";
- a menu path ("Cards > Track delivery", "「卡片 > 追蹤派遞」") is read with a pause, not
  "greater than": "Cards, Track delivery", "「卡片、追蹤派遞」";
- a card's or account's masked digits ("****4567") are read digit by digit: "4 5 6 7" in
  plain text, `<say-as interpret-as="digits">` in SSML;
(A CLARIFY's options are listed with their keys by the dialogue: "For card arrival, press 1.",
twinteller/data/dialogue.json `option_key`.)

SSML 1.1 (W3C): `<speak version="1.1" xml:lang="...">` with `<s>` per sentence and
`<say-as interpret-as="digits">` for digit strings; all text escaped with the standard
library's XML escaping, so a reply with `<`, `&` or quotes stays valid XML. The language
tag is the one a Hong Kong IVR's synthesiser speaks: en-GB, zh-HK (Cantonese, for
traditional Chinese) or zh-CN (Mandarin, for simplified).
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from twinteller.knowledge.languages import EN, HANS, HANT

VOICE_LANGUAGE = {EN: "en-GB", HANT: "zh-HK", HANS: "zh-CN"}
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")  # [text](link) -> text
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
_MARKS = re.compile(r"(\*\*|__|`|^#+\s*|^\s*[-*•]\s+)", re.MULTILINE)
_MASKED = re.compile(r"[*•xX]{2,}(\d{2,4})\b")
# Digits to read one by one, as speakable writes them ("4 5 6 7"):
_SPACED_DIGITS = re.compile(r"(?<!\d)(?<!\d[.,])\d(?: \d){1,7}(?!\d|[.,]\d)")
_CURRENCY = re.compile(
    r"(?P<code>HK\$|US\$|RMB|HKD|USD|GBP|EUR|CNY|\$|£|€|¥)\s?(?P<amount>\d[\d,]*(?:\.\d+)?)"
    r"|(?<![\d.])(?P<before>\d[\d,]*(?:\.\d+)?)\s?(?P<after>RMB|HKD|USD|GBP|EUR|CNY)\b"  # "1500.50 EUR"
)
_NAMES = {
    EN: {"HK$": "Hong Kong dollars", "HKD": "Hong Kong dollars", "$": "dollars", "US$": "US dollars",
         "USD": "US dollars", "£": "pounds", "GBP": "pounds", "€": "euros", "EUR": "euros", "¥": "renminbi",
         "RMB": "renminbi", "CNY": "renminbi"},
    "zh": {"HK$": "港元", "HKD": "港元", "$": "元", "US$": "美元", "USD": "美元", "£": "英鎊", "GBP": "英鎊",
           "€": "歐元", "EUR": "歐元", "¥": "人民幣", "RMB": "人民幣", "CNY": "人民幣"},
}  # fmt: skip
_PATH = re.compile(r"\s+>\s+|(?<=[^\W\d_])>(?=[^\W\d_])")  # "A > B", "卡片>追蹤"; not "->" or "3>2"
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")  # not inside "1500.50"


def speakable(text: str, language: str) -> str:
    """`text` as plain text safe to speak (see the module)."""
    chinese = language != EN
    text = _LINK.sub(r"\1", text)
    text = _URL.sub("我們的網站" if chinese else "our website", text)
    text = _EMAIL.sub("我們的電郵地址" if chinese else "our e-mail address", text)
    text = _MASKED.sub(lambda m: " ".join(m.group(1)), text)  # before the marks: "**" is one
    text = _MARKS.sub("", text)
    text = _PATH.sub("、" if chinese else ", ", text)
    names = _NAMES["zh" if chinese else EN]

    def amount(found: re.Match[str]) -> str:
        figure = (found.group("amount") or found.group("before")).replace(",", "")
        if "." in figure:
            whole, cents = figure.split(".", 1)
            figure = f"{whole}.{cents[:2].ljust(2, '0')}"
        name = names[found.group("code") or found.group("after")]
        return f"{figure}{name}" if chinese else f"{figure} {name}"

    text = _CURRENCY.sub(amount, text)
    return re.sub(r"\s+", " ", text).strip()


def ssml(text: str, language: str) -> str:
    """`text` (already speakable) as an SSML document in `language`'s voice."""
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    body = "".join(f"<s>{_digits(escape(s))}</s>" for s in sentences)
    lang = VOICE_LANGUAGE.get(language, VOICE_LANGUAGE[EN])
    return f'<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="{lang}">{body}</speak>'


def _digits(escaped: str) -> str:
    """A masked card's or account's last digits, read one by one."""
    return _SPACED_DIGITS.sub(lambda m: f'<say-as interpret-as="digits">{m.group().replace(" ", "")}</say-as>', escaped)
