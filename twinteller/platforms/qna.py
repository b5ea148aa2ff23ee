"""QnA Maker and Azure AI Language custom question answering exports -> FAQ entries
(mapping.py).

What the export is:

- a TSV file (QnA Maker "Export knowledge base", custom question answering "Export as
  TSV"): UTF-8 (a BOM is fine), a header row `Question Answer Source Metadata
  SuggestedQuestions IsContextOnly Prompts QnaId` (custom question answering adds
  `SourceDisplayName`; columns are found by name, in any order, and only Question and
  Answer are required), then one row per question: the rows sharing a QnaId are one pair's
  question and its alternate questions, each repeating the pair's answer. A line break in a
  cell is written as a literal `\\n`. Metadata is `key:value|key:value` (or a JSON list of
  {"name", "value"}); Prompts a JSON list of follow-up prompts {displayOrder, qnaId,
  displayText} (keys in any case); IsContextOnly true/false.
- an xlsx workbook with the same columns in its first sheet; one that arrived unpacked
  into its parts (an xlsx is a zip) is put back together.
- a zip of several of those, one per source; custom question answering adds Settings and
  Synonyms files, which are reported and not read.

How it maps (every thing left out has a line in the report):

- One FAQ entry per pair: id `Ids().of("qna_<QnaId>")` (QnaIds are stable across exports,
  so a re-import updates the entries it made). Rows without a QnaId (a hand-made file) that
  share an answer are one pair, named by its first question. Title: the first question
  (cut to 200 bytes); questions: all of the pair's questions; answer: the answer with each
  literal `\\n` a line break, its markdown kept as written. The text is kept in the
  language it is in: a Chinese knowledge base gives entries whose own text is Chinese (no
  translation is guessed).
- Tags: `imported:qna`, `source:<Source>` (editorial and chit-chat sources alike), and each
  metadata pair as `key:value`; one longer than a tag holds (64 characters) or past 20 tags
  is left out.
- Left out: follow-up prompts (twinteller has no multi-turn prompts; each pair is imported
  on its own), the context-only flag, unaccepted suggested questions (active learning), a
  pair with no question, an answer longer than twinteller's 4096 bytes.

Counts: qna pairs, questions (every non-empty Question cell), alternate questions (all but
a pair's first), metadata (key:value pairs), prompts, sources (distinct Source values).
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl

from twinteller.knowledge.faqs import (
    LIST_SEPARATOR,
    MAX_ANSWER_BYTES,
    MAX_QUESTION_BYTES,
    MAX_QUESTIONS,
    MAX_TAG,
    MAX_TAGS,
    MAX_TITLE,
    FaqRecord,
)
from twinteller.platforms.mapping import Converted, Export, Ids, Report, SourceError, fit, short

PLATFORM = "qna"
TAG = "imported:qna"
COLUMNS = ("Question", "Answer", "Source", "Metadata", "SuggestedQuestions", "IsContextOnly", "Prompts", "QnaId")
REQUIRED = ("Question", "Answer")
KINDS = ("qna pairs", "questions", "alternate questions", "metadata", "prompts", "sources")
# Files of a custom question answering project export that hold no pairs.
PROJECT_FILES = {"settings": "project settings", "synonyms": "synonyms (word alterations)"}
WORKBOOK = "workbook.xlsx"  # an xlsx that arrived unpacked into its parts
_SPECIFIC = {"qnaid", "metadata", "source", "prompts", "iscontextonly", "suggestedquestions"}


@dataclass
class _Row:
    file: str
    place: str  # "line 3" (TSV) or "row 3" (xlsx)
    cells: dict[str, str]  # column, lower case -> cell

    def get(self, column: str) -> str:
        return self.cells.get(column.lower(), "")


@dataclass
class _Pair:
    qna_id: str  # "" for a row without one
    rows: list[_Row]


# -- detect and convert --------------------------------------------------------------------


def detect(export: Export) -> bool:
    """A TSV or xlsx whose header has Question, Answer and a column only QnA exports have."""
    for name, kind in _tables(export):
        try:
            header = _header(export, name, kind)
        except Exception:  # telling is not reading: a file that cannot be read is not one of ours
            continue
        columns = {column.strip().lower() for column in header}
        if {"question", "answer"} <= columns and columns & _SPECIFIC:
            return True
    return False


def convert(export: Export) -> Converted:
    report = Report(PLATFORM)
    for kind in KINDS:
        report.present[kind] += 0
        report.imported[kind] += 0
    rows: list[_Row] = []
    tables = _tables(export)
    for name in sorted(set(export.files) - {name for name, _ in tables} - _workbook_parts(export)):
        report.omit(name, "file", "not a TSV or xlsx file of QnA pairs; not read")
    read = 0
    for name, kind in tables:
        stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
        if stem in PROJECT_FILES and len(tables) > 1:
            report.omit(name, PROJECT_FILES[stem], "a project file, not QnA pairs; not read")
            continue
        rows += _xlsx(name, _workbook(export, name)) if kind == "xlsx" else _tsv(name, export.text(name))
        read += 1
    if not read:
        shown = ", ".join(sorted(export.files)[:5])
        raise SourceError(shown or "export", "", "no TSV or xlsx file of QnA pairs in the export")
    pairs = _pairs(rows)
    ids = Ids()
    names: set[str] = set()
    sources: dict[str, bool] = {}  # source -> came across as a tag
    faqs = []
    for pair in pairs:
        record = _faq(pair, ids, names, report, sources)
        if record is not None:
            faqs.append(record)
    report.present["sources"] += len(sources)
    report.imported["sources"] += sum(sources.values())
    return Converted(faqs, [], report)


# -- files ---------------------------------------------------------------------------------


def _workbook_parts(export: Export) -> set[str]:
    """The files of an xlsx that arrived unpacked, or none."""
    if "[Content_Types].xml" in export.files and "xl/workbook.xml" in export.files:
        return set(export.files)
    return set()


def _tables(export: Export) -> list[tuple[str, str]]:
    """(file, "tsv" or "xlsx") of every file that can hold pairs."""
    if _workbook_parts(export):
        return [(WORKBOOK, "xlsx")]
    found = []
    for name in sorted(export.files):
        base = name.rsplit("/", 1)[-1]
        extension = base.rpartition(".")[2].lower() if "." in base else ""
        content = export.files[name]
        if extension == "xlsx" or (not extension and content.startswith(b"PK\x03\x04")):
            found.append((name, "xlsx"))
        elif extension in ("tsv", "txt") or (not extension and b"\t" in content.split(b"\n", 1)[0]):
            found.append((name, "tsv"))
    return found


def _workbook(export: Export, name: str) -> bytes:
    if name != WORKBOOK or name in export.files:
        return export.files[name]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as packed:
        for part, content in export.files.items():
            packed.writestr(part, content)
    return buffer.getvalue()


def _header(export: Export, name: str, kind: str) -> list[str]:
    if kind == "tsv":
        return export.text(name).split("\n", 1)[0].rstrip("\r").split("\t")
    with _open_workbook(name, _workbook(export, name)) as book:
        first = next(book.worksheets[0].iter_rows(max_row=1, values_only=True), ()) if book.worksheets else ()
        return [_cell(value) for value in first]


def _columns(file: str, place: str, header: list[str]) -> dict[str, int]:
    """Column (lower case) -> its index; SourceError naming the header when Question or
    Answer is missing."""
    columns: dict[str, int] = {}
    for index, column in enumerate(header):
        columns.setdefault(column.strip().lower(), index)
    missing = [column for column in REQUIRED if column.lower() not in columns]
    if missing:
        shown = " | ".join(h.strip() for h in header) if any(h.strip() for h in header) else "(empty)"
        raise SourceError(file, place, f"the header [{shown}] has no {' or '.join(missing)} column")
    return columns


def _tsv(name: str, text: str) -> list[_Row]:
    """The rows of a TSV: one per line (a cell's line breaks are written as a literal \\n,
    so a line is a row; cells are not quoted)."""
    lines = text.split("\n")
    header = lines[0].rstrip("\r").split("\t")
    columns = _columns(name, "line 1", header)
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise SourceError(name, f"line {number}", f"{len(cells)} cells; the header has {len(header)} columns")
        rows.append(_Row(name, f"line {number}", {column: cells[index] for column, index in columns.items()}))
    return rows


@contextlib.contextmanager
def _open_workbook(name: str, content: bytes) -> Iterator[Any]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises zip, XML and its own errors for a file it cannot read
        raise SourceError(name, "", f"not a readable xlsx workbook: {type(e).__name__}: {e}") from None
    try:
        yield book
    finally:
        book.close()


def _xlsx(name: str, content: bytes) -> list[_Row]:
    with _open_workbook(name, content) as book:
        if not book.worksheets:
            raise SourceError(name, "", "the workbook has no sheet")
        values = book.worksheets[0].iter_rows(values_only=True)
        header = [_cell(value) for value in next(values, ())]
        while header and not header[-1].strip():
            header.pop()
        columns = _columns(name, "row 1", header)
        rows = []
        for number, row in enumerate(values, start=2):
            cells = [_cell(value) for value in row]
            if not any(cell.strip() for cell in cells):
                continue
            if any(cell.strip() for cell in cells[len(header) :]):
                raise SourceError(name, f"row {number}", f"a cell past the header's {len(header)} columns")
            cells += [""] * (len(header) - len(cells))
            rows.append(_Row(name, f"row {number}", {column: cells[index] for column, index in columns.items()}))
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- rows -> pairs -> FAQ entries ----------------------------------------------------------


def _pairs(rows: list[_Row]) -> list[_Pair]:
    pairs: dict[str, _Pair] = {}
    for row in rows:
        if not row.get("Answer").strip():
            raise SourceError(row.file, row.place, "no answer")
        qna_id = row.get("QnaId").strip()
        key = f"id {qna_id}" if qna_id else f"answer {row.get('Answer')}"
        pair = pairs.get(key)
        if pair is None:
            pairs[key] = _Pair(qna_id, [row])
            continue
        first = pair.rows[0]
        if qna_id and row.get("Answer") != first.get("Answer"):
            raise SourceError(row.file, row.place, f"QnaId {qna_id}: another answer than on {first.file} {first.place}")
        pair.rows.append(row)
    known = {pair.qna_id for pair in pairs.values() if pair.qna_id}
    for pair in pairs.values():
        for row in pair.rows:
            for i, (target, text) in enumerate(_prompts(row)):
                if target not in known:
                    raise SourceError(
                        row.file, f"{row.place}, Prompts[{i}]", f"prompt {text!r} references missing pair {target}"
                    )
    return list(pairs.values())


def _prompts(row: _Row) -> list[tuple[str, str]]:
    """(target QnaId, display text) of a row's follow-up prompts."""
    cell = row.get("Prompts").strip()
    if not cell:
        return []
    where = f"{row.place}, Prompts"
    try:
        data = json.loads(cell)
    except json.JSONDecodeError as e:
        raise SourceError(row.file, where, f"not valid JSON: {e.msg} at character {e.pos}") from None
    if not isinstance(data, list):
        raise SourceError(row.file, where, "expected a JSON list of prompts")
    prompts = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise SourceError(row.file, f"{where}[{i}]", "expected an object")
        keys = {str(k).lower(): v for k, v in item.items()}
        target = keys.get("qnaid")
        inline = keys.get("qna")
        if target in (None, "", 0) and isinstance(inline, dict):
            target = inline.get("id")
        if target in (None, ""):
            raise SourceError(row.file, f"{where}[{i}]", "no qnaId")
        prompts.append((_cell(target), _cell(keys.get("displaytext"))))
    return prompts


def _metadata(row: _Row) -> list[str]:
    """A row's metadata as key:value texts."""
    cell = row.get("Metadata").strip()
    if not cell:
        return []
    if cell.startswith("["):
        try:
            data = json.loads(cell)
        except json.JSONDecodeError as e:
            raise SourceError(row.file, f"{row.place}, Metadata", f"not valid JSON: {e.msg}") from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise SourceError(row.file, f"{row.place}, Metadata", "expected a list of {name, value}")
        pairs = [(_cell(item.get("name")).strip(), _cell(item.get("value")).strip()) for item in data]
    else:
        pairs = []
        for part in cell.split("|"):
            key, _, value = part.partition(":")
            pairs.append((key.strip(), value.strip()))
    return [f"{key}:{value}" if value else key for key, value in pairs if key or value]


def _faq(pair: _Pair, ids: Ids, names: set[str], report: Report, sources: dict[str, bool]) -> FaqRecord | None:
    first = pair.rows[0]
    name = f"pair {pair.qna_id}" if pair.qna_id else f"the pair of {first.place}"
    where = f"{first.file}: {first.place}"
    report.present["qna pairs"] += 1
    asked = [row for row in pair.rows if row.get("Question").strip()]
    report.present["questions"] += len(asked)
    report.present["alternate questions"] += max(len(asked) - 1, 0)
    metadata = list(dict.fromkeys(_metadata(first)))
    report.present["metadata"] += len(metadata)
    prompts = _prompts(first)
    report.present["prompts"] += len(prompts)
    source = first.get("Source").strip()
    if source:
        sources.setdefault(source, False)
    for i, (target, text) in enumerate(prompts):
        report.omit(
            f"{where}, Prompts[{i}]",
            f"follow-up prompt '{text}' -> pair {target}",
            "twinteller has no multi-turn prompts; both pairs are imported on their own",
        )
    if first.get("IsContextOnly").strip().lower() == "true":
        report.omit(
            f"{where}, IsContextOnly",
            f"context-only {name}",
            "twinteller has no multi-turn context: the pair answers its questions on their own",
        )
    suggested = first.get("SuggestedQuestions").strip()
    if suggested and suggested != "[]":
        report.omit(
            f"{where}, SuggestedQuestions",
            f"suggested questions of {name}",
            "active learning suggestions not accepted in QnA Maker; add the good ones as questions",
        )
    answer = first.get("Answer").replace("\\r\\n", "\n").replace("\\n", "\n")
    if len(answer.encode()) > MAX_ANSWER_BYTES:
        report.omit(
            where,
            f"{name} ('{short(first.get('Question'))}')",
            f"its answer has {len(answer.encode())} bytes; twinteller's answers hold at most {MAX_ANSWER_BYTES}",
        )
        return None
    questions = _questions(pair, report)
    if not questions:
        report.omit(where, name, "no question: twinteller finds an answer by its questions")
        return None
    tags = [TAG]
    candidates = ([(f"source:{source}", "Source", "source")] if source else []) + [
        (tag, "Metadata", "metadata") for tag in metadata
    ]
    for tag, column, kind in candidates:
        if tag in tags:
            reason = ""
        elif len(tag) > MAX_TAG or LIST_SEPARATOR in tag:
            reason = f"a tag holds 1-{MAX_TAG} characters without '{LIST_SEPARATOR}'"
        elif len(tags) >= MAX_TAGS:
            reason = f"an entry holds at most {MAX_TAGS} tags"
        else:
            reason = ""
            tags.append(tag)
        if reason:
            report.omit(f"{where}, {column}", f"{kind} '{tag}' of {name}", reason)
        elif kind == "source":
            sources[source] = True
        else:
            report.imported["metadata"] += 1
    report.imported["qna pairs"] += 1
    return FaqRecord(
        id=ids.of(_name(pair, questions[0], names)),
        title=fit(questions[0], MAX_TITLE),
        answer=answer,
        questions=questions,
        tags=tags,
    )


def _name(pair: _Pair, question: str, names: set[str]) -> str:
    """What a pair's id is made from: "qna_<QnaId>"; without a QnaId its first question, and
    a second pair with that first question "<question> (2)", in the export's order."""
    name = f"qna_{pair.qna_id}" if pair.qna_id else question
    n = 1
    while name in names:
        n += 1
        name = f"{question} ({n})"
    names.add(name)
    return name


def _questions(pair: _Pair, report: Report) -> list[str]:
    questions: list[str] = []
    alternate = False
    for row in pair.rows:
        question = " ".join(row.get("Question").split())
        where = f"{row.file}: {row.place}"
        came = False
        if not question:
            report.omit(f"{where}, Question", "an empty question", "nothing to train on")
            continue
        if len(question.encode()) > MAX_QUESTION_BYTES:
            report.omit(where, f"question '{short(question)}'", f"longer than {MAX_QUESTION_BYTES} bytes")
        elif question in questions:
            came = True  # the same question, already there
        elif len(questions) >= MAX_QUESTIONS:
            report.omit(where, f"question '{short(question)}'", f"over {MAX_QUESTIONS} questions")
        else:
            questions.append(question)
            came = True
        if came:
            report.imported["questions"] += 1
            report.imported["alternate questions"] += alternate
        alternate = True
    return questions
