"""One conversational turn, end to end: idempotency check, context, model (twice for a
follow-up), dialogue policy, commit, and the record of an unrecognised query."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from router import phrases
from router.dialogue import Policy, decide
from router.inference import ModelClient, ModelResult
from router.knowledge import KnowledgeView
from router.sessions import Context, SessionStore, TurnSummary
from router.unrecognised import UnrecognisedLog, worth_recording
from twinteller.errors import Unavailable
from twinteller.telemetry import trace_id_hex, tracer
from twinteller.text import normalise
from twinteller.v1 import assistant_pb2 as pb

# Two routers racing on one session: re-read and retry a few times, then give up cleanly.
COMMIT_ATTEMPTS = 4


@dataclass(frozen=True)
class Outcome:
    response: pb.ConverseResponse
    # How the model was reached ("a:slow", "b:ok"); ("replay",) for a turn answered before.
    attempts: tuple[str, ...]


@dataclass(frozen=True)
class Turn:
    session_id: str
    turn_id: str
    text: str
    channel: str
    locale: str


# Told of every turn answered for the first time (metrics, traffic counts): telemetry
# beside the turn, not inside it.
TurnObserver = Callable[[Turn, Outcome], None]


class TurnHandler:
    def __init__(
        self,
        sessions: SessionStore,
        model: ModelClient,
        knowledge: KnowledgeView,
        policy: Policy,
        unrecognised: UnrecognisedLog,
        observers: Sequence[TurnObserver] = (),
    ) -> None:
        self._sessions = sessions
        self._model = model
        self._knowledge = knowledge
        self._policy = policy
        self._unrecognised = unrecognised
        self._observers = observers

    async def _read(self, text: str, context: Context, deadline: float) -> tuple[ModelResult, ModelResult | None]:
        """The model's reading of `text`, and for a follow-up also of the previous turn's
        words with it (both in one go: Triton batches them)."""
        version = self._knowledge.active_version()
        before = context.last_text()
        if not (before and phrases.is_follow_up(text)):
            return await self._model.classify(text, version, deadline), None
        alone, together = await asyncio.gather(
            self._model.classify(text, version, deadline),
            self._model.classify(f"{self._knowledge.lexicon.apply(normalise(before))} {text}", version, deadline),
            return_exceptions=True,
        )
        if isinstance(alone, BaseException):
            raise alone
        # The reading in context only helps: if it failed, the turn goes on without it.
        return alone, together if isinstance(together, ModelResult) else None

    async def handle(self, turn: Turn, deadline: float) -> Outcome:
        attributes = {
            "twinteller.session_id": turn.session_id,
            "twinteller.turn_id": turn.turn_id,
            "twinteller.channel": turn.channel,
        }
        # What the model and the policy read: normalised, then in the lexicon's words.
        text = self._knowledge.lexicon.apply(normalise(turn.text))
        with tracer().start_as_current_span("dialogue.turn", attributes=attributes) as span:
            for _ in range(COMMIT_ATTEMPTS):
                stored, loaded = await self._sessions.load(turn.session_id, turn.turn_id)
                if stored is not None:
                    span.set_attribute("twinteller.replayed", True)
                    return Outcome(pb.ConverseResponse.FromString(stored), ("replay",))
                alone, together = await self._read(text, loaded.context, deadline)
                snapshot = self._knowledge.snapshot(alone.version)
                decision = decide(text, alone, snapshot, loaded.context, self._policy, together, turn.channel)
                served = decision.result or alone
                span.set_attributes(
                    {
                        "twinteller.action": decision.action,
                        "twinteller.intent": decision.intent,
                        "twinteller.zone": served.zone,
                        "twinteller.attempts": list(alone.attempts),
                        "twinteller.follow_up": served is together,
                    }
                )
                response = pb.ConverseResponse(
                    session_id=turn.session_id,
                    turn_id=turn.turn_id,
                    reply=decision.reply,
                    action=pb.Action.Value(decision.action),
                    intent=decision.intent,
                    confidence=decision.confidence,
                    alternatives=[
                        pb.Candidate(intent=c.intent, confidence=c.confidence, title=c.title)
                        for c in decision.alternatives
                    ],
                    zone=served.zone,
                    model_version=served.version,
                    trace_id=trace_id_hex(),
                    handoff_summary=decision.handoff_summary,
                )
                summary = TurnSummary(turn.turn_id, turn.text, decision.action, decision.intent, turn.channel)
                committed = await self._sessions.commit(
                    turn.session_id, loaded, summary, response.SerializeToString(), decision.pending
                )
                if committed:
                    if worth_recording(decision):
                        await self._unrecognised.record(turn.session_id, turn.turn_id, text, turn.channel, decision)
                    outcome = Outcome(response, alone.attempts)
                    for observe in self._observers:
                        observe(turn, outcome)
                    return outcome
                if time.monotonic() >= deadline:
                    break
            raise Unavailable("the session was changed concurrently by other turns; retry the turn")
