"""Checks on what callers send. Requests arrive as the raw (bytes) twins of the public
messages, so invalid UTF-8 is reported here, naming the field, like every other fault."""

from __future__ import annotations

import re

from router.conversation.turn import Heard, Turn
from router.voice import keypad
from twinteller.errors import InvalidArgument
from twinteller.internal import raw_pb2
from twinteller.knowledge import languages
from twinteller.knowledge.text import normalise

# Ids become part of etcd keys and log lines: printable ASCII without '/' or spaces.
ID_PATTERN = re.compile(r"[A-Za-z0-9._:@\-]+")
MAX_CHANNEL = 32
MAX_LOCALE = 35  # the longest well-formed BCP 47 tags in practice
MAX_COMMENT_BYTES = 2048
MAX_HYPOTHESES = 10  # a recogniser's n-best beyond this adds cost, not readings


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
    text = _said(raw.text, "text", max_text_bytes, required=False)
    hypotheses = _hypotheses(raw.hypotheses, max_text_bytes)
    dtmf = _text(raw.dtmf, "dtmf")
    keypad.parse(dtmf)  # InvalidArgument naming `dtmf`
    if raw.no_input and (text or hypotheses or dtmf):
        raise InvalidArgument("no_input: only when the caller said and pressed nothing (no text, hypotheses or dtmf)")
    if text and hypotheses:
        raise InvalidArgument("hypotheses: send the recogniser's n-best or `text`, not both")
    if not (text or hypotheses or dtmf or raw.no_input):
        raise InvalidArgument("text: empty; send the customer's words (or an IVR's hypotheses, dtmf or no_input)")
    channel = _optional(raw.channel, "channel", MAX_CHANNEL)
    locale = _locale(raw.locale, "locale")
    heard = _locale(raw.heard_language, "heard_language")
    # What the recogniser listened in says the caller's language when the IVR names no reply
    # locale (yue-HK: traditional Chinese, twinteller/knowledge/languages.py).
    return Turn(session_id, turn_id, text, channel, locale or heard, hypotheses=hypotheses, dtmf=dtmf,
                no_input=raw.no_input)  # fmt: skip


def _said(raw: bytes, field: str, max_bytes: int, *, required: bool) -> str:
    if len(raw) > max_bytes:
        raise InvalidArgument(f"{field}: {len(raw)} bytes, at most {max_bytes} allowed")
    text = _text(raw, field)
    if not normalise(text) and (required or text):
        raise InvalidArgument(f"{field}: empty; send the customer's words")
    return text


def _hypotheses(raw: list[raw_pb2.RawHypothesis], max_text_bytes: int) -> tuple[Heard, ...]:
    if len(raw) > MAX_HYPOTHESES:
        raise InvalidArgument(f"hypotheses: {len(raw)} sent, at most {MAX_HYPOTHESES} allowed")
    heard = []
    for n, hypothesis in enumerate(raw):
        text = _said(hypothesis.text, f"hypotheses[{n}].text", max_text_bytes, required=True)
        if not 0.0 <= hypothesis.confidence <= 1.0:  # NaN fails both comparisons
            raise InvalidArgument(f"hypotheses[{n}].confidence: {hypothesis.confidence} is outside 0..1")
        heard.append(Heard(text, hypothesis.confidence))
    return tuple(heard)


def _locale(raw: bytes, field: str) -> str:
    locale = _optional(raw, field, MAX_LOCALE)
    if locale and not languages.well_formed_locale(locale):
        raise InvalidArgument(f"{field}: {locale!r} is not a BCP 47 language tag like en-GB, zh-HK or zh-Hans-CN")
    return locale


def feedback_request(raw: raw_pb2.RawFeedbackRequest, *, max_id_chars: int) -> tuple[str, str, int, str]:
    session_id = _identifier(raw.session_id, "session_id", max_id_chars)
    turn_id = _identifier(raw.turn_id, "turn_id", max_id_chars)
    if not 1 <= raw.rating <= 5:
        raise InvalidArgument(f"rating: {raw.rating} is out of range 1..5")
    if len(raw.comment) > MAX_COMMENT_BYTES:
        raise InvalidArgument(f"comment: {len(raw.comment)} bytes, at most {MAX_COMMENT_BYTES} allowed")
    return session_id, turn_id, raw.rating, _text(raw.comment, "comment")
