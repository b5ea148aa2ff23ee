"""This router's turn counts per minute, written to etcd (`traffic/<minute>/<router id>`,
twinteller/traffic.py) every few seconds, for the trends the insights worker computes
across all routers. A bucket is rewritten whole while its minute lasts (idempotent), and
kept `retention_s` on shared leases."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from router.metrics import channel_label
from router.sessions import LeasePool
from twinteller import keys
from twinteller.backoff import Backoff
from twinteller.errors import StoreError
from twinteller.store import Store
from twinteller.traffic import Bucket
from twinteller.v1 import assistant_pb2 as pb

log = logging.getLogger(__name__)


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
        self._store = store
        self._router_id = router_id
        self._leases = LeasePool(store, retention_s, bucket_s=3600)
        self._flush_s = flush_s
        self._clock = clock
        self._buckets: dict[int, Bucket] = {}
        self._dirty: set[int] = set()

    def observe(self, channel: str, response: pb.ConverseResponse) -> None:
        minute = int(self._clock() // 60)
        bucket = self._buckets.setdefault(minute, Bucket(minute))
        bucket.counts[(response.intent, pb.Action.Name(response.action), channel_label(channel), response.zone)] += 1
        self._dirty.add(minute)

    async def flush(self) -> None:
        """Write every changed bucket; forget the ones whose minute is over once written."""
        current = int(self._clock() // 60)
        for minute in sorted(self._dirty):
            lease = await self._leases.current()
            # Clean before the snapshot: a turn counted while the put is in flight marks
            # the bucket again, for the next flush.
            self._dirty.discard(minute)
            try:
                await self._store.put(
                    keys.traffic(minute, self._router_id), self._buckets[minute].to_json(), lease=lease
                )
            except BaseException:
                self._dirty.add(minute)
                raise
        for minute in [m for m in self._buckets if m < current and m not in self._dirty]:
            del self._buckets[minute]

    async def run(self) -> None:
        backoff = Backoff(initial=self._flush_s, maximum=30.0)
        while True:
            await asyncio.sleep(self._flush_s)
            try:
                await self.flush()
                backoff.reset()
            except StoreError as e:  # kept in memory: written when etcd is back
                log.warning("traffic counts not written: %s", e)
                await backoff.sleep()
