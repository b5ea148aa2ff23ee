"""Active health checks of the Triton zones, run by the leader router only.

Every `probe_interval_s` the leader asks each registered zone whether the active model
version is ready; after `probe_failures` failures in a row (or on first success) it
publishes the verdict under `health/<zone>`, on its leader lease, so the verdicts vanish
with a dead leader. All routers read them through a mirror (router/zones/directory.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

import tritonclient.grpc.aio as triton_aio

from router.zones.directory import ZoneDirectory
from router.zones.inference import triton_client
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.tls import Tls

log = logging.getLogger(__name__)


class HealthProber:
    def __init__(
        self,
        store: Store,
        directory: ZoneDirectory,
        active_version: Callable[[], str],
        *,
        model: str,
        interval_s: float,
        timeout_s: float,
        failures: int,
        tls: Tls | None,
    ) -> None:
        self._store = store
        self._tls = tls
        self._directory = directory
        self._active_version = active_version
        self._model = model
        self._interval = interval_s
        self._timeout = timeout_s
        self._failures_needed = failures
        self._failures: dict[str, int] = {}
        self._published: dict[str, bool] = {}

    async def run(self, lease: int) -> None:
        clients: dict[str, triton_aio.InferenceServerClient] = {}
        self._published = {}
        try:
            while True:
                zones = dict(self._directory.zones)
                checks = [self._probe(clients, z.name, z.endpoint) for z in zones.values()]
                results = await asyncio.gather(*checks)
                for name, ok in zip(zones, results, strict=True):
                    await self._record(name, ok, lease)
                await asyncio.sleep(self._interval)
        finally:
            for client in clients.values():
                await client.close()

    async def _probe(self, clients: dict[str, triton_aio.InferenceServerClient], name: str, endpoint: str) -> bool:
        client = clients.get(endpoint)
        if client is None:
            client = clients[endpoint] = triton_client(endpoint, self._tls)
        try:
            version = self._active_version()
            return bool(
                await asyncio.wait_for(
                    client.is_model_ready(self._model, version, client_timeout=self._timeout), self._timeout
                )
            )
        except Exception:
            return False

    async def _record(self, name: str, ok: bool, lease: int) -> None:
        self._failures[name] = 0 if ok else self._failures.get(name, 0) + 1
        healthy = ok or self._failures[name] < self._failures_needed
        if self._published.get(name) == healthy:
            return
        value = json.dumps({"healthy": healthy, "checked_at": time.time()})
        try:
            await self._store.put(keys.health(name), value, lease=lease)
            self._published[name] = healthy
            log.info("zone %s is %s", name, "healthy" if healthy else "UNHEALTHY")
        except StoreError as e:
            log.warning("could not publish health of zone %s: %s", name, e)
