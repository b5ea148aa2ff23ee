"""Moving in from another chatbot platform through the admin `Knowledge` service:
`ImportPlatform` takes a Rasa, Dialogflow ES or CX, Lex V2, QnA Maker or AIML export (a zip,
or one file), converts it (twinteller/platforms/), and writes its FAQ and lexicon entries in
one transaction with the audit record, or nothing.

Collisions are never silent: an entry whose id exists already is updated only when an
earlier import of the same platform made it (its `imported:<platform>` tag); any other is a
collision, and the import is refused with the list unless `overwrite` is asked for. A
lexicon term that exists with another canonical term is a collision the same way. Every
write checks the revision it read, so a change made meanwhile refuses the import too."""

from __future__ import annotations

import json
import time
from typing import Any

import grpc

from router.admin.faq_service import SERVICE_NAME
from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from twinteller.errors import FailedPrecondition, InvalidArgument
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.knowledge import faqs, lexicon
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.platforms import archive, importers
from twinteller.platforms.mapping import Converted
from twinteller.v1 import knowledge_pb2 as kpb

MAX_LEXICON = 900  # with up to faqs.MAX_ROWS entries, one etcd transaction (--max-txn-ops 2048)
SHOWN = 30


def imported_tag(platform: str) -> str:
    return f"imported:{platform}"


class PlatformService:
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self._store = store
        self._tokens = tokens

    @staticmethod
    def _checked(converted: Converted) -> None:
        """Every entry as the knowledge base's own checks want it, and within one transaction."""
        if not converted.faqs:
            raise InvalidArgument(
                "content: the export has no intent with a static text answer to import (see the report)"
            )
        if len(converted.faqs) > faqs.MAX_ROWS or len(converted.lexicon) > MAX_LEXICON:
            raise InvalidArgument(
                f"content: {len(converted.faqs)} entries and {len(converted.lexicon)} lexicon terms; at most"
                f" {faqs.MAX_ROWS} and {MAX_LEXICON} in one import: split the export"
            )
        for record in converted.faqs:
            faqs.validate(record)
        for entry in converted.lexicon:
            lexicon.validate(entry)

    async def import_platform(self, request: kpb.ImportPlatformRequest, actor: str) -> kpb.ImportPlatformResponse:
        export = archive.unpack(request.content, request.filename)
        converted = importers.convert(export, request.platform)
        self._checked(converted)
        platform = converted.report.platform
        ids = [r.id for r in converted.faqs]
        terms = list({keys.lexicon(e.term): e for e in converted.lexicon}.values())  # one per key
        faq_entries = await self._store.get_many(*(keys.faq(i) for i in ids))
        term_entries = await self._store.get_many(*(keys.lexicon(e.term) for e in terms)) if terms else []
        collisions: list[str] = []
        updated: list[str] = []
        for record, entry in zip(converted.faqs, faq_entries, strict=True):
            if entry is not None:
                ours = imported_tag(platform) in FaqRecord.from_json(entry.value).tags
                (updated if ours else collisions).append(record.id)
        for term, entry in zip(terms, term_entries, strict=True):
            if entry is not None and LexiconEntry.from_json(entry.value).canonical != term.canonical:
                collisions.append(f"lexicon: {term.term}")
        response = kpb.ImportPlatformResponse(
            platform=platform, detected=converted.report.detected, report=json.dumps(converted.report.to_dict(),
            ensure_ascii=False), faq_ids=ids, lexicon_entries=len(terms), collisions=collisions,
            updated=updated,
        )  # fmt: skip
        if request.dry_run:
            return response
        if collisions and not request.overwrite:
            shown = ", ".join(collisions[:SHOWN]) + (
                f" and {len(collisions) - SHOWN} more" if len(collisions) > SHOWN else ""
            )
            raise FailedPrecondition(
                f"import refused, nothing written: {len(collisions)} ids or terms exist already and were not made by"
                f" an earlier {platform} import: {shown} (import with overwrite to replace them)"
            )
        now = time.time()
        puts = {keys.faq(r.id): r.stamped(actor, now).to_json().encode() for r in converted.faqs}
        puts.update({keys.lexicon(e.term): e.to_json().encode() for e in terms})
        unchanged = {keys.faq(i): e.mod_revision if e else 0 for i, e in zip(ids, faq_entries, strict=True)}
        unchanged.update({keys.lexicon(t.term): e.mod_revision if e else 0
                          for t, e in zip(terms, term_entries, strict=True)})  # fmt: skip
        overwritten = [c for c in collisions if request.overwrite]
        await audited_commit(
            self._store, actor, f"import {platform}", ids, at=now, puts=puts, unchanged=unchanged,
            also=[("import overwrote", overwritten)] if overwritten else [],
            conflict="an entry or term the import writes changed meanwhile; nothing written, import again",
        )  # fmt: skip
        return response

    @boundary
    async def ImportPlatform(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ImportPlatformResponse:
        request = checked(raw)
        actor = self._tokens.actor(context) if request.dry_run else self._tokens.actor(context, "change knowledge")
        return await self.import_platform(request, actor)

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "ImportPlatform": (kpb.ImportPlatformRequest, kpb.ImportPlatformResponse)
        }
        return unary_handlers(SERVICE_NAME, self, methods)
