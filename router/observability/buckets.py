"""Counts this router keeps per time period and writes to etcd every few seconds, for
readers that add up all routers' buckets (trends, the cutover report and guard). A
bucket is rewritten whole while its period lasts (idempotent), kept `retention_s` on
shared leases, and forgotten here once its period is over and it is written."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from twinteller.backoff import Backoff
from twinteller.errors import StoreError
from twinteller.etcd.leases import LeasePool
from twinteller.etcd.store import Store

log = logging.getLogger(__name__)


class Serialisable(Protocol):
    def to_json(self) -> bytes: ...


B = TypeVar("B", bound=Serialisable)


class Buckets(Generic[B]):
    def __init__(
        self,
        store: Store,
        *,
        key: Callable[[int], str],  # period number -> etcd key
        period_s: int,
        new: Callable[[int], B],  # period number -> empty bucket
        retention_s: int,
        flush_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._key = key
        self._period_s = period_s
        self._new = new
        self._leases = LeasePool(store, retention_s, bucket_s=3600)
        self._flush_s = flush_s
        self._clock = clock
        self._buckets: dict[int, B] = {}
        self._dirty: set[int] = set()

    def current(self) -> B:
        """The bucket of this period, marked to be written: change it at once."""
        period = int(self._clock() // self._period_s)
        bucket = self._buckets.get(period)
        if bucket is None:
            bucket = self._buckets[period] = self._new(period)
        self._dirty.add(period)
        return bucket

    def held(self) -> set[int]:
        """The periods whose buckets are kept here (not yet written, or still going on)."""
        return set(self._buckets)

    async def flush(self) -> None:
        """Write every changed bucket; forget the ones whose period is over once written."""
        current = int(self._clock() // self._period_s)
        for period in sorted(self._dirty):
            lease = await self._leases.current()
            # Clean before the snapshot: a count made while the put is in flight marks the
            # bucket again, for the next flush.
            self._dirty.discard(period)
            try:
                await self._store.put(self._key(period), self._buckets[period].to_json(), lease=lease)
            except BaseException:
                self._dirty.add(period)
                raise
        for period in [p for p in self._buckets if p < current and p not in self._dirty]:
            del self._buckets[period]

    async def run(self, what: str) -> None:
        backoff = Backoff(initial=self._flush_s, maximum=30.0)
        while True:
            await asyncio.sleep(self._flush_s)
            try:
                await self.flush()
                backoff.reset()
            except StoreError as e:  # kept in memory: written when etcd is back
                log.warning("%s not written: %s", what, e)
                await backoff.sleep()
