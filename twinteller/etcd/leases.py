"""Leases shared by many writes: records kept for a while (sessions, feedback, counts,
unrecognised queries) expire with the lease they were written on, so etcd forgets them by
itself; one lease per period instead of one per write keeps the lease count small."""

from __future__ import annotations

import time

from twinteller.etcd.store import Store


class LeasePool:
    """Hands out a lease that lives at least `ttl` seconds from now, granting a new one
    every `bucket_s` seconds instead of one per write."""

    def __init__(self, store: Store, ttl: int, bucket_s: int = 60) -> None:
        self._store = store
        self._ttl = ttl
        self._bucket = bucket_s
        self._lease = 0
        self._granted_at = float("-inf")

    async def current(self) -> int:
        now = time.monotonic()
        if now - self._granted_at >= self._bucket:
            self._lease = await self._store.grant(self._ttl + self._bucket)
            self._granted_at = now
        return self._lease
