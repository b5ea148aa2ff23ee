"""One conversational turn, end to end: idempotency check, context, model (twice for a
follow-up), dialogue policy, commit, and the record of an unrecognised query. While the
legacy bot is being replaced, the turn goes through router/migration/shadow.py, which asks both
systems and serves one.

An IVR's turn (router/voice) is read first: its numbers as figures ("four five six seven" ->
4567), its n-best hypotheses all read in one batched model call and the one to answer picked
(router/voice/hypotheses.py); a turn of keys only, or of no input, asks no model. Replies on
the "ivr" channel are made safe to speak and rendered as SSML, with a barge-in flag."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from opentelemetry import trace

from router.conversation import phrases
from router.conversation.dialogue import IVR, Decision, Policy, barge_in, decide, reading
from router.conversation.knowledge_view import KnowledgeView
from router.conversation.sessions import Context, SessionStore, TurnSummary
from router.conversation.turn import Answered, FailureObserver, Outcome, Shadowing, Turn, TurnObserver, VersionChooser
from router.conversation.unrecognised import UnrecognisedLog, worth_recording
from router.voice import hypotheses, keypad, spoken, ssml
from router.zones.inference import ModelClient, ModelResult
from twinteller.errors import DeadlineExceeded, Unavailable
from twinteller.knowledge import languages
from twinteller.knowledge.masking import mask
from twinteller.knowledge.text import normalise
from twinteller.migration.cutover import TWINTELLER
from twinteller.telemetry import trace_id_hex, tracer
from twinteller.v1 import assistant_pb2 as pb


def _ready(result: ModelResult) -> asyncio.Future[ModelResult]:
    future: asyncio.Future[ModelResult] = asyncio.get_running_loop().create_future()
    future.set_result(result)
    return future


def _nothing_read(version: str) -> ModelResult:
    """The reading of a turn with no words (keys only, no input): no intent, no zone asked."""
    return ModelResult("", version, [], [], 0.0)


def _retrieved(future: asyncio.Future[ModelResult]) -> None:
    """Mark an early reading's failure as seen: the turn reports it where it is awaited."""
    if not future.cancelled():
        future.exception()


log = logging.getLogger(__name__)


def rephrase(before: Context, response: pb.ConverseResponse) -> bool:
    """The customer asked again at once what the previous turn answered: a proxy for a
    wrong answer, counted per model version (twinteller/release/canary.py)."""
    if not before.turns or not response.intent:
        return False
    last = before.turns[-1]
    return last.action == "ANSWER" and last.intent == response.intent


# Two routers racing on one session: re-read and retry a few times, then give up cleanly.
COMMIT_ATTEMPTS = 4


class TurnHandler:
    def __init__(
        self,
        sessions: SessionStore,
        model: ModelClient,
        knowledge: KnowledgeView,
        policy: Policy,
        unrecognised: UnrecognisedLog | None,  # None: not recorded (conversation tests)
        observers: Sequence[TurnObserver] = (),
        shadow: Shadowing | None = None,
        default_chinese: str = languages.HANT,
        version: VersionChooser | None = None,  # None: the active version, or the turn's pinned one
        on_failure: FailureObserver | None = None,
    ) -> None:
        self._sessions = sessions
        self._default_chinese = default_chinese  # for Chinese whose script does not show
        self._model = model
        self._knowledge = knowledge
        self._policy = policy
        self._unrecognised = unrecognised
        self._observers = observers
        self._shadow = shadow
        self._version = version or self._active_or_pinned
        self._on_failure = on_failure

    def _active_or_pinned(self, turn: Turn, _context: Context | None) -> str:
        return turn.pinned_version or self._knowledge.active_version()

    async def _read(
        self, text: str, context: Context, deadline: float, early: asyncio.Future[ModelResult] | None, version: str
    ) -> tuple[ModelResult, ModelResult | None]:
        """The model's reading of `text` by `version` (`early`: already asked for, while the
        context was read), and for a follow-up also of the previous turn's words with it."""
        if not text:
            return _nothing_read(version), None
        alone = early if early is not None else asyncio.ensure_future(self._model.classify(text, version, deadline))
        before = context.last_text()
        if not (before and phrases.is_follow_up(text)):
            return await alone, None
        joined = f"{self._knowledge.lexicon.model_text(before)} {text}"
        try:
            together: ModelResult | None = await self._model.classify(joined, version, deadline)
        except Exception:  # the reading in context only helps: the turn goes on without it
            together = None
        return await alone, together

    async def twinteller(
        self,
        turn: Turn,
        text: str,
        context: Context,
        deadline: float,
        early: asyncio.Future[ModelResult] | None = None,
        version: str = "",
    ) -> Answered:
        """Twinteller's answer to `text` (normalised, in the lexicon's words) in `context`:
        model and dialogue policy, nothing written."""
        version = version or self._version(turn, context)
        alone, together = await self._read(text, context, deadline, early, version)
        snapshot = self._knowledge.snapshot(alone.version)
        language = languages.choose(turn.locale, turn.text, context.language, self._default_chinese)
        words = languages.to_simplified(normalise(turn.text))
        keys = keypad.parse(turn.dtmf)
        decision = decide(
            text, alone, snapshot, context, self._policy, together, turn.channel, language, words, keys, turn.no_input
        )
        served = decision.result or alone
        span = trace.get_current_span()
        if span.is_recording():  # not when twinteller is only shadowing and the turn is over
            span.set_attributes(
                {
                    "twinteller.action": decision.action,
                    "twinteller.intent": decision.intent,
                    "twinteller.zone": served.zone,
                    "twinteller.attempts": list(alone.attempts),
                    "twinteller.follow_up": served is together,
                }
            )
        reply, spoken_reply = decision.reply, ""
        if turn.channel == IVR:
            reply = ssml.speakable(reply, decision.language)
            spoken_reply = ssml.ssml(reply, decision.language)
        response = pb.ConverseResponse(
            session_id=turn.session_id,
            turn_id=turn.turn_id,
            reply=reply,
            action=pb.Action.Value(decision.action),
            intent=decision.intent,
            confidence=decision.confidence,
            alternatives=[
                pb.Candidate(intent=c.intent, confidence=c.confidence, title=c.title) for c in decision.alternatives
            ],
            zone=served.zone,
            model_version=served.version,
            handoff_summary=decision.handoff_summary,
            system=TWINTELLER,
            language=decision.language,
            ssml=spoken_reply,
            barge_in=turn.channel == IVR and barge_in(decision, snapshot),
            hypothesis=turn.hypothesis,
        )
        return Answered(response, alone.attempts, decision.pending, decision)

    async def handle(self, turn: Turn, deadline: float) -> Outcome:
        attributes = {
            "twinteller.session_id": turn.session_id,
            "twinteller.turn_id": turn.turn_id,
            "twinteller.channel": turn.channel,
        }
        arrived = time.time()
        with tracer().start_as_current_span("dialogue.turn", attributes=attributes):
            # The model's reading needs no context: ask for it while the context is read, of
            # the version a new conversation would get (checked once the context is in).
            guess = self._version(turn, None)
            chosen = [guess]
            early: asyncio.Future[ModelResult] | None = None
            try:
                turn, text, early = await self._heard(turn, guess, deadline)
                return await self._handle(turn, text, deadline, early, arrived, chosen)
            except BaseException as e:
                if early is not None:
                    early.cancel()
                if isinstance(e, Exception) and self._on_failure is not None:
                    self._on_failure(chosen[-1])
                raise

    async def _heard(self, turn: Turn, version: str, deadline: float) -> tuple[Turn, str, asyncio.Future[ModelResult]]:
        """The turn as the model and the policy read it (its words normalised, then in the
        lexicon's words), and the model's reading of it by `version`, asked for now: of an
        IVR's n-best, the hypothesis picked (all read in one call) becomes the turn's text."""
        if turn.channel == IVR and turn.text:
            turn = replace(turn, text=spoken.normalise(turn.text))
        if turn.hypotheses:
            said = [spoken.normalise(h.text) for h in turn.hypotheses]
            texts = [self._knowledge.lexicon.model_text(t) for t in said]
            results = await self._model.classify_many(texts, version, deadline)
            snapshot = self._knowledge.snapshot(results[0].version)
            readings = [
                reading(text, heard.confidence, result, snapshot, self._policy)
                for text, heard, result in zip(texts, turn.hypotheses, results, strict=True)
            ]
            best = hypotheses.best(readings)
            trace.get_current_span().set_attribute("twinteller.hypothesis", best + 1)
            return replace(turn, text=said[best], hypothesis=best + 1), texts[best], _ready(results[best])
        text = self._knowledge.lexicon.model_text(turn.text)
        if not text:
            return turn, text, _ready(_nothing_read(version))
        early = asyncio.ensure_future(self._model.classify(text, version, deadline))
        early.add_done_callback(_retrieved)
        return turn, text, early

    async def _handle(
        self,
        turn: Turn,
        text: str,
        deadline: float,
        early: asyncio.Future[ModelResult],
        arrived: float,
        chosen: list[str],
    ) -> Outcome:
        started = time.monotonic()
        for attempt in range(COMMIT_ATTEMPTS):
            # The first load may presume (no etcd read); a failed commit reads (sessions.py).
            stored, loaded = await self._sessions.load(turn.session_id, turn.turn_id, read=attempt > 0)
            if stored is not None:
                early.cancel()  # answered before: the reading is not needed
                trace.get_current_span().set_attribute("twinteller.replayed", True)
                return Outcome(pb.ConverseResponse.FromString(stored), ("replay",))
            version = self._version(turn, loaded.context)
            usable = version == chosen[0] and not early.cancelled()
            reading: asyncio.Future[ModelResult] | None = early if usable else None
            if reading is None:
                early.cancel()  # the conversation is on another version than a new one gets
            chosen.append(version)

            async def mine(
                t: Turn,
                x: str,
                c: Context,
                d: float,
                reading: asyncio.Future[ModelResult] | None = reading,
                version: str = version,
            ) -> Answered:
                return await self.twinteller(t, x, c, d, reading, version)

            if self._shadow is not None and self._shadow.active():
                # The shadowed system may still use `early` after the turn is answered.
                answered = await self._shadow.answer(turn, text, loaded.context, deadline, mine)
            else:
                answered = await mine(turn, text, loaded.context, deadline)
            response = answered.response
            response.trace_id = trace_id_hex()
            action = pb.Action.Name(response.action)
            summary = TurnSummary(
                turn.turn_id,
                turn.masked,
                action,
                response.intent,
                turn.channel,
                response.system,
                response.language,
                arrived,  # of two answers to one turn id, marks the one delivered (sessions.py)
                response.model_version,
            )
            if time.monotonic() >= deadline:
                # Its caller has given up on it: a reply recorded now would be one nobody
                # received, and the turn resent elsewhere would be answered twice.
                raise DeadlineExceeded("the turn's deadline passed before it was recorded; send it again")
            decision = answered.decision
            also = await self._unrecognised_entry(turn, text, decision)
            committed = await self._sessions.commit(
                turn.session_id, loaded, summary, response.SerializeToString(), answered.pending, also
            )
            if answered.settle is not None:
                answered.settle(committed)
            if committed:
                untranslated = decision.untranslated if decision else ""
                filled = (decision.slots or decision.pending.slots) if decision is not None else {}
                outcome = Outcome(response, answered.attempts, untranslated, time.monotonic() - started,
                                  rephrase(loaded.context, response), dict(filled))  # fmt: skip
                for observe in self._observers:
                    observe(turn, outcome)
                return outcome
            if time.monotonic() >= deadline:
                break
        raise Unavailable("the session was changed concurrently by other turns; retry the turn")

    async def _unrecognised_entry(
        self, turn: Turn, text: str, decision: Decision | None
    ) -> tuple[tuple[str, bytes, int], ...]:
        """The record of a query the model could not place, for the turn's own commit."""
        if decision is None or not worth_recording(decision) or self._unrecognised is None:
            return ()  # None: a conversation test's turn, not a customer's question
        if self._sessions.degraded:
            # Cut off from etcd: the turn is kept locally, and the record is not kept (README
            # "Partitions"): asking for a lease would hold the turn for the store's budget.
            log.warning("unrecognised query of %s/%s not recorded: etcd unreachable", turn.session_id, turn.turn_id)
            return ()
        entry = await self._unrecognised.entry(turn.session_id, turn.turn_id, mask(text), turn.channel, decision)
        return () if entry is None else (entry,)
