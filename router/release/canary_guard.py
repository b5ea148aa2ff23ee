"""The guard the leader router runs over a RUNNING canary: every few seconds it adds up all
routers' per-version counts since the canary began and aborts it when the canary does worse
than the active version (twinteller/release/canary.py `regressed` says how that is
decided), in one transaction with its audit record; the console and `GetRelease` show why."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from router.release.version_stats import read_versions
from twinteller.backoff import every
from twinteller.errors import InvalidArgument, StoreError
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.release.canary import ABORTED, GUARD_ACTOR, RUNNING, Canary, regressed

log = logging.getLogger(__name__)


async def read_canary(store: Store) -> tuple[Canary | None, int]:
    """The canary state and the mod revision of its key (0: there is none)."""
    entry = await store.get(keys.CANARY)
    # Checked as written: a hand-edited key must not stop the guard (e.g. min_turns 0).
    return (None, 0) if entry is None else (Canary.from_json(entry.value).validated(), entry.mod_revision)


class CanaryGuard:
    def __init__(self, store: Store, *, interval_s: float = 2.0, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._interval = interval_s
        self._clock = clock

    async def check(self) -> str:
        """One look: abort the canary if it regressed; the reason, or "" if all is well."""
        canary, revision = await read_canary(self._store)
        if canary is None or canary.state != RUNNING:
            return ""
        now = self._clock()
        seen = await read_versions(self._store, canary.started_at, now)
        reason = regressed(canary.thresholds, seen.of(canary.version), seen.of(canary.baseline))
        if not reason:
            return ""
        aborted = canary.ended(ABORTED, GUARD_ACTOR, reason, now)
        change = [canary.version, f"{canary.percent}% -> 0%", reason]
        if not await audited_commit(
            self._store, GUARD_ACTOR, "canary abort", change, at=now,
            puts={keys.CANARY: aborted.to_json()}, unchanged={keys.CANARY: revision},
        ):  # fmt: skip
            return ""  # changed meanwhile: judged again on the next look
        log.warning("canary of model version %s aborted: %s", canary.version, reason)
        return reason

    async def run(self) -> None:
        """Runs while this router leads (router/cluster/election.py cancels it)."""
        expected = (StoreError, InvalidArgument, ValueError, TypeError, KeyError)
        await every(self._interval, self.check, expected=expected, log=log, what="canary guard")
