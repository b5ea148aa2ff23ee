"""Automatic question generalisation: extra training variants of an FAQ's questions, so
that recognition holds for phrasings nobody wrote down.

Each variant takes one of an entry's questions and applies one or two edits:
- a typo: a letter swapped with its neighbour, dropped, doubled, or replaced by a key
  next to it on a QWERTY keyboard;
- spacing: two words run together, or a space inside a Chinese sentence;
- a template around the question ("hi, ...", "... please", "请问...");
- slang: a canonical term replaced by one of its colloquial terms from the lexicon.
The variant is then read in the lexicon's words, as the router reads an utterance; slang
alone is mapped straight back and so dropped as a duplicate, slang with a typo in it (a
"hole in teh wall" the lexicon cannot match) survives and teaches the model the term.

Variants are deterministic: the random generator of each one is seeded from the entry
and the question, so a retrain after an edit produces the same texts for the entries
that did not change and the embedding cache (twinteller/model/embeddings.py) still holds them.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable

from twinteller.knowledge.lexicon import Lexicon
from twinteller.knowledge.text import cjk_share, mostly_cjk

# How many variants an entry gets: a share of its questions, at least MIN_EXTRA for an
# entry with a handful of questions, at most MAX_EXTRA for one with hundreds.
RATIO = 0.6
MIN_EXTRA = 12
MAX_EXTRA = 120
ATTEMPTS = 4  # tries per variant before giving up on a question that yields duplicates

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
NEIGHBOURS = {
    key: "".join(
        _ROWS[r][c]
        for r in range(len(_ROWS))
        for c in range(len(_ROWS[r]))
        if abs(r - row) <= 1 and abs(c - col) <= 1 and (r, c) != (row, col)
    )
    for row, keys in enumerate(_ROWS)
    for col, key in enumerate(keys)
}
_WORD = re.compile(r"\w+")
_ENGLISH_TEMPLATES = (
    "hi, {}",
    "hello {}",
    "{} please",
    "can you tell me {}",
    "i need help: {}",
    "quick question, {}",
    "{} thanks",
    "excuse me, {}",
)
_CHINESE_TEMPLATES = ("请问{}", "你好，{}", "{}谢谢", "我想问一下{}", "{}？麻烦告诉我", "您好，请问{}")


def budget(questions: int) -> int:
    return min(MAX_EXTRA, max(MIN_EXTRA, round(RATIO * questions))) if questions else 0


def _typo(text: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(text) if c.isascii() and c.isalpha()]
    if not letters:
        return text
    i = rng.choice(letters)
    kind = rng.randrange(4)
    if kind == 0 and i + 1 < len(text):  # transposition
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:  # deletion
        return text[:i] + text[i + 1 :]
    if kind == 2:  # doubled letter
        return text[: i + 1] + text[i] + text[i + 1 :]
    near = NEIGHBOURS.get(text[i].lower(), "")
    return text[:i] + rng.choice(near) + text[i + 1 :] if near else text


def _spacing(text: str, rng: random.Random) -> str:
    if mostly_cjk(text):
        i = rng.randrange(1, len(text)) if len(text) > 1 else 0
        return text[:i] + " " + text[i:]
    gaps = [m.start() for m in re.finditer(r"(?<=\w) (?=\w)", text)]
    if not gaps:
        return text
    i = rng.choice(gaps)
    return text[:i] + text[i + 1 :]


def _template(text: str, rng: random.Random) -> str:
    templates = _CHINESE_TEMPLATES if mostly_cjk(text) else _ENGLISH_TEMPLATES
    return rng.choice(templates).format(text.rstrip("?？.。!！") if rng.random() < 0.5 else text)


class Generaliser:
    """Variants of FAQ questions, in the lexicon's words."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        # Chinese terms are left out: a typo cannot be made in them, so a substituted
        # Chinese term is always mapped straight back.
        self._colloquial = {
            c: kept
            for c, terms in lexicon.colloquial_terms().items()
            if not cjk_share(c) and (kept := [t for t in terms if not cjk_share(t)])
        }
        canonical = sorted(self._colloquial, key=len, reverse=True)
        self._canonical = (
            re.compile("|".join(rf"(?<!\w){re.escape(c)}(?!\w)" for c in canonical), re.IGNORECASE)
            if canonical
            else None
        )
        self._edits: tuple[Callable[[str, random.Random], str], ...] = (
            _typo,
            _typo,
            _spacing,
            _template,
            self._slang,
        )

    def _slang(self, text: str, rng: random.Random) -> str:
        """Replace one canonical term with a colloquial one, then misspell the term half of
        the time (the lexicon would map it straight back otherwise)."""
        found = list(self._canonical.finditer(text)) if self._canonical else []
        if not found:
            return _typo(text, rng)
        match = rng.choice(found)
        term = rng.choice(self._colloquial[match.group(0).casefold()])
        if rng.random() < 0.5:
            term = _typo(term, rng)
        return text[: match.start()] + term + text[match.end() :]

    def variants(self, entry_id: str, questions: list[str]) -> list[str]:
        """budget(len(questions)) new texts for one entry, none equal to a question."""
        # A question as the trainer reads it and as the router would read it (normalised):
        # a variant whose edits came to nothing but the normalisation is no variant.
        seen = {self._lexicon.model_text(q) for q in questions}
        out: list[str] = []
        wanted = budget(len(questions))
        for n in range(wanted):
            question = questions[n * len(questions) // wanted]  # spread over the questions
            seed = hashlib.sha256(f"{entry_id}\0{n}\0{question}".encode()).digest()
            rng = random.Random(seed)
            for _ in range(ATTEMPTS):
                text = question
                for edit in rng.sample(self._edits, rng.choice((1, 2))):
                    text = edit(text, rng)
                text = self._lexicon.model_text(text)
                if text not in seen:
                    seen.add(text)
                    out.append(text)
                    break
        return out
