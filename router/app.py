"""Assembly of one router process: etcd mirrors, election, health, the gRPC server.

`Router` is an async context manager so tests can run one in-process (with their own
tracer provider) exactly as `python -m router` runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from router.dialogue import Thresholds
from router.election import Election
from router.health import HealthProber
from router.inference import ModelClient
from router.interceptors import TracingInterceptor
from router.knowledge import KnowledgeView
from router.service import SERVICE_NAME, AssistantService
from router.sessions import SessionStore
from router.turns import TurnHandler
from router.zones import ZoneDirectory
from twinteller import keys
from twinteller.config import RouterConfig
from twinteller.mirror import PrefixMirror
from twinteller.store import Store
from twinteller.v1 import assistant_pb2  # noqa: F401 - registers the public descriptors for reflection

log = logging.getLogger(__name__)

STARTUP_SYNC_S = 30.0
HEALTH_REFRESH_S = 0.25


class Router:
    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self.store = Store(config.etcd)
        self.zones = ZoneDirectory(config.zone, suspect_s=config.suspect_s, locality_penalty=config.locality_penalty)
        self.knowledge = KnowledgeView(self.store)
        self.model = ModelClient(self.zones, config.model_name, config.model_attempt_timeout_s)
        sessions = SessionStore(self.store, ttl_s=config.session_ttl_s, history_turns=config.history_turns)
        thresholds = Thresholds(config.confidence_threshold, config.similarity_threshold)
        self.service = AssistantService(
            config, TurnHandler(sessions, self.model, self.knowledge, thresholds), self.store
        )
        prober = HealthProber(
            self.store,
            self.zones,
            self.knowledge.active_version,
            model=config.model_name,
            interval_s=config.probe_interval_s,
            timeout_s=config.probe_timeout_s,
            failures=config.probe_failures,
        )
        self.election = Election(self.store, config.identity, config.leader_ttl_s, prober.run)
        self._mirrors = [
            PrefixMirror(self.store, keys.ZONES, on_change=self.zones.set_registrations),
            PrefixMirror(self.store, keys.HEALTH, on_change=self.zones.set_health),
            *self.knowledge.mirrors(),
            self.election.mirror,
        ]
        self.health = health.aio.HealthServicer()
        self.server = grpc.aio.server(interceptors=[TracingInterceptor()])
        self._tasks: list[asyncio.Task[None]] = []
        self.port = 0

    async def __aenter__(self) -> Router:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(m.run()) for m in self._mirrors]
        await asyncio.wait_for(asyncio.gather(*(m.synced.wait() for m in self._mirrors)), STARTUP_SYNC_S)
        self._tasks.append(asyncio.create_task(self.election.run()))
        self._tasks.append(asyncio.create_task(self._report_health()))
        self.server.add_generic_rpc_handlers([self.service.rpc_handler()])
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        service_names = (
            SERVICE_NAME,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        )
        reflection.enable_server_reflection(service_names, self.server)
        self.port = self.server.add_insecure_port(self.config.listen)
        await self.server.start()
        log.info("router zone %s serving on %s", self.config.zone, self.config.listen)

    async def _report_health(self) -> None:
        last: bool | None = None
        while True:
            serving = self.zones.serving()
            if serving != last:
                status = (
                    health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
                )
                await self.health.set("", status)
                await self.health.set(SERVICE_NAME, status)
                last = serving
            await asyncio.sleep(HEALTH_REFRESH_S)

    async def stop(self) -> None:
        """Graceful: NOT_SERVING first, let in-flight turns finish, then release all."""
        await self.health.enter_graceful_shutdown()
        with contextlib.suppress(Exception):
            await self.election.resign()
        await self.server.stop(self.config.grace_s)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.model.close()
        await self.store.close()

    async def wait_for_termination(self) -> None:
        await self.server.wait_for_termination()
