"""Reading the cutover's comparison counts back (all routers' 10 s slots), and the guard
that the leader router runs: when twinteller does worse than the legacy bot by more than
the configured margin, new conversations go back to the legacy (twinteller/migration/cutover.py
says when), in one transaction with its audit record."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from twinteller.backoff import every
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.migration.cutover import SLOT_S, Cutover, Slot, regressed, rolled_back, total

log = logging.getLogger(__name__)
GUARD_ACTOR = "cutover-guard"


async def read_slots(store: Store, since: float, until: float, *, whole: bool = False) -> Slot:
    """Every router's counts from `since` to `until` (Unix seconds), added up. `whole`:
    only slots that began at or after `since` (no turn from before it counts)."""
    first = math.ceil(since / SLOT_S) if whole else int(since // SLOT_S)
    last = int(until // SLOT_S)
    entries = await store.get_range(keys.cutover_stats(first, ""), keys.cutover_stats(last + 1, ""))
    return total(Slot.from_json(e.value) for e in entries)


async def read_state(store: Store) -> tuple[Cutover, int]:
    """The cutover and the mod revision of its key (0: never set, the defaults)."""
    entry = await store.get(keys.CUTOVER)
    return (Cutover(), 0) if entry is None else (Cutover.from_json(entry.value), entry.mod_revision)


class CutoverGuard:
    def __init__(self, store: Store, *, interval_s: float = 2.0, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._interval = interval_s
        self._clock = clock

    async def check(self) -> str:
        """One look: roll back if twinteller regressed; the reason, or "" if all is well."""
        state, revision = await read_state(self._store)
        if not state.enabled or state.twinteller_percent == 0:
            return ""
        now = self._clock()
        # Only turns since the last change count: a rollback's own evidence must not undo
        # the next attempt, nor an old window judge a new model.
        seen = await read_slots(self._store, max(now - state.window_s, state.updated_at), now, whole=True)
        reason = regressed(state, seen)
        if not reason:
            return ""
        change = [f"twinteller_percent {state.twinteller_percent} -> 0", reason]
        if not await audited_commit(
            self._store, GUARD_ACTOR, "cutover rollback", change, at=now,
            puts={keys.CUTOVER: rolled_back(state, reason, now).to_json()}, unchanged={keys.CUTOVER: revision},
        ):  # fmt: skip
            return ""  # changed meanwhile: judged again on the next look
        log.warning("cutover rolled back to the legacy bot: %s", reason)
        return reason

    async def run(self) -> None:
        """Runs while this router leads (router/cluster/election.py cancels it)."""
        await every(self._interval, self.check, expected=(StoreError, ValueError, TypeError), log=log,
                    what="cutover guard")  # fmt: skip
