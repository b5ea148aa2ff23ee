"""Each model version's turns on this router: per 10 s slot in etcd
(`release/stats/<slot>/<router>`, twinteller/release/canary.py) for the canary's guard and
figures across all routers, and in Prometheus for the dashboard."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from router.conversation.turn import Outcome, Turn
from router.observability.buckets import Buckets
from router.observability.metrics import Metrics
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.release.canary import SLOT_S, VersionSlot, total
from twinteller.v1 import assistant_pb2 as pb


class VersionRecorder:
    def __init__(
        self,
        store: Store,
        router_id: str,
        metrics: Metrics,
        *,
        retention_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._metrics = metrics
        self.slots = Buckets(
            store,
            key=lambda slot: keys.version_stats(slot, router_id),
            period_s=SLOT_S,
            new=VersionSlot,
            retention_s=retention_s,
            clock=clock,
        )

    def observe(self, _turn: Turn, outcome: Outcome) -> None:
        response = outcome.response
        if not response.model_version:
            return  # the legacy bot's answer
        action = pb.Action.Name(response.action)
        counts = self.slots.current().of(response.model_version)
        counts.answered_turn(action, rephrase=outcome.rephrase, latency_s=outcome.elapsed_s)
        self._metrics.observe_version_turn(response.model_version, action, outcome.rephrase, outcome.elapsed_s)

    def failed(self, version: str) -> None:
        self.slots.current().of(version).failed_turn()
        self._metrics.version_errors.labels(version).inc()

    def rated(self, version: str, rating: int) -> None:
        if version:
            self.slots.current().of(version).rated(rating)
            self._metrics.version_ratings.labels(version, str(rating)).inc()

    async def run(self) -> None:
        await self.slots.run("version counts")


async def read_versions(store: Store, since: float, until: float) -> VersionSlot:
    """Every router's counts per version in the slots that began at or after `since`."""
    first, last = math.ceil(since / SLOT_S), int(until // SLOT_S)
    entries = await store.get_range(keys.version_stats(first, ""), keys.version_stats(last + 1, ""))
    return total(VersionSlot.from_json(e.value) for e in entries)
