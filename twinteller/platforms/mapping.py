"""What every platform importer turns an export into, and the report that says what came
across and what could not (README "Moving in from another platform").

An importer (rasa.py, dialogflow.py, lex.py, qna.py, aiml.py) reads an `Export` (the
files of a folder or zip, or one file) and returns `Converted`: FAQ entries (one per
intent, QnA pair or AIML category group: its examples as training questions, its static
answers per language and channel), lexicon entries (synonyms and entity values -> their
canonical value), and a `Report`: per kind of thing, how many the export has and how many
came across, and every thing left out with where it appeared and why. Nothing is dropped
without a line in the report.

A malformed export raises `SourceError` (an InvalidArgument) naming the file and the line
or key: the import is all or nothing, so nothing is written.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import yaml

from twinteller.errors import InvalidArgument
from twinteller.knowledge import languages
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.lexicon import LexiconEntry

PLATFORMS = ("rasa", "dialogflow-es", "dialogflow-cx", "lex-v2", "qna", "aiml")
MAX_ID = 64


class SourceError(InvalidArgument):
    """A malformed export: `file`, where in it (a line "line 3" or a key path), and what."""

    def __init__(self, file: str, where: str, what: str) -> None:
        place = f"{file}: {where}" if where else file
        super().__init__(f"{place}: {what}")


@dataclass(frozen=True)
class Export:
    """An export as the platform writes it: path (POSIX, relative to the folder or zip
    root; a single file: its name) -> bytes."""

    files: dict[str, bytes]

    def names(self, pattern: str = "*") -> list[str]:
        """The paths matching a glob (`*` also crosses `/`), sorted."""
        return sorted(name for name in self.files if fnmatch.fnmatch(name, pattern))

    def find(self, suffix: str) -> list[str]:
        """The paths ending in `suffix` (e.g. "agent.json" at any depth), sorted."""
        return sorted(name for name in self.files if name == suffix or name.endswith("/" + suffix))

    def text(self, name: str) -> str:
        if name not in self.files:
            raise SourceError(name, "", "missing from the export")
        raw = self.files[name]
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise SourceError(name, f"byte {e.start}", "not UTF-8 text") from None

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.text(name))
        except json.JSONDecodeError as e:
            raise SourceError(name, f"line {e.lineno} column {e.colno}", f"not valid JSON: {e.msg}") from None

    def yaml(self, name: str) -> Any:
        try:
            return yaml.safe_load(self.text(name))
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark
            where = f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
            raise SourceError(name, where, f"not valid YAML: {e.problem or e}") from None
        except yaml.YAMLError as e:
            raise SourceError(name, "", f"not valid YAML: {e}") from None


@dataclass(frozen=True)
class Omission:
    where: str  # "domain.yml: actions[2]", "intents/Order Pizza.json: webhookUsed"
    what: str  # "custom action action_check_balance"
    reason: str  # "custom actions run code; twinteller answers from static text"


@dataclass
class Report:
    platform: str
    present: Counter[str] = field(default_factory=Counter)  # kind -> how many the export has
    imported: Counter[str] = field(default_factory=Counter)  # kind -> how many came across
    omitted: list[Omission] = field(default_factory=list)
    detected: bool = False  # the platform was told by the content, not by --format

    def omit(self, where: str, what: str, reason: str) -> None:
        self.omitted.append(Omission(where, what, reason))

    def to_dict(self) -> dict[str, Any]:
        kinds = sorted(set(self.present) | set(self.imported))
        return {
            "platform": self.platform,
            "detected": self.detected,
            "counts": {k: {"present": self.present[k], "imported": self.imported[k]} for k in kinds},
            "omitted": [{"where": o.where, "what": o.what, "reason": o.reason} for o in self.omitted],
        }


@dataclass(frozen=True)
class Converted:
    faqs: list[FaqRecord]
    lexicon: list[LexiconEntry]
    report: Report


def faq_id(name: str) -> str:
    """A stable FAQ id from a source name ("Default Welcome Intent" -> "default_welcome_intent",
    "faq/ask_fees" -> "faq.ask_fees"): the same name always gives the same id, so a re-import
    updates the entries it made. A name with characters an id cannot hold (e.g. Chinese), or
    too long, keeps a short hash of the whole name, so two such names never meet."""
    slug = re.sub(r"[^a-z0-9_.?-]+", "_", name.strip().lower().replace("/", ".")).strip("_.")
    if not slug or len(slug) > MAX_ID or not name.isascii():
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        slug = f"{(slug or 'intent')[: MAX_ID - 9]}_{digest}"
    return slug


class Ids:
    """FAQ ids for one export's names: `faq_id`, unless two names of the export would share
    one ("Check balance" and "check_balance"): the second keeps a hash of its name."""

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}

    def of(self, name: str) -> str:
        wanted = faq_id(name)
        owner = self._owner.setdefault(wanted, name)
        if owner == name:
            return wanted
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        unique = f"{wanted[: MAX_ID - 9]}_{digest}"
        self._owner[unique] = name
        return unique


def language_of(code: str) -> str | None:
    """A platform's language code ("en", "en-US", "zh-HK", "zh-TW", "zh-CN", "zh_Hant") ->
    twinteller's ("en", "zh-Hant", "zh-Hans"), or None (a language twinteller does not answer in)."""
    code = code.replace("_", "-")
    if code.lower().split("-")[0] == "zh" and len(code.split("-")) == 1:
        return languages.HANS  # plain "zh" is mainland Chinese in Dialogflow and Lex
    return languages.from_locale(code)


# -- reading an export's JSON, and shortening text for entries and the report ----------------------


def kind(value: Any) -> str:
    """What a JSON value is, for a message ("a list", "null")."""
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def json_object(value: Any, file: str, where: str) -> dict[str, Any]:
    """`value` if it is a JSON object; a missing one (null) reads as empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SourceError(file, where, f"expected a JSON object, found {kind(value)}")
    return value


def json_list(value: Any, file: str, where: str) -> list[Any]:
    """`value` if it is a JSON list; a missing one (null) reads as empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SourceError(file, where, f"expected a JSON list, found {kind(value)}")
    return value


def json_string(value: Any, file: str, where: str, *, required: bool = False) -> str:
    """`value` if it is a string (non-blank when `required`); a missing one reads as ""."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise SourceError(file, where, f"expected a {'non-empty ' if required else ''}string, found {kind(value)}")
    return value


def short(text: str, limit: int = 60) -> str:
    """`text` on one line, cut to `limit` characters: for the report."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(text: str, max_bytes: int) -> str:
    """`text` cut to `max_bytes` of UTF-8 (with an ellipsis when cut): for an entry's limits."""
    if len(text.encode()) <= max_bytes:
        return text
    return text.encode()[: max_bytes - len("…".encode())].decode(errors="ignore") + "…"
