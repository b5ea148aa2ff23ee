"""router/migration/guard.py: `read_slots` (every router's 10 s comparison slots in a time range,
added up) and `CutoverGuard.check` over a small in-memory store: the guard rolls new
conversations back to the legacy bot (percent 0, with an audit record, in one commit)
when twinteller's fallback or error rate exceeds the legacy's by more than the margin
over at least `min_turns` turns since the last change and within `window_s`, and
otherwise (or when the state changed meanwhile) writes nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from router.migration.guard import CutoverGuard, read_slots
from tests.helpers.memory_store import MemoryStore
from twinteller.etcd import keys
from twinteller.migration.cutover import LEGACY, SLOT_S, TWINTELLER, Cutover, Slot

NOW = 1_000_000.0  # Unix seconds, on a slot boundary
LAST_CHANGE = NOW - 200  # also on a slot boundary


BASE = Cutover(
    enabled=True,
    twinteller_percent=50,
    fallback_margin=0.1,
    error_margin=0.02,
    window_s=300,
    min_turns=50,
    updated_by="ops",
    updated_at=LAST_CHANGE,
    reason="first half",
)


def enabled(**changes: Any) -> Cutover:
    """An enabled cutover at 50%, last changed at LAST_CHANGE, with `changes`."""
    return replace(BASE, **changes)


def slot_at(
    at: float,
    *,
    turns: int = 50,
    twinteller_fallbacks: int = 0,
    legacy_fallbacks: int = 0,
    twinteller_errors: int = 0,
    legacy_errors: int = 0,
) -> Slot:
    """A slot (the one `at` falls in) in which both systems were asked `turns` times."""
    slot = Slot(int(at // SLOT_S))
    for system, fallbacks, errors in (
        (TWINTELLER, twinteller_fallbacks, twinteller_errors),
        (LEGACY, legacy_fallbacks, legacy_errors),
    ):
        for n in range(turns):
            error = n < errors
            fallback = not error and n - errors < fallbacks
            slot.systems[system].observe(served=n % 2 == 0, fallback=fallback, error=error, latency_s=0.02)
    return slot


def regressing(at: float, turns: int = 50) -> Slot:
    """Twinteller falls back on 40% of turns, the legacy on 10%: 30 points, over a 10 point margin."""
    return slot_at(at, turns=turns, twinteller_fallbacks=turns * 4 // 10, legacy_fallbacks=turns // 10)


def store_with(state: Cutover | None, *slots: tuple[Slot, str]) -> MemoryStore:
    store = MemoryStore()
    if state is not None:
        store.put_now(keys.CUTOVER, state.to_json())
    for slot, router in slots:
        store.put_now(keys.cutover_stats(slot.slot, router), slot.to_json())
    return store


def guard(store: MemoryStore, now: float = NOW) -> CutoverGuard:
    return CutoverGuard(store, clock=lambda: now)


def state_of(store: MemoryStore) -> Cutover:
    return Cutover.from_json(store.data[keys.CUTOVER].value)


def audit_records(store: MemoryStore) -> list[dict[str, object]]:
    return [json.loads(e.value) for k, e in sorted(store.data.items()) if k.startswith(keys.KB_AUDIT)]


# -- read_slots -------------------------------------------------------------------------


async def test_read_slots_adds_up_every_router_and_slot_in_the_range() -> None:
    store = store_with(
        None,
        (slot_at(NOW - 30, turns=3), "router-a"),
        (slot_at(NOW - 30, turns=4), "router-b"),
        (slot_at(NOW - 10, turns=5), "router-a"),
    )

    seen = await read_slots(store, NOW - 60, NOW)

    assert seen.systems[TWINTELLER].asked == 12
    assert seen.systems[LEGACY].asked == 12


async def test_read_slots_leaves_out_slots_after_until() -> None:
    store = store_with(None, (slot_at(NOW - 10, turns=3), "r"), (slot_at(NOW + 10, turns=100), "r"))

    seen = await read_slots(store, NOW - 60, NOW)

    assert seen.systems[TWINTELLER].asked == 3


async def test_read_slots_counts_the_slot_since_falls_in_unless_whole() -> None:
    store = store_with(None, (slot_at(NOW - 15, turns=3), "r"), (slot_at(NOW - 5, turns=4), "r"))

    partly = await read_slots(store, NOW - 12, NOW)
    whole = await read_slots(store, NOW - 12, NOW, whole=True)

    assert partly.systems[TWINTELLER].asked == 7
    assert whole.systems[TWINTELLER].asked == 4


async def test_read_slots_of_nothing_is_an_empty_slot() -> None:
    seen = await read_slots(store_with(None), NOW - 60, NOW)

    assert seen.systems[TWINTELLER].asked == 0
    assert seen.compared == 0


# -- the guard: when it does nothing ---------------------------------------------------------


async def test_no_cutover_state_does_nothing() -> None:
    store = store_with(None, (regressing(NOW - 10), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_a_disabled_cutover_does_nothing() -> None:
    store = store_with(enabled(enabled=False), (regressing(NOW - 10), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_a_cutover_at_0_percent_does_nothing() -> None:
    store = store_with(enabled(twinteller_percent=0), (regressing(NOW - 10), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_twinteller_doing_as_well_as_the_legacy_does_nothing() -> None:
    store = store_with(enabled(), (slot_at(NOW - 10, twinteller_fallbacks=5, legacy_fallbacks=5), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_a_fallback_gap_within_the_margin_does_nothing() -> None:
    # 20% against 12%: 8 points, under the 10 point margin.
    store = store_with(enabled(), (slot_at(NOW - 10, twinteller_fallbacks=10, legacy_fallbacks=6), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_fewer_than_min_turns_does_nothing() -> None:
    store = store_with(enabled(min_turns=50), (regressing(NOW - 10, turns=49), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_slots_from_before_the_last_change_are_ignored() -> None:
    store = store_with(enabled(updated_at=LAST_CHANGE), (regressing(LAST_CHANGE - 10), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_the_slot_the_last_change_fell_in_is_ignored() -> None:
    changed = LAST_CHANGE + 5  # the middle of a slot: part of it was before the change
    store = store_with(enabled(updated_at=changed), (regressing(changed), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_slots_older_than_the_window_are_ignored() -> None:
    store = store_with(enabled(updated_at=0.0, window_s=300), (regressing(NOW - 400), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


# -- the guard: rolling back -----------------------------------------------------------------


async def test_a_fallback_regression_rolls_back_to_percent_0() -> None:
    store = store_with(enabled(), (regressing(NOW - 10), "r"))

    reason = await guard(store).check()

    assert "fallback" in reason
    state = state_of(store)
    assert state.twinteller_percent == 0
    assert state.enabled
    assert state.updated_by == "cutover-guard"
    assert state.updated_at == NOW
    assert state.reason == reason


async def test_the_rollback_and_its_audit_record_are_one_commit() -> None:
    store = store_with(enabled(twinteller_percent=50), (regressing(NOW - 10), "r"))

    reason = await guard(store).check()

    assert len(store.commits) == 1
    written = store.commits[0]
    assert keys.CUTOVER in written
    audits = [k for k in written if k.startswith(keys.KB_AUDIT)]
    assert len(audits) == 1
    record = json.loads(written[audits[0]])
    assert record["actor"] == "cutover-guard"
    assert record["at"] == NOW
    assert "twinteller_percent 50 -> 0" in record["ids"]
    assert reason in record["ids"]


async def test_an_error_regression_rolls_back_to_percent_0() -> None:
    # 10% errors against none: over the 2 point margin; no fallbacks on either side.
    store = store_with(enabled(), (slot_at(NOW - 10, twinteller_errors=5), "r"))

    reason = await guard(store).check()

    assert "error" in reason
    assert "fallback" not in reason
    assert state_of(store).twinteller_percent == 0
    assert len(audit_records(store)) == 1


async def test_an_error_gap_within_the_margin_does_nothing() -> None:
    # 2% errors against none: not more than the 2 point margin.
    store = store_with(enabled(), (slot_at(NOW - 10, turns=50, twinteller_errors=1), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_counts_of_two_routers_in_one_slot_add_up() -> None:
    # 25 turns each: under min_turns alone, 50 together.
    store = store_with(enabled(), (regressing(NOW - 10, turns=25), "router-a"), (regressing(NOW - 10, turns=25), "b"))

    reason = await guard(store).check()

    assert "fallback" in reason
    assert state_of(store).twinteller_percent == 0


async def test_one_routers_counts_alone_under_min_turns_do_nothing() -> None:
    store = store_with(enabled(), (regressing(NOW - 10, turns=25), "router-a"))

    assert await guard(store).check() == ""


async def test_slots_since_the_change_and_in_the_window_add_up() -> None:
    store = store_with(enabled(), (regressing(NOW - 100, turns=30), "r"), (regressing(NOW - 50, turns=20), "r"))

    assert await guard(store).check() != ""
    assert state_of(store).twinteller_percent == 0


async def test_a_concurrent_change_of_the_state_wins_and_nothing_is_written() -> None:
    store = store_with(enabled(), (regressing(NOW - 10), "r"))
    theirs = enabled(twinteller_percent=80, updated_by="someone else", reason="more")
    store.during["get_range"] = lambda: store.put_now(keys.CUTOVER, theirs.to_json())

    assert await guard(store).check() == ""

    assert store.commits == []
    assert state_of(store) == theirs
    assert audit_records(store) == []


async def test_the_guard_judges_again_after_a_failed_commit() -> None:
    store = store_with(enabled(), (regressing(NOW - 10), "r"))
    store.during["get_range"] = lambda: store.put_now(keys.CUTOVER, enabled().to_json())
    the_guard = guard(store)
    assert await the_guard.check() == ""

    assert "fallback" in await the_guard.check()
    assert state_of(store).twinteller_percent == 0


async def test_after_a_rollback_the_guard_does_nothing_more() -> None:
    store = store_with(enabled(), (regressing(NOW - 10), "r"))
    the_guard = guard(store)
    await the_guard.check()

    assert await the_guard.check() == ""
    assert len(store.commits) == 1
