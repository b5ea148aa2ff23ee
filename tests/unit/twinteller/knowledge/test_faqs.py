"""twinteller.knowledge.faqs: the checks on an FAQ entry, when it is live, and the CSV and JSON files
that knowledge managers import and export (exact round trips, and the problems a bad file
reports)."""

from __future__ import annotations

import csv
import datetime
import json
import re
import unicodedata
from dataclasses import replace

import pytest

from twinteller.errors import InvalidArgument
from twinteller.knowledge.faqs import (
    MAX_ANSWER_BYTES,
    MAX_CHANNEL,
    MAX_QUESTION_BYTES,
    MAX_QUESTIONS,
    MAX_ROWS,
    MAX_TAG,
    MAX_TAGS,
    MAX_TITLE,
    FaqRecord,
    RowProblem,
    parse,
    render,
    validate,
)
from twinteller.knowledge.schema import FaqText

FORMATS = ["CSV", "JSON"]
NFD_E = "e\u0301"  # "é" as e + combining acute accent: must never be composed into U+00E9
GOOD = FaqRecord(
    id="card.lost-1_?",
    title="Lost card",
    answer="Freeze it in the app, then call us.",
    channel_answers={"ivr": "Press 1 to freeze your card.", "app": "Tap Cards, then Freeze."},
    questions=["I lost my card", "my card was stolen"],
    tags=["cards", "urgent"],
    effective_from="2024-01-01",
    expires_at="2030-01-01",
    enabled=True,
    slots=["amount", "currency"],
    slot_answer="Sending {amount} {currency} takes one working day.",
)


def field_of(error: pytest.ExceptionInfo[InvalidArgument]) -> str:
    return str(error.value).split(":", 1)[0]


def rejected(**changes: object) -> str:
    """The field named by the InvalidArgument that validate raises for GOOD with `changes`."""
    with pytest.raises(InvalidArgument) as e:
        validate(replace(GOOD, **changes))  # type: ignore[arg-type]
    return field_of(e)


def csv_bytes(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def json_bytes(*items: object) -> bytes:
    return json.dumps({"faqs": list(items)}, ensure_ascii=False).encode()


# -- validate -----------------------------------------------------------------------------


def test_good_record_passes_unchanged() -> None:
    before = FaqRecord.from_json(GOOD.to_json())
    assert validate(GOOD) is GOOD
    assert GOOD == before


@pytest.mark.parametrize(
    "record",
    [
        FaqRecord("a", "t", "x"),
        FaqRecord("A" * 64, "t" * MAX_TITLE, "x" * MAX_ANSWER_BYTES),
        FaqRecord("a", "t", "字" * (MAX_ANSWER_BYTES // 3)),  # 4095 bytes
        FaqRecord("a", "t", "x", questions=["q" * MAX_QUESTION_BYTES]),
        FaqRecord("a", "t", "x", tags=["t" * MAX_TAG] + [str(n) for n in range(MAX_TAGS - 1)]),
        FaqRecord("a", "t", "x", channel_answers={"c" * MAX_CHANNEL: "y", "ivr_2-b": "z"}),
        FaqRecord("a", "t", "x", effective_from="2024-02-29", expires_at="2024-03-01"),
        FaqRecord("a", "t", "x", expires_at="2024-03-01"),
        FaqRecord("a", "t", "x", slots=["card_type"], slot_answer="{card_type} cards: {{not a slot}}"),
        FaqRecord("a", "t", "x", slot_answer="no placeholders at all"),
    ],
)
def test_edge_records_accepted(record: FaqRecord) -> None:
    assert validate(record) is record


@pytest.mark.parametrize("bad_id", ["", "a" * 65, "a/b", "a b", " a", "a\n", "卡", "a:b", "kb/faqs/x"])
def test_bad_id(bad_id: str) -> None:
    assert rejected(id=bad_id) == "id"


@pytest.mark.parametrize("blank", ["", " ", "\t\r\n", "\u3000"])
@pytest.mark.parametrize("name", ["title", "answer"])
def test_blank_title_and_answer(name: str, blank: str) -> None:
    assert rejected(**{name: blank}) == name


def test_title_too_long_in_bytes() -> None:
    assert rejected(title="t" * (MAX_TITLE + 1)) == "title"
    assert rejected(title="字" * 67) == "title"  # 67 characters, 201 bytes


@pytest.mark.parametrize(
    "answer",
    [
        "x" * (MAX_ANSWER_BYTES + 1),
        "字" * (MAX_ANSWER_BYTES // 3 + 1),  # 1366 characters but 4098 bytes
        "繁體" * 683,  # 1366 characters, 4098 bytes
        "😀" * (MAX_ANSWER_BYTES // 4 + 1),  # 1025 characters, 4100 bytes
    ],
)
def test_answer_too_long_counts_utf8_bytes(answer: str) -> None:
    assert len(answer.encode()) > MAX_ANSWER_BYTES
    with pytest.raises(InvalidArgument, match=r"^answer: \d+ bytes, at most 4096 allowed"):
        validate(replace(GOOD, answer=answer))


def test_slot_answer_too_long() -> None:
    assert rejected(slot_answer="{amount}{currency}" + "字" * 1400) == "slot_answer"


@pytest.mark.parametrize("channel", ["", "IVR", "i v r", "ivr:2", "c" * (MAX_CHANNEL + 1), "语音"])
def test_bad_channel_name(channel: str) -> None:
    assert rejected(channel_answers={channel: "fine answer"}) == "channel_answers"


@pytest.mark.parametrize("answer", ["", "  ", "\n"])
def test_empty_channel_answer(answer: str) -> None:
    assert rejected(channel_answers={"app": "ok", "ivr": answer}) == "channel_answers[ivr]"


def test_channel_answer_too_long() -> None:
    assert rejected(channel_answers={"ivr": "字" * 1366}) == "channel_answers[ivr]"


@pytest.mark.parametrize(
    ("questions", "field"),
    [
        (["same", "other", "same"], "questions"),
        (["ok", "two\nlines"], "questions[2]"),
        (["windows\r\nline"], "questions[1]"),
        (["old mac\rline"], "questions[1]"),
        (["ok", ""], "questions[2]"),
        ([" "], "questions[1]"),
        (["q" * (MAX_QUESTION_BYTES + 1)], "questions[1]"),
        (["字" * 171], "questions[1]"),  # 513 bytes
        ([f"q{n}" for n in range(MAX_QUESTIONS + 1)], "questions"),
    ],
)
def test_bad_questions(questions: list[str], field: str) -> None:
    assert rejected(questions=questions) == field


def test_max_questions_accepted() -> None:
    record = replace(GOOD, questions=[f"q{n}" for n in range(MAX_QUESTIONS)])
    assert validate(record) is record


@pytest.mark.parametrize(
    "tags",
    [
        [str(n) for n in range(MAX_TAGS + 1)],
        ["a|b"],
        ["ok", ""],
        ["t" * (MAX_TAG + 1)],
    ],
)
def test_bad_tags(tags: list[str]) -> None:
    assert rejected(tags=tags) == "tags"


@pytest.mark.parametrize(
    "bad", ["2024-13-01", "24-1-1", "2024-1-5", "2023-02-29", "20240105", "2024-01-05 ", "tomorrow"]
)
@pytest.mark.parametrize("name", ["effective_from", "expires_at"])
def test_bad_dates(name: str, bad: str) -> None:
    dates = {"effective_from": "", "expires_at": "", name: bad}
    assert rejected(**dates) == name


@pytest.mark.parametrize(("effective_from", "expires_at"), [("2024-05-01", "2024-05-01"), ("2024-05-02", "2024-05-01")])
def test_expiry_must_be_after_start(effective_from: str, expires_at: str) -> None:
    assert rejected(effective_from=effective_from, expires_at=expires_at) == "expires_at"


@pytest.mark.parametrize(
    ("slots", "slot_answer", "field"),
    [
        (["amount", "colour"], "{amount} {colour}", "slots"),
        (["Amount"], "{Amount}", "slots"),
        (["amount"], "", "slot_answer"),
        (["amount"], "   ", "slot_answer"),
        (["amount"], "{amount} {currency}", "slot_answer"),
        ([], "{amount}", "slot_answer"),
        (["amount"], "{}", "slot_answer"),
        (["amount"], "{0}", "slot_answer"),
        (["amount"], "{amount.real}", "slot_answer"),
        (["amount"], "{amount", "slot_answer"),
        (["amount"], "amount}", "slot_answer"),
        (["amount"], "{amount}}", "slot_answer"),
    ],
)
def test_bad_slots(slots: list[str], slot_answer: str, field: str) -> None:
    assert rejected(slots=slots, slot_answer=slot_answer) == field


@pytest.mark.parametrize(
    "slot_answer",
    [
        "{amount:{card_type}}",  # a nested placeholder that is not in slots: KeyError at answer time
        "{amount!x}",  # unknown conversion: ValueError at answer time
        "{amount:d}",  # slot values are strings: ValueError at answer time
    ],
)
def test_accepted_slot_answer_can_be_filled(slot_answer: str) -> None:
    record = replace(GOOD, slots=["amount"], slot_answer=slot_answer)
    try:
        validate(record)
    except InvalidArgument as e:
        assert str(e).startswith("slot_answer")
        return
    # router.conversation.dialogue fills the template with the string values router.conversation.slots extracts
    record.slot_answer.format(**{name: "500" for name in record.slots})


# -- live ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enabled", "effective_from", "expires_at", "today", "live"),
    [
        (True, "", "", "2024-06-01", True),
        (False, "", "", "2024-06-01", False),
        (False, "2024-01-01", "2025-01-01", "2024-06-01", False),
        (True, "2024-06-02", "", "2024-06-01", False),
        (True, "2024-06-01", "", "2024-06-01", True),
        (True, "", "2024-06-01", "2024-05-31", True),
        (True, "", "2024-06-01", "2024-06-01", False),
        (True, "", "2024-06-01", "2024-06-02", False),
        (True, "2024-01-01", "2025-01-01", "2024-06-01", True),
        (True, "2024-01-01", "2025-01-01", "2023-12-31", False),
        (True, "2024-01-01", "2025-01-01", "2025-01-01", False),
    ],
)
def test_live(enabled: bool, effective_from: str, expires_at: str, today: str, live: bool) -> None:
    record = FaqRecord("a", "t", "x", enabled=enabled, effective_from=effective_from, expires_at=expires_at)
    assert record.live(datetime.date.fromisoformat(today)) is live


# -- round trips --------------------------------------------------------------------------

TRICKY = [
    FaqRecord(
        "spaces",
        "  Lost card  ",
        "  Call us now.  ",
        questions=[" lost card with spaces ", "I lost my card"],
        tags=[" cards ", "urgent"],
    ),
    FaqRecord(
        "line.breaks",
        "Line breaks",
        "Windows\r\nline\r\nbreaks\r\n",
        channel_answers={"ivr": "Unix\nline\nbreaks\n"},
        slot_answer="old\rmac",
    ),
    FaqRecord("quotes", 'He said "hi", then left', '"Quoted", with, commas,', questions=['"q", with comma', '"']),
    FaqRecord("tabs", "\ttabbed\t", "col1\tcol2\t", tags=["tab\ttag"]),
    FaqRecord(
        "chinese-s",
        "挂失银行卡",
        "请拨打客服热线，或在手机银行中冻结。",
        questions=["我的卡丢了", "卡丢了怎么办？"],
        tags=["银行卡"],
    ),
    FaqRecord("chinese-t", "掛失銀行卡", "請撥打客服熱線。", channel_answers={"app": "請在應用程式內掛失。"}),
    FaqRecord("emoji", "Cards 💳", "We're here 🏦😀👍🏽", questions=["💳?"], tags=["🏦"]),
    FaqRecord("nfd", "Caf" + NFD_E, "R" + NFD_E + "sum" + NFD_E, questions=["caf" + NFD_E + " card"]),
    FaqRecord("bom", "\ufeffTitle with\ufeffBOM", "\ufeff", questions=["\ufeffq"]),
    FaqRecord("seps", "Separators", "a\u2028b\u2029c\x0bd\x0ce\x1cf\x85g"),
    FaqRecord(
        "channels",
        "Channels",
        "Web answer",
        channel_answers={"ivr": "Press 1.", "app": "Tap Cards > Freeze."},
        questions=["freeze"],
        tags=["a", "b", "c"],
    ),
    FaqRecord(
        "slots",
        "Transfer",
        "It depends on the amount.",
        slots=["amount", "currency", "card_type"],
        slot_answer="Sending {amount} {currency} by {card_type} card, {{braces}} kept.",
    ),
    FaqRecord("disabled?", "Disabled", "Not live", enabled=False, effective_from="2024-01-01", expires_at="2024-12-31"),
    FaqRecord("from-only", "Dated", "Live from 2025", effective_from="2025-01-01"),
    FaqRecord("until-only", "Expiring", "Until 2026", expires_at="2026-02-28", enabled=True),
    FaqRecord(
        "translated",
        "Card not arrived",
        "Cards arrive in 3-5 working days.",
        channel_answers={"ivr": "Three to five days."},
        slots=["amount"],
        slot_answer="{amount} is fine.",
        translations={
            "zh-Hant": FaqText(
                "卡片尚未收到", "卡片一般會在3至5個工作天內寄達。\n", {"ivr": "三至五日。"}, "{amount} 沒問題。"
            ),
            "zh-Hans": FaqText(answer='卡片通常在3至5个工作日内寄到，"引号"，逗号。'),
        },
    ),
    FaqRecord("hans-only", "Only simplified", "x", translations={"zh-Hans": FaqText(title="只有简体")}),
]


def test_tricky_records_are_valid() -> None:
    for record in TRICKY:
        validate(record)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("record", TRICKY, ids=[r.id for r in TRICKY])
def test_round_trip_one(record: FaqRecord, fmt: str) -> None:
    content = render([record], fmt)
    assert parse(content, fmt) == ([record], [])
    assert render(parse(content, fmt)[0], fmt) == content


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_all(fmt: str) -> None:
    content = render(TRICKY, fmt)
    records, problems = parse(content, fmt)
    assert (records, problems) == (TRICKY, [])
    assert render(records, fmt) == content
    for got, want in zip(records, TRICKY, strict=True):
        for name in ("id", "title", "answer", "slot_answer"):
            assert getattr(got, name).encode() == getattr(want, name).encode()
        assert [q.encode() for q in got.questions] == [q.encode() for q in want.questions]
        assert {k: v.encode() for k, v in got.channel_answers.items()} == {
            k: v.encode() for k, v in want.channel_answers.items()
        }


@pytest.mark.parametrize("fmt", FORMATS)
def test_nfd_stays_decomposed(fmt: str) -> None:
    record = next(r for r in TRICKY if r.id == "nfd")
    content = render([record], fmt)
    assert NFD_E.encode() in content
    assert "é".encode() not in content
    (got,), _ = parse(content, fmt)
    assert got.answer.encode() == b"Re\xcc\x81sume\xcc\x81"
    assert got.answer != unicodedata.normalize("NFC", got.answer)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_good_record_and_empty_file(fmt: str) -> None:
    assert parse(render([GOOD], fmt), fmt) == ([GOOD], [])
    assert parse(render([], fmt), fmt) == ([], [])


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_drops_stamp(fmt: str) -> None:
    stamped = GOOD.stamped("alice", 1700000000.5)
    assert parse(render([stamped], fmt), fmt) == ([GOOD], [])
    assert b"alice" not in render([stamped], fmt)


def test_formats_agree() -> None:
    assert parse(render(TRICKY, "CSV"), "CSV") == parse(render(TRICKY, "JSON"), "JSON")


def test_csv_layout() -> None:
    content = render([GOOD, FaqRecord("b", "B", "no channels", enabled=False)], "CSV")
    header, first, *_ = content.decode().split("\r\n")
    assert header == (
        "id,title,answer,questions,tags,effective_from,expires_at,enabled,slots,slot_answer,answer:app,answer:ivr"
    )
    assert first.startswith("card.lost-1_?,Lost card,")
    assert content.decode().endswith("b,B,no channels,,,,,false,,,,\r\n")
    assert not content.startswith(b"\xef\xbb\xbf")


def test_json_layout() -> None:
    data = json.loads(render([GOOD], "JSON"))
    assert list(data) == ["faqs"]
    (item,) = data["faqs"]
    assert item["channel_answers"] == GOOD.channel_answers
    assert item["questions"] == GOOD.questions
    assert item["enabled"] is True
    assert "updated_by" not in item and "updated_at" not in item


@pytest.mark.parametrize("fn", [lambda: render([GOOD], "XML"), lambda: parse(b"", "csv"), lambda: parse(b"", "")])
def test_unknown_format(fn: object) -> None:
    with pytest.raises(InvalidArgument, match=r"^format"):
        fn()  # type: ignore[operator]


def test_record_json_round_trip() -> None:
    stamped = TRICKY[1].stamped("bob", 12.5)
    assert FaqRecord.from_json(stamped.to_json()) == stamped
    assert FaqRecord.from_json(stamped.to_json().encode()) == stamped


def test_csv_round_trip_of_the_largest_questions_cell() -> None:
    questions = [f"{n:04d}" + "q" * (MAX_QUESTION_BYTES - 4) for n in range(MAX_QUESTIONS)]
    record = validate(FaqRecord("many", "Many questions", "x", questions=questions))
    assert parse(render([record], "CSV"), "CSV") == ([record], [])


# -- parse: CSV ---------------------------------------------------------------------------


def test_csv_hand_written() -> None:
    content = csv_bytes(
        "answer:ivr,slot_answer,slots,enabled,expires_at,effective_from,tags,questions,answer,title,id",
        'Press 1,{amount} {currency},amount|currency,no,2025-01-01,2024-01-01,a|b,"q1\nq2",A,T,x1',
        ",,,,,,,,A2,T2,x2",
    )
    assert parse(content, "CSV") == (
        [
            FaqRecord(
                "x1",
                "T",
                "A",
                channel_answers={"ivr": "Press 1"},
                questions=["q1", "q2"],
                tags=["a", "b"],
                effective_from="2024-01-01",
                expires_at="2025-01-01",
                enabled=False,
                slots=["amount", "currency"],
                slot_answer="{amount} {currency}",
            ),
            FaqRecord("x2", "T2", "A2"),
        ],
        [],
    )


def test_csv_only_required_columns() -> None:
    assert parse(csv_bytes("title,id,answer", "T,a,A"), "CSV") == ([FaqRecord("a", "T", "A")], [])


def test_csv_lf_line_endings() -> None:
    assert parse(b"id,title,answer\na,T,A\nb,T,B\n", "CSV") == (
        [FaqRecord("a", "T", "A"), FaqRecord("b", "T", "B")],
        [],
    )


def test_csv_one_bad_row_among_good() -> None:
    content = csv_bytes("id,title,answer,tags", "a,T,A,", "b,T,,x", "c,T,C,ok|fine", "d,T,D,")
    records, problems = parse(content, "CSV")
    assert [r.id for r in records] == ["a", "c", "d"]
    assert records[1].tags == ["ok", "fine"]
    assert len(problems) == 1
    assert (problems[0].row, problems[0].id) == (2, "b")
    assert problems[0].reason.startswith("answer:")


def test_csv_row_numbers_count_records_not_lines() -> None:
    content = csv_bytes("id,title,answer", 'a,T,"multi\nline\nanswer"', "b,T,B", "bad id,T,C")
    records, problems = parse(content, "CSV")
    assert [r.id for r in records] == ["a", "b"]
    assert problems == [RowProblem(3, "bad id", "id: 'bad id' must be 1-64 of letters, digits and _ . ? -")]


def test_csv_duplicate_ids() -> None:
    content = csv_bytes("id,title,answer", "a,T,A", "b,T,B", "a,T,again", "b,T,again", "a,T,third")
    records, problems = parse(content, "CSV")
    assert records == [FaqRecord("a", "T", "A"), FaqRecord("b", "T", "B")]
    assert problems == [
        RowProblem(3, "a", "id: also in row 1"),
        RowProblem(4, "b", "id: also in row 2"),
        RowProblem(5, "a", "id: also in row 1"),
    ]


def test_csv_more_cells_than_header() -> None:
    content = csv_bytes("id,title,answer", "a,T,A", "b,T,B,extra", "c,T,C")
    records, problems = parse(content, "CSV")
    assert [r.id for r in records] == ["a", "c"]
    assert problems == [RowProblem(2, "b", "more cells than header columns")]


def test_csv_short_row_problem_has_empty_id() -> None:
    records, problems = parse(csv_bytes("title,answer,id", "T,A,a", "T,A"), "CSV")
    assert [r.id for r in records] == ["a"]
    assert [(p.row, p.id) for p in problems] == [(2, "")]


@pytest.mark.parametrize(
    "header",
    ["", "title,answer", "id,answer", "id,title", "ID,Title,Answer", " id,title,answer", "id;title;answer"],
)
def test_csv_missing_required_columns(header: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^content: the CSV header lacks"):
        parse(csv_bytes(header, "a,T,A") if header else b"", "CSV")


@pytest.mark.parametrize("column", ["colour", "answers", "answer_ivr", "updated_by", "channel_answers"])
def test_csv_unknown_column(column: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^content: unknown CSV columns \['" + column + r"'\]"):
        parse(csv_bytes(f"id,title,answer,{column}", "a,T,A,x"), "CSV")


def test_csv_channel_columns() -> None:
    content = csv_bytes("id,title,answer,answer:ivr,answer:app", "a,T,A,,App only", "b,T,B,Ivr only,")
    records, problems = parse(content, "CSV")
    assert problems == []
    assert [r.channel_answers for r in records] == [{"app": "App only"}, {"ivr": "Ivr only"}]


def test_csv_bad_channel_column_is_a_row_problem() -> None:
    records, problems = parse(csv_bytes("id,title,answer,answer:IVR", "a,T,A,x", "b,T,B,"), "CSV")
    assert [r.id for r in records] == ["b"]
    assert [(p.row, p.id, field_of_reason(p)) for p in problems] == [(1, "a", "channel_answers")]


def field_of_reason(problem: RowProblem) -> str:
    return problem.reason.split(":", 1)[0]


@pytest.mark.parametrize("header", ["id,title,answer,answer", "id,title,answer,answer:ivr,answer:ivr"])
def test_csv_repeated_column_rejected(header: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^content"):
        parse(csv_bytes(header, "a,T,first,second" + (",third" if header.endswith("ivr") else "")), "CSV")


@pytest.mark.parametrize(
    ("cell", "enabled"),
    [
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("Yes", True),
        ("1", True),
        ("", True),
        ("false", False),
        ("False", False),
        ("no", False),
        ("NO", False),
        ("0", False),
    ],
)
def test_csv_enabled_cell(cell: str, enabled: bool) -> None:
    (record,), problems = parse(csv_bytes("id,title,answer,enabled", f"a,T,A,{cell}"), "CSV")
    assert problems == []
    assert record.enabled is enabled


def test_csv_enabled_column_absent_means_enabled() -> None:
    (record,), _ = parse(csv_bytes("id,title,answer", "a,T,A"), "CSV")
    assert record.enabled is True


@pytest.mark.parametrize("cell", ["maybe", "2", "on", "-1", "t"])
def test_csv_bad_enabled_cell(cell: str) -> None:
    records, problems = parse(csv_bytes("id,title,answer,enabled", "a,T,A,true", f"b,T,B,{cell}"), "CSV")
    assert [r.id for r in records] == ["a"]
    assert [(p.row, p.id, field_of_reason(p)) for p in problems] == [(2, "b", "enabled")]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("content", "byte"), [(b"\xff", 0), (b"id,title,answer\r\na,T,caf\xe9\r\n", 24)])
def test_invalid_utf8(fmt: str, content: bytes, byte: int) -> None:
    with pytest.raises(InvalidArgument, match=rf"^content: not valid UTF-8 \(byte {byte}\)"):
        parse(content, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_invalid_utf8_offset_counts_the_bom(fmt: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^content: not valid UTF-8 \(byte 27\)"):
        parse(b"\xef\xbb\xbfid,title,answer\r\na,T,caf\xe9\r\n", fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_utf8_bom_accepted(fmt: str) -> None:
    content = render(TRICKY, fmt)
    assert parse(b"\xef\xbb\xbf" + content, fmt) == (TRICKY, [])


@pytest.mark.parametrize("fmt", FORMATS)
def test_max_rows(fmt: str) -> None:
    records = [FaqRecord(f"r{n}", "T", "A") for n in range(MAX_ROWS + 1)]
    assert parse(render(records[:MAX_ROWS], fmt), fmt) == (records[:MAX_ROWS], [])
    with pytest.raises(InvalidArgument, match=r"^content: 1001 rows, at most 1000"):
        parse(render(records, fmt), fmt)


def test_max_rows_counts_bad_rows_too() -> None:
    with pytest.raises(InvalidArgument, match=r"^content"):
        parse(json_bytes(*(["not an object"] * (MAX_ROWS + 1))), "JSON")


def test_csv_oversized_data_cell_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match=r"^content: not readable as CSV"):
        parse(csv_bytes("id,title,answer", "a,T," + "x" * (csv.field_size_limit() + 10)), "CSV")


def test_csv_big_answer_cell_is_a_row_problem_not_a_file_error() -> None:
    records, problems = parse(csv_bytes("id,title,answer", "a,T," + "x" * 200_000), "CSV")
    assert records == [] and [(p.row, p.id) for p in problems] == [(1, "a")]
    assert problems[0].reason.startswith("answer:")


def test_csv_oversized_header_cell_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match=r"^content"):
        parse(csv_bytes("id,title,answer," + "x" * 200_000, "a,T,A"), "CSV")


# -- parse: JSON --------------------------------------------------------------------------


def test_json_hand_written() -> None:
    content = json_bytes(
        {"id": "a", "title": "T", "answer": "A"},
        {
            "id": "b",
            "title": "T",
            "answer": "B",
            "channel_answers": {"ivr": "I"},
            "questions": ["q"],
            "tags": ["t"],
            "effective_from": "2024-01-01",
            "expires_at": "2024-02-01",
            "enabled": False,
            "slots": ["amount"],
            "slot_answer": "{amount}",
        },
    )
    assert parse(content, "JSON") == (
        [
            FaqRecord("a", "T", "A"),
            FaqRecord(
                "b", "T", "B", {"ivr": "I"}, ["q"], ["t"], "2024-01-01", "2024-02-01", False, ["amount"], "{amount}"
            ),
        ],
        [],
    )


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b'{"faqs": [',
        b"[]",
        b'[{"id": "a", "title": "T", "answer": "A"}]',
        b'"faqs"',
        b"null",
        b"{}",
        b'{"FAQs": []}',
        b'{"faqs": {"id": "a"}}',
        b'{"faqs": null}',
        b'{"faqs": "a"}',
    ],
)
def test_json_unreadable(content: bytes) -> None:
    with pytest.raises(InvalidArgument, match=r"^content"):
        parse(content, "JSON")


@pytest.mark.parametrize(
    ("item", "row_id", "reason"),
    [
        ("a string", "", "not a JSON object"),
        (["id", "a"], "", "not a JSON object"),
        (None, "", "not a JSON object"),
        ({"id": "x", "title": "T", "answer": "A", "colour": "red"}, "x", "unknown fields ['colour']"),
        ({"id": "x", "title": "T", "answer": "A", "updated_by": "me"}, "x", "unknown fields ['updated_by']"),
        ({"id": "x", "title": "T", "answer": "A", "questions": "q1\nq2"}, "x", "questions: expected list"),
        ({"id": "x", "title": "T", "answer": "A", "tags": "a|b"}, "x", "tags: expected list"),
        ({"id": "x", "title": "T", "answer": "A", "enabled": "yes"}, "x", "enabled: expected bool"),
        ({"id": "x", "title": "T", "answer": "A", "enabled": 1}, "x", "enabled: expected bool"),
        ({"id": "x", "title": "T", "answer": "A", "enabled": None}, "x", "enabled: expected bool"),
        ({"id": "x", "title": 5, "answer": "A"}, "x", "title: expected str"),
        ({"id": "x", "title": "T", "answer": None}, "x", "answer: expected str"),
        ({"id": "x", "title": "T", "answer": "A", "channel_answers": ["ivr"]}, "x", "channel_answers: expected dict"),
        (
            {"id": "x", "title": "T", "answer": "A", "channel_answers": {"ivr": 1}},
            "x",
            "channel_answers: expected an object of strings",
        ),
        ({"id": "x", "title": "T", "answer": "A", "questions": ["q", 2]}, "x", "questions: expected a list of strings"),
        ({"id": 7, "title": "T", "answer": "A"}, "7", "id: expected str"),
        ({"title": "T", "answer": "A"}, "", "id: '' must be 1-64 of letters, digits and _ . ? -"),
        ({"id": "x", "answer": "A"}, "x", "title: required"),
    ],
)
def test_json_bad_item(item: object, row_id: str, reason: str) -> None:
    records, problems = parse(json_bytes({"id": "ok", "title": "T", "answer": "A"}, item), "JSON")
    assert records == [FaqRecord("ok", "T", "A")]
    assert problems == [RowProblem(2, row_id, reason)]


def test_json_duplicate_ids() -> None:
    item = {"id": "a", "title": "T", "answer": "A"}
    records, problems = parse(json_bytes(item, {**item, "id": "b"}, {**item, "answer": "again"}), "JSON")
    assert [r.id for r in records] == ["a", "b"]
    assert problems == [RowProblem(3, "a", "id: also in row 1")]


@pytest.mark.parametrize("field", ["title", "answer", "slot_answer", "tags", "questions", "channel_answers"])
def test_json_lone_surrogate_is_a_row_problem(field: str) -> None:
    values: dict[str, object] = {
        "title": "\ud800",
        "answer": "a\udfff",
        "slot_answer": "\ud83d",
        "tags": ["\ud800"],
        "questions": ["\ud800"],
        "channel_answers": {"ivr": "\ud800"},
    }
    item = {"id": "x", "title": "T", "answer": "A", field: values[field]}
    content = json.dumps({"faqs": [item]}).encode()  # ASCII, with \udXXX escapes
    records, problems = parse(content, "JSON")
    assert records == []
    assert [(p.row, p.id) for p in problems] == [(1, "x")]


def test_json_deeply_nested_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match=r"^content"):
        parse(b'{"faqs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "JSON")


# -- translations (issue 15) ------------------------------------------------------------------


def translated(**texts: FaqText) -> FaqRecord:
    return FaqRecord("t", "Title", "Answer", slots=["amount"], slot_answer="{amount}", translations=dict(texts))


HANS, HANT = "zh-Hans", "zh-Hant"


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (FaqRecord("t", "T", "A", translations={"fr": FaqText("Titre", "Réponse")}), "translations"),
        (FaqRecord("t", "T", "A", translations={"en": FaqText("Title", "Answer")}), "translations"),
        (translated(**{HANT: FaqText()}), f"translations[{HANT}]"),
        (translated(**{HANT: FaqText("題" * 201)}), f"translations[{HANT}].title"),
        (translated(**{HANT: FaqText(answer="答" * 1366)}), f"translations[{HANT}].answer"),
        (translated(**{HANS: FaqText("t", "a", {"IVR": "x"})}), f"translations[{HANS}].channel_answers"),
        (translated(**{HANS: FaqText("t", "a", {"ivr": " "})}), f"translations[{HANS}].channel_answers[ivr]"),
        (translated(**{HANS: FaqText(slot_answer="{currency}")}), f"translations[{HANS}].slot_answer"),
        (translated(**{HANS: FaqText(slot_answer="{amount")}), f"translations[{HANS}].slot_answer"),
        (FaqRecord("t", "T", "A", translations={HANS: FaqText(slot_answer="x")}), f"translations[{HANS}].slot_answer"),
    ],
)
def test_bad_translations(record: FaqRecord, field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        validate(record)
    assert field_of(refused) == field


def test_translated_csv_layout() -> None:
    header = render([TRICKY[-2]], "CSV").decode().split("\r\n")[0]
    assert header.endswith(
        "answer:ivr,title@zh-Hant,answer@zh-Hant,slot_answer@zh-Hant,answer:ivr@zh-Hant,answer@zh-Hans"
    )


def test_translated_csv_hand_written() -> None:
    records, problems = parse(
        csv_bytes("id,title,answer,title@zh-Hant,answer@zh-Hans,answer:ivr@zh-Hant", "a,T,A,標題,,短答"), "CSV"
    )
    assert problems == []
    assert records[0].translations == {"zh-Hant": FaqText(title="標題", channel_answers={"ivr": "短答"})}


@pytest.mark.parametrize(
    ("column", "reason"),
    [
        ("answer@fr", "unknown language"),
        ("questions@zh-Hant", "only"),
        ("tags@zh-Hans", "only"),
        ("answer@", "unknown"),
    ],
)
def test_translated_csv_bad_columns(column: str, reason: str) -> None:
    with pytest.raises(InvalidArgument, match=f"column '{re.escape(column)}': .*{reason}"):
        parse(csv_bytes(f"id,title,answer,{column}", "a,T,A,x"), "CSV")


@pytest.mark.parametrize(
    ("translations", "reason"),
    [
        ([], "translations: expected an object"),
        ({"zh-Hant": "標題"}, r"translations\[zh-Hant\]: expected an object"),
        ({"zh-Hant": {"titel": "x"}}, r"unknown fields \['titel'\]"),
        ({"zh-Hant": {"title": 5}}, r"translations\[zh-Hant\].title: expected str"),
        ({"zh-Hant": {"channel_answers": {"ivr": 1}}}, "expected an object of strings"),
        ({"de": {"title": "Titel"}}, "unknown language 'de'"),
    ],
)
def test_translated_json_bad_structures(translations: object, reason: str) -> None:
    records, problems = parse(
        json_bytes({"id": "a", "title": "T", "answer": "A", "translations": translations}), "JSON"
    )
    assert records == [] and len(problems) == 1
    assert re.search(reason, problems[0].reason), problems[0].reason


def test_localized_texts_follow_the_chain() -> None:
    faq = TRICKY[-2].to_faq()
    hant = faq.localized("zh-Hant")
    assert (hant.title, hant.answer_for("ivr"), hant.slot_answer, hant.fallback) == (
        "卡片尚未收到",
        "三至五日。",
        "{amount} 沒問題。",
        "",
    )
    hans = faq.localized("zh-Hans")
    assert hans.answer.startswith("卡片通常在") and hans.fallback == ""
    assert hans.title == "卡片尚未收到" and hans.slot_answer == "{amount} 没问题。"  # converted from zh-Hant
    # The language outranks the channel: zh-Hans has no IVR answer, but its own answer wins
    # over zh-Hant's converted IVR one.
    assert hans.answer_for("ivr") == hans.answer
    english = faq.localized("en")
    assert (english.title, english.answer_for("ivr"), english.fallback) == (
        "Card not arrived",
        "Three to five days.",
        "",
    )
    only = TRICKY[-1].to_faq()
    assert only.localized("zh-Hant").title == "只有簡體" and only.localized("zh-Hant").answer == "x"
    assert only.localized("zh-Hant").fallback == "en"
    hant_only = FaqRecord("h", "T", "A", translations={"zh-Hant": FaqText(answer="賬戶")}).to_faq()
    assert (
        hant_only.localized("zh-Hans").answer == "账户"
        and hant_only.localized("zh-Hans").fallback == "zh-Hant converted"
    )
