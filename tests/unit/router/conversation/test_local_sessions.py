"""router.conversation.sessions: the LocalSessions LRU of session copies, and SessionStore's degraded mode.

SessionStore runs against a small in-memory fake of the etcd Store (get, get_many, commit,
grant) with etcd's compare semantics, which can be switched to raise StoreError as if etcd
were unreachable.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from router.conversation.sessions import (
    Conflict,
    Context,
    Loaded,
    LocalSessions,
    Pending,
    SessionStore,
    TurnSummary,
    merge,
)
from tests.helpers.memory_store import MemoryStore
from twinteller.etcd import keys

HISTORY = 3


# -- LocalSessions ----------------------------------------------------------------------


SERVED: dict[str, float] = {}  # when each turn id was served: the first time it was summarised


def summary(turn_id: str, intent: str = "balance") -> TurnSummary:
    at = SERVED.setdefault(turn_id, float(len(SERVED) + 1))
    return TurnSummary(turn_id, f"text of {turn_id}", "ANSWER", intent, at=at)


def context_of(*turn_ids: str) -> Context:
    return Context(turns=[summary(t) for t in turn_ids], last_intent="balance")


def record(local: LocalSessions, sid: str, turn_ids: list[str], *, revision: int = 1, synced: bool = True) -> None:
    """Record the last of `turn_ids` with a context holding all of them."""
    last = turn_ids[-1]
    local.record(sid, context_of(*turn_ids), revision, last, f"response {last}".encode(), synced=synced)


def test_lru_evicts_least_recently_recorded_beyond_capacity() -> None:
    local = LocalSessions(2)
    record(local, "s1", ["t1"])
    record(local, "s2", ["t1"])
    record(local, "s3", ["t1"])
    assert local.get("s1") is None
    assert local.get("s2") is not None
    assert local.get("s3") is not None


def test_get_refreshes_recency() -> None:
    local = LocalSessions(2)
    record(local, "s1", ["t1"])
    record(local, "s2", ["t1"])
    assert local.get("s1") is not None  # s1 is now the most recent: s2 goes first
    record(local, "s3", ["t1"])
    assert local.get("s2") is None
    assert local.get("s1") is not None
    assert local.get("s3") is not None


def test_recording_again_refreshes_recency() -> None:
    local = LocalSessions(2)
    record(local, "s1", ["t1"])
    record(local, "s2", ["t1"])
    record(local, "s1", ["t1", "t2"])
    record(local, "s3", ["t1"])
    assert local.get("s2") is None
    assert local.get("s1") is not None


def test_capacity_one_keeps_only_the_latest() -> None:
    local = LocalSessions(1)
    for sid in ("s1", "s2", "s3"):
        record(local, sid, ["t1"])
    assert [local.get(s) is not None for s in ("s1", "s2", "s3")] == [False, False, True]


def test_evicting_an_unsynced_copy_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    local = LocalSessions(1)
    record(local, "s1", ["t1"], synced=False)
    with caplog.at_level(logging.WARNING, logger="router.conversation.sessions"):
        record(local, "s2", ["t1"])
    assert local.get("s1") is None
    assert any("s1" in r.getMessage() and "1 turn" in r.getMessage() for r in caplog.records)


def test_synced_records_keep_only_the_turns_in_the_context() -> None:
    local = LocalSessions(10)
    record(local, "s", ["t1"])
    record(local, "s", ["t1", "t2"])
    record(local, "s", ["t2", "t3"])  # t1 fell out of the history
    entry = local.get("s")
    assert entry is not None
    assert entry.records == {"t2": b"response t2", "t3": b"response t3"}
    assert entry.unsynced == []


def test_unsynced_turns_are_kept_even_when_out_of_the_context() -> None:
    local = LocalSessions(10, history=2)
    record(local, "s", ["t1"], synced=True)
    record(local, "s", ["t1", "t2"], synced=False)
    record(local, "s", ["t2", "t3"], synced=False)
    record(local, "s", ["t3", "t4"], synced=False)
    entry = local.get("s")
    assert entry is not None
    assert set(entry.records) == {"t2", "t3", "t4"}  # t1 synced and out of history; t2 unsynced
    assert entry.unsynced == ["t2", "t3", "t4"]
    assert entry.context == context_of("t3", "t4")


def test_first_unsynced_record_keeps_the_revision_it_descends_from() -> None:
    local = LocalSessions(10)
    local.record("s", context_of("t1"), 42, "t1", b"r1", synced=False)
    entry = local.get("s")
    assert entry is not None
    assert entry.revision == 42
    assert entry.unsynced == ["t1"]


def test_unsynced_lists_only_sessions_with_unsynced_turns() -> None:
    local = LocalSessions(10)
    record(local, "clean", ["t1"], synced=True)
    record(local, "dirty", ["t1"], synced=False)
    assert [sid for sid, _ in local.unsynced()] == ["dirty"]


def test_synced_clears_only_the_written_turns_and_updates_revision() -> None:
    local = LocalSessions(10)
    record(local, "s", ["t1"], revision=5, synced=False)
    record(local, "s", ["t1", "t2"], revision=5, synced=False)
    record(local, "s", ["t1", "t2", "t3"], revision=5, synced=False)
    local.synced("s", 9, ["t1", "t2"])
    entry = local.get("s")
    assert entry is not None
    assert entry.revision == 9
    assert entry.unsynced == ["t3"]
    assert [sid for sid, _ in local.unsynced()] == ["s"]
    local.synced("s", 10, ["t3"])
    assert local.unsynced() == []


def test_synced_for_unknown_session_is_ignored() -> None:
    local = LocalSessions(10)
    local.synced("nobody", 3, ["t1"])
    assert local.get("nobody") is None


def test_forget_drops_the_copy() -> None:
    local = LocalSessions(10)
    record(local, "s", ["t1"], synced=False)
    local.forget("s")
    assert local.get("s") is None
    assert local.unsynced() == []
    local.forget("s")  # forgetting twice is harmless


# -- SessionStore with a fake etcd --------------------------------------------------------


STORES: list[MemoryStore] = []  # made by the test running now


def fresh_store() -> MemoryStore:
    store = MemoryStore(revision=100)
    STORES.append(store)
    return store


@pytest.fixture(autouse=True)
def sessions_never_delete() -> Iterator[None]:
    STORES.clear()
    SERVED.clear()
    yield
    assert all(not store.deleted for store in STORES)  # sessions never delete


def stored_context(fake: MemoryStore, sid: str) -> Context:
    return Context.from_json(fake.data[keys.session(sid)].value)


def sessions_over(fake: MemoryStore, history: int = HISTORY) -> SessionStore:
    return SessionStore(fake, ttl_s=60, history_turns=history, local_sessions=100, probe_s=0.01)


async def serve(store: SessionStore, sid: str, turn_id: str) -> Loaded:
    """One turn as TurnHandler serves it: load (presuming), commit a response; once the
    commit finds the presumption wrong, load again reading etcd. Returns what the
    committed response was computed from."""
    for attempt in range(2):
        replay, loaded = await store.load(sid, turn_id, read=attempt > 0)
        assert replay is None, f"turn {turn_id} of {sid} is not new"
        if await store.commit(sid, loaded, summary(turn_id), f"response {turn_id}".encode()):
            return loaded
    raise AssertionError(f"turn {turn_id} of {sid} was not committed after reading etcd")


async def t1_then_t2_cut_off(store: SessionStore, fake: MemoryStore) -> None:
    """Session s1: turn t1 recorded in etcd, then etcd unreachable and t2 served from the copy."""
    await serve(store, "s1", "t1")
    fake.down = True
    await serve(store, "s1", "t2")


def turn_ids(context: Context) -> list[str]:
    return [t.turn_id for t in context.turns]


async def write_back_once(store: SessionStore) -> None:
    """Run the write-back loop until it has left the degraded mode and synced everything."""
    task = asyncio.create_task(store.write_back())
    try:
        for _ in range(500):
            await asyncio.sleep(0.01)
            if not store.degraded and not store._local.unsynced():
                return
        raise AssertionError("write-back did not finish")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_healthy_etcd_round_trip() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await serve(store, "s1", "t1")
    replay, loaded = await store.load("s1", "t2")
    assert replay is None
    assert not loaded.local
    assert loaded.revision == fake.data[keys.session("s1")].mod_revision
    assert turn_ids(loaded.context) == ["t1"]
    assert fake.data[keys.turn("s1", "t1")].value == b"response t1"
    assert not store.degraded


async def test_etcd_down_continues_a_session_served_before_from_the_local_copy() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await serve(store, "s1", "t1")
    revision = fake.data[keys.session("s1")].mod_revision
    fake.down = True
    replay, loaded = await store.load("s1", "t2", read=True)
    assert replay is None
    assert loaded.local
    assert loaded.revision == revision
    assert turn_ids(loaded.context) == ["t1"]
    assert store.degraded


async def test_etcd_down_starts_a_new_session_empty() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    fake.down = True
    replay, loaded = await store.load("new", "t1", read=True)
    assert replay is None
    assert loaded.local
    assert loaded.revision == 0
    assert loaded.context.turns == []
    assert loaded.context.started_at > 0
    assert store.degraded


async def test_commit_while_down_succeeds_and_keeps_the_turn_for_the_next_load() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await t1_then_t2_cut_off(store, fake)
    await serve(store, "s1", "t3")
    _, loaded = await store.load("s1", "t4")
    assert loaded.local
    assert turn_ids(loaded.context) == ["t1", "t2", "t3"]
    assert keys.turn("s1", "t2") not in fake.data


async def test_replay_while_down_returns_the_stored_response() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await t1_then_t2_cut_off(store, fake)
    replay, _ = await store.load("s1", "t2")
    assert replay == b"response t2"
    replay, _ = await store.load("s1", "t1")  # served before the outage: still a recent turn
    assert replay == b"response t1"


async def test_etcd_failing_at_commit_time_keeps_the_turn_locally() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await serve(store, "s1", "t1")
    _, loaded = await store.load("s1", "t2")
    assert not loaded.local
    fake.down = True
    assert await store.commit("s1", loaded, summary("t2"), b"response t2")
    assert store.degraded
    replay, after = await store.load("s1", "t2")
    assert replay == b"response t2"
    assert turn_ids(after.context) == ["t1", "t2"]


async def test_degraded_mode_does_not_ask_etcd_until_write_back_ends_it() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    fake.down = True
    await serve(store, "s1", "t1")
    fake.down = False
    fake.calls.clear()
    _, loaded = await store.load("s1", "t2")
    assert loaded.local
    assert fake.calls == []


async def test_write_back_while_still_down_stays_degraded() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await t1_then_t2_cut_off(store, fake)
    task = asyncio.create_task(store.write_back())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.degraded
    assert "get" in fake.calls  # it did probe
    assert keys.turn("s1", "t2") not in fake.data


async def test_write_back_syncs_sessions_and_turns_and_ends_degraded_mode() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await t1_then_t2_cut_off(store, fake)
    await serve(store, "s2", "u1")  # a session first seen while down
    fake.down = False
    await write_back_once(store)
    assert not store.degraded
    assert fake.data[keys.turn("s1", "t2")].value == b"response t2"
    assert fake.data[keys.turn("s2", "u1")].value == b"response u1"
    assert turn_ids(stored_context(fake, "s1")) == ["t1", "t2"]
    assert turn_ids(stored_context(fake, "s2")) == ["u1"]
    assert fake.data[keys.session("s1")].lease != 0  # written on a lease, so it expires
    # Back to etcd: the next turn reads etcd's copy, at its revision.
    replay, loaded = await store.load("s1", "t3")
    assert replay is None
    assert not loaded.local
    assert loaded.revision == fake.data[keys.session("s1")].mod_revision
    assert turn_ids(loaded.context) == ["t1", "t2"]
    await serve(store, "s1", "t3")
    assert turn_ids(stored_context(fake, "s1")) == ["t1", "t2", "t3"]


async def test_write_back_via_private_pass_syncs_one_session() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await t1_then_t2_cut_off(store, fake)
    fake.down = False
    [(sid, entry)] = store._local.unsynced()
    await store._write_back(sid, entry)
    assert store._local.unsynced() == []
    assert entry.revision == fake.data[keys.session("s1")].mod_revision
    assert fake.data[keys.turn("s1", "t2")].mod_revision == entry.revision


def conflicts_in(fake: MemoryStore, sid: str) -> list[dict[str, Any]]:
    return [json.loads(e.value) for k, e in sorted(fake.data.items()) if k.startswith(f"{keys.CONFLICTS}{sid}/")]


async def test_both_branches_are_kept_when_another_router_moved_the_session_on() -> None:
    fake = fresh_store()
    seen: list[Conflict] = []
    store = SessionStore(fake, ttl_s=60, history_turns=HISTORY, probe_s=0.01, on_conflict=seen.append)
    await serve(store, "s1", "t1")
    fake.down = True
    await serve(store, "s1", "t2")  # served here, cut off from etcd
    # Another router moved the session on meanwhile, after t2 was served here.
    theirs = context_of("t1", "x2")
    fake.put_now(keys.session("s1"), theirs.to_json())
    fake.put_now(keys.turn("s1", "x2"), b"response x2")
    fake.down = False
    await write_back_once(store)
    assert not store.degraded
    # Nothing the customers were told is lost: both branches, in the order served.
    assert fake.data[keys.turn("s1", "t2")].value == b"response t2"
    assert turn_ids(stored_context(fake, "s1")) == ["t1", "t2", "x2"]
    [record] = conflicts_in(fake, "s1")
    assert (record["ours"], record["theirs"], record["superseded"]) == (["t2"], ["x2"], {})
    assert [c.session_id for c in seen] == ["s1"]
    assert store._local.unsynced() == []
    _, loaded = await store.load("s1", "t3")
    assert not loaded.local
    assert turn_ids(loaded.context) == ["t1", "t2", "x2"]


async def test_session_unknown_to_this_router_served_while_down_is_merged_into_etcds() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    theirs = context_of("x1")
    fake.put_now(keys.session("s9"), theirs.to_json())
    fake.down = True
    loaded = await serve(store, "s9", "t1")
    assert loaded.context.turns == []  # cannot see etcd: starts afresh
    fake.down = False
    await write_back_once(store)
    assert turn_ids(stored_context(fake, "s9")) == ["x1", "t1"]
    assert keys.turn("s9", "t1") in fake.data
    [record] = conflicts_in(fake, "s9")
    assert (record["ours"], record["theirs"]) == (["t1"], ["x1"])


async def test_a_turn_answered_later_on_the_other_side_keeps_that_reply() -> None:
    """The customer's client resent turn t2 to a router on the other side, which answered
    it after this one: that is the reply the client accepted, so it stays; ours is kept in
    the conflict record."""
    fake = fresh_store()
    store = sessions_over(fake)
    await t1_then_t2_cut_off(store, fake)
    theirs = context_of("t1", "t2")
    fake.put_now(keys.session("s1"), theirs.to_json())
    fake.put_now(keys.turn("s1", "t2"), b"their response t2")
    fake.down = False
    await write_back_once(store)
    assert fake.data[keys.turn("s1", "t2")].value == b"their response t2"
    assert turn_ids(stored_context(fake, "s1")) == ["t1", "t2"]
    [record] = conflicts_in(fake, "s1")
    assert (record["ours"], record["theirs"], record["superseded"]) == (["t2"], [], {"t2": "ours"})
    assert base64.b64decode(record["superseded_records"]["t2"]) == b"response t2"
    replay, _ = await store.load("s1", "t2")
    assert replay == b"their response t2"


async def test_a_turn_answered_later_here_replaces_the_earlier_reply() -> None:
    """The other side answered t2 first, its reply never reached the client, which resent
    t2 here: this later reply is the one the client accepted."""
    fake = fresh_store()
    store = sessions_over(fake)
    await serve(store, "s1", "t1")
    theirs = Context(turns=[summary("t1"), TurnSummary("t2", "text", "ANSWER", "fees", at=0.5)])
    fake.down = True
    await serve(store, "s1", "t2")
    fake.put_now(keys.session("s1"), theirs.to_json())
    fake.put_now(keys.turn("s1", "t2"), b"their response t2")
    fake.down = False
    await write_back_once(store)
    assert fake.data[keys.turn("s1", "t2")].value == b"response t2"
    assert [t.intent for t in stored_context(fake, "s1").turns] == ["balance", "balance"]
    [record] = conflicts_in(fake, "s1")
    assert record["superseded"] == {"t2": "theirs"}
    assert base64.b64decode(record["superseded_records"]["t2"]) == b"their response t2"


async def test_no_conflict_is_recorded_when_nobody_else_moved_the_session() -> None:
    fake = fresh_store()
    seen: list[Conflict] = []
    store = SessionStore(fake, ttl_s=60, history_turns=HISTORY, probe_s=0.01, on_conflict=seen.append)
    await t1_then_t2_cut_off(store, fake)
    fake.down = False
    await write_back_once(store)
    assert turn_ids(stored_context(fake, "s1")) == ["t1", "t2"]
    assert conflicts_in(fake, "s1") == [] and seen == []


async def test_a_session_moved_on_again_during_the_write_back_is_merged_next_round() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await t1_then_t2_cut_off(store, fake)
    fake.down = False
    [(sid, entry)] = store._local.unsynced()
    # Between the write-back's read and its commit, another router writes a turn.
    fake.during["commit"] = lambda: fake.put_now(keys.session("s1"), context_of("t1", "x2").to_json())
    await store._write_back(sid, entry)
    assert keys.turn("s1", "t2") not in fake.data
    assert entry.unsynced == ["t2"]  # kept, not dropped
    await store._write_back(sid, entry)
    assert turn_ids(stored_context(fake, "s1")) == ["t1", "t2", "x2"]
    assert entry.unsynced == []


async def test_a_turn_answered_from_the_copy_while_it_was_merged_keeps_the_merged_turns() -> None:
    """Found by the site tests' history checker: a turn read the local copy, the write-back
    merged another router's turns into it meanwhile, and the turn's record replaced the
    merged context with the one it had read, so etcd lost the other router's turns."""
    fake = fresh_store()
    store = sessions_over(fake, history=10)
    await t1_then_t2_cut_off(store, fake)
    fake.put_now(keys.session("s1"), context_of("t1", "x3").to_json())  # moved on elsewhere
    fake.down = False
    replay, stale = await store.load("s1", "t4")  # served from the copy: it has unsynced turns
    assert replay is None and stale.local and turn_ids(stale.context) == ["t1", "t2"]
    [(sid, entry)] = store._local.unsynced()
    await store._write_back(sid, entry)  # merges x3 in while t4 is being answered
    assert await store.commit("s1", stale, summary("t4"), b"response t4")
    await write_back_once(store)
    assert turn_ids(stored_context(fake, "s1")) == ["t1", "t2", "x3", "t4"]


def test_merge_orders_both_branches_by_when_served_and_continues_from_the_newest() -> None:
    t1, a2, b2, a3 = summary("t1"), summary("a2"), summary("b2"), summary("a3")
    ours = Context(turns=[t1, a2, a3], last_intent="card", pending=Pending(slot_intent="card"), started_at=5.0)
    theirs = Context(turns=[t1, b2], last_intent="fees", language="en", started_at=3.0)
    merged = merge(ours, theirs, history=10)
    assert turn_ids(merged) == ["t1", "a2", "b2", "a3"]
    assert (merged.last_intent, merged.pending.slot_intent, merged.started_at) == ("card", "card", 3.0)
    newer_theirs = Context(turns=[t1, b2, summary("b3")], last_intent="fees")
    assert merge(ours, newer_theirs, history=10).last_intent == "fees"
    assert turn_ids(merge(ours, newer_theirs, history=2)) == ["a3", "b3"]


def test_merge_keeps_etcds_summary_of_a_turn_both_branches_hold() -> None:
    ours = Context(turns=[TurnSummary("t1", "ours", "ANSWER", "card", at=1.0)])
    theirs = Context(turns=[TurnSummary("t1", "theirs", "ANSWER", "fees", at=2.0)])
    assert [t.text for t in merge(ours, theirs, history=5).turns] == ["theirs"]


async def test_write_back_keeps_turns_served_while_it_was_in_flight() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    fake.down = True
    await serve(store, "s1", "t1")
    [(sid, entry)] = store._local.unsynced()
    fake.down = False
    original_commit = fake.commit

    async def commit_with_a_turn_racing_in(
        *,
        absent: list[str],
        unchanged: dict[str, int],
        puts: dict[str, bytes],
        lease: int | None = None,
        deletes: tuple[str, ...] = (),
        leased: tuple[tuple[str, bytes, int], ...] = (),
    ) -> int:
        _, loaded = await store.load("s1", "t2")  # still degraded: served locally
        await store.commit("s1", loaded, summary("t2"), b"response t2")
        return await original_commit(
            absent=absent, unchanged=unchanged, puts=puts, lease=lease, deletes=deletes, leased=leased
        )

    fake.commit = commit_with_a_turn_racing_in  # type: ignore[method-assign]
    await store._write_back(sid, entry)
    assert keys.turn("s1", "t1") in fake.data
    assert keys.turn("s1", "t2") not in fake.data
    assert [s for s, _ in store._local.unsynced()] == ["s1"]
    assert entry.unsynced == ["t2"]
    # The next round writes the late turn on top of the first one.
    fake.commit = original_commit  # type: ignore[method-assign]
    await store._write_back(sid, entry)
    assert fake.data[keys.turn("s1", "t2")].value == b"response t2"
    assert turn_ids(stored_context(fake, "s1")) == ["t1", "t2"]
    assert store._local.unsynced() == []


async def test_degraded_mode_ends_when_etcd_answers_even_under_steady_load() -> None:
    """New turns keep arriving while the turns served without etcd are written back: the
    router must still go back to etcd (it once stayed degraded for as long as load lasted)."""
    fake = fresh_store()
    store = sessions_over(fake)
    fake.down = True
    await serve(store, "s0", "t1")
    assert store.degraded
    fake.down = False
    original_commit = fake.commit

    async def slow_commit(**kwargs: Any) -> int:
        await asyncio.sleep(0.004)  # a real etcd write takes a while: turns keep arriving meanwhile
        return await original_commit(**kwargs)

    fake.commit = slow_commit  # type: ignore[method-assign]
    task = asyncio.create_task(store.write_back())
    try:
        for n in range(1, 200):
            await serve(store, f"s{n}", "t1")  # steady load, a new conversation each time
            await asyncio.sleep(0.002)
            if not store.degraded:
                break
        assert not store.degraded
        _, loaded = await store.load("fresh", "t1")
        assert not loaded.local  # new conversations are read from etcd again
        for _ in range(200):
            if not store._local.unsynced():
                break
            await asyncio.sleep(0.01)
        assert store._local.unsynced() == []
        assert keys.turn("s0", "t1") in fake.data
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


# Presumed loads (SessionStore.load without `read`): no etcd read where this router knows
# what etcd holds; the commit's compare catches a wrong presumption, and nothing is written.


async def test_a_session_committed_here_is_continued_without_reading_etcd() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await serve(store, "s1", "t1")
    fake.calls.clear()
    replay, loaded = await store.load("s1", "t2")
    assert fake.calls == []
    assert replay is None and not loaded.local
    assert loaded.revision == fake.data[keys.session("s1")].mod_revision
    assert turn_ids(loaded.context) == ["t1"]


async def test_an_unknown_session_is_presumed_new_without_reading_etcd() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    replay, loaded = await store.load("new", "t1")
    assert fake.calls == []
    assert replay is None and loaded.revision == 0 and loaded.context.turns == []


async def test_a_stale_copy_commits_nothing_and_the_read_gives_etcds_context() -> None:
    fake = fresh_store()
    here, there = sessions_over(fake), sessions_over(fake)
    await serve(here, "s1", "t1")
    continued = await serve(there, "s1", "t2")  # presumed new there: refused, then read
    assert turn_ids(continued.context) == ["t1"]
    before = dict(fake.data)
    _, stale = await here.load("s1", "t3")
    assert turn_ids(stale.context) == ["t1"]
    assert not await here.commit("s1", stale, summary("t3"), b"response t3")
    assert fake.data == before  # nothing written
    _, fresh = await here.load("s1", "t3", read=True)
    assert turn_ids(fresh.context) == ["t1", "t2"]


async def test_a_turn_answered_on_another_router_is_replayed_once_the_presumption_fails() -> None:
    fake = fresh_store()
    here, there = sessions_over(fake), sessions_over(fake)
    await serve(here, "s1", "t1")
    replay, presumed = await there.load("s1", "t1")  # the client resent t1 to the other router
    assert replay is None
    assert not await there.commit("s1", presumed, summary("t1"), b"a second answer")
    replay, _ = await there.load("s1", "t1", read=True)
    assert replay == b"response t1"


async def test_a_copy_written_back_after_an_outage_is_read_again() -> None:
    fake = fresh_store()
    store = sessions_over(fake)
    await t1_then_t2_cut_off(store, fake)
    fake.down = False
    await write_back_once(store)
    fake.calls.clear()
    _, loaded = await store.load("s1", "t3")
    assert "get_many" in fake.calls
    assert turn_ids(loaded.context) == ["t1", "t2"]


async def test_a_copy_older_than_half_the_session_ttl_is_read_again() -> None:
    fake = fresh_store()
    store = sessions_over(fake)  # ttl 60 s
    await serve(store, "s1", "t1")
    copy = store._local.get("s1")
    assert copy is not None
    copy.at -= 31  # committed 31 s ago: its lease may be near its end
    fake.calls.clear()
    replay, _ = await store.load("s1", "t1")
    assert "get_many" in fake.calls
    assert replay == b"response t1"  # etcd's, read again
