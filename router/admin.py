"""The admin `twinteller.v1.Knowledge` service: the FAQ knowledge base in etcd, with an
audit trail, for the bank's knowledge managers, and the model lifecycle (train, deploy,
rollback) as jobs that the trainer process (server/trainer.py) runs; routers never train.

Every call needs `authorization: Bearer <token>`; `--admin-tokens name:token,...` says
which tokens exist and whom they name, and that name is the actor in the audit trail
(no token configured: the admin API refuses every call). Every change writes its entries
and one audit record in a single etcd transaction, so the trail never misses a change.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, replace
from typing import Any

import grpc

from router.auth import Tokens
from router.boundary import boundary, checked, unary_handlers
from twinteller import faqs, insights, keys, lexicon
from twinteller.config import ADMIN
from twinteller.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound
from twinteller.faqs import FaqRecord
from twinteller.insights import Cluster, Document
from twinteller.jobs import JobRecord
from twinteller.lexicon import LexiconEntry
from twinteller.store import Entry, Store
from twinteller.v1 import knowledge_pb2 as kpb

SERVICE_NAME = "twinteller.v1.Knowledge"
# Changes to the knowledge base made at once: admins only. Editors propose them
# (ProposeChange, router/proposals.py) and an approver applies them.
DIRECT = (ADMIN,)
# Who starts which job: a model is trained by editors and operators, deployed and rolled
# back by operators.
JOB_ROLES = {"train": ("editor", "operator"), "deploy": ("operator",), "rollback": ("operator",)}
MAX_IMPORT_BYTES = 4 * 1024 * 1024
SHOWN_PROBLEMS = 20


def to_pb(record: FaqRecord, revision: int = 0) -> kpb.Faq:
    return kpb.Faq(
        id=record.id,
        title=record.title,
        answer=record.answer,
        channel_answers=record.channel_answers,
        questions=record.questions,
        tags=record.tags,
        effective_from=record.effective_from,
        expires_at=record.expires_at,
        enabled=record.enabled,
        slots=record.slots,
        slot_answer=record.slot_answer,
        updated_by=record.updated_by,
        updated_at=record.updated_at,
        revision=revision,
    )


def cluster_pb(cluster: Cluster) -> kpb.UnrecognisedCluster:
    fields = asdict(cluster)
    fields["members"] = [kpb.ClusterMember(text=m.text, at=m.at, channel=m.channel) for m in cluster.members]
    return kpb.UnrecognisedCluster(**fields)


def from_pb(faq: kpb.Faq) -> FaqRecord:
    return FaqRecord(
        id=faq.id,
        title=faq.title,
        answer=faq.answer,
        channel_answers=dict(faq.channel_answers),
        questions=list(faq.questions),
        tags=list(faq.tags),
        effective_from=faq.effective_from,
        expires_at=faq.expires_at,
        enabled=faq.enabled,
        slots=list(faq.slots),
        slot_answer=faq.slot_answer,
    )


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


def _format(value: int) -> str:
    if value == kpb.CSV:
        return "CSV"
    if value == kpb.JSON:
        return "JSON"
    raise InvalidArgument("format: CSV or JSON")


class KnowledgeService:
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self._store = store
        self._tokens = tokens

    def _actor(self, context: grpc.aio.ServicerContext, *allowed: str) -> str:
        return self._tokens.actor(context, *allowed)

    async def _delete(self, entry: Entry, actor: str, action: str, field: str, name: str) -> None:
        """Delete `entry` if unchanged since it was read, with its audit record."""
        revision = await self._store.commit(
            absent=[],
            unchanged={entry.key: entry.mod_revision},
            puts=faqs.audit(actor, action, [name], time.time()),
            deletes=(entry.key,),
        )
        if not revision:
            raise Conflict(f"{field}: {name!r} changed while it was being deleted; retry")

    async def _entry(self, faq_id: str) -> Entry:
        entry = await self._store.get(keys.faq(faq_id))
        if entry is None:
            raise NotFound(f"id: no FAQ entry {faq_id!r}")
        return entry

    @boundary
    async def PutFaq(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Faq:
        return await self.put_faq(checked(raw), self._actor(context, *DIRECT))

    async def put_faq(self, request: kpb.PutFaqRequest, actor: str) -> kpb.Faq:
        now = time.time()
        record = faqs.validate(from_pb(request.faq)).stamped(actor, now)
        key = keys.faq(record.id)
        # Revision 0: create or replace whatever is there; else only that revision.
        unchanged = {key: request.faq.revision} if request.faq.revision else {}
        revision = await self._store.commit(
            absent=[],
            unchanged=unchanged,
            puts={key: record.to_json().encode(), **faqs.audit(actor, "put", [record.id], now)},
        )
        if not revision:
            raise Conflict(f"revision: FAQ {record.id!r} changed since revision {request.faq.revision}; re-read it")
        return to_pb(record, revision)

    @boundary
    async def GetFaq(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Faq:
        request = checked(raw)
        self._actor(context)
        entry = await self._entry(request.id)
        return to_pb(FaqRecord.from_json(entry.value), entry.mod_revision)

    async def _all(self) -> list[tuple[FaqRecord, int]]:
        entries, _ = await self._store.get_prefix(keys.KB_FAQS)
        return sorted(((FaqRecord.from_json(e.value), e.mod_revision) for e in entries), key=lambda r: r[0].id)

    @boundary
    async def ListFaqs(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListFaqsResponse:
        request = checked(raw)
        self._actor(context)
        found = [to_pb(r, rev) for r, rev in await self._all() if not request.tag or request.tag in r.tags]
        return kpb.ListFaqsResponse(faqs=found)

    @boundary
    async def DeleteFaq(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.DeleteFaqResponse:
        return await self.delete_faq(checked(raw), self._actor(context, *DIRECT))

    async def delete_faq(self, request: kpb.DeleteFaqRequest, actor: str) -> kpb.DeleteFaqResponse:
        await self._delete(await self._entry(request.id), actor, "delete", "id", request.id)
        return kpb.DeleteFaqResponse()

    @boundary
    async def Import(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ImportResponse:
        request = checked(raw)
        actor = self._actor(context) if request.dry_run else self._actor(context, *DIRECT)
        return await self.import_file(request, actor)

    async def import_file(self, request: kpb.ImportRequest, actor: str) -> kpb.ImportResponse:
        if len(request.content) > MAX_IMPORT_BYTES:
            raise InvalidArgument(f"content: {len(request.content)} bytes, at most {MAX_IMPORT_BYTES}; split the file")
        records, problems = faqs.parse(request.content, _format(request.format))
        # Replace: every entry the file does not name goes, unless it changed since read.
        existing = {r.id: rev for r, rev in await self._all()} if request.replace else {}
        named = {r.id for r in records} | {p.id for p in problems}
        deleted = sorted(set(existing) - named)
        if request.dry_run:
            errors = [kpb.RowError(row=p.row, id=p.id, reason=p.reason) for p in problems]
            return kpb.ImportResponse(imported=0, ids=[r.id for r in records], errors=errors, deleted=deleted)
        if problems:
            shown = "; ".join(f"row {p.row} ({p.id or 'no id'}): {p.reason}" for p in problems[:SHOWN_PROBLEMS])
            more = f"; and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
            total = len(records) + len(problems)
            raise InvalidArgument(f"import rejected, nothing written: {len(problems)} of {total} rows: {shown}{more}")
        if not records:
            raise InvalidArgument("content: no rows to import")
        now = time.time()
        puts = {keys.faq(r.id): r.stamped(actor, now).to_json().encode() for r in records}
        puts.update(faqs.audit(actor, "import", [r.id for r in records], now))
        if deleted:
            puts.update(faqs.audit(actor, "import delete", deleted, now))
        unchanged = {keys.faq(i): existing[i] for i in deleted}
        if not await self._store.commit(
            absent=[], unchanged=unchanged, puts=puts, deletes=tuple(keys.faq(i) for i in deleted)
        ):
            raise Conflict("an entry the import would delete changed meanwhile; nothing written, import again")
        return kpb.ImportResponse(imported=len(records), ids=[r.id for r in records], deleted=deleted)

    @boundary
    async def Export(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ExportResponse:
        request = checked(raw)
        self._actor(context)
        fmt = _format(request.format)
        return kpb.ExportResponse(content=faqs.render([r for r, _ in await self._all()], fmt))

    # -- the lexicon --------------------------------------------------------------------------
    @boundary
    async def PutLexiconEntry(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.LexiconEntry:
        return await self.put_lexicon_entry(checked(raw), self._actor(context, *DIRECT))

    async def put_lexicon_entry(self, request: kpb.PutLexiconEntryRequest, actor: str) -> kpb.LexiconEntry:
        entry = lexicon.validate(LexiconEntry(request.entry.term, request.entry.canonical))
        puts = {keys.lexicon(entry.term): entry.to_json().encode()}
        puts.update(faqs.audit(actor, "lexicon put", [f"{entry.term} -> {entry.canonical}"], time.time()))
        await self._store.commit(absent=[], unchanged={}, puts=puts)
        return kpb.LexiconEntry(term=entry.term, canonical=entry.canonical)

    @boundary
    async def DeleteLexiconEntry(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.DeleteLexiconEntryResponse:
        return await self.delete_lexicon_entry(checked(raw), self._actor(context, *DIRECT))

    async def delete_lexicon_entry(
        self, request: kpb.DeleteLexiconEntryRequest, actor: str
    ) -> kpb.DeleteLexiconEntryResponse:
        found = await self._store.get(keys.lexicon(request.term)) if request.term else None
        if found is None:
            raise NotFound(f"term: {request.term!r} is not in the lexicon")
        await self._delete(found, actor, "lexicon delete", "term", request.term)
        return kpb.DeleteLexiconEntryResponse()

    @boundary
    async def ListLexicon(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListLexiconResponse:
        checked(raw)
        self._actor(context)
        entries, _ = await self._store.get_prefix(keys.KB_LEXICON)
        terms = sorted((LexiconEntry.from_json(e.value) for e in entries), key=lambda e: e.term.casefold())
        return kpb.ListLexiconResponse(entries=[kpb.LexiconEntry(term=e.term, canonical=e.canonical) for e in terms])

    # -- the model lifecycle: jobs for the trainer process ---------------------------------
    async def _job(self, actor: str, kind: str, version: str = "", *, generalise: bool = True) -> kpb.Job:
        now = time.time()
        job = JobRecord(f"{kind}-{time.time_ns()}-{secrets.token_hex(3)}", kind, version=version, created_by=actor,
                        created_at=now, generalise=generalise)  # fmt: skip
        puts = {keys.job(job.id): job.to_json(), **faqs.audit(actor, kind, [version] if version else [], now)}
        await self._store.commit(absent=[keys.job(job.id)], unchanged={}, puts=puts)
        return job_pb(job)

    @boundary
    async def Train(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Job:
        request = checked(raw)
        actor = self._actor(context, *JOB_ROLES["train"])
        return await self._job(actor, "train", generalise=not request.no_generalisation)

    @boundary
    async def Deploy(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Job:
        return await self.deploy(checked(raw), self._actor(context, *JOB_ROLES["deploy"]))

    async def deploy(self, request: kpb.DeployRequest, actor: str) -> kpb.Job:
        await self.check_deployable(request)
        return await self._job(actor, "deploy", request.version)

    async def check_deployable(self, request: kpb.DeployRequest, field: str = "version") -> None:
        """A deploy of a version there is no model of is refused before a job is made."""
        if await self._store.get(keys.model_version(request.version)) is None:
            raise NotFound(f"{field}: no trained model version {request.version!r} (see ListVersions)")

    @boundary
    async def Rollback(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Job:
        checked(raw)
        actor = self._actor(context, *JOB_ROLES["rollback"])
        if await self._store.get(keys.PREVIOUS_VERSION) is None:
            raise FailedPrecondition("no previous model version to roll back to")
        return await self._job(actor, "rollback")

    @boundary
    async def GetJob(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Job:
        request = checked(raw)
        self._actor(context)
        entry = await self._store.get(keys.job(request.id)) if request.id else None
        if entry is None:
            raise NotFound(f"id: no job {request.id!r}")
        return job_pb(JobRecord.from_json(entry.value))

    @boundary
    async def ListVersions(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListVersionsResponse:
        checked(raw)
        self._actor(context)
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

    @boundary
    async def ListAudit(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListAuditResponse:
        request = checked(raw)
        self._actor(context)
        if request.limit < 0:
            raise InvalidArgument("limit: must not be negative")
        newest = await self._store.newest(keys.KB_AUDIT, request.limit or 100)
        return kpb.ListAuditResponse(entries=[kpb.AuditEntry(**json.loads(e.value)) for e in newest])

    # -- insights: what the insights worker wrote last -------------------------------------
    async def _insights(self) -> Document:
        entry = await self._store.get(keys.insights(insights.LATEST))
        return Document.from_json(entry.value) if entry else Document(0.0)

    async def _read_insights(self, raw: Any, context: grpc.aio.ServicerContext) -> Document:
        """The common part of the read-only insights calls: check, authenticate, read."""
        checked(raw)
        self._actor(context)
        return await self._insights()

    async def _cluster(self, cluster_id: str) -> Cluster:
        found = next((c for c in (await self._insights()).clusters if c.id == cluster_id), None)
        if found is None:
            raise NotFound(f"cluster_id: no cluster {cluster_id!r} (see ListClusters; clusters are recomputed)")
        return found

    async def _with_cluster(
        self, actor: str, record: FaqRecord, revision: int, cluster: Cluster, action: str
    ) -> kpb.Faq:
        """Write `record` and drop the cluster's queries from the unrecognised log, in one
        transaction with its audit record; refused if the entry changed since `revision`."""
        now = time.time()
        record = faqs.validate(record).stamped(actor, now)
        key = keys.faq(record.id)
        written = await self._store.commit(
            absent=[] if revision else [key],
            unchanged={key: revision} if revision else {},
            puts={key: record.to_json().encode(), **faqs.audit(actor, action, [record.id, cluster.id], now)},
            deletes=tuple(m.key for m in cluster.members),
        )
        if not written:
            raise Conflict(f"FAQ {record.id!r} changed (or appeared) meanwhile; nothing written, try again")
        return to_pb(record, written)

    @boundary
    async def ListClusters(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListClustersResponse:
        document = await self._read_insights(raw, context)
        return kpb.ListClustersResponse(
            clusters=[cluster_pb(c) for c in document.clusters], computed_at=document.computed_at
        )

    @boundary
    async def AdoptCluster(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Faq:
        return await self.adopt_cluster(checked(raw), self._actor(context, *DIRECT))

    async def adopt_cluster(self, request: kpb.AdoptClusterRequest, actor: str) -> kpb.Faq:
        cluster = await self._cluster(request.cluster_id)
        entry = await self._entry(request.faq_id)
        record = FaqRecord.from_json(entry.value)
        questions = list(dict.fromkeys([*record.questions, *(m.text for m in cluster.members)]))
        return await self._with_cluster(
            actor, replace(record, questions=questions), entry.mod_revision, cluster, "adopt cluster"
        )

    @boundary
    async def CreateFaqFromCluster(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Faq:
        return await self.create_faq_from_cluster(checked(raw), self._actor(context, *DIRECT))

    async def create_faq_from_cluster(self, request: kpb.CreateFaqFromClusterRequest, actor: str) -> kpb.Faq:
        cluster = await self._cluster(request.cluster_id)
        record = from_pb(request.faq)
        if not record.questions:
            record = replace(record, questions=list(dict.fromkeys(m.text for m in cluster.members)))
        return await self._with_cluster(actor, record, 0, cluster, "create from cluster")

    @boundary
    async def ListTrends(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListTrendsResponse:
        document = await self._read_insights(raw, context)
        trends = [kpb.Trend(**asdict(t)) for t in document.trends]
        return kpb.ListTrendsResponse(trends=trends, computed_at=document.computed_at)

    @boundary
    async def GetSatisfaction(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.GetSatisfactionResponse:
        document = await self._read_insights(raw, context)
        ratings = [kpb.Rating(**asdict(r)) for r in document.ratings]
        return kpb.GetSatisfactionResponse(ratings=ratings, computed_at=document.computed_at)

    @boundary
    async def GetTraffic(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.GetTrafficResponse:
        document = await self._read_insights(raw, context)
        minutes = [kpb.TrafficMinute(**asdict(t)) for t in document.traffic]
        return kpb.GetTrafficResponse(minutes=minutes, computed_at=document.computed_at)

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "PutFaq": (kpb.PutFaqRequest, kpb.Faq),
            "GetFaq": (kpb.GetFaqRequest, kpb.Faq),
            "ListFaqs": (kpb.ListFaqsRequest, kpb.ListFaqsResponse),
            "DeleteFaq": (kpb.DeleteFaqRequest, kpb.DeleteFaqResponse),
            "Import": (kpb.ImportRequest, kpb.ImportResponse),
            "Export": (kpb.ExportRequest, kpb.ExportResponse),
            "ListAudit": (kpb.ListAuditRequest, kpb.ListAuditResponse),
            "PutLexiconEntry": (kpb.PutLexiconEntryRequest, kpb.LexiconEntry),
            "DeleteLexiconEntry": (kpb.DeleteLexiconEntryRequest, kpb.DeleteLexiconEntryResponse),
            "ListLexicon": (kpb.ListLexiconRequest, kpb.ListLexiconResponse),
            "Train": (kpb.TrainRequest, kpb.Job),
            "Deploy": (kpb.DeployRequest, kpb.Job),
            "Rollback": (kpb.RollbackRequest, kpb.Job),
            "GetJob": (kpb.GetJobRequest, kpb.Job),
            "ListVersions": (kpb.ListVersionsRequest, kpb.ListVersionsResponse),
            "ListClusters": (kpb.ListClustersRequest, kpb.ListClustersResponse),
            "AdoptCluster": (kpb.AdoptClusterRequest, kpb.Faq),
            "CreateFaqFromCluster": (kpb.CreateFaqFromClusterRequest, kpb.Faq),
            "ListTrends": (kpb.ListTrendsRequest, kpb.ListTrendsResponse),
            "GetSatisfaction": (kpb.GetSatisfactionRequest, kpb.GetSatisfactionResponse),
            "GetTraffic": (kpb.GetTrafficRequest, kpb.GetTrafficResponse),
        }
        return unary_handlers(SERVICE_NAME, self, methods)
