"""Numbers as a speech recogniser writes them, normalised before recognition and slot filling.

A recogniser transcribes what was said: "one hundred and fifty pounds", "fifteen oh five",
"four five six seven", "三千五百蚊". The model's training questions and the slots want
figures: "150 pounds", "1505", "4567", "3500蚊".

Only runs of number words change, and only where they are numbers: "which one", "no one",
"the second one", "我想問一下", "一次性" and "萬一" stay words (a lone "one" or 一 is rarely a
number in a banking question; an ordinal picks an option and phrases.py reads it as a word).

- English: each run of number words goes to number-parser (PyPI `number-parser`,
  maintained, tested across languages), which turns it into figures ("two thousand five
  hundred" -> 2500, "a hundred and fifty" -> 150). Then digits said one by one are joined,
  as in a card number or a PIN: "four five six seven" -> 4567. "Oh", "o", "zero" and
  "nought" count as 0 between digits, and "double" and "triple" repeat the next digit, as
  people read numbers aloud in Hong Kong and the UK. Two-digit groups said in a row are
  joined too: "fifteen oh five" -> 1505, "twenty twenty four" -> 2024.
- Chinese, Cantonese included: cn2an (PyPI `cn2an`, maintained) reads each run of numerals
  that is a number: one with a magnitude (三千五百, 兩萬三), or a single numeral before a
  money unit (五蚊). Two Cantonese habits are handled first:
  - colloquial short forms: "三千五" -> 3500, "兩萬三" -> 23000, "千五" -> 1500 (a bare 千 or
    百; a bare 萬 is left, since 萬一 means "in case");
  - digits read one by one, which keep their leading zeros: "零九八七" -> 0987, where cn2an
    alone would read the number 987.
  A run after 第 is an ordinal and stays.
"""

from __future__ import annotations

import re
import warnings

from twinteller.knowledge.text import reads_chinese

_DIGIT_WORDS = {"oh": "0", "o": "0", "zero": "0", "nought": "0"}
_REPEAT = {"double": 2, "triple": 3}
_CARDINALS = set(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand "
    "million billion".split()
)
_SCALES = {"hundred", "thousand", "million", "billion"}
_DIGITISH = _CARDINALS | set(_DIGIT_WORDS)  # words a digit word may stand beside
_WORD = re.compile(r"(\S+?)([.,!?;:]*)$")
_CHINESE_DIGITS = "零一二三四五六七八九"
_NUMERAL_RUN = re.compile(r"(?<!第)[零〇一二三四五六七八九十百千萬万億亿兩两]+")
_MAGNITUDE = re.compile(r"[十百千萬万億亿]")
_MONEY = re.compile(r"蚊|元|圓|圆|塊|块|港元|港幣|港币|美元|美金|英鎊|英镑|歐元|欧元|人民幣|人民币")
_TOKEN = re.compile(r"\S+")


def normalise(text: str) -> str:
    """`text` with its numbers written as figures, in English or Chinese."""
    if not text.strip():
        return text
    return _chinese(text) if reads_chinese(text) else _english(text)


def _english(text: str) -> str:
    from number_parser import parse

    tokens = _TOKEN.findall(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        end = _run_end(tokens, i)
        if end == i:
            out.append(tokens[i])
            i += 1
            continue
        run = " ".join(tokens[i:end])
        run = "one" + run[1:] if run.lower().startswith("a ") else run  # "a hundred" is one hundred
        lone_one = end - i == 1 and _bare(tokens[i]) == "one"
        out.append(run if lone_one else _joined(parse(run)))
        i = end
    return " ".join(out)


def _bare(token: str) -> str:
    return _WORD.match(token.lower()).group(1)  # type: ignore[union-attr]


def _number_word(tokens: list[str], i: int) -> bool:
    """Token `i` is part of a spoken number: a cardinal ("twenty-five" too), a digit word
    beside another number word, "double"/"triple" before one, "a" before a scale, "and"
    between two."""
    word = _bare(tokens[i])
    after = _bare(tokens[i + 1]) if i + 1 < len(tokens) else ""
    before = _bare(tokens[i - 1]) if i > 0 else ""
    if all(part in _CARDINALS for part in word.split("-")) or word.isdigit():
        return True
    if word in _DIGIT_WORDS:
        return before in _DIGITISH or after in _DIGITISH or before.isdigit() or after.isdigit()
    if word in _REPEAT:
        return after in _DIGITISH or after.isdigit()
    if word == "a":
        return after in _SCALES
    if word == "and":
        return before in _CARDINALS and after in _CARDINALS
    return False


def _run_end(tokens: list[str], start: int) -> int:
    """The end of the run of number words starting at `start` (== start: none); a run ends
    after a word with trailing punctuation, and plain figures alone are no run."""
    end = start
    while end < len(tokens) and _number_word(tokens, end):
        end += 1
        if _WORD.match(tokens[end - 1]).group(2):  # type: ignore[union-attr]
            break
    if all(tokens[k].strip(".,!?;:").isdigit() for k in range(start, end)) and end - start < 2:
        return start
    return end


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
    return _NUMERAL_RUN.sub(lambda m: _numeral(m.group(), text[m.end() :]), text)


def _numeral(run: str, after: str) -> str:
    """A run of Chinese numerals as figures, when it is a number (see the module)."""
    import cn2an

    if len(run) >= 2 and all(c in _CHINESE_DIGITS for c in run):
        return "".join(str(_CHINESE_DIGITS.index(c)) for c in run)  # read one by one
    number = len(run) >= 2 and _MAGNITUDE.search(run) and run[0] not in "萬万億亿"
    if not (number or _MONEY.match(after)):
        return run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns about what it cannot read
        try:
            return str(cn2an.cn2an("一" + run if run[0] in "千百" else run, "smart"))  # 千五 is 一千五
        except (ValueError, KeyError, IndexError):
            return run
