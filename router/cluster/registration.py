"""The router's own entry in etcd, `routers/<id>`, kept on a lease while it serves.

It tells operators (and the console to come) which routers are up and where; on SIGTERM
the router revokes it first, with its leadership, before it drains.
"""

from __future__ import annotations

import asyncio
import json
import logging

from twinteller.backoff import Backoff
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.store import Store

log = logging.getLogger(__name__)


class Registration:
    def __init__(self, store: Store, identity: str, value: dict[str, str], ttl_s: int) -> None:
        self._store = store
        self._key = keys.router(identity)
        self._value = json.dumps(value)
        self._ttl = ttl_s
        self._lease: int | None = None

    async def run(self) -> None:
        backoff = Backoff(initial=0.1, maximum=self._ttl / 2)
        while True:
            try:
                if self._lease is None or await self._store.keepalive(self._lease) <= 0:
                    self._lease = await self._store.grant(self._ttl)
                    await self._store.put(self._key, self._value, lease=self._lease)
                backoff.reset()
                await asyncio.sleep(self._ttl / 3)
            except StoreError as e:
                log.warning("router registration: %s", e)
                self._lease = None
                await backoff.sleep()

    async def withdraw(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            try:
                await self._store.revoke(lease)
            except StoreError as e:  # it expires by itself within the TTL
                log.warning("router registration: revoke failed: %s", e)
