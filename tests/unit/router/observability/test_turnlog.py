"""The router's turn log (router/observability/turn_log.py) on a real SQLite file: rows written in
batches, found by session and by time and channel, window figures, retention, a write that
fails keeps its rows; and what the public service logs for a turn, answered or failed."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from router.api.assistant_service import AssistantService
from router.conversation.turn import Outcome, Turn
from router.observability.turn_log import TurnLog, TurnRow
from twinteller.config import RouterConfig
from twinteller.errors import Unavailable
from twinteller.v1 import assistant_pb2 as pb

ROW = TurnRow(1000.0, "s1", "1", "ivr", "hello", "ANSWER", "balance", "a", "3", "twinteller", 12.0, "", "t" * 32,
              "a:ok", "router-a")  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 2000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log(tmp_path: Path, clock: Clock) -> TurnLog:
    return TurnLog(tmp_path / "turns.sqlite3", retention_s=3600, identity="router-a", clock=clock)


async def test_rows_are_found_by_session_in_time_order(log: TurnLog) -> None:
    log.record(replace(ROW, turn_id="2", at=1010.0))
    log.record(ROW)
    log.record(replace(ROW, session_id="s2"))
    await log.flush()
    assert [r.turn_id for r in await log.session("s1")] == ["1", "2"]
    assert await log.session("nobody") == []


async def test_rows_are_found_by_time_and_channel(log: TurnLog) -> None:
    log.record(ROW)
    log.record(replace(ROW, session_id="s2", channel="app", at=1005.0))
    log.record(replace(ROW, session_id="s3", at=1100.0))
    await log.flush()
    assert [r.session_id for r in await log.between(999.0, 1050.0)] == ["s1", "s2"]
    assert [r.session_id for r in await log.between(999.0, 1050.0, "app")] == ["s2"]
    assert len(await log.between(0.0, 5000.0, limit=2)) == 2


async def test_window_figures(log: TurnLog, clock: Clock) -> None:
    rows = [
        replace(ROW, at=1990.0, latency_ms=float(ms), turn_id=str(ms))
        for ms in range(1, 101)  # 100 answered turns, 1..100 ms
    ]
    rows += [
        replace(ROW, at=1990.0, action="FALLBACK", turn_id="f"),
        replace(ROW, at=1990.0, action="", error="UNAVAILABLE: no zone", latency_ms=5000.0, turn_id="e"),
        replace(ROW, at=1990.0, attempts="a:slow,b:ok", turn_id="r"),
        replace(ROW, at=100.0, error="INTERNAL: old", turn_id="old"),  # outside the window
    ]
    for row in rows:
        log.record(row)
    await log.flush()
    stats = await log.stats(since=1900.0)
    assert (stats.turns, stats.errors, stats.fallbacks, stats.rerouted) == (103, 1, 1, 1)
    assert 49 <= stats.p50_ms <= 52 and stats.p99_ms <= 101  # the failed turn's 5 s is no latency


async def test_window_figures_count_only_this_routers_own_turns(log: TurnLog) -> None:
    log.record(replace(ROW, at=1990.0))
    await log.receive([replace(ROW, at=1990.0, router="router-b", turn_id="b1")])
    await log.flush()
    assert (await log.stats(since=1900.0)).turns == 1
    assert len(await log.session("s1")) == 2  # locate sees both


async def test_another_routers_rows_are_kept_once(log: TurnLog) -> None:
    theirs = [replace(ROW, router="router-b", turn_id=str(n)) for n in range(3)]
    assert await log.receive(theirs) == 3
    assert await log.receive(theirs[1:]) == 0  # sent again after a lost acknowledgement
    assert [r.turn_id for r in await log.session("s1")] == ["0", "1", "2"]


async def test_own_rows_are_shipped_to_each_peer_from_its_own_mark(log: TurnLog) -> None:
    for n in range(5):
        log.record(replace(ROW, turn_id=str(n), at=1000.0 + n))
    await log.flush()
    await log.receive([replace(ROW, router="router-b", turn_id="theirs")])  # never shipped back
    rows, mark = await log.unshipped("router-b", limit=3)
    assert [r.turn_id for r in rows] == ["0", "1", "2"]
    again, same = await log.unshipped("router-b", limit=3)
    assert (again, same) == (rows, mark)  # not acknowledged: sent again
    await log.shipped("router-b", mark)
    rest, end = await log.unshipped("router-b", limit=3)
    assert [r.turn_id for r in rest] == ["3", "4"]
    await log.shipped("router-b", end)
    assert (await log.unshipped("router-b", limit=3))[0] == []
    assert [r.turn_id for r in (await log.unshipped("router-c", limit=10))[0]] == ["0", "1", "2", "3", "4"]


async def test_old_rows_go_after_the_retention(log: TurnLog, clock: Clock) -> None:
    log.record(replace(ROW, at=clock.now - 7200))
    log.record(replace(ROW, at=clock.now - 60, turn_id="2"))
    await log.flush()
    assert log._purge() == 1
    assert [r.turn_id for r in await log.session("s1")] == ["2"]


async def test_a_failed_write_keeps_the_rows_for_the_next_flush(log: TurnLog) -> None:
    log.record(ROW)
    log.close()
    with pytest.raises(sqlite3.ProgrammingError):
        await log.flush()
    assert log._pending == [ROW]


async def test_rows_beyond_the_backlog_are_counted_not_kept(log: TurnLog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("router.observability.turn_log.MAX_PENDING", 2)
    for _ in range(5):
        log.record(ROW)
    assert log.dropped == 3


class FakeTurns:
    def __init__(self, outcome: Outcome | Exception) -> None:
        self._outcome = outcome

    async def handle(self, turn: Turn, deadline: float) -> Outcome:
        if isinstance(self._outcome, Exception):
            raise self._outcome
        return self._outcome


class FakeContext:
    def time_remaining(self) -> float:
        return 5.0


async def _served(log: TurnLog, outcome: Outcome | Exception) -> None:
    service = AssistantService(RouterConfig(router_id="router-x"), FakeTurns(outcome), None, turn_log=log)  # type: ignore[arg-type]
    turn = Turn("s9", "4", "my card 4111 1111 1111 1111 is lost", "app", "en-GB")
    context: Any = FakeContext()
    try:
        await service._serve(turn, context)
    except Exception:
        pass
    await log.flush()


async def test_an_answered_turn_is_logged_masked(log: TurnLog) -> None:
    response = pb.ConverseResponse(action=pb.ANSWER, intent="lost_or_stolen_card", zone="b", model_version="2",
                                   system="twinteller", trace_id="ab" * 16)  # fmt: skip
    await _served(log, Outcome(response, ("a:failed", "b:ok")))
    (row,) = await log.session("s9")
    assert (row.action, row.intent, row.zone, row.model_version, row.attempts, row.router) == (
        "ANSWER",
        "lost_or_stolen_card",
        "b",
        "2",
        "a:failed,b:ok",
        "router-x",
    )
    assert row.text == "my card [card] is lost" and row.error == "" and row.trace_id == "ab" * 16


async def test_a_failed_turn_is_logged_with_its_status(log: TurnLog) -> None:
    await _served(log, Unavailable("no zone is registered"))
    (row,) = await log.session("s9")
    assert row.action == "" and row.error == "UNAVAILABLE: no zone is registered" and row.latency_ms >= 0
