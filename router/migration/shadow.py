"""Shadow and cutover, per turn: while the cutover is enabled (twinteller/migration/cutover.py),
every turn is asked to both systems at once; the conversation's system answers it, the
other's answer is compared with it afterwards, off the turn's path.

- A new conversation is served by twinteller if its session id hashes into the cutover's
  percentage, else by the legacy bot; the choice is kept in its context, so changing the
  percentage never moves a conversation that has begun. Conversations that began before
  the cutover was enabled stay with twinteller.
- If the serving system fails the turn (the legacy bot is down, or no zone answers), the
  other system's answer is served: the customer notices nothing, and the conversation
  stays with the system that answered (it never flips back and forth).
- Each comparison is counted in this router's 10 s slot (`cutover/stats/`); a turn on
  which both answered but disagreed is kept under `cutover/differences/` with the words,
  for the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from opentelemetry import trace

from router.conversation.knowledge_view import KnowledgeView
from router.conversation.sessions import Context
from router.conversation.turn import Answered, Answerer, Turn
from router.migration.legacy_client import LegacyBot, LegacyReply, LegacySkipped
from router.observability.buckets import Buckets
from twinteller.errors import StoreError, TwintellerError, Unavailable
from twinteller.etcd import keys
from twinteller.etcd.leases import LeasePool
from twinteller.etcd.mirror import PrefixMirror
from twinteller.etcd.store import Store
from twinteller.knowledge import languages
from twinteller.knowledge.schema import Snapshot
from twinteller.migration.cutover import LEGACY, SLOT_S, TWINTELLER, Cutover, Slot
from twinteller.migration.plan import agrees, rule_tag
from twinteller.v1 import assistant_pb2 as pb

log = logging.getLogger(__name__)


def assign(session_id: str, context: Context, percent: int) -> str:
    """The system for this conversation: the one it has, else (a new one) by its hash."""
    if context.system:
        return context.system
    if context.turns:
        return TWINTELLER  # began before the cutover: it has always been twinteller's
    bucket = int.from_bytes(hashlib.sha256(session_id.encode()).digest()[:4], "big") % 100
    return TWINTELLER if bucket < percent else LEGACY


@dataclass(frozen=True)
class Reading:
    """One system's answer to a turn, or why it has none, and how long it took."""

    system: str
    answered: Answered | None
    error: TwintellerError | None
    latency_s: float
    rule: str = ""  # legacy: the rule that matched


class CutoverView:
    """The cutover state, parsed once per change (it is read on every turn)."""

    def __init__(self, store: Store) -> None:
        self.mirror = PrefixMirror(store, keys.CUTOVER, on_change=self._changed)
        self._state = Cutover()

    def _changed(self, items: dict[str, bytes]) -> None:
        raw = items.get("")
        try:
            self._state = Cutover() if raw is None else Cutover.from_json(raw)
        except (ValueError, TypeError):
            log.error("cutover state in etcd is not readable: shadowing stays off")
            self._state = Cutover()

    def state(self) -> Cutover:
        return self._state


class ShadowRecorder:
    """Comparison counts per 10 s slot, and the turns on which the systems disagreed."""

    def __init__(self, store: Store, router_id: str, *, retention_s: int, clock: Callable[[], float] = time.time):
        self._store = store
        self.slots = Buckets(
            store,
            key=lambda slot: keys.cutover_stats(slot, router_id),
            period_s=SLOT_S,
            new=Slot,
            retention_s=retention_s,
            clock=clock,
        )
        self._leases = LeasePool(store, retention_s, bucket_s=3600)

    def count(self, legacy: Reading, twinteller: Reading, served: str, agreed: bool | None) -> None:
        slot = self.slots.current()
        for reading in (legacy, twinteller):
            response = reading.answered.response if reading.answered else None
            no_answer = response is not None and (
                response.action in (pb.FALLBACK, pb.HANDOFF) if reading.system == TWINTELLER else not reading.rule
            )
            slot.systems[reading.system].observe(
                served=reading.system == served,
                fallback=no_answer,
                error=reading.answered is None,
                latency_s=reading.latency_s,
            )
        if agreed is None:
            return
        slot.compared += 1
        slot.agreed += agreed
        if not agreed and twinteller.answered:
            response = twinteller.answered.response
            slot.differences[(legacy.rule, response.intent, pb.Action.Name(response.action))] += 1

    async def difference(self, turn: Turn, legacy: Reading, twinteller: Reading) -> None:
        """Best effort: the turn is answered; a lost record is logged."""
        assert legacy.answered and twinteller.answered
        mine = twinteller.answered.response
        record = {
            "at": time.time(),
            "session_id": turn.session_id,
            "turn_id": turn.turn_id,
            "channel": turn.channel,
            "text": turn.masked,
            "legacy_rule": legacy.rule,
            "legacy_answer": legacy.answered.response.reply,
            "twinteller_intent": mine.intent,
            "twinteller_action": pb.Action.Name(mine.action),
            "twinteller_answer": mine.reply,
        }
        try:
            lease = await self._leases.current()
            await self._store.put(
                keys.cutover_difference(turn.session_id, turn.turn_id), json.dumps(record), lease=lease
            )
        except StoreError as e:
            log.warning("difference of %s/%s not recorded: %s", turn.session_id, turn.turn_id, e)


class Shadow:
    def __init__(
        self,
        bot: LegacyBot,
        view: CutoverView,
        recorder: ShadowRecorder,
        knowledge: KnowledgeView,
        on_legacy_call: Callable[[str], None] | None = None,
    ) -> None:
        self._bot = bot
        self._view = view
        self._recorder = recorder
        self._knowledge = knowledge
        self._on_legacy_call = on_legacy_call
        self._comparisons: set[asyncio.Task[None]] = set()

    def active(self) -> bool:
        return self._view.state().enabled

    # -- what the knowledge base says about legacy rules (per active version, cached) ---------
    def _active(self) -> Snapshot | None:
        try:
            return self._knowledge.snapshot(self._knowledge.active_version())
        except Unavailable:  # no model published yet: the legacy still answers, unmapped
            return None

    def _rules_by_faq(self) -> dict[str, frozenset[str]]:
        snapshot = self._active()
        return snapshot.legacy_rules if snapshot else {}

    def _faq_for_rule(self, rule: str) -> str:
        """The entry that answers `rule` in the active version; else `legacy:<RULE>`."""
        snapshot = self._active()
        return (snapshot.faq_of_legacy_rule.get(rule) if snapshot else None) or rule_tag(rule)

    # -- one turn ----------------------------------------------------------------------------
    async def _ask_legacy(self, turn: Turn, deadline: float) -> Reading:
        started = time.monotonic()
        if not turn.text:  # an IVR's keys or no input: the legacy bot reads words only
            e = LegacySkipped("a turn without words (keys or no input) is not asked of the legacy bot")
            self._observe_call("skipped")
            return Reading(LEGACY, None, e, 0.0)
        try:
            reply = await self._bot.ask(turn.text, turn.session_id, turn.channel, deadline)
        except TwintellerError as e:
            self._observe_call("skipped" if isinstance(e, LegacySkipped) else "failed")
            return Reading(LEGACY, None, e, time.monotonic() - started)
        self._observe_call("ok")
        response = self._legacy_response(turn, reply)
        return Reading(LEGACY, Answered(response, ("legacy",)), None, time.monotonic() - started, reply.rule)

    def _observe_call(self, outcome: str) -> None:
        if self._on_legacy_call is not None:
            self._on_legacy_call(outcome)

    def _legacy_response(self, turn: Turn, reply: LegacyReply) -> pb.ConverseResponse:
        return pb.ConverseResponse(
            session_id=turn.session_id,
            turn_id=turn.turn_id,
            reply=reply.answer,
            action=pb.ANSWER if reply.rule else pb.FALLBACK,
            intent=self._faq_for_rule(reply.rule) if reply.rule else "",
            confidence=1.0 if reply.rule else 0.0,
            model_version=LEGACY,
            system=LEGACY,
            language=languages.choose("", reply.answer, ""),  # the old bot answers as it answers
        )

    @staticmethod
    async def _ask_twinteller(
        twinteller: Answerer, turn: Turn, text: str, context: Context, deadline: float
    ) -> Reading:
        started = time.monotonic()
        try:
            answered = await twinteller(turn, text, context, deadline)
        except TwintellerError as e:
            return Reading(TWINTELLER, None, e, time.monotonic() - started)
        return Reading(TWINTELLER, answered, None, time.monotonic() - started)

    async def answer(self, turn: Turn, text: str, context: Context, deadline: float, twinteller: Answerer) -> Answered:
        """Ask both; serve the conversation's system, or the other if it failed. The
        comparison runs once the caller settles the turn (`Answered.settle`)."""
        system = assign(turn.session_id, context, self._view.state().twinteller_percent)
        legacy = asyncio.create_task(self._ask_legacy(turn, deadline))
        mine = asyncio.create_task(self._ask_twinteller(twinteller, turn, text, context, deadline))
        first, second = (legacy, mine) if system == LEGACY else (mine, legacy)
        try:
            reading = await first
            if reading.answered is None:
                backup = await second
                if backup.answered is None:
                    # Neither answered: twinteller's error says it best (UNAVAILABLE, DEADLINE).
                    failed = (await mine).error or reading.error
                    assert failed is not None
                    raise failed
                reading = backup
        except BaseException:
            for task in (legacy, mine):
                task.cancel()
            raise
        assert reading.answered is not None
        trace.get_current_span().set_attribute("twinteller.system", reading.system)

        def settle(committed: bool) -> None:
            if not committed:
                second.cancel()
                return
            task = asyncio.create_task(self._compare(turn, legacy, mine, reading.system))
            self._comparisons.add(task)
            task.add_done_callback(self._comparisons.discard)

        return replace(reading.answered, settle=settle)

    async def _compare(
        self, turn: Turn, legacy_task: asyncio.Task[Reading], mine_task: asyncio.Task[Reading], served: str
    ) -> None:
        legacy, mine = await legacy_task, await mine_task
        agreed = None
        if legacy.answered and mine.answered:
            response = mine.answered.response
            agreed = agrees(legacy.rule, response.intent, pb.Action.Name(response.action), self._rules_by_faq())
        self._recorder.count(legacy, mine, served, agreed)
        if agreed is False:
            await self._recorder.difference(turn, legacy, mine)

    async def close(self) -> None:
        for task in list(self._comparisons):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._comparisons, return_exceptions=True)
        await self._bot.close()
