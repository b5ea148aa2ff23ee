"""Example texts that a legacy rule's regular expression matches, as training questions
for the FAQ entry the rule becomes (twinteller/migration/plan.py).

Not an enumeration of the language (`.{0,20}` alone has no end of strings): a cover of it.
Every alternative of every branch and every optional part appears in some example, the
other parts taking their first choice, so a pattern with n alternatives at its widest gives
about n examples. A gap (`.{0,20}`, `.*`) becomes a space between words and nothing inside
Chinese; a character class gives its first few members; anchors and look-arounds give nothing.
Matches are checked: an example the pattern does not match is dropped.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from twinteller.knowledge.text import is_cjk

MAX_OPTIONS = 24  # alternatives kept per part: the examples of one rule
CLASS_SAMPLES = 4  # members of a character class used ([码碼] -> both)
GAP = "\x00"  # a stand-in for "any text here", resolved once the example is whole
CATEGORY_SAMPLES = {
    sre_constants.CATEGORY_DIGIT: "1",
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_WORD: "a",
    sre_constants.CATEGORY_NOT_DIGIT: "a",
    sre_constants.CATEGORY_NOT_SPACE: "a",
    sre_constants.CATEGORY_NOT_WORD: " ",
}


def _cover(parts: list[list[str]]) -> list[str]:
    """Concatenations in which every option of every part appears at least once."""
    parts = [p for p in parts if p]
    if not parts:
        return [""]
    width = min(max(len(p) for p in parts), MAX_OPTIONS)
    return ["".join(p[k % len(p)] for p in parts) for k in range(width)]


def _class_sample(items: list[tuple[Any, Any]]) -> list[str]:
    if items and items[0][0] == sre_constants.NEGATE:
        return [" " if items[1:] and items[1] == (sre_constants.LITERAL, ord("a")) else "a"]
    found: list[str] = []
    for op, value in items:
        if op == sre_constants.LITERAL:
            found.append(chr(value))
        elif op == sre_constants.RANGE:
            found.append(chr(value[0]))
        elif op == sre_constants.CATEGORY:
            found.append(CATEGORY_SAMPLES.get(value, "a"))
    return found[:CLASS_SAMPLES]


def _options(node: Any) -> list[str]:
    """The example strings of one parsed regex node (a list of (op, value) items)."""
    return _cover([_item(op, value) for op, value in node])


def _item(op: Any, value: Any) -> list[str]:
    if op == sre_constants.LITERAL:
        return [chr(value)]
    if op == sre_constants.NOT_LITERAL:
        return ["a" if value != ord("a") else "b"]
    if op == sre_constants.ANY:
        return [GAP]
    if op == sre_constants.IN:
        return _class_sample(value)
    if op == sre_constants.BRANCH:
        return [s for branch in value[1] for s in _options(branch)][:MAX_OPTIONS]
    if op == sre_constants.SUBPATTERN:
        return _options(value[-1])
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
        low, _high, body = value
        inner = _options(body)
        if all(s == GAP for s in inner):
            return [GAP]
        once = [s * max(low, 1) for s in inner]
        return ["", *once] if low == 0 else once
    if op == sre_constants.ATOMIC_GROUP:
        return _options(value)
    return [""]  # AT (anchors, \b), ASSERT / ASSERT_NOT, GROUPREF and the like


def _resolve(example: str) -> str:
    """Gaps become a space between words, nothing between Chinese characters."""
    out: list[str] = []
    for i, ch in enumerate(example):
        if ch != GAP:
            out.append(ch)
            continue
        before = next((c for c in reversed(example[:i]) if c != GAP), "")
        after = next((c for c in example[i + 1 :] if c != GAP), "")
        if not (is_cjk(before) or is_cjk(after)):
            out.append(" ")
    return " ".join("".join(out).split())


def examples(pattern: re.Pattern[str], limit: int = MAX_OPTIONS) -> list[str]:
    """Distinct example texts the pattern matches, at most `limit`."""
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError):
        return []
    found: list[str] = []
    for candidate in _options(list(parsed)):
        text = _resolve(candidate)
        if text and text not in found and pattern.search(text):
            found.append(text)
        if len(found) >= limit:
            break
    return found
