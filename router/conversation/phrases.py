"""What a customer's words mean for the conversation, apart from the FAQ intent: asking for
a person, a greeting, backing out, picking one of the offered options, or a follow-up that
only makes sense after the previous turn. English and Chinese (simplified and traditional), matched
on normalised, lower-cased text; no whitespace assumption for Chinese.
"""

from __future__ import annotations

import re

from twinteller.knowledge.languages import to_simplified

_HUMAN = re.compile(
    r"\b(agent|advisor|adviser|operator|representative|human being|real person|someone real|"
    r"(want|need|get|give me) (a|an) (person|human)|(speak|talk|chat) (to|with) "
    r"(a|an|someone|somebody|customer service|your staff|staff))\b|\bhuman\W*$|^human\b"
    r"|人工(?!智能)|真人|客服(?!时间|時間)|轉人工|转人工"
)
# A greeting and nothing else ("hi!", "good morning", "你好", "哈囉", "早晨"): answered with
# a greeting, not counted as a question the bot could not place.
_GREETING = re.compile(
    r"^(hi|hiya|hello|hey|hey there|hi there|hello there|good (morning|afternoon|evening)|morning"
    r"|你好|您好|哈囉|哈啰|嗨|早晨|早上好|早安|午安|晚上好|喂)[\s!！.。~～,，]*$"
)
_CANCEL = re.compile(
    r"^(cancel|never ?mind|forget (it|that)|stop|skip( it)?|no thanks|i don'?t know|not sure|doesn'?t matter)\b"
    r"|^(算了|取消|不用了|唔使|不知道)"
)
_FOLLOW_UP_START = re.compile(r"^(and|what about|how about|also|so|then|but|what if)\b|^(那|那麼|那么|還有|还有)")
_FOLLOW_UP_WORD = re.compile(r"\b(that|it|this|those|them|these|one)\b|(呢|這個|这个|那個|那个)")
_WORDS = re.compile(r"[a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u9fff]")

# "the second one", "2", "option 2", "第二个": 1-based positions; "last" is -1.
_ORDINALS = {
    "1": 1, "one": 1, "first": 1, "1st": 1, "一": 1,
    "2": 2, "two": 2, "second": 2, "2nd": 2, "二": 2, "两": 2,
    "3": 3, "three": 3, "third": 3, "3rd": 3, "三": 3,
    "4": 4, "four": 4, "fourth": 4, "4th": 4, "四": 4,
    "last": -1, "最后": -1, "最後": -1,
}  # fmt: skip
_ORDINAL = re.compile(
    r"^(?:the |option |number |no\.? |#)?(1st|2nd|3rd|4th|first|second|third|fourth|last|one|two|three|four|[1-4])"
    r"(?: one| option)?[.!]?$"
    r"|^第?([一二两三四])(?:个|個|項|项)?$|^(最后|最後)(?:一个|一個)?$"
)
_STOP = {
    "the", "a", "an", "my", "i", "to", "of", "and", "or", "for", "in", "on", "is", "it", "one", "about", "with",
    "how", "what", "do", "does", "can", "you", "me", "please", "that", "this",
}  # fmt: skip


def _title_terms(text: str) -> set[str]:
    """The words of a choice or a title: Latin words, and pairs of Chinese characters (in
    simplified script, so either script matches)."""
    han = to_simplified("".join(c if _CJK.match(c) else " " for c in text))
    pairs = {han[i : i + 2] for i in range(len(han) - 1) if " " not in han[i : i + 2]}
    return (set(_WORDS.findall(text)) - _STOP) | pairs


def wants_human(text: str) -> bool:
    return bool(_HUMAN.search(text.lower()))


def greets(text: str) -> bool:
    return bool(_GREETING.match(text.lower().strip()))


def cancels(text: str) -> bool:
    return bool(_CANCEL.search(text.lower().strip()))


def is_follow_up(text: str) -> bool:
    """Short, and leaning on what was said before ("and how long does that take?")."""
    lowered = text.lower().strip()
    size = len(_WORDS.findall(lowered)) + len(_CJK.findall(lowered))
    return size <= 12 and bool(_FOLLOW_UP_START.search(lowered) or _FOLLOW_UP_WORD.search(lowered))


def is_ordinal(text: str) -> bool:
    """Only a position ("2", "the second one", "第二个"), no other words."""
    return bool(_ORDINAL.match(text.lower().strip().rstrip("?!.。！？")))


def choice(text: str, titles: list[str]) -> int | None:
    """Which of the offered options (0-based) the customer picked, by position or by the
    words of its title; None when the answer names none of them, or several."""
    lowered = text.lower().strip().rstrip("?!.。！？")
    match = _ORDINAL.match(lowered)
    if match:
        position = _ORDINALS[next(g for g in match.groups() if g)]
        index = len(titles) - 1 if position == -1 else position - 1
        return index if 0 <= index < len(titles) else None
    words = _title_terms(lowered)
    overlaps = [len(words & _title_terms(t.lower())) for t in titles]
    best = max(overlaps, default=0)
    if best == 0 or overlaps.count(best) > 1:
        return None
    return overlaps.index(best)
