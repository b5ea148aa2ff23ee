"""A live local copy of one etcd prefix: read it, then watch from the next revision.

Every router keeps its view of zones, zone health and knowledge-base snapshots this way
(watch, not poll). When the watch breaks (etcd restarts, a member dies) the mirror keeps
serving the last known copy, re-reads with capped, jittered backoff and resumes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from twinteller.backoff import Backoff
from twinteller.errors import StoreError
from twinteller.etcd.store import Store

log = logging.getLogger(__name__)


class PrefixMirror:
    def __init__(self, store: Store, prefix: str, on_change: Callable[[dict[str, bytes]], None] | None = None) -> None:
        self._store = store
        self._prefix = prefix
        self._on_change = on_change
        self.items: dict[str, bytes] = {}  # key without the prefix -> value
        self.synced = asyncio.Event()
        self.connected = False

    async def run(self) -> None:
        backoff = Backoff(initial=0.1, maximum=2.0)
        while True:
            try:
                entries, revision = await self._store.get_prefix(self._prefix)
                self._replace({e.key[len(self._prefix) :]: e.value for e in entries})
                self.connected = True
                self.synced.set()
                backoff.reset()
                async for event in self._store.watch_prefix(self._prefix, revision + 1):
                    name = event.key[len(self._prefix) :]
                    if event.kind == "put":
                        self.items[name] = event.value
                    else:
                        self.items.pop(name, None)
                    self._notify()
                raise StoreError("watch ended")
            except StoreError as e:
                self.connected = False
                log.warning("mirror of %s: %s; retrying", self._prefix, e)
                await backoff.sleep()

    def _replace(self, items: dict[str, bytes]) -> None:
        self.items = items
        self._notify()

    def _notify(self) -> None:
        if self._on_change is not None:
            self._on_change(self.items)
