"""The lexicon: colloquial, dialect and misspelt terms mapped to the canonical terms the
model knows ("hole in the wall" -> "atm", "dosh" -> "money", Cantonese "櫃員機" -> "atm",
"唔見咗" -> "丢了"). `model_text` is what the model reads, for every utterance in the
routers (router/conversation/turns.py) and every training question (trainer/), so both
sides speak the same words: the text normalised, Chinese in simplified script (OpenCC:
twinteller/knowledge/languages.py), then in the lexicon's words.

Matching is case-insensitive and longest term first. A term in a script with word
spacing only matches whole words ("quid" not inside "liquid"); a Chinese term matches
wherever it appears, since Chinese has no spaces between words, and in either script:
terms are converted to simplified like the text they are matched in.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from twinteller.errors import InvalidArgument
from twinteller.knowledge.languages import to_simplified
from twinteller.knowledge.text import normalise

SEED_LEXICON = Path(__file__).resolve().parents[1] / "data" / "lexicon.json"
MAX_TERM = 64
_CJK = re.compile(r"[\u3000-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class LexiconEntry:
    term: str
    canonical: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> LexiconEntry:
        return cls(**json.loads(raw))


def validate(entry: LexiconEntry) -> LexiconEntry:
    for name in ("term", "canonical"):
        value = getattr(entry, name)
        if not value.strip() or value != value.strip():
            raise InvalidArgument(f"{name}: required, without leading or trailing spaces")
        if len(value) > MAX_TERM:
            raise InvalidArgument(f"{name}: {len(value)} characters, at most {MAX_TERM} allowed")
    if entry.term.casefold() == entry.canonical.casefold():
        raise InvalidArgument("canonical: the same as the term")
    return entry


class Lexicon:
    def __init__(self, entries: list[LexiconEntry]) -> None:
        folded = ((to_simplified(e.term).casefold(), to_simplified(e.canonical)) for e in entries)
        # A term that was only a script variant is OpenCC's business now, not the lexicon's.
        self._canonical = {term: canonical for term, canonical in folded if term != canonical.casefold()}
        chinese = [t for t in self._canonical if _CJK.search(t)]
        spaced = [t for t in self._canonical if not _CJK.search(t)]
        patterns = ([_trie(chinese)] if chinese else []) + ([rf"(?<!\w){_trie(spaced)}(?!\w)"] if spaced else [])
        self._pattern = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def __len__(self) -> int:
        return len(self._canonical)

    def terms(self) -> set[str]:
        """The terms it rewrites, case-folded (Chinese ones in simplified script)."""
        return set(self._canonical)

    def canonical_words(self) -> list[str]:
        """The words the lexicon rewrites into, each once."""
        return sorted(set(self._canonical.values()))

    def colloquial_terms(self) -> dict[str, list[str]]:
        """Canonical term (casefolded) -> the terms that map to it."""
        out: dict[str, list[str]] = {}
        for term, canonical in self._canonical.items():
            out.setdefault(canonical.casefold(), []).append(term)
        return out

    def apply(self, text: str) -> str:
        """`text` (already normalised and in simplified script) in the lexicon's words."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._canonical[m.group(0).casefold()], text)

    def model_text(self, text: str) -> str:
        """What the model reads of a customer's words or a training question."""
        return self.apply(to_simplified(normalise(text)))


def _trie(terms: list[str]) -> str:
    """One regular expression for `terms`, as a tree of their shared prefixes: with hundreds
    of terms, an alternation of each would be tried term by term at every character (0.4 ms
    a sentence with the grown lexicon; a tenth of that as a tree). A longer term is tried
    before its prefix (greedy), so the longest that fits wins, as before."""
    tree: dict[str, dict] = {}  # type: ignore[type-arg]
    for term in terms:
        node = tree
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}  # a term ends here

    def pattern(node: dict) -> str:  # type: ignore[type-arg]
        ends = "" in node
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if ends else body

    return f"(?:{pattern(tree)})"


def seed_entries() -> list[LexiconEntry]:
    data = json.loads(SEED_LEXICON.read_text(encoding="utf-8"))
    return [validate(LexiconEntry(e["term"], e["canonical"])) for e in data["entries"]]
