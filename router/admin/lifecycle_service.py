"""The model lifecycle through the admin `twinteller.v1.Knowledge` service: train, deploy
and roll back, as jobs (`jobs/<id>` in etcd) that the trainer process runs
(trainer/job_runner.py; routers never train), and the versions trained so far."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any, Protocol

import grpc

from router.admin.faq_service import SERVICE_NAME
from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from twinteller.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.model.jobs import JobRecord
from twinteller.v1 import knowledge_pb2 as kpb


def job_pb(job: JobRecord) -> kpb.Job:
    return kpb.Job(
        id=job.id,
        kind=job.kind,
        state=kpb.JobState.Value(job.state),
        version=job.version,
        message=job.message,
        report=job.report,
        created_by=job.created_by,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


class Releases(Protocol):
    """What a deploy asks of release safety (router/release/rollout.py, wired in router/app.py)."""

    async def gate(self, version: str, override_reason: str) -> str: ...

    async def start_canary(self, request: kpb.DeployRequest, actor: str, override_reason: str) -> str: ...

    async def check_no_canary(self, what: str) -> None: ...


class LifecycleService:
    def __init__(self, store: Store, tokens: Tokens, releases: Releases | None = None) -> None:
        self._store = store
        self._tokens = tokens
        self._releases = releases

    async def _job(
        self, actor: str, kind: str, version: str = "", *, generalise: bool = True, note: str = ""
    ) -> kpb.Job:
        now = time.time()
        job = JobRecord(f"{kind}-{time.time_ns()}-{secrets.token_hex(3)}", kind, version=version, created_by=actor,
                        created_at=now, generalise=generalise)  # fmt: skip
        await audited_commit(
            self._store, actor, kind, [v for v in (version, note) if v], at=now,
            puts={keys.job(job.id): job.to_json()}, absent=[keys.job(job.id)],
        )  # fmt: skip
        return job_pb(job)

    @boundary
    async def Train(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Job:
        request = checked(raw)
        actor = self._tokens.actor(context, "train")
        return await self._job(actor, "train", generalise=not request.no_generalisation)

    @boundary
    async def Deploy(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Job:
        request = checked(raw)
        actor = self._tokens.actor(context, "deploy")
        if request.override_reason:
            raise PermissionDenied(
                "override_reason: overriding the conversation tests takes maker-checker: propose the deploy"
                " (ProposeChange) and have an approver accept it"
            )
        return await self.deploy(request, actor)

    async def deploy(self, request: kpb.DeployRequest, actor: str, *, approved: bool = False) -> kpb.Job:
        """Deploy to everyone (a job the trainer runs) or start or change a canary, once the
        conversation tests pass; `approved`: through a proposal, which may override them."""
        await self.check_deployable(request)
        override = request.override_reason if approved else ""
        if self._releases is None:
            return await self._job(actor, "deploy", request.version)
        if request.canary_percent:
            now = time.time()
            message = await self._releases.start_canary(request, actor, override)
            return kpb.Job(id="", kind="canary", state=kpb.SUCCEEDED, version=request.version, message=message,
                           created_by=actor, created_at=now, finished_at=time.time())  # fmt: skip
        await self._releases.check_no_canary("a deploy")
        gated = await self._releases.gate(request.version, override)
        return await self._job(actor, "deploy", request.version, note=gated)

    async def check_deployable(self, request: kpb.DeployRequest, field: str = "version") -> None:
        """A deploy of a version there is no model of is refused before a job is made."""
        if not 0 <= request.canary_percent <= 99:
            raise InvalidArgument(f"{field.replace('version', 'canary_percent')}: must be within 0..99")
        if len(request.override_reason.encode()) > 512:
            raise InvalidArgument(f"{field.replace('version', 'override_reason')}: at most 512 bytes")
        if await self._store.get(keys.model_version(request.version)) is None:
            raise NotFound(f"{field}: no trained model version {request.version!r} (see ListVersions)")

    @boundary
    async def Rollback(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Job:
        checked(raw)
        actor = self._tokens.actor(context, "roll back")
        if self._releases is not None:
            await self._releases.check_no_canary("a rollback")
        if await self._store.get(keys.PREVIOUS_VERSION) is None:
            raise FailedPrecondition("no previous model version to roll back to")
        return await self._job(actor, "rollback")

    @boundary
    async def GetJob(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Job:
        request = checked(raw)
        self._tokens.actor(context)
        entry = await self._store.get(keys.job(request.id)) if request.id else None
        if entry is None:
            raise NotFound(f"id: no job {request.id!r}")
        return job_pb(JobRecord.from_json(entry.value))

    @boundary
    async def ListVersions(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListVersionsResponse:
        checked(raw)
        self._tokens.actor(context)
        entries, _ = await self._store.get_prefix(keys.MODEL_VERSIONS)
        active, previous = await self._store.get_many(keys.ACTIVE_VERSION, keys.PREVIOUS_VERSION)
        now_active = active.value.decode() if active else ""
        now_previous = previous.value.decode() if previous else ""
        # Trained by the trainer (with a report), or built before it (the seed version).
        known = {e.key.rsplit("/", 1)[1]: json.loads(e.value) for e in entries}
        for name in (now_active, now_previous):
            if name:
                known.setdefault(name, {})
        versions = [
            kpb.ModelVersion(
                version=name,
                active=name == now_active,
                previous=name == now_previous,
                trained_at=data.get("trained_at", 0.0),
                report=json.dumps(data.get("report", {})),
            )
            for name, data in sorted(known.items(), key=lambda item: int(item[0]))
        ]
        return kpb.ListVersionsResponse(versions=versions)

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "Train": (kpb.TrainRequest, kpb.Job),
            "Deploy": (kpb.DeployRequest, kpb.Job),
            "Rollback": (kpb.RollbackRequest, kpb.Job),
            "GetJob": (kpb.GetJobRequest, kpb.Job),
            "ListVersions": (kpb.ListVersionsRequest, kpb.ListVersionsResponse),
        }
        return unary_handlers(SERVICE_NAME, self, methods)
