"""router/release/canary_guard.py over a small in-memory store: `read_canary`, and
`CanaryGuard.check`, which adds up every router's per-version slots since the canary began
and, when the canary does worse than the version it runs beside, aborts it (state ABORTED
by the guard, with the reason, and an audit record, in one commit) unless the canary
changed meanwhile; anything but a RUNNING canary is left alone."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from router.release.canary_guard import CanaryGuard, read_canary
from tests.helpers.memory_store import MemoryStore
from twinteller.errors import InvalidArgument
from twinteller.etcd import keys
from twinteller.release.canary import (
    ABORTED,
    GUARD_ACTOR,
    PROMOTED,
    RUNNING,
    SLOT_S,
    Canary,
    Thresholds,
    VersionCounts,
    VersionSlot,
)

NOW = 1_000_000.0  # Unix seconds, on a slot boundary
STARTED = NOW - 300  # also on a slot boundary
ACTIVE, CANARY = "v7", "v8"
RULES = Thresholds(min_turns=100, min_ratings=30, margin=0.05, z=3.0, latency_factor=2.0)
RUNNING_CANARY = Canary(CANARY, ACTIVE, 10, RUNNING, STARTED, STARTED, "ops", "", RULES)


def counts(turns: int, rephrases: int = 0) -> VersionCounts:
    c = VersionCounts()
    for n in range(turns):
        c.answered_turn("ANSWER", rephrase=n < rephrases, latency_s=0.02)
    return c


def slot_at(at: float, **versions: VersionCounts) -> VersionSlot:
    return VersionSlot(int(at // SLOT_S), dict(versions))


def regressing(at: float, turns: int = 100) -> VersionSlot:
    """The canary's answers asked again 40% of the time, the active version's 2%."""
    return slot_at(at, v8=counts(turns, turns * 4 // 10), v7=counts(turns, turns // 50))


def store_with(state: Canary | None, *slots: tuple[VersionSlot, str]) -> MemoryStore:
    store = MemoryStore(revision=40)
    if state is not None:
        store.put_now(keys.CANARY, state.to_json())
    for slot, router in slots:
        store.put_now(keys.version_stats(slot.slot, router), slot.to_json())
    return store


def guard(store: MemoryStore, now: float = NOW) -> CanaryGuard:
    return CanaryGuard(store, clock=lambda: now)


def state_of(store: MemoryStore) -> Canary:
    return Canary.from_json(store.data[keys.CANARY].value)


def audit_records(store: MemoryStore) -> list[dict[str, object]]:
    return [json.loads(e.value) for k, e in sorted(store.data.items()) if k.startswith(keys.KB_AUDIT)]


# --- read_canary -------------------------------------------------------------------------------


async def test_read_canary_of_nothing() -> None:
    assert await read_canary(store_with(None)) == (None, 0)


async def test_read_canary_gives_the_state_and_its_revision() -> None:
    store = store_with(RUNNING_CANARY)
    store.put_now("unrelated", b"x")
    canary, revision = await read_canary(store)
    assert canary == RUNNING_CANARY
    assert revision == 41 == store.data[keys.CANARY].mod_revision


# --- when the guard does nothing ---------------------------------------------------------------


async def test_no_canary_does_nothing() -> None:
    store = store_with(None, (regressing(NOW - 10), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_a_canary_doing_as_well_as_the_active_version_does_nothing() -> None:
    store = store_with(RUNNING_CANARY, (slot_at(NOW - 10, v8=counts(200, 4), v7=counts(200, 4)), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []
    assert state_of(store) == RUNNING_CANARY


async def test_too_few_turns_does_nothing() -> None:
    store = store_with(RUNNING_CANARY, (regressing(NOW - 10, turns=99), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_promoted_or_aborted_canaries_are_left_alone() -> None:
    for state in (PROMOTED, ABORTED):
        ended = replace(RUNNING_CANARY, state=state, updated_by="ops", reason="by hand")
        store = store_with(ended, (regressing(NOW - 10, turns=1000), "r"))

        assert await guard(store).check() == ""
        assert store.commits == []
        assert state_of(store) == ended


async def test_slots_from_before_the_canary_began_are_not_counted() -> None:
    store = store_with(RUNNING_CANARY, (regressing(STARTED - 10, turns=1000), "r"), (regressing(STARTED - 60), "s"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_the_slot_the_canary_began_in_is_not_counted() -> None:
    began = STARTED + 5  # halfway through a slot: part of it was before the canary
    store = store_with(replace(RUNNING_CANARY, started_at=began), (regressing(began, turns=1000), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_the_active_version_doing_worse_does_nothing() -> None:
    store = store_with(RUNNING_CANARY, (slot_at(NOW - 10, v8=counts(200, 4), v7=counts(200, 80)), "r"))

    assert await guard(store).check() == ""
    assert store.commits == []


async def test_a_third_version_doing_badly_is_not_the_canary() -> None:
    store = store_with(
        RUNNING_CANARY, (slot_at(NOW - 10, v6=counts(200, 150), v8=counts(200, 4), v7=counts(200, 4)), "r")
    )

    assert await guard(store).check() == ""
    assert store.commits == []


# --- aborting ----------------------------------------------------------------------------------


async def test_a_regressed_canary_is_aborted_with_the_reason_and_an_audit_record() -> None:
    store = store_with(RUNNING_CANARY, (regressing(NOW - 10), "router-a"))

    reason = await guard(store).check()

    assert reason.startswith("rephrase rate 40.0% over 100")
    aborted = state_of(store)
    assert aborted == replace(RUNNING_CANARY, state=ABORTED, updated_by=GUARD_ACTOR, updated_at=NOW, reason=reason)
    assert aborted.updated_by == "canary-guard"
    [audit] = audit_records(store)
    assert audit == {"at": NOW, "actor": "canary-guard", "action": "canary abort", "ids": ["v8", "10% -> 0%", reason]}
    # The abort and its record in one transaction.
    [commit] = store.commits
    assert keys.CANARY in commit and sum(k.startswith(keys.KB_AUDIT) for k in commit) == 1


async def test_every_router_and_slot_since_the_start_is_added_up() -> None:
    # Each router alone has 50 turns of each version, under min_turns; together 150.
    store = store_with(
        RUNNING_CANARY,
        (regressing(NOW - 200, turns=50), "router-a"),
        (regressing(NOW - 200, turns=50), "router-b"),
        (regressing(STARTED, turns=50), "router-a"),  # the first slot of the canary
    )

    reason = await guard(store).check()

    assert reason.startswith("rephrase rate 40.0% over 150")
    assert state_of(store).state == ABORTED


async def test_the_current_slot_is_counted() -> None:
    store = store_with(RUNNING_CANARY, (regressing(NOW + 3), "r"))

    assert await guard(store, now=NOW + 5).check() != ""


async def test_slots_after_now_are_not_counted() -> None:
    # A router whose clock runs ahead wrote the next slot already.
    store = store_with(RUNNING_CANARY, (regressing(NOW + 10), "r"), (regressing(NOW + 30), "s"))

    assert await guard(store, now=NOW + 5).check() == ""
    assert store.commits == []


async def test_a_canary_changed_meanwhile_is_not_overwritten() -> None:
    store = store_with(RUNNING_CANARY, (regressing(NOW - 10), "r"))
    # An operator promotes it while the guard adds up the slots.
    promoted = replace(RUNNING_CANARY, state=PROMOTED, updated_by="ops", updated_at=NOW - 1, reason="promoted")
    store.during["get_range"] = lambda: store.put_now(keys.CANARY, promoted.to_json())

    assert await guard(store).check() == ""

    assert store.commits == []
    assert state_of(store) == promoted
    assert audit_records(store) == []


async def test_a_canary_rewritten_unchanged_meanwhile_is_not_overwritten_either() -> None:
    # Same content, newer revision (e.g. the percentage set again): the compare is on the revision.
    store = store_with(RUNNING_CANARY, (regressing(NOW - 10), "r"))
    store.during["get_range"] = lambda: store.put_now(keys.CANARY, RUNNING_CANARY.to_json())

    assert await guard(store).check() == ""
    assert store.commits == []
    assert state_of(store).state == RUNNING


async def test_the_next_look_after_a_conflict_aborts() -> None:
    store = store_with(RUNNING_CANARY, (regressing(NOW - 10), "r"))
    raised = replace(RUNNING_CANARY, percent=50, updated_at=NOW - 1)
    store.during["get_range"] = lambda: store.put_now(keys.CANARY, raised.to_json())
    assert await guard(store).check() == ""

    reason = await guard(store).check()

    assert reason != ""
    assert state_of(store) == replace(raised, state=ABORTED, updated_by=GUARD_ACTOR, updated_at=NOW, reason=reason)
    assert [a["ids"] for a in audit_records(store)] == [["v8", "50% -> 0%", reason]]


async def test_an_aborted_canary_is_not_aborted_twice() -> None:
    store = store_with(RUNNING_CANARY, (regressing(NOW - 10), "r"))
    assert await guard(store).check() != ""

    assert await guard(store, now=NOW + 5).check() == ""
    assert len(store.commits) == 1
    assert len(audit_records(store)) == 1


async def test_a_stored_canary_that_does_not_validate_is_refused_not_judged() -> None:
    """A hand-edited key (min_turns 0 would divide by zero) is reported, never judged: the
    guard's loop logs InvalidArgument and looks again."""
    broken = replace(RUNNING_CANARY, thresholds=replace(RULES, min_turns=0))
    store = store_with(broken, (regressing(NOW - 20), "r1"))
    with pytest.raises(InvalidArgument, match="min_turns"):
        await guard(store).check()
