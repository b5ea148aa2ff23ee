"""Every turn this router served (or failed), kept `retention_s` (7 days by default) for
locating a conversation after a complaint and for the inspection's window figures.

Not in etcd: a turn record is about 0.5 KB, and a bank's tens of thousands of daily
conversations kept a week would be gigabytes, against etcd's 2 GiB default quota that the
sessions, the knowledge base and the leases need (README "Turn records"). Each router
keeps its own in a SQLite file (WAL, indexed by session and time), and a copy of the rows
of the routers in the other zones (sites), which they push to it
(router/observability/replication.py): a site lost takes none of its turns out of
`locate`, beyond the last second it had not shipped yet. `LocateTurns`
(router/admin/operations_service.py) answers from every row held, `GetTurnStats` from
this router's own; the `locate` and `inspect` commands ask every router and merge (a row
is the same row wherever it is held: router, session, turn and time). Rows are written in
batches off the turn's path, on a thread; texts are masked before they are kept
(twinteller/knowledge/masking.py).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from twinteller.backoff import Backoff

log = logging.getLogger(__name__)
PURGE_EVERY_S = 3600.0
# The action of a row that records a reconciled partition conflict (router/conversation/sessions.py):
# turn_id lists this router's turns, attempts the other branch's and the superseded ones.
RECONCILED = "RECONCILED"
MAX_PENDING = 100_000  # rows waiting for the writer; beyond, new rows are dropped (and counted)


@dataclass(frozen=True)
class TurnRow:
    at: float  # when the turn arrived, Unix seconds
    session_id: str
    turn_id: str
    channel: str
    text: str  # masked
    action: str  # ANSWER, CLARIFY, HANDOFF, FALLBACK; "" when the turn failed
    intent: str
    zone: str
    model_version: str
    system: str
    latency_ms: float
    error: str  # "" or "CODE: message"
    trace_id: str
    attempts: str  # the zones tried ("a:slow,b:ok"), or "replay"
    router: str


COLUMNS = [f.name for f in fields(TurnRow)]
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS turns ({", ".join(COLUMNS)});
CREATE INDEX IF NOT EXISTS turns_by_session ON turns (session_id, at);
CREATE INDEX IF NOT EXISTS turns_by_time ON turns (at);
CREATE UNIQUE INDEX IF NOT EXISTS turns_once ON turns (router, session_id, turn_id, at);
CREATE TABLE IF NOT EXISTS shipped (peer TEXT PRIMARY KEY, last_rowid INTEGER);
"""


@dataclass(frozen=True)
class TurnStats:
    turns: int
    errors: int
    fallbacks: int  # FALLBACK and HANDOFF
    rerouted: int  # served by another zone than the first tried
    p50_ms: float
    p99_ms: float


class TurnLog:
    def __init__(
        self,
        path: Path,
        retention_s: float,
        *,
        identity: str = "",
        flush_s: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._path = path
        self.identity = identity  # this router's id: its own rows (stats, shipping) have it
        self._retention_s = retention_s
        self._flush_s = flush_s
        self._clock = clock
        self._pending: list[TurnRow] = []
        self.dropped = 0
        self._lock = threading.Lock()  # one connection, used from the writer's and readers' threads
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a crash may lose the last rows, never corrupt
        self._db.executescript(SCHEMA)

    def record(self, row: TurnRow) -> None:
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self._pending.append(row)

    def _write(self, rows: list[TurnRow]) -> int:
        marks = ", ".join("?" * len(COLUMNS))
        with self._lock:
            self._db.execute("BEGIN")
            cursor = self._db.executemany(f"INSERT OR IGNORE INTO turns VALUES ({marks})", [astuple(r) for r in rows])
            self._db.execute("COMMIT")
            return int(cursor.rowcount)

    async def receive(self, rows: list[TurnRow]) -> int:
        """Store another router's rows (those already held are skipped); how many were new."""
        return await asyncio.to_thread(self._write, rows) if rows else 0

    def _unshipped(self, peer: str, limit: int) -> tuple[list[TurnRow], int]:
        with self._lock:
            found = self._db.execute("SELECT last_rowid FROM shipped WHERE peer = ?", (peer,)).fetchone()
            after = found[0] if found else 0
            query = (
                f"SELECT rowid, {', '.join(COLUMNS)} FROM turns WHERE rowid > ? AND router = ? ORDER BY rowid LIMIT ?"
            )
            rows = self._db.execute(query, (after, self.identity, limit)).fetchall()
        return [TurnRow(*row[1:]) for row in rows], (rows[-1][0] if rows else after)

    async def unshipped(self, peer: str, limit: int) -> tuple[list[TurnRow], int]:
        """This router's own rows that `peer` has not been sent yet (up to `limit`), and the
        mark to pass to `shipped` once it has them."""
        return await asyncio.to_thread(self._unshipped, peer, limit)

    def _shipped(self, peer: str, mark: int) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO shipped VALUES (?, ?)", (peer, mark))

    async def shipped(self, peer: str, mark: int) -> None:
        await asyncio.to_thread(self._shipped, peer, mark)

    def _purge(self) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM turns WHERE at < ?", (self._clock() - self._retention_s,)).rowcount

    async def flush(self) -> None:
        rows, self._pending = self._pending, []
        if rows:
            try:
                await asyncio.to_thread(self._write, rows)
            except BaseException:
                self._pending = rows + self._pending  # written next time
                raise

    async def run(self) -> None:
        backoff = Backoff(initial=self._flush_s, maximum=30.0)
        purged_at = 0.0
        while True:
            await asyncio.sleep(self._flush_s)
            try:
                await self.flush()
                if self._clock() - purged_at > PURGE_EVERY_S:
                    removed = await asyncio.to_thread(self._purge)
                    purged_at = self._clock()
                    if removed:
                        log.info("turn log: %d turns older than the retention removed", removed)
                backoff.reset()
            except sqlite3.Error as e:
                log.warning("turn log not written: %s", e)
                await backoff.sleep()

    def _select(self, where: str, args: tuple[object, ...], limit: int) -> list[TurnRow]:
        with self._lock:
            cursor = self._db.execute(f"SELECT * FROM turns WHERE {where} ORDER BY at LIMIT ?", (*args, limit))
            return [TurnRow(*row) for row in cursor.fetchall()]

    async def session(self, session_id: str, limit: int = 1000) -> list[TurnRow]:
        return await asyncio.to_thread(self._select, "session_id = ?", (session_id,), limit)

    async def between(self, since: float, until: float, channel: str = "", limit: int = 1000) -> list[TurnRow]:
        where = "at >= ? AND at < ?"
        args: tuple[object, ...] = (since, until)
        if channel:
            where, args = where + " AND channel = ?", (*args, channel)
        return await asyncio.to_thread(self._select, where, args, limit)

    def _stats(self, since: float) -> TurnStats:
        with self._lock:
            query = "SELECT action, error, attempts, latency_ms FROM turns WHERE at >= ? AND router = ?"
            rows = self._db.execute(query, (since, self.identity)).fetchall()
        latencies = sorted(latency for _, error, _, latency in rows if not error)

        def quantile(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

        return TurnStats(
            turns=len(rows),
            errors=sum(1 for _, error, _, _ in rows if error),
            fallbacks=sum(1 for action, _, _, _ in rows if action in ("FALLBACK", "HANDOFF")),
            rerouted=sum(1 for _, error, attempts, _ in rows if not error and "," in attempts),
            p50_ms=quantile(0.5),
            p99_ms=quantile(0.99),
        )

    async def stats(self, since: float) -> TurnStats:
        return await asyncio.to_thread(self._stats, since)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self._path.parent.glob(self._path.name + "*"))

    def close(self) -> None:
        with self._lock:
            self._db.close()
