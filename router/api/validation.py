"""Checks on what callers send. Requests arrive as the raw (bytes) twins of the public
messages, so invalid UTF-8 is reported here, naming the field, like every other fault."""

from __future__ import annotations

import re

from router.conversation.turn import Turn
from twinteller.errors import InvalidArgument
from twinteller.internal import raw_pb2
from twinteller.knowledge import languages
from twinteller.knowledge.text import normalise

# Ids become part of etcd keys and log lines: printable ASCII without '/' or spaces.
ID_PATTERN = re.compile(r"[A-Za-z0-9._:@\-]+")
MAX_CHANNEL = 32
MAX_LOCALE = 35  # the longest well-formed BCP 47 tags in practice
MAX_COMMENT_BYTES = 2048


def _text(raw: bytes, field: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidArgument(f"{field}: not valid UTF-8 (byte {e.start})") from e


def _identifier(raw: bytes, field: str, max_chars: int) -> str:
    value = _text(raw, field)
    if not value:
        raise InvalidArgument(f"{field}: required")
    if len(value) > max_chars:
        raise InvalidArgument(f"{field}: {len(value)} characters, at most {max_chars} allowed")
    if not ID_PATTERN.fullmatch(value):
        raise InvalidArgument(f"{field}: only letters, digits and . _ : @ - are allowed")
    return value


def _optional(raw: bytes, field: str, max_chars: int) -> str:
    value = _text(raw, field)
    if len(value) > max_chars:
        raise InvalidArgument(f"{field}: {len(value)} characters, at most {max_chars} allowed")
    return value


def converse_request(raw: raw_pb2.RawConverseRequest, *, max_text_bytes: int, max_id_chars: int) -> Turn:
    session_id = _identifier(raw.session_id, "session_id", max_id_chars)
    turn_id = _identifier(raw.turn_id, "turn_id", max_id_chars)
    if len(raw.text) > max_text_bytes:
        raise InvalidArgument(f"text: {len(raw.text)} bytes, at most {max_text_bytes} allowed")
    text = _text(raw.text, "text")
    if not normalise(text):
        raise InvalidArgument("text: empty; send the customer's words")
    channel = _optional(raw.channel, "channel", MAX_CHANNEL)
    locale = _optional(raw.locale, "locale", MAX_LOCALE)
    if locale and not languages.well_formed_locale(locale):
        raise InvalidArgument(f"locale: {locale!r} is not a BCP 47 language tag like en-GB, zh-HK or zh-Hans-CN")
    return Turn(session_id, turn_id, text, channel, locale)


def feedback_request(raw: raw_pb2.RawFeedbackRequest, *, max_id_chars: int) -> tuple[str, str, int, str]:
    session_id = _identifier(raw.session_id, "session_id", max_id_chars)
    turn_id = _identifier(raw.turn_id, "turn_id", max_id_chars)
    if not 1 <= raw.rating <= 5:
        raise InvalidArgument(f"rating: {raw.rating} is out of range 1..5")
    if len(raw.comment) > MAX_COMMENT_BYTES:
        raise InvalidArgument(f"comment: {len(raw.comment)} bytes, at most {MAX_COMMENT_BYTES} allowed")
    return session_id, turn_id, raw.rating, _text(raw.comment, "comment")
