"""The languages twinteller answers in, and how a turn's language is chosen.

Three reply languages: English (`en`, the language of an FAQ entry's own title and answer),
traditional Chinese as written in Hong Kong (`zh-Hant`) and simplified Chinese (`zh-Hans`).
Cantonese is written in either script and answered in standard written Chinese of that
script, as a Hong Kong bank's agents do.

- **From the locale** when the caller gives one it knows: `en-*` is English; `zh-HK`,
  `zh-TW`, `zh-MO`, `zh-Hant-*` and `yue-*` are `zh-Hant`; `zh-CN`, `zh-SG`, `zh-MY`,
  `zh-Hans-*` are `zh-Hans`. A well-formed locale of another language (`fr-FR`), or a bare
  `zh`, leaves the choice to the text; a malformed one is refused by the router.
- **From the text** otherwise (`detect`): Chinese when the model reads it as Chinese
  (code-mixed text such as "我想check下個balance" is), in the script its script-specific
  characters show (OpenCC tells which characters exist in one script only); Cantonese
  particles with no script-specific character lean traditional (Hong Kong). English when it
  has a few Latin letters and no Chinese. Anything else ("2", "OK", "HKD 500") says nothing,
  and the conversation keeps its language: it stays until the customer writes in another.

Script conversion is OpenCC's (`hk2s`, `s2hk`): the model reads Chinese in simplified
script, and a missing translation in one script is the other's, converted.
"""

from __future__ import annotations

import functools
import re

import opencc

from twinteller.knowledge.text import reads_chinese

EN, HANT, HANS = "en", "zh-Hant", "zh-Hans"
LANGUAGES = (EN, HANT, HANS)
BASE = EN  # an FAQ entry's own title and answer are in this language
TRANSLATED = (HANT, HANS)  # the languages of an entry's translations

# BCP 47 as callers send it (also with "_", as Java and POSIX write it): a 2-3 letter
# language, then subtags of 1-8 letters or digits.
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Written Cantonese: particles and words with no place in standard written Chinese.
_CANTONESE = re.compile(r"[咗嘅唔冇喺啲佢嘢咩哋嚟噉咁㗎喎囉嘞啱攞畀俾揾搵睇諗]|而家|點樣|點解|邊度|幾時|乜嘢")
_TRADITIONAL_REGIONS = {"hk", "tw", "mo", "hant"}
_SIMPLIFIED_REGIONS = {"cn", "sg", "my", "hans"}


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Traditional (Hong Kong or Taiwan forms) -> simplified; other text is unchanged."""
    return _converter("hk2s").convert(text) if _HAN.search(text) else text


def to_traditional(text: str) -> str:
    """Simplified -> traditional as written in Hong Kong."""
    return _converter("s2hk").convert(text) if _HAN.search(text) else text


def convert(text: str, language: str) -> str:
    """`text`, a Chinese text in either script, in the script of `language`."""
    if language == HANT:
        return to_traditional(text)
    if language == HANS:
        return to_simplified(text)
    return text


def well_formed_locale(locale: str) -> bool:
    return bool(_LOCALE.fullmatch(locale))


def from_locale(locale: str) -> str | None:
    """The reply language a locale asks for; None when it names none of ours (or no script)."""
    if not locale or not well_formed_locale(locale):
        return None
    language, *rest = locale.replace("_", "-").lower().split("-")
    if language == "en":
        return EN
    if language == "yue":
        return HANS if _SIMPLIFIED_REGIONS & set(rest) else HANT
    if language in ("zh", "cmn"):
        if "hant" in rest or (_TRADITIONAL_REGIONS & set(rest) and "hans" not in rest):
            return HANT
        if _SIMPLIFIED_REGIONS & set(rest):
            return HANS
    return None


def script(text: str) -> str | None:
    """zh-Hant or zh-Hans by the characters that exist in one script only; None if neither
    shows (many common characters are the same in both)."""
    traditional = sum(a != b for a, b in zip(text, to_simplified(text), strict=False))
    simplified = sum(a != b for a, b in zip(text, to_traditional(text), strict=False))
    if traditional > simplified:
        return HANT
    if simplified > traditional:
        return HANS
    return None


def detect(text: str) -> str | None:
    """The language `text` is written in, or None when it does not say (see the module).
    Chinese as the model reads it (text.reads_chinese: code-mixed text is Chinese, an
    English sentence with one Chinese word in it English)."""
    chinese = bool(_HAN.search(text))
    if chinese and (reads_chinese(text) or len(_LATIN.findall(text)) < 4):
        found = script(text)
        if found is None and _CANTONESE.search(text):
            return HANT
        return found or "zh"
    if len(_LATIN.findall(text)) >= 4:
        return EN
    return None


def choose(locale: str, text: str, current: str, default_chinese: str = HANT) -> str:
    """The language to answer this turn in: the locale's, else the text's, else the
    conversation's (`current`), else English. Chinese text whose script does not show
    keeps the conversation's Chinese, else takes `default_chinese`."""
    asked = from_locale(locale)
    if asked:
        return asked
    found = detect(text)
    if found == "zh":
        return current if current in (HANT, HANS) else default_chinese
    return found or current or BASE


def chain(language: str) -> tuple[tuple[str, str], ...]:
    """Where a text in `language` comes from when it is missing: (source language, how),
    in order; "as is" or "converted" (OpenCC, from the other script). The last resort is
    always the entry's own English text."""
    if language == HANT:
        return ((HANT, "as is"), (HANS, "converted"), (EN, "as is"))
    if language == HANS:
        return ((HANS, "as is"), (HANT, "converted"), (EN, "as is"))
    return ((EN, "as is"),)
