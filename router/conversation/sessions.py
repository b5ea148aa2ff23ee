"""Conversation context in etcd, so any router can continue any conversation.

`sessions/<sid>` holds the context (recent turns, last intent) and `turns/<sid>/<tid>`
the response already given to a turn. Both are written in one transaction that succeeds
only if the turn is new and the context is unchanged since it was read: a turn retried
after a failover (even racing on two routers) is applied once, and the retry gets the
stored response. Keys ride on shared leases (one per router per minute) so sessions
expire about `ttl` after their last turn without a lease grant per turn.

When etcd cannot be reached at all (a router cut off from the quorum), the router keeps
serving (degraded): it continues the sessions it has served itself from a bounded local
copy (others start afresh), records new turns there, and writes them back once etcd
answers again. While degraded, turns go straight to the local copy; `write_back` probes
etcd every `probe_s` and ends the degraded mode.

Reconciliation (README "Partitions"): every turn a customer received is kept. If another
router moved the same session on meanwhile, the two branches are merged: both sides'
turns in the order they were served, the rest of the context from the branch whose last
turn is newest, and a conflict record (`conflicts/<sid>/...`, reported to `on_conflict`:
the router's metric and turn log) names the turns of each branch. A turn id answered on
both sides (the customer's client resent it to the other side) keeps the reply to the
attempt that arrived last: a client resends only a turn whose earlier attempt failed, so
only the last attempt's reply can have been delivered. The other is kept in the conflict
record. (A router never records a turn after its caller's deadline: router/conversation/turns.py.)
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.leases import LeasePool
from twinteller.etcd.store import Store

log = logging.getLogger(__name__)


@dataclass
class TurnSummary:
    turn_id: str
    text: str
    action: str
    intent: str
    channel: str = ""
    system: str = ""  # who answered it: "twinteller" or "legacy" (twinteller/migration/cutover.py)
    language: str = ""  # of the reply (twinteller/knowledge/languages.py)
    # When the turn arrived (Unix seconds): orders two branches' turns when merged, and of
    # two answers to one turn id marks the one to the attempt sent last, the one delivered.
    at: float = 0.0
    version: str = ""  # the model version that served it ("" for the legacy bot)


@dataclass
class Pending:
    """What the last turn left open: the options it offered (CLARIFY), or the details it
    asked for (slot filling), so that the next turn can be read as the answer to it."""

    options: list[str] = field(default_factory=list)  # intents offered, best first
    slot_intent: str = ""  # the FAQ whose details are being asked for
    slots: dict[str, str] = field(default_factory=dict)  # the details given so far
    reprompts: int = 0  # how many times the same details were asked for


@dataclass
class Context:
    turns: list[TurnSummary] = field(default_factory=list)
    last_intent: str = ""
    consecutive_fallbacks: int = 0
    started_at: float = 0.0
    pending: Pending = field(default_factory=Pending)
    # The system serving this conversation while the legacy bot is being replaced: the
    # one that answered its last turn ("" before any cutover: twinteller).
    system: str = ""
    # The language the conversation is answered in, until the customer writes in another.
    language: str = ""
    # The model version it is served by: kept while a canary runs or is promoted
    # (twinteller/release/canary.py), so that no conversation switches versions midway.
    version: str = ""

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Context:
        data = json.loads(raw)
        data["turns"] = [TurnSummary(**t) for t in data.get("turns", [])]
        data["pending"] = Pending(**data.get("pending", {}))
        return cls(**data)

    def last_text(self) -> str:
        """The customer's words in the last turn that was about something (not a fallback)."""
        return next((t.text for t in reversed(self.turns) if t.intent), "")

    def advance(self, summary: TurnSummary, history: int, pending: Pending | None = None) -> Context:
        """The context after `summary`'s turn (a new object: the loaded one stays as read)."""
        fallbacks = self.consecutive_fallbacks + 1 if summary.action == "FALLBACK" else 0
        return Context(
            turns=[*self.turns, summary][-history:],
            last_intent=summary.intent or self.last_intent,
            consecutive_fallbacks=fallbacks,
            started_at=self.started_at,
            pending=pending or Pending(),
            system=summary.system or self.system,
            language=summary.language or self.language,
            version=summary.version or self.version,
        )


def _last_at(context: Context) -> float:
    return context.turns[-1].at if context.turns else 0.0


def merge(ours: Context, theirs: Context, history: int, keep_ours: frozenset[str] = frozenset()) -> Context:
    """One context from two branches of a conversation served on both sides of a
    partition: both branches' turns in the order they were served (for a turn id both
    hold, etcd's summary unless it is in `keep_ours`), and what was left open, the
    language and the system from the branch whose last turn is newest."""
    mine = {t.turn_id: t for t in ours.turns}
    turns = [mine.pop(t.turn_id) if t.turn_id in keep_ours and t.turn_id in mine else t for t in theirs.turns]
    seen = {t.turn_id for t in turns}
    turns = sorted([*turns, *(t for t in ours.turns if t.turn_id not in seen)], key=lambda t: t.at)
    newest = ours if _last_at(ours) > _last_at(theirs) else theirs
    started = [c.started_at for c in (ours, theirs) if c.started_at]
    return replace(newest, turns=turns[-history:], started_at=min(started, default=0.0))


@dataclass(frozen=True)
class Conflict:
    """A session served on both sides of a partition, and how it was merged."""

    session_id: str
    ours: list[str]  # turn ids this router served while cut off
    theirs: list[str]  # turn ids etcd's copy has that this router's branch did not
    # Turn ids answered on both sides: whose reply gave way ("ours" or "theirs"), and that
    # reply (the stored response, base64), kept here.
    superseded: dict[str, str]
    superseded_records: dict[str, str]
    at: float

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()


@dataclass(frozen=True)
class Loaded:
    context: Context
    revision: int  # mod_revision of the session key; 0 for a new session
    local: bool = False  # read from this router's own copy: etcd is unreachable


@dataclass
class LocalSession:
    context: Context
    revision: int  # the etcd revision this copy descends from (0: never in etcd)
    records: dict[str, bytes]  # turn id -> response, for the recent turns
    unsynced: list[str] = field(default_factory=list)  # turns etcd has not seen yet
    # Whether this copy is exactly what etcd holds at `revision` (this router's own commit),
    # so a turn may be answered from it without reading etcd (SessionStore.load). A copy
    # written back after an outage may have been merged or given way: read etcd first.
    presumable: bool = True
    at: float = field(default_factory=time.monotonic)  # when this router last committed it


class LocalSessions:
    """The sessions this router served lately, least recently used dropped first."""

    def __init__(self, capacity: int, history: int = 10) -> None:
        self._capacity = capacity
        self._history = history
        self._entries: OrderedDict[str, LocalSession] = OrderedDict()

    def get(self, session_id: str) -> LocalSession | None:
        entry = self._entries.get(session_id)
        if entry is not None:
            self._entries.move_to_end(session_id)
        return entry

    def record(
        self, session_id: str, context: Context, revision: int, turn_id: str, response: bytes, *, synced: bool
    ) -> None:
        entry = self._entries.get(session_id)
        if entry is None or synced:
            unsynced = [] if synced else [turn_id]
            # A copy that was written back may hold replies etcd superseded: not carried on.
            earlier = entry.records if entry is not None and entry.presumable else {}
            records = {**earlier, turn_id: response}
            entry = LocalSession(context, revision, records, unsynced)
        else:
            # Merged, not replaced: a write-back may have merged another router's turns into
            # this copy while the turn was being answered from the copy it had read.
            entry.context = merge(context, entry.context, self._history)
            entry.records[turn_id] = response
            entry.unsynced.append(turn_id)
        # Keep the records of the recent turns, and of every turn etcd has yet to see.
        keep = {t.turn_id for t in context.turns} | set(entry.unsynced)
        entry.records = {t: r for t, r in entry.records.items() if t in keep}
        self._entries[session_id] = entry
        self._entries.move_to_end(session_id)
        while len(self._entries) > self._capacity:
            dropped, old = self._entries.popitem(last=False)
            if old.unsynced:
                log.warning("local session copy of %s dropped before etcd saw %d turn(s)", dropped, len(old.unsynced))

    def unsynced(self) -> list[tuple[str, LocalSession]]:
        return [(sid, e) for sid, e in self._entries.items() if e.unsynced]

    def synced(self, session_id: str, revision: int, written: list[str], merged: Context | None = None) -> None:
        """etcd now has `written` (turns served meanwhile stay unsynced for the next round),
        and `merged` when two branches were merged."""
        entry = self._entries.get(session_id)
        if entry is not None:
            entry.revision = revision
            entry.unsynced = [t for t in entry.unsynced if t not in written]
            entry.presumable = False
            if merged is not None:
                entry.context = merge(entry.context, merged, self._history)

    def forget(self, session_id: str) -> None:
        self._entries.pop(session_id, None)


class SessionStore:
    def __init__(
        self,
        store: Store,
        *,
        ttl_s: int,
        history_turns: int,
        local_sessions: int = 10_000,
        probe_s: float = 0.5,
        on_conflict: Callable[[Conflict], None] = lambda conflict: None,
    ) -> None:
        self._store = store
        self._on_conflict = on_conflict
        self._history = history_turns
        self._leases = LeasePool(store, ttl_s)
        # A copy is presumed to be etcd's for half the session TTL after its commit: the
        # session key surely still lives then (its lease is at most a minute older than the
        # commit), so a resent turn is never replayed from a copy of an expired session.
        self._presume_s = ttl_s / 2
        self._local = LocalSessions(local_sessions, history_turns)
        self._probe_s = probe_s
        self.degraded = False  # etcd unreachable: serving from the local copies

    def _went_offline(self, error: StoreError) -> None:
        if not self.degraded:
            log.error("etcd unreachable (%s): serving sessions from this router's own copies", error)
        self.degraded = True

    async def load(self, session_id: str, turn_id: str, *, read: bool = False) -> tuple[bytes | None, Loaded]:
        """The response already given to this turn, if any, and the session's context.

        Without `read`, no etcd round trip where this router can presume what etcd holds:
        a session it committed last (its own copy, at the revision its commit got, within
        half the session TTL; not one written back after an outage) or one it has never
        seen (presumed new, revision 0).
        The commit compares exactly that revision and that the turn is absent, so a wrong
        presumption commits nothing: the caller loads again with `read` (TurnHandler does)
        and answers from what etcd holds. Under sticky routing that saves one of a turn's
        two etcd calls (docs/benchmarks.md "Cost per turn"). With `read`: one round trip."""
        local = self._local.get(session_id)
        if not self.degraded and not (local and local.unsynced):
            if not read:
                if local is None:
                    return None, Loaded(Context(started_at=time.time()), 0)
                if local.presumable and time.monotonic() - local.at < self._presume_s:
                    return local.records.get(turn_id), Loaded(local.context, local.revision)
            try:
                turn, session = await self._store.get_many(keys.turn(session_id, turn_id), keys.session(session_id))
            except StoreError as e:
                self._went_offline(e)
            else:
                stored = None if turn is None else turn.value
                if session is None:
                    return stored, Loaded(Context(started_at=time.time()), 0)
                return stored, Loaded(Context.from_json(session.value), session.mod_revision)
        # Degraded, or this session has turns etcd has not seen: the local copy is the truth.
        if local is None:
            return None, Loaded(Context(started_at=time.time()), 0, local=True)
        return local.records.get(turn_id), Loaded(local.context, local.revision, local=True)

    async def commit(
        self,
        session_id: str,
        loaded: Loaded,
        summary: TurnSummary,
        response: bytes,
        pending: Pending | None = None,
        also: tuple[tuple[str, bytes, int], ...] = (),
    ) -> bool:
        """Record the turn (and what it left open for the next one); False if another
        writer got there first (re-read and retry). `also`: records (key, value, lease)
        written in the same transaction, only to etcd (none while degraded)."""
        context = loaded.context.advance(summary, self._history, pending)
        if not loaded.local:
            try:
                revision = await self._store.commit(
                    absent=[keys.turn(session_id, summary.turn_id)],
                    unchanged={keys.session(session_id): loaded.revision},
                    puts={
                        keys.session(session_id): context.to_json(),
                        keys.turn(session_id, summary.turn_id): response,
                    },
                    lease=await self._leases.current(),
                    leased=also,
                )
            except StoreError as e:
                self._went_offline(e)  # keep the turn here; written back when etcd returns
            else:
                if revision:
                    self._local.record(session_id, context, revision, summary.turn_id, response, synced=True)
                return bool(revision)
        self._local.record(session_id, context, loaded.revision, summary.turn_id, response, synced=False)
        return True

    async def write_back(self) -> None:
        """Runs for the router's life: while degraded, probe etcd; once it answers, leave
        the degraded mode and write the turns served meanwhile back to it. A session with
        turns etcd has not seen yet stays with its local copy until they are written
        (`load`), so leaving at once is safe, and it must be: under steady load new turns
        keep arriving, and waiting for no unsynced turn at all could wait forever."""
        while True:
            await asyncio.sleep(self._probe_s)
            if not self.degraded and not self._local.unsynced():
                continue
            try:
                await self._store.get(keys.ROOT)
            except StoreError:
                continue
            if self.degraded:
                log.warning("etcd is back: sessions are read from and written to etcd again")
                self.degraded = False
            try:
                for session_id, entry in self._local.unsynced():
                    await self._write_back(session_id, entry)
            except StoreError as e:
                self._went_offline(e)

    async def _write_back(self, session_id: str, entry: LocalSession) -> None:
        """Write the turns served without etcd. A turn id both sides answered (the client
        resent it to the other side) keeps the reply to the attempt that arrived last."""
        written = list(entry.unsynced)  # turns may be added while the commit is in flight
        session_key = keys.session(session_id)
        current, *replies = await self._store.get_many(session_key, *(keys.turn(session_id, t) for t in written))
        revision_now = 0 if current is None else current.mod_revision
        theirs = Context() if current is None else Context.from_json(current.value)
        served_there = {t.turn_id: t.at for t in theirs.turns}
        served_here = {t.turn_id: t.at for t in entry.context.turns}
        new: list[str] = []
        superseded: dict[str, str] = {}
        superseded_records: dict[str, str] = {}
        for turn_id, reply in zip(written, replies, strict=True):
            if reply is None:
                new.append(turn_id)
            elif served_here.get(turn_id, 0.0) > served_there.get(turn_id, float("inf")):
                superseded[turn_id] = "theirs"
                superseded_records[turn_id] = base64.b64encode(reply.value).decode()
            else:
                superseded[turn_id] = "ours"
                superseded_records[turn_id] = base64.b64encode(entry.records[turn_id]).decode()
        puts = {keys.turn(session_id, t): entry.records[t] for t in written if superseded.get(t) != "ours"}
        merged: Context | None = None
        conflict: Conflict | None = None
        if revision_now == entry.revision and not superseded:
            puts[session_key] = entry.context.to_json()  # nobody moved it on: ours continues it
        else:
            keep_ours = frozenset(t for t, gave_way in superseded.items() if gave_way == "theirs")
            merged = merge(entry.context, theirs, self._history, keep_ours)
            other = [t for t in served_there if t not in served_here]
            conflict = Conflict(session_id, written, other, superseded, superseded_records, time.time())
            puts[session_key] = merged.to_json()
            puts[keys.conflict(session_id)] = conflict.to_json()
        revision = await self._store.commit(
            absent=[keys.turn(session_id, t) for t in new],
            unchanged={session_key: revision_now},
            puts=puts,
            lease=await self._leases.current(),
        )
        if not revision:
            return  # moved on again meanwhile: merged afresh next round, nothing dropped
        self._local.synced(session_id, revision, written, merged)
        if conflict is not None:
            log.warning(
                "session %s was served on both sides of a partition: merged (ours %s, theirs %s, superseded %s)",
                session_id, conflict.ours, conflict.theirs, conflict.superseded,
            )  # fmt: skip
            self._on_conflict(conflict)
