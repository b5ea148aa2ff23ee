"""What the dialogue says besides FAQ answers (fallbacks, clarifications, slot prompts, the
handoff and its summary for the agents), in every reply language, from a data file
(twinteller/data/dialogue.json) rather than code, so wording and languages change
without a code change."""

from __future__ import annotations

import json
import string
from pathlib import Path

from twinteller.knowledge import languages
from twinteller.knowledge.schema import DATA_DIR

DIALOGUE = DATA_DIR / "dialogue.json"


class Messages:
    def __init__(self, table: dict[str, dict[str, str]]) -> None:
        for key, texts in table.items():
            missing = set(languages.LANGUAGES) - set(texts)
            if missing:
                raise ValueError(f"message {key!r}: no text in {sorted(missing)}")
            fields = {language: _fields(text) for language, text in texts.items()}
            if len({frozenset(f) for f in fields.values()}) > 1:
                raise ValueError(f"message {key!r}: the languages use different {{placeholders}}: {fields}")
        self._table = table

    @classmethod
    def load(cls, path: Path = DIALOGUE) -> Messages:
        return cls(json.loads(path.read_text(encoding="utf-8"))["messages"])

    def keys(self) -> list[str]:
        return list(self._table)

    def text(self, key: str, language: str, **fields: object) -> str:
        """The message in `language` (English for a language it does not know)."""
        texts = self._table[key]
        return texts.get(language, texts[languages.BASE]).format(**fields)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


MESSAGES = Messages.load()
