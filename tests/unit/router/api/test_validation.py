"""router.api.validation over the raw (bytes) request twins."""

from __future__ import annotations

from typing import Any

import pytest

from router.api.validation import converse_request, feedback_request
from router.conversation.turn import Turn
from twinteller.errors import InvalidArgument
from twinteller.internal import raw_pb2

MAX_TEXT_BYTES = 2048
MAX_ID_CHARS = 128


def converse(**fields: Any) -> Turn:
    values: dict[str, Any] = {"session_id": b"s-1", "turn_id": b"t-1", "text": b"my card hasn't arrived"}
    values.update(fields)
    raw = raw_pb2.RawConverseRequest(**values)
    return converse_request(raw, max_text_bytes=MAX_TEXT_BYTES, max_id_chars=MAX_ID_CHARS)


def feedback(**fields: bytes | int) -> tuple[str, str, int, str]:
    values: dict[str, bytes | int] = {"session_id": b"s-1", "turn_id": b"t-1", "rating": 4}
    values.update(fields)
    raw = raw_pb2.RawFeedbackRequest(**values)  # type: ignore[arg-type]
    return feedback_request(raw, max_id_chars=MAX_ID_CHARS)


def field_of(error: pytest.ExceptionInfo[InvalidArgument]) -> str:
    return str(error.value).split(":", 1)[0]


# -- converse ----------------------------------------------------------------------------


def test_valid_converse_request() -> None:
    turn = converse(
        session_id=b"web:cust_42@bank.example",
        turn_id=b"turn-0001.A",
        text="我的卡还没到".encode(),
        channel=b"web",
        locale=b"zh-CN",
    )
    assert turn == Turn("web:cust_42@bank.example", "turn-0001.A", "我的卡还没到", "web", "zh-CN")


def test_channel_and_locale_optional() -> None:
    turn = converse()
    assert (turn.channel, turn.locale) == ("", "")
    assert turn.text == "my card hasn't arrived"


@pytest.mark.parametrize("text", [b"", b" ", b"  \t\r\n ", "\u3000\u3000".encode()])
def test_empty_or_blank_text_rejected(text: bytes) -> None:
    with pytest.raises(InvalidArgument) as e:
        converse(text=text)
    assert field_of(e) == "text"


def test_text_limit_is_in_utf8_bytes_not_characters() -> None:
    chinese = "卡" * 700  # 700 characters, 2100 bytes
    assert len(chinese) < MAX_TEXT_BYTES < len(chinese.encode())
    with pytest.raises(InvalidArgument) as e:
        converse(text=chinese.encode())
    assert field_of(e) == "text"


def test_text_exactly_at_limit_passes() -> None:
    assert converse(text=b"a" * MAX_TEXT_BYTES).text == "a" * MAX_TEXT_BYTES
    chinese = "卡" * (MAX_TEXT_BYTES // 3)  # 2046 bytes
    assert converse(text=chinese.encode()).text == chinese


def test_text_one_byte_over_limit_rejected() -> None:
    with pytest.raises(InvalidArgument) as e:
        converse(text=b"a" * (MAX_TEXT_BYTES + 1))
    assert field_of(e) == "text"


def test_text_limit_is_the_configured_one() -> None:
    raw = raw_pb2.RawConverseRequest(session_id=b"s", turn_id=b"t", text=b"hello!")
    with pytest.raises(InvalidArgument) as e:
        converse_request(raw, max_text_bytes=5, max_id_chars=MAX_ID_CHARS)
    assert field_of(e) == "text"
    assert converse_request(raw, max_text_bytes=6, max_id_chars=MAX_ID_CHARS).text == "hello!"


@pytest.mark.parametrize(
    "field",
    ["text", "session_id", "turn_id", "channel", "locale"],
)
@pytest.mark.parametrize("bad", [b"ab\xffcd", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf"])
def test_invalid_utf8_names_the_field(field: str, bad: bytes) -> None:
    with pytest.raises(InvalidArgument) as e:
        converse(**{field: bad})
    assert field_of(e) == field


@pytest.mark.parametrize("field", ["session_id", "turn_id"])
def test_missing_id_rejected(field: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        converse(**{field: b""})
    assert field_of(e) == field


@pytest.mark.parametrize("field", ["session_id", "turn_id"])
def test_id_length_limit(field: str) -> None:
    assert getattr(converse(**{field: b"x" * MAX_ID_CHARS}), field) == "x" * MAX_ID_CHARS
    with pytest.raises(InvalidArgument) as e:
        converse(**{field: b"x" * (MAX_ID_CHARS + 1)})
    assert field_of(e) == field


@pytest.mark.parametrize("field", ["session_id", "turn_id"])
@pytest.mark.parametrize(
    "bad",
    [b"a/b", b"/", b"a b", b" ab", b"ab\n", b"a\tb", b"a\x00b", b"a*b", b"sessions/../x", "卡".encode()],
)
def test_id_characters_restricted(field: str, bad: bytes) -> None:
    with pytest.raises(InvalidArgument) as e:
        converse(**{field: bad})
    assert field_of(e) == field


def test_over_long_channel_rejected() -> None:
    assert converse(channel=b"c" * 32).channel == "c" * 32
    with pytest.raises(InvalidArgument) as e:
        converse(channel=b"c" * 33)
    assert field_of(e) == "channel"


# -- feedback ----------------------------------------------------------------------------


def test_valid_feedback_request() -> None:
    assert feedback(comment="很好, thanks".encode()) == ("s-1", "t-1", 4, "很好, thanks")


@pytest.mark.parametrize("rating", [1, 5])
def test_rating_bounds_pass(rating: int) -> None:
    assert feedback(rating=rating)[2] == rating


@pytest.mark.parametrize("rating", [0, 6, -1, 100])
def test_rating_out_of_range_rejected(rating: int) -> None:
    with pytest.raises(InvalidArgument) as e:
        feedback(rating=rating)
    assert field_of(e) == "rating"


def test_comment_limit_in_bytes() -> None:
    assert feedback(comment=b"c" * 2048)[3] == "c" * 2048
    with pytest.raises(InvalidArgument) as e:
        feedback(comment="卡".encode() * 683)  # 683 characters, 2049 bytes
    assert field_of(e) == "comment"


def test_comment_invalid_utf8_rejected() -> None:
    with pytest.raises(InvalidArgument) as e:
        feedback(comment=b"ok \xff")
    assert field_of(e) == "comment"


@pytest.mark.parametrize("field", ["session_id", "turn_id"])
@pytest.mark.parametrize("bad", [b"", b"a/b", b"a b", b"x" * (MAX_ID_CHARS + 1), b"\xff"])
def test_feedback_ids_checked(field: str, bad: bytes) -> None:
    with pytest.raises(InvalidArgument) as e:
        feedback(**{field: bad})
    assert field_of(e) == field


@pytest.mark.parametrize("text", ["\u200b", "\x00\x01", "\u200b \u2028"])
def test_text_of_only_invisible_characters_is_rejected(text: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^text:"):
        converse(text=text.encode())


# -- IVR fields ---------------------------------------------------------------------------


def hypothesis(text: bytes, confidence: float) -> raw_pb2.RawHypothesis:
    return raw_pb2.RawHypothesis(text=text, confidence=confidence)


def test_an_ivr_turn_of_hypotheses_keys_and_heard_language() -> None:
    raw = raw_pb2.RawConverseRequest(
        session_id=b"s", turn_id=b"t", hypotheses=[hypothesis(b"lost my car", 0.6), hypothesis(b"lost my card", 0.4)],
        dtmf=b"2", heard_language=b"yue-HK", channel=b"ivr",
    )  # fmt: skip
    turn = converse_request(raw, max_text_bytes=MAX_TEXT_BYTES, max_id_chars=MAX_ID_CHARS)
    assert [(h.text, round(h.confidence, 2)) for h in turn.hypotheses] == [("lost my car", 0.6), ("lost my card", 0.4)]
    assert (turn.text, turn.dtmf, turn.locale) == ("", "2", "yue-HK")  # heard language stands in for the locale
    assert converse(text=b"", dtmf=b"4567#").masked == "[4 keys]"  # a card's digits are not kept
    assert converse(text=b"", dtmf=b"2").masked == "[key 2]"
    assert converse(text=b"", no_input=True).masked == "[no input]"
    assert converse(locale=b"en-GB", heard_language=b"yue-HK").locale == "en-GB"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": b"", "hypotheses": [hypothesis(b"", 0.5)]}, "hypotheses[0].text"),
        ({"text": b"", "hypotheses": [hypothesis(b"top up", 0.5), hypothesis(b"   ", 0.2)]}, "hypotheses[1].text"),
        ({"text": b"", "hypotheses": [hypothesis(b"top up", 1.2)]}, "hypotheses[0].confidence"),
        ({"text": b"", "hypotheses": [hypothesis(b"top up", -0.1)]}, "hypotheses[0].confidence"),
        ({"text": b"", "hypotheses": [hypothesis(b"top up", float("nan"))]}, "hypotheses[0].confidence"),
        ({"text": b"", "hypotheses": [hypothesis(b"top up", 0.1)] * 11}, "hypotheses"),
        ({"text": b"", "hypotheses": [hypothesis(b"\xff", 0.1)]}, "hypotheses[0].text"),
        ({"hypotheses": [hypothesis(b"top up", 0.1)]}, "hypotheses"),  # with text: which one?
        ({"dtmf": b"12a"}, "dtmf"),
        ({"dtmf": b"1 2"}, "dtmf"),
        ({"dtmf": b"12#3"}, "dtmf"),
        ({"dtmf": b"1" * 33}, "dtmf"),
        ({"dtmf": b"\xff"}, "dtmf"),
        ({"no_input": True}, "no_input"),
        ({"text": b"", "dtmf": b"2", "no_input": True}, "no_input"),
        ({"heard_language": b"not a tag!"}, "heard_language"),
        ({"text": b""}, "text"),
    ],
)
def test_bad_ivr_fields_name_the_field(fields: dict, field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        converse(**fields)
    assert field_of(error) == field
