"""Conversation context in etcd, so any router can continue any conversation.

`sessions/<sid>` holds the context (recent turns, last intent) and `turns/<sid>/<tid>`
the response already given to a turn. Both are written in one transaction that succeeds
only if the turn is new and the context is unchanged since it was read: a turn retried
after a failover (even racing on two routers) is applied once, and the retry gets the
stored response. Keys ride on shared leases (one per router per minute) so sessions
expire about `ttl` after their last turn without a lease grant per turn.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from twinteller import keys
from twinteller.store import Store


@dataclass
class TurnSummary:
    turn_id: str
    text: str
    action: str
    intent: str


@dataclass
class Context:
    turns: list[TurnSummary] = field(default_factory=list)
    last_intent: str = ""
    consecutive_fallbacks: int = 0
    started_at: float = 0.0

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Context:
        data = json.loads(raw)
        data["turns"] = [TurnSummary(**t) for t in data.get("turns", [])]
        return cls(**data)


@dataclass(frozen=True)
class Loaded:
    context: Context
    revision: int  # mod_revision of the session key; 0 for a new session


class LeasePool:
    """Hands out a lease that lives at least `ttl` seconds from now, granting a new one
    every `bucket_s` seconds instead of one per write."""

    def __init__(self, store: Store, ttl: int, bucket_s: int = 60) -> None:
        self._store = store
        self._ttl = ttl
        self._bucket = bucket_s
        self._lease = 0
        self._granted_at = float("-inf")

    async def current(self) -> int:
        now = time.monotonic()
        if now - self._granted_at >= self._bucket:
            self._lease = await self._store.grant(self._ttl + self._bucket)
            self._granted_at = now
        return self._lease


class SessionStore:
    def __init__(self, store: Store, *, ttl_s: int, history_turns: int) -> None:
        self._store = store
        self._history = history_turns
        self._leases = LeasePool(store, ttl_s)

    async def load(self, session_id: str, turn_id: str) -> tuple[bytes | None, Loaded]:
        """The response already given to this turn, if any, and the session's context:
        one etcd round trip per turn."""
        turn, session = await self._store.get_many(keys.turn(session_id, turn_id), keys.session(session_id))
        stored = None if turn is None else turn.value
        if session is None:
            return stored, Loaded(Context(started_at=time.time()), 0)
        return stored, Loaded(Context.from_json(session.value), session.mod_revision)

    async def commit(self, session_id: str, loaded: Loaded, summary: TurnSummary, response: bytes) -> bool:
        """Record the turn; False if another writer got there first (re-read and retry)."""
        context = loaded.context
        context.turns = [*context.turns, summary][-self._history :]
        if summary.action == "FALLBACK":
            context.consecutive_fallbacks += 1
        else:
            context.consecutive_fallbacks = 0
        if summary.intent:
            context.last_intent = summary.intent
        return await self._store.commit(
            absent=[keys.turn(session_id, summary.turn_id)],
            unchanged={keys.session(session_id): loaded.revision},
            puts={keys.session(session_id): context.to_json(), keys.turn(session_id, summary.turn_id): response},
            lease=await self._leases.current(),
        )
