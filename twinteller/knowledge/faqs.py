"""The editable knowledge base: FAQ entries as knowledge managers write them, their checks,
and the CSV and JSON files they import and export.

An entry is stored in etcd as JSON under `kb/faqs/<id>`. Text is kept exactly as given
(byte for byte: no trimming, no normalisation), so export -> import round-trips exactly.
Import is all or nothing: every row is checked first, and one bad row rejects the file
with the reason for each bad row.

CSV columns (header row required, any order; only `id`, `title` and `answer` are
required): id, title, answer, questions (one per line inside the cell), tags (separated
by "|"), effective_from, expires_at (YYYY-MM-DD), enabled (true/false, default true),
slots ("|"), slot_answer, and `answer:<channel>` for a channel's own answer
(`answer:ivr`, `answer:app`). JSON: {"faqs": [{...the same fields, lists as lists,
"channel_answers": {...}}]}.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import string
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from twinteller.errors import InvalidArgument
from twinteller.knowledge import languages
from twinteller.knowledge.schema import Faq, FaqText

ID_PATTERN = re.compile(r"[A-Za-z0-9_.?\-]{1,64}")
# router/conversation/slots.py reads them; card_last_four is a card's last four digits (kept
# masked in every record, twinteller/knowledge/masking.py).
SLOT_NAMES = ("amount", "currency", "card_type", "card_last_four")
MAX_TITLE = 200
MAX_ANSWER_BYTES = 4096
MAX_QUESTION_BYTES = 512
MAX_QUESTIONS = 2000
MAX_TAGS = 20
MAX_TAG = 64
MAX_CHANNEL = 32
MAX_ROWS = 1000  # one import is one etcd transaction
LIST_SEPARATOR = "|"
CSV_COLUMNS = [
    "id",
    "title",
    "answer",
    "questions",
    "tags",
    "effective_from",
    "expires_at",
    "enabled",
    "slots",
    "slot_answer",
]
CHANNEL_PREFIX = "answer:"
# A translated column: `<column>@<language>` (title@zh-Hant, answer:ivr@zh-Hans).
LANGUAGE_SEPARATOR = "@"
TRANSLATED_COLUMNS = ("title", "answer", "slot_answer")
BOM = b"\xef\xbb\xbf"
# The largest valid questions cell must read back (Python's CSV default is 128 KiB a cell).
csv.field_size_limit(max(csv.field_size_limit(), MAX_QUESTIONS * (MAX_QUESTION_BYTES + 1) + MAX_ANSWER_BYTES))


@dataclass(frozen=True)
class FaqRecord:
    id: str
    title: str
    answer: str
    channel_answers: dict[str, str] = field(default_factory=dict)
    questions: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    effective_from: str = ""
    expires_at: str = ""
    enabled: bool = True
    slots: list[str] = field(default_factory=list)
    slot_answer: str = ""
    # Its texts in other languages (twinteller/knowledge/languages.py): language -> texts.
    translations: dict[str, FaqText] = field(default_factory=dict)
    updated_by: str = ""
    updated_at: float = 0.0

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["translations"] = {language: text.to_dict() for language, text in self.translations.items()}
        return data

    @classmethod
    def from_json(cls, raw: str | bytes) -> FaqRecord:
        data = json.loads(raw)
        texts = data.pop("translations", {})
        return cls(**data, translations={language: FaqText.from_dict(t) for language, t in texts.items()})

    def stamped(self, actor: str, at: float) -> FaqRecord:
        return replace(self, updated_by=actor, updated_at=at)

    def live(self, today: datetime.date) -> bool:
        """Enabled, and within its effective dates: part of the next trained model."""
        if not self.enabled:
            return False
        if self.effective_from and today < datetime.date.fromisoformat(self.effective_from):
            return False
        return not (self.expires_at and today >= datetime.date.fromisoformat(self.expires_at))

    def to_faq(self) -> Faq:
        return Faq(
            self.id,
            self.title,
            self.answer,
            tuple(self.questions),
            tuple(self.slots),
            self.slot_answer,
            dict(self.channel_answers),
            tuple(self.tags),
            dict(self.translations),
        )

    @classmethod
    def from_faq(cls, faq: Faq) -> FaqRecord:
        return cls(faq.id, faq.title, faq.answer, questions=list(faq.questions), slots=list(faq.slots),
                   slot_answer=faq.slot_answer, translations=dict(faq.translations))  # fmt: skip


def _date(value: str, name: str) -> None:
    if value:
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            raise InvalidArgument(f"{name}: {value!r} is not a date YYYY-MM-DD") from None
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise InvalidArgument(f"{name}: {value!r} is not a date YYYY-MM-DD")


def _utf8(value: str, name: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from a JSON "\ud800" escape
        raise InvalidArgument(f"{name}: not valid Unicode") from None


def _bounded(value: str, name: str, max_bytes: int, *, required: bool = False) -> None:
    if required and not value.strip():
        raise InvalidArgument(f"{name}: required")
    size = len(_utf8(value, name))
    if size > max_bytes:
        raise InvalidArgument(f"{name}: {size} bytes, at most {max_bytes} allowed")


def validate(record: FaqRecord) -> FaqRecord:
    """The record if every field is acceptable; else InvalidArgument naming the field."""
    if not ID_PATTERN.fullmatch(record.id):
        raise InvalidArgument(f"id: {record.id!r} must be 1-64 of letters, digits and _ . ? -")
    _bounded(record.title, "title", MAX_TITLE, required=True)
    _bounded(record.answer, "answer", MAX_ANSWER_BYTES, required=True)
    _channel_answers(record.channel_answers, "channel_answers")
    if len(record.questions) > MAX_QUESTIONS:
        raise InvalidArgument(f"questions: {len(record.questions)}, at most {MAX_QUESTIONS} allowed")
    for n, question in enumerate(record.questions, 1):
        _bounded(question, f"questions[{n}]", MAX_QUESTION_BYTES, required=True)
        if "\n" in question or "\r" in question:
            raise InvalidArgument(f"questions[{n}]: one question per entry, without line breaks")
    if len(set(record.questions)) != len(record.questions):
        raise InvalidArgument("questions: the same question is listed twice")
    if len(record.tags) > MAX_TAGS:
        raise InvalidArgument(f"tags: {len(record.tags)}, at most {MAX_TAGS} allowed")
    for tag in record.tags:
        _utf8(tag, "tags")
        if not tag or len(tag) > MAX_TAG or LIST_SEPARATOR in tag:
            raise InvalidArgument(f"tags: {tag!r} must be 1-{MAX_TAG} characters without '|'")
    _date(record.effective_from, "effective_from")
    _date(record.expires_at, "expires_at")
    if record.effective_from and record.expires_at and record.expires_at <= record.effective_from:
        raise InvalidArgument("expires_at: must be after effective_from")
    unknown = [s for s in record.slots if s not in SLOT_NAMES]
    if unknown:
        raise InvalidArgument(f"slots: {unknown} unknown; known slots are {list(SLOT_NAMES)}")
    if record.slots and not record.slot_answer.strip():
        raise InvalidArgument("slot_answer: required when slots are given")
    _slot_answer(record.slot_answer, record.slots, "slot_answer")
    for language, text in record.translations.items():
        _translation(language, text, record.slots)
    return record


def _channel_answers(answers: dict[str, str], name: str) -> None:
    for channel, answer in answers.items():
        if not channel or len(channel) > MAX_CHANNEL or not re.fullmatch(r"[a-z0-9_\-]+", channel):
            raise InvalidArgument(f"{name}: channel {channel!r} must be 1-32 of a-z 0-9 _ -")
        _bounded(answer, f"{name}[{channel}]", MAX_ANSWER_BYTES, required=True)


def _slot_answer(template: str, slots: list[str], name: str) -> None:
    try:
        used = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as e:
        raise InvalidArgument(f"{name}: {e}") from None
    if used - set(slots):
        raise InvalidArgument(f"{name}: uses {sorted(used - set(slots))}, which are not in slots")
    try:  # the router fills it with strings: nested fields, conversions or formats would break it
        template.format(**{slot: "0" for slot in slots})
    except (KeyError, ValueError, IndexError, AttributeError) as e:
        raise InvalidArgument(f"{name}: cannot be filled in: {type(e).__name__} {e}") from None
    _bounded(template, name, MAX_ANSWER_BYTES)


def _translation(language: str, text: FaqText, slots: list[str]) -> None:
    """A translation's texts are checked as the entry's own; an empty one is refused (leave
    it out: every text falls back along languages.chain by itself)."""
    name = f"translations[{language}]"
    if language not in languages.TRANSLATED:
        raise InvalidArgument(f"translations: unknown language {language!r}; known: {list(languages.TRANSLATED)}")
    if not (text.title or text.answer or text.channel_answers or text.slot_answer):
        raise InvalidArgument(f"{name}: empty; give a title or an answer, or leave the language out")
    _bounded(text.title, f"{name}.title", MAX_TITLE)
    _bounded(text.answer, f"{name}.answer", MAX_ANSWER_BYTES)
    _channel_answers(text.channel_answers, f"{name}.channel_answers")
    if text.slot_answer and not slots:
        raise InvalidArgument(f"{name}.slot_answer: the entry has no slots")
    _slot_answer(text.slot_answer, slots, f"{name}.slot_answer")


# -- files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based data row (CSV: not counting the header)
    id: str
    reason: str


def _split(cell: str) -> list[str]:
    return cell.split(LIST_SEPARATOR) if cell else []


def _enabled(cell: str) -> bool:
    value = cell.strip().lower()
    if value in ("", "true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise InvalidArgument(f"enabled: {cell!r} is not true or false")


def _translated_column(column: str) -> tuple[str, str] | None:
    """("answer:ivr", "zh-Hant") for `answer:ivr@zh-Hant`; None for a column of the entry's
    own language; InvalidArgument for a translated column that is not one."""
    base, separator, language = column.partition(LANGUAGE_SEPARATOR)
    if not separator:
        return None
    if language not in languages.TRANSLATED:
        raise InvalidArgument(f"content: column {column!r}: unknown language; known: {list(languages.TRANSLATED)}")
    if base not in TRANSLATED_COLUMNS and not base.startswith(CHANNEL_PREFIX):
        raise InvalidArgument(
            f"content: column {column!r}: only {list(TRANSLATED_COLUMNS)} and answer:<channel> are translated"
        )
    return base, language


def _translations(cells: dict[str, str]) -> dict[str, FaqText]:
    found: dict[str, dict[str, Any]] = {}
    for column, value in cells.items():
        translated = _translated_column(column)
        if translated is None or not value:
            continue
        base, language = translated
        fields = found.setdefault(language, {"channel_answers": {}})
        if base.startswith(CHANNEL_PREFIX):
            fields["channel_answers"][base[len(CHANNEL_PREFIX) :]] = value
        else:
            fields[base] = value
    return {language: FaqText(**fields) for language, fields in sorted(found.items())}


def _csv_row(row: dict[str, str | None]) -> FaqRecord:
    if None in row:
        raise InvalidArgument("more cells than header columns")
    cells = {k: v or "" for k, v in row.items()}
    own = {k: v for k, v in cells.items() if LANGUAGE_SEPARATOR not in k}
    channels = {k[len(CHANNEL_PREFIX) :]: v for k, v in own.items() if k.startswith(CHANNEL_PREFIX) and v}
    questions = cells.get("questions", "")
    return FaqRecord(
        id=cells.get("id", ""),
        title=cells.get("title", ""),
        answer=cells.get("answer", ""),
        channel_answers=channels,
        questions=questions.split("\n") if questions else [],
        tags=_split(cells.get("tags", "")),
        effective_from=cells.get("effective_from", ""),
        expires_at=cells.get("expires_at", ""),
        enabled=_enabled(cells.get("enabled", "")),
        slots=_split(cells.get("slots", "")),
        slot_answer=cells.get("slot_answer", ""),
        translations=_translations(cells),
    )


def _json_translations(value: Any) -> dict[str, FaqText]:
    if not isinstance(value, dict):
        raise InvalidArgument("translations: expected an object of languages")
    found = {}
    for language, text in value.items():
        name = f"translations[{language}]"
        if not isinstance(text, dict):
            raise InvalidArgument(f"{name}: expected an object")
        unknown = sorted(set(text) - set(FaqText.__dataclass_fields__))
        if unknown:
            raise InvalidArgument(f"{name}: unknown fields {unknown}")
        for field_name, field_value in text.items():
            kind = dict if field_name == "channel_answers" else str
            if not isinstance(field_value, kind):
                raise InvalidArgument(f"{name}.{field_name}: expected {kind.__name__}")
            if isinstance(field_value, dict) and not all(
                isinstance(k, str) and isinstance(v, str) for k, v in field_value.items()
            ):
                raise InvalidArgument(f"{name}.{field_name}: expected an object of strings")
        found[language] = FaqText(**text)
    return found


def _json_row(item: Any) -> FaqRecord:
    if not isinstance(item, dict):
        raise InvalidArgument("not a JSON object")
    known = set(FaqRecord.__dataclass_fields__) - {"updated_by", "updated_at"}
    unknown = sorted(set(item) - known)
    if unknown:
        raise InvalidArgument(f"unknown fields {unknown}")
    kinds: dict[str, type] = {"channel_answers": dict, "questions": list, "tags": list, "slots": list, "enabled": bool}
    item = dict(item)
    translations = _json_translations(item.pop("translations", {}))
    for name, value in item.items():
        kind = kinds.get(name, str)
        if not isinstance(value, kind):
            raise InvalidArgument(f"{name}: expected {kind.__name__}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise InvalidArgument(f"{name}: expected a list of strings")
        if isinstance(value, dict) and not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise InvalidArgument(f"{name}: expected an object of strings")
    return FaqRecord(**{"id": "", "title": "", "answer": "", **item}, translations=translations)


def parse(content: bytes, fmt: str) -> tuple[list[FaqRecord], list[RowProblem]]:
    """Every row of a CSV or JSON file, checked: (good records, problems). A file that
    cannot be read at all is an InvalidArgument."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        offset = e.start + (len(BOM) if content.startswith(BOM) else 0)
        raise InvalidArgument(f"content: not valid UTF-8 (byte {offset})") from None
    if fmt == "CSV":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            header = reader.fieldnames or []
        except csv.Error as e:
            raise InvalidArgument(f"content: not readable as CSV: {e}") from None
        if len(set(header)) != len(header):
            raise InvalidArgument(f"content: a CSV column appears twice in {header}")
        missing = [c for c in ("id", "title", "answer") if c not in header]
        if missing:
            raise InvalidArgument(f"content: the CSV header lacks {missing}")
        unknown = [c for c in header if _translated_column(c) is None and c not in CSV_COLUMNS
                   and not c.startswith(CHANNEL_PREFIX)]  # fmt: skip
        if unknown:
            raise InvalidArgument(f"content: unknown CSV columns {unknown}")
        rows: list[Any] = []
        convert: Callable[[Any], FaqRecord] = _csv_row
        try:
            rows = list(reader)
        except csv.Error as e:
            raise InvalidArgument(f"content: not readable as CSV: {e}") from None
    elif fmt == "JSON":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as e:
            raise InvalidArgument(f"content: not valid JSON: {e}") from None
        if not isinstance(data, dict) or not isinstance(data.get("faqs"), list):
            raise InvalidArgument('content: expected {"faqs": [...]}')
        rows, convert = data["faqs"], _json_row
    else:
        raise InvalidArgument("format: CSV or JSON")
    if len(rows) > MAX_ROWS:
        raise InvalidArgument(f"content: {len(rows)} rows, at most {MAX_ROWS} per import; split the file")
    records: list[FaqRecord] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, 1):
        given = row.get("id") if isinstance(row, dict) else None
        row_id = "" if given is None else str(given)
        try:
            record = validate(convert(row))
        except InvalidArgument as e:
            problems.append(RowProblem(n, row_id, str(e)))
            continue
        if record.id in seen:
            problems.append(RowProblem(n, record.id, f"id: also in row {seen[record.id]}"))
            continue
        seen[record.id] = n
        records.append(record)
    return records, problems


def render(records: list[FaqRecord], fmt: str) -> bytes:
    """A file `parse` reads back into exactly these records (without updated_*)."""
    if fmt == "JSON":
        items = []
        for r in records:
            item = r.to_dict()
            del item["updated_by"], item["updated_at"]
            items.append(item)
        return json.dumps({"faqs": items}, ensure_ascii=False, indent=1).encode()
    if fmt != "CSV":
        raise InvalidArgument("format: CSV or JSON")
    channels = sorted({c for r in records for c in r.channel_answers})
    translated_columns = sorted({c for r in records for c in _translated_cells(r)}, key=_column_order)
    out = io.StringIO(newline="")
    columns = CSV_COLUMNS + [CHANNEL_PREFIX + c for c in channels] + translated_columns
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for r in records:
        row = {
            "id": r.id,
            "title": r.title,
            "answer": r.answer,
            "questions": "\n".join(r.questions),
            "tags": LIST_SEPARATOR.join(r.tags),
            "effective_from": r.effective_from,
            "expires_at": r.expires_at,
            "enabled": "true" if r.enabled else "false",
            "slots": LIST_SEPARATOR.join(r.slots),
            "slot_answer": r.slot_answer,
        }
        row.update({CHANNEL_PREFIX + c: r.channel_answers.get(c, "") for c in channels})
        row.update(_translated_cells(r))
        writer.writerow(row)
    return out.getvalue().encode()


def _translated_cells(record: FaqRecord) -> dict[str, str]:
    cells = {}
    for language, text in record.translations.items():
        for column in TRANSLATED_COLUMNS:
            if getattr(text, column):
                cells[f"{column}{LANGUAGE_SEPARATOR}{language}"] = getattr(text, column)
        for channel, answer in text.channel_answers.items():
            cells[f"{CHANNEL_PREFIX}{channel}{LANGUAGE_SEPARATOR}{language}"] = answer
    return cells


def _column_order(column: str) -> tuple[int, str, int, str]:
    """Translated columns by language (in languages.TRANSLATED order), then as the entry's own."""
    base, _, language = column.partition(LANGUAGE_SEPARATOR)
    own = TRANSLATED_COLUMNS.index(base) if base in TRANSLATED_COLUMNS else len(TRANSLATED_COLUMNS)
    return languages.TRANSLATED.index(language), language, own, base
