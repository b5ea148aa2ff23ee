"""twinteller.platforms.qna: QnA Maker / custom question answering exports -> FAQ entries.

The exports are written by hand after the documented format: the header `Question Answer
Source Metadata SuggestedQuestions IsContextOnly Prompts QnaId`, one row per question,
rows of a pair sharing its QnaId, `\\n` for a line break, prompts as QnA Maker writes them
([{"displayOrder", "qnaId", "displayText"}]); the xlsx is built here with openpyxl."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import openpyxl
import pytest

from twinteller.knowledge import faqs
from twinteller.knowledge.faqs import FaqRecord
from twinteller.platforms import lex, qna
from twinteller.platforms.mapping import Converted, Export, SourceError

HEADER = ["Question", "Answer", "Source", "Metadata", "SuggestedQuestions", "IsContextOnly", "Prompts", "QnaId"]
PIN = r"Go to **Settings** > *Security*.\n\n1. Tap *Reset PIN*\n2. Enter the code we text you"
PIN_PROMPTS = json.dumps([{"displayOrder": 0, "qnaId": 2, "displayText": "I forgot my PIN"}])
LONG_SOURCE = "https://bank.example/help/opening-hours-holidays-and-more-for-our-customers"
LONG_NOTE = "note:" + "x" * 70
SUGGESTED = json.dumps(
    [{"clusterHead": "opening hours", "totalAutoSuggestedCount": 3, "suggestedQuestions": [{"question": "hours?"}]}]
)
ROWS = [
    ["How do I reset my PIN?", PIN, "Editorial", "category:cards|audience:retail", "[]", "false", PIN_PROMPTS, "1"],
    ["Reset PIN", PIN, "Editorial", "category:cards|audience:retail", "[]", "false", PIN_PROMPTS, "1"],
    ["我忘记了密码怎么办", PIN, "Editorial", "category:cards|audience:retail", "[]", "false", PIN_PROMPTS, "1"],
    ["I forgot my PIN", "Call us on 2233 4455 for a new PIN.", "Editorial", "category:cards", "[]", "true", "[]", "2"],
    ["营业时间?", r"我们周一至周五上午九时至下午五时营业。\n公众假期休息。", LONG_SOURCE, "", SUGGESTED,
     "false", "[]", "3"],
    ["Who are you?", "I'm a digital assistant.", "qna_chitchat_Professional.tsv",
     f"editorial:chitchat|{LONG_NOTE}", "[]", "false", "[]", "4"],
]  # fmt: skip


def _tsv(rows: list[list[str]] = ROWS, header: list[str] = HEADER, newline: str = "\n") -> bytes:
    lines = ["\t".join(header), *("\t".join(row) for row in rows)]
    return b"\xef\xbb\xbf" + (newline.join(lines) + newline).encode()


def _xlsx(rows: list[list[Any]], header: list[str] | None = HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _typed(rows: list[list[str]]) -> list[list[Any]]:
    """The rows as Excel holds them: QnaId a number, IsContextOnly a boolean, empty cells empty."""
    return [[*row[:5], row[5] == "true", row[6], int(row[7])] for row in rows]


def _unpacked(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _convert(files: dict[str, bytes]) -> Converted:
    converted = qna.convert(Export(files))
    for record in converted.faqs:
        faqs.validate(record)
    assert converted.lexicon == []
    return converted


def _omitted(converted: Converted) -> list[str]:
    return [f"{o.where} | {o.what} | {o.reason}" for o in converted.report.omitted]


def _one(converted: Converted, *parts: str) -> str:
    found = [line for line in _omitted(converted) if all(part in line for part in parts)]
    assert len(found) == 1, (parts, _omitted(converted))
    return found[0]


def _counts(converted: Converted) -> dict[str, tuple[int, int]]:
    report = converted.report
    return {kind: (report.present[kind], report.imported[kind]) for kind in qna.KINDS}


EXPECTED = [
    FaqRecord(
        id="qna_1",
        title="How do I reset my PIN?",
        answer="Go to **Settings** > *Security*.\n\n1. Tap *Reset PIN*\n2. Enter the code we text you",
        questions=["How do I reset my PIN?", "Reset PIN", "我忘记了密码怎么办"],
        tags=["imported:qna", "source:Editorial", "category:cards", "audience:retail"],
    ),
    FaqRecord(
        id="qna_2",
        title="I forgot my PIN",
        answer="Call us on 2233 4455 for a new PIN.",
        questions=["I forgot my PIN"],
        tags=["imported:qna", "source:Editorial", "category:cards"],
    ),
    FaqRecord(
        id="qna_3",
        title="营业时间?",
        answer="我们周一至周五上午九时至下午五时营业。\n公众假期休息。",
        questions=["营业时间?"],
        tags=["imported:qna"],
    ),
    FaqRecord(
        id="qna_4",
        title="Who are you?",
        answer="I'm a digital assistant.",
        questions=["Who are you?"],
        tags=["imported:qna", "source:qna_chitchat_Professional.tsv", "editorial:chitchat"],
    ),
]
COUNTS = {
    "qna pairs": (4, 4),
    "questions": (6, 6),
    "alternate questions": (2, 2),
    "metadata": (5, 4),
    "prompts": (1, 0),
    "sources": (3, 2),
}


def _check_omitted(converted: Converted, file: str, first: str) -> None:
    """The lines of ROWS' left-out parts; `first` is how a row is placed ("line", "row")."""
    assert _one(
        converted,
        f"{file}: {first} 2, Prompts[0] | follow-up prompt 'I forgot my PIN' -> pair 2",
        "no multi-turn prompts; both pairs are imported on their own",
    )
    assert _one(converted, f"{file}: {first} 5, IsContextOnly | context-only pair 2")
    assert _one(converted, f"{file}: {first} 6, SuggestedQuestions | suggested questions of pair 3")
    assert _one(converted, f"{file}: {first} 6, Source | source 'source:{LONG_SOURCE}' of pair 3", "1-64 characters")
    assert _one(converted, f"{file}: {first} 7, Metadata | metadata '{LONG_NOTE}' of pair 4")
    assert len(converted.report.omitted) == 5


# -- the formats -----------------------------------------------------------------------------


def test_tsv() -> None:
    converted = _convert({"BankFAQ.tsv": _tsv()})
    assert converted.faqs == EXPECTED
    assert _counts(converted) == COUNTS
    _check_omitted(converted, "BankFAQ.tsv", "line")
    report = converted.report.to_dict()
    assert report["platform"] == "qna"
    assert report["counts"]["qna pairs"] == {"present": 4, "imported": 4}


def test_tsv_with_windows_line_ends_and_blank_lines() -> None:
    content = _tsv(newline="\r\n") + b"\r\n\t\t\t\t\t\t\t\r\n"
    assert _convert({"BankFAQ.tsv": content}).faqs == EXPECTED


def test_columns_in_another_order_and_custom_question_answering_columns() -> None:
    order = [7, 0, 1, 2, 3, 4, 5, 6]
    header = [HEADER[i] for i in order] + ["SourceDisplayName"]
    rows = [[row[i] for i in order] + ["Bank FAQ"] for row in ROWS]
    assert _convert({"kb.tsv": _tsv(rows, header)}).faqs == EXPECTED


def test_xlsx() -> None:
    converted = _convert({"BankFAQ.xlsx": _xlsx(_typed(ROWS))})
    assert converted.faqs == EXPECTED
    assert _counts(converted) == COUNTS
    _check_omitted(converted, "BankFAQ.xlsx", "row")


def test_xlsx_that_arrived_unpacked() -> None:
    """An xlsx is a zip: packed for import as it is, it arrives as its parts."""
    parts = _unpacked(_xlsx(_typed(ROWS)))
    assert "xl/workbook.xml" in parts
    assert qna.detect(Export(parts))
    converted = _convert(parts)
    assert converted.faqs == EXPECTED
    _check_omitted(converted, qna.WORKBOOK, "row")


def test_zip_of_sources() -> None:
    """One file per source, with a custom question answering project's other files."""
    editorial = [row for row in ROWS if row[2] != "qna_chitchat_Professional.tsv"]
    chitchat = [row for row in ROWS if row[2] == "qna_chitchat_Professional.tsv"]
    files = {
        "BankFAQ/Editorial.tsv": _tsv(editorial),
        "BankFAQ/qna_chitchat_Professional.xlsx": _xlsx(_typed(chitchat)),
        "BankFAQ/Settings.tsv": b"Key\tValue\nLanguage\tEnglish\n",
        "BankFAQ/Synonyms.tsv": b"Synonyms\n",
        "BankFAQ/README.md": b"# the bank's FAQ\n",
    }
    assert qna.detect(Export(files))
    converted = _convert(files)
    assert converted.faqs == EXPECTED
    assert _counts(converted) == COUNTS
    assert _one(converted, "BankFAQ/Settings.tsv | project settings", "not read")
    assert _one(converted, "BankFAQ/Synonyms.tsv | synonyms", "not read")
    assert _one(converted, "BankFAQ/README.md | file", "not a TSV or xlsx file")
    assert _one(converted, "BankFAQ/qna_chitchat_Professional.xlsx: row 2, Metadata", LONG_NOTE)


# -- pairs -----------------------------------------------------------------------------------


def test_rows_without_qna_id() -> None:
    """A hand-made TSV without QnaIds: rows sharing an answer are one pair, named by its
    first question; another pair with that first question is told apart by a number."""
    header = ["Question", "Answer", "Source", "Metadata"]
    rows = [
        ["How do I pay?", "By card.", "Editorial", ""],
        ["How do I pay?", "In cash.", "Editorial", ""],
        ["Can I pay by card?", "By card.", "Editorial", ""],
    ]
    converted = _convert({"kb.tsv": _tsv(rows, header)})
    assert [(r.id, r.questions, r.answer) for r in converted.faqs] == [
        ("how_do_i_pay?", ["How do I pay?", "Can I pay by card?"], "By card."),
        ("how_do_i_pay?_2", ["How do I pay?"], "In cash."),
    ]
    assert _counts(converted)["qna pairs"] == (2, 2)
    assert _counts(converted)["alternate questions"] == (1, 1)


def test_long_title_and_question() -> None:
    question = "我想知道" * 30  # 360 bytes: a question, but too long for a title
    too_long = "为什么" * 60  # 540 bytes: too long for a question
    rows = [
        [question, "答案。", "", "", "[]", "false", "[]", "7"],
        [too_long, "答案。", "", "", "[]", "false", "[]", "7"],
        ["", "答案。", "", "", "[]", "false", "[]", "7"],
    ]
    converted = _convert({"kb.tsv": _tsv(rows)})
    (record,) = converted.faqs
    assert record.questions == [question]
    assert record.title.endswith("…") and len(record.title.encode()) <= faqs.MAX_TITLE
    assert question.startswith(record.title[:-1])
    assert _one(converted, "kb.tsv: line 3 | question", "longer than 512 bytes")
    assert _one(converted, "kb.tsv: line 4, Question | an empty question")
    assert _counts(converted)["questions"] == (2, 1)
    assert _counts(converted)["alternate questions"] == (1, 0)


def test_pair_without_questions_and_too_long_answer() -> None:
    rows = [
        ["", "An answer nobody asks for.", "", "", "[]", "false", "[]", "1"],
        ["Tell me everything", "x" * (faqs.MAX_ANSWER_BYTES + 1), "", "", "[]", "false", "[]", "2"],
    ]
    converted = _convert({"kb.tsv": _tsv(rows)})
    assert converted.faqs == []
    assert _one(converted, "kb.tsv: line 2 | pair 1 | no question")
    assert _one(converted, "kb.tsv: line 3 | pair 2 ('Tell me everything')", "at most 4096")
    assert _counts(converted)["qna pairs"] == (2, 0)


def test_metadata_as_json_and_too_many_tags() -> None:
    metadata = json.dumps([{"name": f"k{i}", "value": "v"} for i in range(25)])
    rows = [["Q?", "A.", "Editorial", metadata, "[]", "false", "[]", "1"]]
    converted = _convert({"kb.tsv": _tsv(rows)})
    (record,) = converted.faqs
    assert len(record.tags) == faqs.MAX_TAGS
    assert record.tags[:4] == ["imported:qna", "source:Editorial", "k0:v", "k1:v"]
    assert _counts(converted)["metadata"] == (25, 18)
    assert len([line for line in _omitted(converted) if "at most 20 tags" in line]) == 7


def test_prompt_keys_in_any_case() -> None:
    prompts = json.dumps([{"DisplayOrder": 1, "QnaId": 2, "DisplayText": "More"}])
    rows = [["Q?", "A.", "", "", "[]", "false", prompts, "1"], ["More?", "B.", "", "", "[]", "true", "[]", "2"]]
    converted = _convert({"kb.tsv": _tsv(rows)})
    assert _one(converted, "follow-up prompt 'More' -> pair 2")


# -- detect ----------------------------------------------------------------------------------


def test_detect() -> None:
    assert qna.detect(Export({"BankFAQ.tsv": _tsv()}))
    assert qna.detect(Export({"BankFAQ.xlsx": _xlsx(_typed(ROWS))}))
    assert qna.detect(Export({"export": _tsv()}))  # a single file without a name
    assert not qna.detect(Export({"kb.tsv": b"Question\tAnswer\nHi\tHello\n"}))  # nothing says QnA
    assert not qna.detect(Export({"faqs.csv": b"id,title,answer,questions\n"}))
    assert not qna.detect(Export({"kb.tsv": b"\xff\xfeQ\x00"}))
    assert not qna.detect(Export({"kb.xlsx": b"PK\x03\x04 not really"}))
    lex_export = {
        "Manifest.json": b'{"metaData": {"fileFormat": "LexJson", "resourceType": "BOT"}}',
        "Bot/BotLocales/en_US/BotLocale.json": b'{"identifier": "en_US"}',
    }
    assert not qna.detect(Export(lex_export))
    assert lex.detect(Export(lex_export))
    assert not lex.detect(Export({"BankFAQ.tsv": _tsv()}))


# -- malformed exports -----------------------------------------------------------------------


def _error(files: dict[str, bytes]) -> str:
    with pytest.raises(SourceError) as raised:
        qna.convert(Export(files))
    return str(raised.value)


def test_not_utf8() -> None:
    content = "Question\tAnswer\nCafé?\tOui.\n".encode("latin-1")
    assert _error({"kb.tsv": content}) == "kb.tsv: byte 19: not UTF-8 text"


def test_missing_columns() -> None:
    message = _error({"kb.tsv": b"Q\tA\tSource\nHi\tHello\tEditorial\n"})
    assert message == "kb.tsv: line 1: the header [Q | A | Source] has no Question or Answer column"
    message = _error({"kb.tsv": b"Question\tReply\nHi\tHello\n"})
    assert message == "kb.tsv: line 1: the header [Question | Reply] has no Answer column"


def test_empty_answer() -> None:
    rows = [ROWS[0], ["Anything else?", " ", "Editorial", "", "[]", "false", "[]", "9"]]
    assert _error({"kb.tsv": _tsv(rows)}) == "kb.tsv: line 3: no answer"


def test_cell_count() -> None:
    content = _tsv() + b"Hi\tHello\tEditorial\n"
    assert _error({"kb.tsv": content}) == "kb.tsv: line 8: 3 cells; the header has 8 columns"


def test_xlsx_without_header() -> None:
    message = _error({"kb.xlsx": _xlsx(_typed(ROWS), header=None)})
    assert message.startswith("kb.xlsx: row 1: the header [How do I reset my PIN? | Go to")
    assert message.endswith("has no Question or Answer column")
    assert (
        _error({"kb.xlsx": _xlsx([], header=None)})
        == "kb.xlsx: row 1: the header [(empty)] has no Question or Answer column"
    )


def test_xlsx_cell_past_the_header() -> None:
    rows = [[*row, "stray"] for row in _typed(ROWS[:1])]
    assert _error({"kb.xlsx": _xlsx(rows)}) == "kb.xlsx: row 2: a cell past the header's 8 columns"


def test_unreadable_xlsx() -> None:
    assert _error({"kb.xlsx": b"PK\x03\x04 not really"}).startswith("kb.xlsx: not a readable xlsx workbook")


def test_zip_without_tsv_or_xlsx() -> None:
    message = _error({"kb/notes.md": b"# notes\n", "kb/data.json": b"{}"})
    assert message == "kb/data.json, kb/notes.md: no TSV or xlsx file of QnA pairs in the export"
    message = _error({"kb/Settings.tsv": b"Key\tValue\n", "kb/Synonyms.tsv": b"Synonyms\n"})
    assert message.endswith("no TSV or xlsx file of QnA pairs in the export")


def test_prompts_not_json() -> None:
    rows = [["Q?", "A.", "", "", "[]", "false", "[{displayText: More}]", "1"]]
    assert _error({"kb.tsv": _tsv(rows)}).startswith("kb.tsv: line 2, Prompts: not valid JSON")


def test_prompt_to_a_missing_pair() -> None:
    prompts = json.dumps([{"displayOrder": 0, "qnaId": 9, "displayText": "Fees"}])
    rows = [["Q?", "A.", "", "", "[]", "false", prompts, "1"]]
    assert _error({"kb.tsv": _tsv(rows)}) == "kb.tsv: line 2, Prompts[0]: prompt 'Fees' references missing pair 9"


def test_one_pair_two_answers() -> None:
    rows = [["Q?", "A.", "", "", "[]", "false", "[]", "1"], ["Q again?", "B.", "", "", "[]", "false", "[]", "1"]]
    assert _error({"kb.tsv": _tsv(rows)}) == "kb.tsv: line 3: QnaId 1: another answer than on kb.tsv line 2"
