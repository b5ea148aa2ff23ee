"""Assembly of one router process: etcd mirrors, election, health, the gRPC server.

`Router` is an async context manager so tests can run one in-process (with their own
tracer provider) exactly as `python -m router` runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from router.admin.audit_service import AuditService
from router.admin.cluster_service import ClusterService
from router.admin.faq_service import SERVICE_NAME as KNOWLEDGE_SERVICE
from router.admin.faq_service import FaqService
from router.admin.insight_service import InsightService
from router.admin.lexicon_service import LexiconService
from router.admin.lifecycle_service import LifecycleService
from router.admin.operations_service import SERVICE_NAME as OPERATIONS_SERVICE
from router.admin.operations_service import OperationsService
from router.admin.platform_service import PlatformService
from router.admin.proposal_service import ProposalService
from router.admin.replication_service import ReplicationService
from router.api.assistant_service import SERVICE_NAME, AssistantService
from router.api.auth import Tokens
from router.cluster.election import Election
from router.cluster.registration import Registration
from router.conversation.dialogue import IVR, Policy
from router.conversation.knowledge_view import KnowledgeView
from router.conversation.sessions import Conflict, SessionStore
from router.conversation.turn import TurnObserver
from router.conversation.turns import TurnHandler
from router.conversation.unrecognised import UnrecognisedLog
from router.migration.guard import CutoverGuard
from router.migration.legacy_client import LegacyBot, transport
from router.migration.migration_service import SERVICE_NAME as MIGRATION_SERVICE
from router.migration.migration_service import MigrationService
from router.migration.shadow import CutoverView, Shadow, ShadowRecorder
from router.observability.interceptors import TracingInterceptor
from router.observability.metrics import Metrics, MetricsInterceptor
from router.observability.replication import Replicator, peers_of
from router.observability.traffic import TrafficRecorder
from router.observability.turn_log import RECONCILED, TurnLog, TurnRow
from router.release.canary_guard import CanaryGuard
from router.release.canary_view import CanaryView
from router.release.release_service import ReleaseService
from router.release.rollout import Rollout
from router.release.runner import SuiteRunner
from router.release.version_stats import VersionRecorder
from router.zones.budget import RetryBudget
from router.zones.directory import ZoneDirectory
from router.zones.health import HealthProber
from router.zones.inference import ModelClient
from twinteller.config import RouterConfig
from twinteller.etcd import keys
from twinteller.etcd.mirror import PrefixMirror
from twinteller.etcd.store import Store
from twinteller.roles import parse_tokens
from twinteller.tls import add_port

# Imported to register their descriptors for reflection.
from twinteller.v1 import assistant_pb2, knowledge_pb2, migration_pb2, operations_pb2  # noqa: F401

log = logging.getLogger(__name__)

STARTUP_SYNC_S = 30.0
HEALTH_REFRESH_S = 0.25
STOP_STEP_S = 3.0  # the longest one step of a router's shutdown may take
# A health "service" of its own: NOT_SERVING = degraded (etcd unreachable, sessions local).
STORE_HEALTH = "twinteller.store"
SERVER_OPTIONS = [
    # Find clients that vanished without a FIN (a dead IVR host) and free their streams.
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    # Let clients ping as often as every second (the README's channel pings every 10 s), so
    # they can find a dead router by keepalive; no strikes, no GOAWAY for eager pingers.
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 1_000),
    ("grpc.http2.max_ping_strikes", 0),
]


def _status(ok: bool) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    return health_pb2.HealthCheckResponse.SERVING if ok else health_pb2.HealthCheckResponse.NOT_SERVING


class Router:
    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        tls = config.tls
        self.store = Store(config.etcd, tls)
        self.zones = ZoneDirectory(config.zone, suspect_s=config.suspect_s, locality_penalty=config.locality_penalty)
        self.knowledge = KnowledgeView(self.store)
        budget = RetryBudget(
            ratio=config.retry_budget_ratio, min_per_s=config.retry_budget_min_per_s, burst=config.retry_budget_burst
        )
        self.model = ModelClient(
            self.zones,
            config.model_name,
            attempt_timeout_s=config.model_attempt_timeout_s,
            hedge_delay_s=config.hedge_delay_s,
            budget=budget,
            tls=tls,
        )
        self.sessions = SessionStore(
            self.store,
            ttl_s=config.session_ttl_s,
            history_turns=config.history_turns,
            local_sessions=config.local_sessions,
            on_conflict=self.observe_conflict,
        )
        policy = Policy(
            config.confidence_threshold,
            config.similarity_threshold,
            config.clarify_ratio,
            config.handoff_after,
            config.cjk_confidence_threshold,
            config.agent_language,
            config.cjk_similarity_threshold,
            config.answer_confidence_threshold,
        )
        unrecognised = UnrecognisedLog(self.store, config.unrecognised_retention_days * 24 * 3600)
        self.metrics = Metrics()
        self.traffic = TrafficRecorder(self.store, config.identity, retention_s=config.traffic_retention_days * 86400)
        observers: tuple[TurnObserver, ...] = (
            lambda turn, outcome: self.metrics.observe_turn(turn.channel, outcome.response, outcome.attempts),
            lambda turn, outcome: self.metrics.observe_language(outcome.response, outcome.untranslated),
            lambda turn, outcome: self.traffic.observe(turn.channel, outcome.response),
            lambda turn, outcome: (
                self.metrics.observe_ivr(turn.kind, outcome.response.hypothesis)
                if turn.channel == IVR or turn.kind != "transcript"
                else None
            ),
        )
        self.versions = VersionRecorder(
            self.store, config.identity, self.metrics, retention_s=config.version_stats_retention_days * 86400
        )
        observers = (*observers, self.versions.observe)
        self.canary = CanaryView(self.store, self.knowledge)
        self.cutover = CutoverView(self.store)
        self.shadow_recorder = ShadowRecorder(
            self.store, config.identity, retention_s=config.cutover_retention_days * 86400
        )
        legacy = None
        self.shadow = None
        if config.legacy:
            legacy = LegacyBot(
                transport(config.legacy), timeout_s=config.legacy_timeout_s, suspect_s=config.legacy_suspect_s
            )
            self.shadow = Shadow(
                legacy, self.cutover, self.shadow_recorder, self.knowledge, self.metrics.observe_legacy_call
            )
        turns = TurnHandler(
            self.sessions, self.model, self.knowledge, policy, unrecognised, observers, shadow=self.shadow,
            default_chinese=config.default_chinese, version=self.canary.version, on_failure=self.versions.failed,
        )  # fmt: skip
        # Conversation tests take the same path, pinned to a version and counted nowhere.
        tests = TurnHandler(
            self.sessions, self.model, self.knowledge, policy, None, default_chinese=config.default_chinese
        )
        self.turn_log = TurnLog(Path(config.turn_log), config.turn_log_retention_days * 86400, identity=config.identity)
        self.replicator = Replicator(self.turn_log, tls)
        self.service = AssistantService(config, turns, self.store, self.observe_feedback, self.turn_log)
        tokens = Tokens(parse_tokens(config.admin_tokens))
        faqs = FaqService(self.store, tokens)
        lexicon = LexiconService(self.store, tokens)
        rollout = Rollout(
            self.store, self.knowledge, SuiteRunner(tests, self.store), floor=config.gate_floor,
            load_timeout_s=config.test_load_timeout_s,
        )  # fmt: skip
        release = ReleaseService(self.store, tokens, self.knowledge, rollout, self.turn_log)
        lifecycle = LifecycleService(self.store, tokens, rollout)
        insight = InsightService(self.store, tokens)
        curation = ClusterService(self.store, tokens)
        platforms = PlatformService(self.store, tokens)
        proposals = ProposalService(
            self.store, tokens, faq_service=faqs, lexicon_service=lexicon, lifecycle_service=lifecycle,
            insight_service=insight, suite_editor=release, platform_service=platforms,
        )  # fmt: skip
        # The admin services, one per concern; these share the Knowledge gRPC service.
        audit = AuditService(self.store, tokens)
        self.admin = (faqs, lexicon, lifecycle, insight, curation, audit, proposals, release, platforms)
        self.operations = OperationsService(self.turn_log, tokens, config.identity)
        self.migration = MigrationService(
            self.store,
            tokens,
            legacy=legacy,
            model=self.model,
            knowledge=self.knowledge,
            policy=policy,
            answer=turns.twinteller,
            history_turns=config.history_turns,
        )
        prober = HealthProber(
            self.store,
            self.zones,
            self.knowledge.active_version,
            model=config.model_name,
            interval_s=config.probe_interval_s,
            timeout_s=config.probe_timeout_s,
            failures=config.probe_failures,
            tls=tls,
        )
        guard = CutoverGuard(self.store)
        canary_guard = CanaryGuard(self.store)

        async def lead(lease: int) -> None:
            """The leader's duties: zone health, the cutover's guard and the canary's."""
            await asyncio.gather(prober.run(lease), guard.run(), canary_guard.run())

        self.election = Election(self.store, config.identity, config.leader_ttl_s, lead)
        registered = {"zone": config.zone, "listen": config.listen, "address": config.advertise or config.listen}
        self.registration = Registration(self.store, config.identity, registered, config.leader_ttl_s)
        self._mirrors = [
            PrefixMirror(self.store, keys.ZONES, on_change=self.zones.set_registrations),
            PrefixMirror(self.store, keys.HEALTH, on_change=self.zones.set_health),
            *self.knowledge.mirrors(),
            self.cutover.mirror,
            self.canary.mirror,
            self.election.mirror,
            PrefixMirror(
                self.store,
                keys.ROUTERS,
                on_change=lambda found: self.replicator.set_peers(peers_of(found, config.identity, config.zone)),
            ),
        ]
        self.health = health.aio.HealthServicer()
        self.server = grpc.aio.server(
            interceptors=[TracingInterceptor(), MetricsInterceptor(self.metrics)], options=SERVER_OPTIONS
        )
        self._tasks: list[asyncio.Task[None]] = []
        self.port = 0
        self.metrics_port = 0

    def observe_feedback(self, rated: assistant_pb2.ConverseResponse, channel: str, rating: int) -> None:
        self.metrics.observe_feedback(rated.intent, channel, rating)
        self.versions.rated(rated.model_version, rating)

    def observe_conflict(self, conflict: Conflict) -> None:
        """A session served on both sides of a partition and merged: counted, and a row in
        the turn log so that `locate` shows it with the conversation."""
        self.metrics.conflicts.inc()
        superseded = ",".join(f"{turn}={whose}" for turn, whose in conflict.superseded.items())
        self.turn_log.record(
            TurnRow(
                at=conflict.at, session_id=conflict.session_id, turn_id=",".join(conflict.ours), channel="",
                text="", action=RECONCILED, intent="", zone=self.config.zone, model_version="", system="",
                latency_ms=0.0, error="", trace_id="",
                attempts=f"theirs:{','.join(conflict.theirs)};superseded:{superseded}",
                router=self.config.identity,
            )
        )  # fmt: skip

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
        self._tasks.append(asyncio.create_task(self.sessions.write_back()))
        self._tasks.append(asyncio.create_task(self.traffic.run()))
        self._tasks.append(asyncio.create_task(self.shadow_recorder.slots.run("cutover counts")))
        self._tasks.append(asyncio.create_task(self.versions.run()))
        self._tasks.append(asyncio.create_task(self.turn_log.run()))
        self._tasks.append(asyncio.create_task(self.replicator.run()))
        if self.config.metrics_listen:
            self.metrics_port = self.metrics.serve(self.config.metrics_listen)
        services = (self.service, *self.admin, self.migration, self.operations, ReplicationService(self.turn_log))
        self.server.add_generic_rpc_handlers([s.rpc_handler() for s in services])
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        service_names = (
            SERVICE_NAME,
            KNOWLEDGE_SERVICE,
            MIGRATION_SERVICE,
            OPERATIONS_SERVICE,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        )
        reflection.enable_server_reflection(service_names, self.server)
        client_ca = Path(self.config.tls_client_ca) if self.config.tls_client_ca else None
        self.port = add_port(
            self.server, self.config.listen, self.store.tls, client_ca=client_ca, require_client=client_ca is not None
        )
        await self.server.start()
        self._tasks.append(asyncio.create_task(self.registration.run()))
        log.info("router zone %s serving on %s", self.config.zone, self.config.listen)

    async def _report_health(self) -> None:
        """The overall ("") and Assistant health: SERVING while some zone can take a turn.
        STORE_HEALTH: NOT_SERVING while etcd is unreachable and turns are served degraded."""
        last: tuple[bool, bool] | None = None
        while True:
            self.metrics.degraded.set(1 if self.sessions.degraded else 0)
            self.metrics.leader.set(1 if self.election.is_leader else 0)
            now = (self.zones.serving(), not self.sessions.degraded)
            if now != last:
                serving, stored = (_status(ok) for ok in now)
                await self.health.set("", serving)
                await self.health.set(SERVICE_NAME, serving)
                await self.health.set(STORE_HEALTH, stored)
                last = now
            await asyncio.sleep(HEALTH_REFRESH_S)

    async def stop(self) -> None:
        """Graceful drain: NOT_SERVING (clients that watch health move away at once), out of
        etcd (registration, leadership), a short notice for everyone to see it, then no new
        calls and `grace_s` for the turns in flight, then release everything."""
        await self.health.enter_graceful_shutdown()  # final: later health.set calls are ignored
        # Each step bounded: with etcd gone too (a whole site stopping) none may hold the exit.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.registration.withdraw(), STOP_STEP_S)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.election.resign(), STOP_STEP_S)
        await asyncio.sleep(self.config.drain_notice_s)
        await self.server.stop(self.config.grace_s)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.shadow is not None:
            await self.shadow.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.traffic.flush(), 2.0)  # the last seconds' counts
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.shadow_recorder.slots.flush(), 2.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.turn_log.flush(), 2.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.replicator.ship_all(), 2.0)  # the last turns, to the other sites
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.replicator.close(), STOP_STEP_S)
        self.turn_log.close()
        self.metrics.close()
        await self.model.close()
        await self.store.close()

    async def wait_for_termination(self) -> None:
        await self.server.wait_for_termination()
