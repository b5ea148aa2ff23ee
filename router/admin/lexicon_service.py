"""The lexicon through the admin `twinteller.v1.Knowledge` service: how customers name
banking things ("hole in the wall" -> ATM), read as the canonical words before the model
reads a turn. Changes are audited (twinteller/etcd/audit.py); admins make them at once,
editors propose them."""

from __future__ import annotations

from typing import Any

import grpc

from router.admin.faq_service import CHANGE, SERVICE_NAME
from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from twinteller.errors import NotFound
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.knowledge import lexicon
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.v1 import knowledge_pb2 as kpb


class LexiconService:
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self._store = store
        self._tokens = tokens

    @boundary
    async def PutLexiconEntry(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.LexiconEntry:
        return await self.put_lexicon_entry(checked(raw), self._tokens.actor(context, CHANGE))

    async def put_lexicon_entry(self, request: kpb.PutLexiconEntryRequest, actor: str) -> kpb.LexiconEntry:
        entry = lexicon.validate(LexiconEntry(request.entry.term, request.entry.canonical))
        await audited_commit(
            self._store, actor, "lexicon put", [f"{entry.term} -> {entry.canonical}"],
            puts={keys.lexicon(entry.term): entry.to_json().encode()},
        )  # fmt: skip
        return kpb.LexiconEntry(term=entry.term, canonical=entry.canonical)

    @boundary
    async def DeleteLexiconEntry(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.DeleteLexiconEntryResponse:
        return await self.delete_lexicon_entry(checked(raw), self._tokens.actor(context, CHANGE))

    async def delete_lexicon_entry(
        self, request: kpb.DeleteLexiconEntryRequest, actor: str
    ) -> kpb.DeleteLexiconEntryResponse:
        found = await self._store.get(keys.lexicon(request.term)) if request.term else None
        if found is None:
            raise NotFound(f"term: {request.term!r} is not in the lexicon")
        await audited_commit(
            self._store, actor, "lexicon delete", [request.term],
            unchanged={found.key: found.mod_revision}, deletes=(found.key,),
            conflict=f"term: {request.term!r} changed while it was being deleted; retry",
        )  # fmt: skip
        return kpb.DeleteLexiconEntryResponse()

    @boundary
    async def ListLexicon(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListLexiconResponse:
        checked(raw)
        self._tokens.actor(context)
        entries, _ = await self._store.get_prefix(keys.KB_LEXICON)
        terms = sorted((LexiconEntry.from_json(e.value) for e in entries), key=lambda e: e.term.casefold())
        return kpb.ListLexiconResponse(entries=[kpb.LexiconEntry(term=e.term, canonical=e.canonical) for e in terms])

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "PutLexiconEntry": (kpb.PutLexiconEntryRequest, kpb.LexiconEntry),
            "DeleteLexiconEntry": (kpb.DeleteLexiconEntryRequest, kpb.DeleteLexiconEntryResponse),
            "ListLexicon": (kpb.ListLexiconRequest, kpb.ListLexiconResponse),
        }
        return unary_handlers(SERVICE_NAME, self, methods)
