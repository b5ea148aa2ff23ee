"""The dialogue policy: what to say, given what the model recognised and the context.

Pure code over plain values, so unit tests drive it without etcd or Triton.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.inference import ModelResult
from router.sessions import Context
from twinteller.knowledge import Snapshot

FALLBACK_REPLY = (
    "Sorry, I'm not sure I understood that. I can help with your cards, payments, transfers, "
    "top-ups, exchange and account security. Could you say it another way?"
)
FALLBACK_REPLY_REPEATED = (
    "Sorry, I still didn't catch that. Please describe your banking question in a few words, "
    "for example 'my card hasn't arrived' or 'how do I top up'."
)
MAX_ALTERNATIVES = 4


@dataclass(frozen=True)
class Candidate:
    intent: str
    confidence: float
    title: str


@dataclass(frozen=True)
class Decision:
    action: str  # "ANSWER" | "FALLBACK" (CLARIFY / HANDOFF: see the knowledge-base issue)
    reply: str
    intent: str
    confidence: float
    alternatives: list[Candidate]


@dataclass(frozen=True)
class Thresholds:
    confidence: float
    similarity: float


def decide(result: ModelResult, snapshot: Snapshot, context: Context, thresholds: Thresholds) -> Decision:
    known = [(i, s) for i, s in zip(result.intents, result.scores, strict=True) if i in snapshot.faqs]
    candidates = [Candidate(i, s, snapshot.faqs[i].title) for i, s in known]
    if not candidates:
        return _fallback(0.0, [], context)
    top = candidates[0]
    if top.confidence < thresholds.confidence or result.similarity < thresholds.similarity:
        return _fallback(top.confidence, candidates[:MAX_ALTERNATIVES], context)
    answer = snapshot.faqs[top.intent].answer
    return Decision("ANSWER", answer, top.intent, top.confidence, candidates[1 : 1 + MAX_ALTERNATIVES])


def _fallback(confidence: float, candidates: list[Candidate], context: Context) -> Decision:
    reply = FALLBACK_REPLY_REPEATED if context.consecutive_fallbacks else FALLBACK_REPLY
    return Decision("FALLBACK", reply, "", confidence, candidates)
