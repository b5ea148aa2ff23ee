"""FAQ entries through the admin `twinteller.v1.Knowledge` service: create, read, list,
delete, import and export, for the bank's knowledge managers. Every change writes its
entries and one audit record in a single etcd transaction (twinteller/etcd/audit.py), so
the trail never misses a change; the changes are for admins at once, for editors through
proposals (router/admin/proposal_service.py)."""

from __future__ import annotations

import time
from typing import Any

import grpc

from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from twinteller.errors import InvalidArgument, NotFound
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Entry, Store
from twinteller.knowledge import faqs
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.schema import FaqText
from twinteller.roles import READ
from twinteller.v1 import knowledge_pb2 as kpb

SERVICE_NAME = kpb.DESCRIPTOR.services_by_name["Knowledge"].full_name
CHANGE = "change knowledge"
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
        translations={
            language: kpb.FaqText(
                title=t.title, answer=t.answer, channel_answers=t.channel_answers, slot_answer=t.slot_answer
            )
            for language, t in record.translations.items()
        },
        updated_by=record.updated_by,
        updated_at=record.updated_at,
        revision=revision,
    )


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
        translations={
            language: FaqText(t.title, t.answer, dict(t.channel_answers), t.slot_answer)
            for language, t in faq.translations.items()
        },
    )


async def faq_entry(store: Store, faq_id: str) -> Entry:
    entry = await store.get(keys.faq(faq_id))
    if entry is None:
        raise NotFound(f"id: no FAQ entry {faq_id!r}")
    return entry


def _format(value: int) -> str:
    if value == kpb.CSV:
        return "CSV"
    if value == kpb.JSON:
        return "JSON"
    raise InvalidArgument("format: CSV or JSON")


class FaqService:
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self._store = store
        self._tokens = tokens

    @boundary
    async def PutFaq(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Faq:
        return await self.put_faq(checked(raw), self._tokens.actor(context, CHANGE))

    async def put_faq(self, request: kpb.PutFaqRequest, actor: str) -> kpb.Faq:
        now = time.time()
        record = faqs.validate(from_pb(request.faq)).stamped(actor, now)
        key = keys.faq(record.id)
        # Revision 0: create or replace whatever is there; else only that revision.
        revision = await audited_commit(
            self._store, actor, "put", [record.id], at=now,
            puts={key: record.to_json().encode()},
            unchanged={key: request.faq.revision} if request.faq.revision else {},
            conflict=f"revision: FAQ {record.id!r} changed since revision {request.faq.revision}; re-read it",
        )  # fmt: skip
        return to_pb(record, revision)

    @boundary
    async def GetFaq(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Faq:
        request = checked(raw)
        self._tokens.actor(context)
        entry = await faq_entry(self._store, request.id)
        return to_pb(FaqRecord.from_json(entry.value), entry.mod_revision)

    async def _all(self) -> list[tuple[FaqRecord, int]]:
        entries, _ = await self._store.get_prefix(keys.KB_FAQS)
        return sorted(((FaqRecord.from_json(e.value), e.mod_revision) for e in entries), key=lambda r: r[0].id)

    @boundary
    async def ListFaqs(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListFaqsResponse:
        request = checked(raw)
        self._tokens.actor(context)
        found = [to_pb(r, rev) for r, rev in await self._all() if not request.tag or request.tag in r.tags]
        return kpb.ListFaqsResponse(faqs=found)

    @boundary
    async def DeleteFaq(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.DeleteFaqResponse:
        return await self.delete_faq(checked(raw), self._tokens.actor(context, CHANGE))

    async def delete_faq(self, request: kpb.DeleteFaqRequest, actor: str) -> kpb.DeleteFaqResponse:
        entry = await faq_entry(self._store, request.id)
        await audited_commit(
            self._store, actor, "delete", [request.id],
            unchanged={entry.key: entry.mod_revision}, deletes=(entry.key,),
            conflict=f"id: {request.id!r} changed while it was being deleted; retry",
        )  # fmt: skip
        return kpb.DeleteFaqResponse()

    @boundary
    async def Import(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ImportResponse:
        request = checked(raw)
        actor = self._tokens.actor(context, READ if request.dry_run else CHANGE)
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
        await audited_commit(
            self._store, actor, "import", [r.id for r in records], at=now,
            puts={keys.faq(r.id): r.stamped(actor, now).to_json().encode() for r in records},
            unchanged={keys.faq(i): existing[i] for i in deleted},
            deletes=tuple(keys.faq(i) for i in deleted),
            also=[("import delete", deleted)] if deleted else [],
            conflict="an entry the import would delete changed meanwhile; nothing written, import again",
        )  # fmt: skip
        return kpb.ImportResponse(imported=len(records), ids=[r.id for r in records], deleted=deleted)

    @boundary
    async def Export(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ExportResponse:
        request = checked(raw)
        self._tokens.actor(context)
        fmt = _format(request.format)
        return kpb.ExportResponse(content=faqs.render([r for r, _ in await self._all()], fmt))

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "PutFaq": (kpb.PutFaqRequest, kpb.Faq),
            "GetFaq": (kpb.GetFaqRequest, kpb.Faq),
            "ListFaqs": (kpb.ListFaqsRequest, kpb.ListFaqsResponse),
            "DeleteFaq": (kpb.DeleteFaqRequest, kpb.DeleteFaqResponse),
            "Import": (kpb.ImportRequest, kpb.ImportResponse),
            "Export": (kpb.ExportRequest, kpb.ExportResponse),
        }
        return unary_handlers(SERVICE_NAME, self, methods)
