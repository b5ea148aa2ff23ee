"""Numbers as a speech recogniser writes them, normalised before recognition and slot filling.

A recogniser transcribes what was said: "one hundred and fifty pounds", "fifteen oh five",
"four five six seven", "三千五百蚊". The model's training questions and the slots want
figures: "150 pounds", "1505", "4567", "3500蚊".

- English: number-parser (PyPI `number-parser`, maintained, tested across languages) turns
  number words into figures ("two thousand five hundred" -> 2500, "a hundred and fifty" ->
  150). Then digits said one by one are joined, as in a card number or a PIN: "four five six
  seven" -> 4567. "Oh", "o", "zero" and "nought" count as 0 between digits, and "double"
  and "triple" repeat the next digit, as people read numbers aloud in Hong Kong and the UK.
  Two-digit groups said in a row are joined too: "fifteen oh five" -> 1505, "twenty twenty
  four" -> 2024.
- Chinese, Cantonese included: cn2an (PyPI `cn2an`, maintained) turns numerals into figures.
  Two Cantonese habits are handled first:
  - colloquial short forms: "三千五" -> 3500, "兩萬三" -> 23000, "千五" -> 1500;
  - digits read one by one, which keep their leading zeros: "零九八七" -> 0987, where cn2an
    alone would read the number 987.

Only numbers change; every other word stays as the recogniser wrote it.
"""

from __future__ import annotations

import re
import warnings

from twinteller.knowledge.text import reads_chinese

_DIGIT_WORDS = {"oh": "0", "o": "0", "zero": "0", "nought": "0"}
_REPEAT = {"double": 2, "triple": 3}
_CHINESE_DIGITS = "零一二三四五六七八九"
# Digits read one by one: two or more of 零..九 (兩 is never read as a digit), no unit between.
_DIGIT_RUN = re.compile(f"[{_CHINESE_DIGITS}]{{2,}}")
# A leading 千/百/萬 with no count before it: "千五" is 一千五 (1500).
_BARE_UNIT = re.compile(f"(?<![{_CHINESE_DIGITS}兩十百千萬億0-9])(?=[千百萬])")
_TOKEN = re.compile(r"\S+")


def normalise(text: str) -> str:
    """`text` with its numbers written as figures, in English or Chinese."""
    if not text.strip():
        return text
    return _chinese(text) if reads_chinese(text) else _english(text)


def _english(text: str) -> str:
    from number_parser import parse

    parsed = parse(text)
    return _joined(parsed)


def _joined(text: str) -> str:
    """Digits said one by one (and two-digit groups said in a row) as one figure."""
    tokens = _TOKEN.findall(text)
    groups = [_group(tokens, i) for i in range(len(tokens))]
    out: list[str] = []
    run: list[str] = []  # the current run's digit groups
    repeat = 1
    for i, (token, group) in enumerate(zip(tokens, groups, strict=True)):
        if token.lower() in _REPEAT and i + 1 < len(groups) and groups[i + 1] is not None:
            repeat = _REPEAT[token.lower()]  # "double five" -> 55
            continue
        if group is None:
            out += ["".join(run)] if run else []
            out.append(token)
            run = []
        else:
            digits, punctuation = group
            run.append(digits * repeat if len(digits) == 1 else digits)
            if punctuation:  # a run ends at punctuation: "four five six seven." -> "4567."
                out.append("".join(run) + punctuation)
                run = []
        repeat = 1
    out += ["".join(run)] if run else []
    return " ".join(out)


_GROUP = re.compile(r"(\d{1,2})([.,!?;:]*)")


def _group(tokens: list[str], i: int) -> tuple[str, str] | None:
    """Token `i` as (a group of one or two digits, its trailing punctuation), or None. A
    digit word ("oh", "zero") counts where a digit stands beside it."""
    found = _GROUP.fullmatch(tokens[i])
    if found:
        return found.group(1), found.group(2)
    word, punctuation = re.fullmatch(r"(.*?)([.,!?;:]*)", tokens[i].lower()).groups()  # type: ignore[union-attr]
    if word in _DIGIT_WORDS:
        beside = [j for j in (i - 1, i + 1) if 0 <= j < len(tokens)]
        if any(_GROUP.fullmatch(tokens[j]) or tokens[j].lower().strip(".,!?;:") in _DIGIT_WORDS for j in beside):
            return _DIGIT_WORDS[word], punctuation
    return None


def _chinese(text: str) -> str:
    import cn2an

    text = _DIGIT_RUN.sub(lambda m: "".join(str(_CHINESE_DIGITS.index(c)) for c in m.group()), text)
    text = _BARE_UNIT.sub("一", text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns about what it cannot read, and leaves it
        try:
            return str(cn2an.transform(text, "cn2an"))
        except (ValueError, KeyError, IndexError):
            return text
