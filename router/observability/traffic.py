"""This router's turn counts per minute, written to etcd (`traffic/<minute>/<router id>`,
twinteller/knowledge/turn_counts.py) every few seconds, for the trends the insights worker computes
across all routers (router/observability/buckets.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from router.observability.buckets import Buckets
from router.observability.metrics import channel_label
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.knowledge.turn_counts import Bucket
from twinteller.v1 import assistant_pb2 as pb


class TrafficRecorder:
    def __init__(
        self,
        store: Store,
        router_id: str,
        *,
        retention_s: int,
        flush_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.buckets = Buckets(
            store,
            key=lambda minute: keys.traffic(minute, router_id),
            period_s=60,
            new=Bucket,
            retention_s=retention_s,
            flush_s=flush_s,
            clock=clock,
        )

    def observe(self, channel: str, response: pb.ConverseResponse) -> None:
        # A turn the legacy bot answered has no zone: it counts under "legacy".
        zone = response.zone or response.system
        bucket = self.buckets.current()
        bucket.counts[(response.intent, pb.Action.Name(response.action), channel_label(channel), zone)] += 1
        if response.language:
            bucket.languages[response.language] += 1

    async def flush(self) -> None:
        await self.buckets.flush()

    async def run(self) -> None:
        await self.buckets.run("traffic counts")
