"""One conversational turn, end to end: idempotency check, context, model, policy, commit."""

from __future__ import annotations

import time
from dataclasses import dataclass

from router.dialogue import Thresholds, decide
from router.inference import ModelClient
from router.knowledge import KnowledgeView
from router.sessions import SessionStore, TurnSummary
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


class TurnHandler:
    def __init__(
        self, sessions: SessionStore, model: ModelClient, knowledge: KnowledgeView, thresholds: Thresholds
    ) -> None:
        self._sessions = sessions
        self._model = model
        self._knowledge = knowledge
        self._thresholds = thresholds

    async def handle(self, turn: Turn, deadline: float) -> Outcome:
        attributes = {
            "twinteller.session_id": turn.session_id,
            "twinteller.turn_id": turn.turn_id,
            "twinteller.channel": turn.channel,
        }
        with tracer().start_as_current_span("dialogue.turn", attributes=attributes) as span:
            for _ in range(COMMIT_ATTEMPTS):
                stored, loaded = await self._sessions.load(turn.session_id, turn.turn_id)
                if stored is not None:
                    span.set_attribute("twinteller.replayed", True)
                    return Outcome(pb.ConverseResponse.FromString(stored), ("replay",))
                result = await self._model.classify(normalise(turn.text), self._knowledge.active_version(), deadline)
                decision = decide(result, self._knowledge.snapshot(result.version), loaded.context, self._thresholds)
                span.set_attributes(
                    {
                        "twinteller.action": decision.action,
                        "twinteller.intent": decision.intent,
                        "twinteller.zone": result.zone,
                        "twinteller.attempts": list(result.attempts),
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
                    zone=result.zone,
                    model_version=result.version,
                    trace_id=trace_id_hex(),
                )
                summary = TurnSummary(turn.turn_id, turn.text, decision.action, decision.intent)
                if await self._sessions.commit(turn.session_id, loaded, summary, response.SerializeToString()):
                    return Outcome(response, result.attempts)
                if time.monotonic() >= deadline:
                    break
            raise Unavailable("the session was changed concurrently by other turns; retry the turn")
