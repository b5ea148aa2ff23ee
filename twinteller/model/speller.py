"""Misspelt English words corrected against the model's own vocabulary before it reads a
text: "my crad hasnt arived" is read as "my card hasnt arrived".

SymSpell (PyPI `symspellpy`: symmetric-delete lookup, Damerau edits, a maintained library
rather than our own edit-distance code) over a dictionary built from what the model was
trained on (the training questions in the lexicon's words, the lexicon's terms, the FAQ
titles), so a domain word ("sepa", "topup", "chargeback") is a known word and never
"corrected" away, and a correction is always a word the model knows. Left alone:
- words the dictionary knows, and words of ordinary English (the 60,000 most frequent of
  the English word list symspellpy ships): "ending" is not a misspelling of "pending",
  nor "cars" of "card" (a real-word slip stays: a wrong correction into a banking word
  would be a confident wrong answer), and words of one or two letters;
- anything with a digit in it (amounts, ids, card ends: "4111", "a1b2"), and
  capitalised acronyms ("HKD", "FPS");
- Chinese, and any other non-Latin script.
One edit for words of up to five letters, two beyond; the most frequent of the nearest.
The customer's words are kept as typed everywhere they are stored: the correction is only
what the model reads (the Triton model applies it to each version's own dictionary).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from symspellpy import SymSpell, Verbosity

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
VOCABULARY_FILE = "vocabulary.json"
MIN_COUNT = 2  # a word seen once in training is no correction target (it may be a typo itself)
ENGLISH_WORDS = 60_000


@functools.cache
def english() -> frozenset[str]:
    """Ordinary English words: the most frequent of symspellpy's word list (Google Books
    n-gram counts of the SCOWL words, in the package)."""
    source = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    with source.open(encoding="utf-8") as f:
        return frozenset(line.split(" ", 1)[0] for line, _ in zip(f, range(ENGLISH_WORDS), strict=False))


class Speller:
    def __init__(self, counts: dict[str, int]) -> None:
        self._counts = counts
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in counts.items():
            if count >= MIN_COUNT:
                self._symspell.create_dictionary_entry(word, count)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Speller:
        return cls(dict(Counter(w.lower() for text in texts for w in _WORD.findall(text))))

    def correct(self, text: str) -> str:
        return _WORD.sub(lambda m: self._word(m.group()), text)

    def _word(self, word: str) -> str:
        lowered = word.lower()
        if len(word) <= 2 or lowered in self._counts or lowered in english() or (word.isupper() and len(word) <= 5):
            return word
        found = self._symspell.lookup(lowered, Verbosity.TOP, max_edit_distance=1 if len(word) <= 5 else 2)
        return found[0].term if found else word

    def save(self, directory: Path) -> None:
        (directory / VOCABULARY_FILE).write_text(json.dumps(self._counts, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> Speller | None:
        """The speller of a version; None for one built before it."""
        path = directory / VOCABULARY_FILE
        return cls(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None
