"""A turn and its answer, as values every part of the turn path shares: the handler
(router/conversation/turns.py), the public service, the legacy shadow and the migration
service. `Shadowing` is what the handler needs of the shadow, so that the shadow
(router/migration/shadow.py) depends on the turn and not the other way round."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from router.conversation.dialogue import Decision
from router.conversation.sessions import Context, Pending
from router.voice import keypad
from twinteller.knowledge.masking import mask
from twinteller.v1 import assistant_pb2 as pb


@dataclass(frozen=True)
class Heard:
    """One of a speech recogniser's hypotheses: what it may have heard, and how sure it is."""

    text: str
    confidence: float


@dataclass(frozen=True)
class Turn:
    session_id: str
    turn_id: str
    text: str  # "" for a turn of keys only, or of no input; the hypothesis answered once read
    channel: str
    locale: str
    # A model version to serve this turn whatever the canary says: the conversation tests
    # (router/release/runner.py) pin one; customers' turns never do.
    pinned_version: str = ""
    # From an IVR (router/voice): the recogniser's n-best, the keys pressed, and whether the
    # caller said nothing at all.
    hypotheses: tuple[Heard, ...] = ()
    dtmf: str = ""
    no_input: bool = False
    hypothesis: int = 0  # 1-based: which of `hypotheses` `text` is, once they are read

    @property
    def kind(self) -> str:
        """What the turn carries, for IVR metrics: "no_input", "keys" (DTMF, perhaps with
        words), "nbest" (a recogniser's hypotheses) or "transcript"."""
        if self.no_input:
            return "no_input"
        if self.dtmf:
            return "keys"
        return "nbest" if self.hypotheses else "transcript"

    @functools.cached_property
    def masked(self) -> str:
        """The customer's words as they may be kept: no card number, IBAN, e-mail or phone
        number in clear (issue 8). Computed once per turn, whoever keeps it. Keys are kept
        as "[key 2]" when one was pressed (a menu choice) and as their count otherwise,
        "[4 keys]" (an amount, or a card's last digits)."""
        parts = [mask(self.text)] if self.text else []
        if self.dtmf.rstrip("#"):
            parts.append(keypad.record(self.dtmf))
        if self.no_input:
            parts.append("[no input]")
        return " ".join(parts)


@dataclass(frozen=True)
class Outcome:
    response: pb.ConverseResponse
    # How the model was reached ("a:slow", "b:ok"); ("replay",) for a turn answered before.
    attempts: tuple[str, ...]
    # The answer was not written in the reply's language: where it came from (metrics).
    untranslated: str = ""
    elapsed_s: float = 0.0  # from arrival to commit
    # The previous turn was answered with the intent this one recognised again: the
    # customer asked again at once, a proxy for a wrong answer (per-version figures).
    rephrase: bool = False
    slots: dict[str, str] = field(default_factory=dict)  # the details given (conversation tests)


@dataclass(frozen=True)
class Answered:
    """A system's answer to a turn, before it is committed."""

    response: pb.ConverseResponse
    attempts: tuple[str, ...]
    pending: Pending | None = None  # what the turn leaves open (twinteller's dialogue)
    decision: Decision | None = None  # twinteller's decision, for the unrecognised log
    # Told whether the turn was committed (router/migration/shadow.py compares the systems then).
    settle: Callable[[bool], None] | None = None


# Told of every turn answered for the first time (metrics, traffic counts): telemetry
# beside the turn, not inside it.
TurnObserver = Callable[[Turn, Outcome], None]

# The model version to serve a turn by, given its context (None: before it is read, a guess
# checked once it is): the canary's choice (router/release/canary_view.py), or a pinned one.
VersionChooser = Callable[[Turn, Context | None], str]

# Told the version of a turn that failed after one was chosen (per-version error counts).
FailureObserver = Callable[[str], None]

# Twinteller's own answer to a turn (normalised text, context, deadline), nothing written:
# TurnHandler.twinteller.
Answerer = Callable[[Turn, str, Context, float], Awaitable[Answered]]


class Shadowing(Protocol):
    """While the legacy bot is being replaced: whether turns are asked to both systems, and
    the answer served when they are (twinteller's own comes from `twinteller`)."""

    def active(self) -> bool: ...

    async def answer(
        self, turn: Turn, text: str, context: Context, deadline: float, twinteller: Answerer
    ) -> Answered: ...
