"""The zone agent: runs one zone's `tritonserver`, and registers the zone in etcd only
while Triton reports the model ready.

Registration is `zones/<zone>` on a short lease (2 s by default) that this agent keeps
alive from its readiness loop: if Triton stops answering, the model unloads or the agent
dies, the keepalives stop and etcd deletes the key by itself; when the agent sees Triton
not ready it revokes the lease at once. If Triton exits, or stays not ready for
`restart_unready_s` (hung), the agent starts it again (with backoff) and re-registers once
the model is ready. SIGTERM: deregister first, so routers
stop sending, then stop Triton.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
from pathlib import Path

import tritonclient.grpc.aio as triton_client

from twinteller.backoff import Backoff
from twinteller.config import ZoneConfig
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.knowledge.schema import Snapshot
from twinteller.process import exit_after
from twinteller.tls import triton_arguments
from zone import triton_launcher
from zone.seed import seed_knowledge_base

log = logging.getLogger(__name__)
STOP_DEADLINE_S = 45.0


class ZoneAgent:
    def __init__(self, config: ZoneConfig, store: Store) -> None:
        self._config = config
        self._store = store
        self._process: subprocess.Popen[bytes] | None = None
        self._lease: int | None = None
        self._stopping = asyncio.Event()
        self._client = triton_client.InferenceServerClient(config.local_endpoint, **triton_arguments(store.tls))
        self.versions: list[str] = []
        self._refused: list[str] = []  # a version set Triton would not load

    @property
    def pid_file(self) -> Path:
        return self._config.run_dir / f"triton-{self._config.zone}.pid"

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = Backoff(initial=0.5, maximum=10.0)
        try:
            while not self._stopping.is_set():
                try:
                    await self._start_triton()
                    await self._load_models()
                    backoff.reset()
                    await self._serve()
                except Exception as e:
                    if self._stopping.is_set():
                        break
                    log.warning("zone %s: %s; restarting Triton", self._config.zone, e)
                if self._stopping.is_set():
                    break  # a graceful stop: drained below
                await self._deregister()
                self._stop_triton()
                await asyncio.sleep(backoff.next_delay())
        finally:
            if await self._deregister():  # graceful: routers stop sending, in-flight calls finish
                await asyncio.sleep(self._config.drain_s)
            self._stop_triton()
            await self._client.close()

    async def _start_triton(self) -> None:
        cfg = self._config
        self._process = triton_launcher.start(cfg, cfg.run_dir / f"triton-{cfg.zone}.log")
        # Written whole or not at all: a reader (the test cluster's chaos tests) must never see
        # the file truncated and not yet written (seen: int('') in a fresh-clone run).
        staging = self.pid_file.with_name(self.pid_file.name + ".tmp")
        staging.write_text(str(self._process.pid))
        staging.replace(self.pid_file)
        log.info("zone %s: tritonserver pid %s on %s", cfg.zone, self._process.pid, cfg.endpoint)
        deadline = asyncio.get_running_loop().time() + cfg.startup_timeout_s
        while asyncio.get_running_loop().time() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"tritonserver exited with {self._process.returncode} at startup")
            try:
                if await self._client.is_server_live(client_timeout=1.0):
                    return
            except Exception:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("tritonserver did not become live in time")

    async def _active_versions(self) -> list[str]:
        """The versions to serve: the active one, and those a deploy asks every zone to keep
        loaded (`models/intent/loaded`: the one being deployed, the one to roll back to)."""
        active, loaded = await self._store.get_many(keys.ACTIVE_VERSION, keys.LOADED_VERSIONS)
        versions = set(json.loads(loaded.value)) if loaded is not None else set()
        versions.add(active.value.decode() if active is not None else self._config.model_version)
        return sorted(versions, key=int)

    async def _load_models(self) -> None:
        cfg = self._config
        await seed_knowledge_base(self._store)  # on a new cluster: the editable seed base, once
        self.versions = await self._active_versions()
        await self._publish_snapshots(self.versions)
        await self._client.load_model(
            cfg.model_name,
            config=triton_launcher.load_config_json(cfg, self.versions),
            client_timeout=cfg.load_timeout_s,
        )
        log.info("zone %s: loaded %s versions %s", cfg.zone, cfg.model_name, self.versions)

    async def _publish_snapshots(self, versions: list[str]) -> None:
        """Routers answer a turn from the knowledge-base snapshot of the version that
        served it; make sure the snapshot of every version this zone serves is in etcd, and
        that the version is known (the seed was built before any trainer: without its
        record it could not be deployed again, e.g. after a rollback away from it)."""
        for version in versions:
            path = self._config.model_repo / self._config.model_name / version / "kb.json"
            snapshot = Snapshot.from_json(path.read_bytes())
            await self._store.create(keys.kb_version(version), snapshot.to_json())
            await self._store.create(keys.model_version(version), json.dumps({"trained_at": 0.0, "report": {}}))
        await self._store.create(keys.ACTIVE_VERSION, versions[-1])

    async def _ready(self) -> bool:
        try:
            for version in self.versions:
                if not await self._client.is_model_ready(
                    self._config.model_name, version, client_timeout=self._config.ready_interval_s * 2
                ):
                    return False
            return True
        except Exception:
            return False

    async def _follow_versions(self) -> None:
        """Load what a deploy asks for. Triton swaps a reloaded model in only once the new
        one is ready, so the versions already served keep answering meanwhile."""
        try:
            wanted = await self._active_versions()
        except StoreError:
            return  # etcd away: keep serving what is loaded
        if wanted == self.versions or wanted == self._refused:
            return
        cfg = self._config
        log.info("zone %s: loading versions %s (serving %s)", cfg.zone, wanted, self.versions)
        try:
            await self._publish_snapshots(wanted)
            loading = asyncio.create_task(
                self._client.load_model(
                    cfg.model_name,
                    config=triton_launcher.load_config_json(cfg, wanted),
                    client_timeout=cfg.load_timeout_s,
                )
            )
            while not loading.done():  # a load takes seconds: keep the registration alive meanwhile
                await asyncio.wait({loading}, timeout=cfg.ready_interval_s)
                if self._lease is not None and not loading.done():
                    with contextlib.suppress(StoreError):
                        await self._store.keepalive(self._lease)
            await loading
        except Exception as e:  # e.g. a version missing here: keep serving, the deploy times out
            log.error("zone %s: cannot load versions %s (%s); still serving %s", cfg.zone, wanted, e, self.versions)
            self._refused = wanted  # not again until the wanted set changes
            return
        self.versions = wanted
        if self._lease is not None:  # tell the deployer (and routers) what this zone serves now
            await self._store.put(keys.zone(cfg.zone), self._registration(), lease=self._lease)

    def _registration(self) -> str:
        cfg = self._config
        return json.dumps({"zone": cfg.zone, "endpoint": cfg.endpoint, "versions": self.versions})

    async def _serve(self) -> None:
        """Keep the registration alive exactly while the model is ready."""
        cfg = self._config
        loop = asyncio.get_running_loop()
        ready_at = loop.time()
        while not self._stopping.is_set():
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError("tritonserver exited")
            await self._follow_versions()
            if await self._ready():
                ready_at = loop.time()
                try:
                    await self._register_or_refresh()
                except StoreError as e:
                    log.warning("zone %s: etcd: %s", cfg.zone, e)
                    self._lease = None
            else:
                await self._deregister()
                if loop.time() - ready_at > cfg.restart_unready_s:
                    raise RuntimeError(f"tritonserver not ready for {cfg.restart_unready_s:.0f}s")
            try:
                await asyncio.wait_for(self._stopping.wait(), cfg.ready_interval_s)
            except TimeoutError:
                pass

    async def _register_or_refresh(self) -> None:
        cfg = self._config
        if self._lease is not None and await self._store.keepalive(self._lease) > 0:
            return
        self._lease = await self._store.grant(cfg.lease_ttl_s)
        await self._store.put(keys.zone(cfg.zone), self._registration(), lease=self._lease)
        log.info("zone %s: registered %s", cfg.zone, cfg.endpoint)

    async def _deregister(self) -> bool:
        """Withdraw the registration; True if there was one."""
        lease, self._lease = self._lease, None
        if lease is None:
            return False
        try:
            await self._store.revoke(lease)
            log.info("zone %s: deregistered", self._config.zone)
        except StoreError as e:  # the lease expires by itself within its TTL
            log.warning("zone %s: revoke failed (%s); the lease will expire", self._config.zone, e)
        return True

    def _stop_triton(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # Triton's python-backend stubs are its children in the process group we gave it;
        # if Triton was killed they are orphans now: end them with it (by group id = pid).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


async def main_async(config: ZoneConfig) -> None:
    config.run_dir.mkdir(parents=True, exist_ok=True)
    async with Store(config.etcd, config.tls) as store:
        agent = ZoneAgent(config, store)
        loop = asyncio.get_running_loop()

        def stop() -> None:
            agent.stop()
            # Deregistering (the store's budget), the drain and Triton's stop (10 s, then
            # SIGKILL) take well under this; Triton dies with the agent (PDEATHSIG).
            exit_after(STOP_DEADLINE_S, f"zone-{config.zone}")

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        await agent.run()
