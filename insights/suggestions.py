"""Lexicon entries the insights worker proposes from unrecognised queries.

A query that is one word away from a training question ("where is my dosh" beside "where
is my money") most likely names that word in a way the model does not know: the pair
(dosh -> money) is proposed as a lexicon entry, through maker-checker, for a knowledge
manager to approve or reject (insights/insight_worker.py writes the proposals). One word
away means the same words in the same order but one, after the lexicon's own rewriting,
on both sides. Not proposed:
- a term the training questions already use (mapping a known word elsewhere would change
  what the model reads in every question that uses it), or the lexicon already has;
- words with digits (amounts, ids) and words of one letter;
- a term the queries tie to more than one word equally often (ambiguous);
- Chinese: it has no spaces between words, so "one word away" is not read off the text.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from twinteller.knowledge.text import reads_chinese

MIN_WORDS = 3  # shorter questions share too much by chance ("my card" / "my pin")
EXAMPLES = 3


@dataclass(frozen=True)
class Suggestion:
    term: str
    canonical: str
    queries: tuple[str, ...]  # the unrecognised queries that used it, up to EXAMPLES
    question: str  # one training question the first of them is one word away from
    support: int  # how many distinct queries


_PUNCTUATION = '.,!?;:"()[]'


def words(text: str) -> list[str]:
    stripped = (w.strip(_PUNCTUATION) for w in text.casefold().split())
    return [w for w in stripped if w]


class Index:
    """The training questions by every way of leaving one word out."""

    def __init__(self, questions: list[str]) -> None:
        self.vocabulary: set[str] = set()
        self._gaps: dict[tuple[tuple[str, ...], tuple[str, ...]], dict[str, str]] = defaultdict(dict)
        for question in questions:
            said = words(question)
            self.vocabulary.update(said)
            if len(said) >= MIN_WORDS:
                for i, word in enumerate(said):
                    self._gaps[(tuple(said[:i]), tuple(said[i + 1 :]))].setdefault(word, question)

    def fillers(self, said: list[str], i: int) -> dict[str, str]:
        """The words that stand at position `i` of a training question otherwise the same as
        `said`, each with one such question."""
        return self._gaps.get((tuple(said[:i]), tuple(said[i + 1 :])), {})


def suggest(queries: list[str], index: Index, known_terms: set[str]) -> list[Suggestion]:
    """`queries` and the questions behind `index` as the model reads them (lexicon applied);
    the suggestions, most supported first."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    questions: dict[tuple[str, str], str] = {}
    seen: set[tuple[str, ...]] = set()
    for query in queries:
        said = words(query)
        if reads_chinese(query) or len(said) < MIN_WORDS or tuple(said) in seen:
            continue
        seen.add(tuple(said))
        for i, word in enumerate(said):
            if len(word) < 2 or not word.replace("'", "").isalpha() or word in index.vocabulary or word in known_terms:
                continue
            fillers = index.fillers(said, i)
            if len(fillers) == 1:  # one word fits the gap: else the query says nothing of which
                ((canonical, question),) = fillers.items()
                found[word][canonical] += 1
                examples[(word, canonical)].append(query)
                questions.setdefault((word, canonical), question)
    out = []
    for term, counts in found.items():
        ranked = counts.most_common(2)
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            continue
        canonical, support = ranked[0]
        shown = tuple(examples[(term, canonical)][:EXAMPLES])
        out.append(Suggestion(term, canonical, shown, questions[(term, canonical)], support))
    return sorted(out, key=lambda s: (-s.support, s.term))
