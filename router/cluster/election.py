"""Leader election among routers through etcd.

The leader key is created in a transaction only if absent, on the candidate's own lease
(TTL `leader_ttl_s`, kept alive at a third of it). A leader that cannot refresh its lease
steps down at once; followers watch the key (through a mirror) and campaign as soon as it
disappears, so a dead leader is replaced within about one lease TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from twinteller.backoff import Backoff
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.mirror import PrefixMirror
from twinteller.etcd.store import Store

log = logging.getLogger(__name__)


class Election:
    def __init__(
        self, store: Store, identity: str, ttl_s: int, lead: Callable[[int], Coroutine[Any, Any, None]]
    ) -> None:
        """`lead(lease)` runs while this router is leader and is cancelled when it stops being one."""
        self._store = store
        self.identity = identity
        self._ttl = ttl_s
        self._lead = lead
        self._changed = asyncio.Event()
        self.mirror = PrefixMirror(store, keys.LEADER, on_change=lambda _: self._changed.set())
        self.is_leader = False

    def leader(self) -> str:
        raw = self.mirror.items.get("")
        return raw.decode() if raw else ""

    async def run(self) -> None:
        backoff = Backoff(initial=0.1, maximum=self._ttl / 2)
        while True:
            try:
                self._changed.clear()
                if self.leader():
                    # Someone leads: campaign only when the key changes (a dead leader's key
                    # vanishes with its lease), re-checking now and then anyway. No lease is
                    # granted and revoked per check.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), self._ttl)
                    continue
                lease = await self._store.grant(self._ttl)
                if await self._store.create(keys.LEADER, self.identity, lease=lease):
                    backoff.reset()
                    await self._hold(lease)
                else:  # another router won the race
                    await self._store.revoke(lease)
                    await backoff.sleep()
            except StoreError as e:
                log.warning("election: %s", e)
                await backoff.sleep()

    async def _hold(self, lease: int) -> None:
        log.info("router %s is now the leader", self.identity)
        self.is_leader = True
        leading = asyncio.create_task(self._lead(lease))
        try:
            while not leading.done():
                await asyncio.sleep(self._ttl / 3)
                if await self._store.keepalive(lease) <= 0:
                    log.warning("router %s lost its leader lease", self.identity)
                    return
        finally:
            self.is_leader = False
            leading.cancel()
            try:
                await leading
            except (asyncio.CancelledError, Exception):
                pass
            try:
                await self._store.revoke(lease)
            except StoreError:
                pass

    async def resign(self) -> None:
        """On graceful shutdown: hand leadership over at once instead of after the TTL."""
        if self.is_leader:
            entry = await self._store.get(keys.LEADER)
            if entry is not None and entry.value.decode() == self.identity:
                await self._store.revoke(entry.lease)
