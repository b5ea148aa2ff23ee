"""The audit trail through the admin `twinteller.v1.Knowledge` service: the newest changes
to the knowledge base, the lexicon, proposals, jobs and the cutover, each with who made it
(written with the change itself: twinteller/etcd/audit.py)."""

from __future__ import annotations

import json
from typing import Any

import grpc

from router.admin.faq_service import SERVICE_NAME
from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from twinteller.errors import InvalidArgument
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.v1 import knowledge_pb2 as kpb


class AuditService:
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self._store = store
        self._tokens = tokens

    @boundary
    async def ListAudit(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListAuditResponse:
        request = checked(raw)
        self._tokens.actor(context)
        if request.limit < 0:
            raise InvalidArgument("limit: must not be negative")
        newest = await self._store.newest(keys.KB_AUDIT, request.limit or 100)
        return kpb.ListAuditResponse(entries=[kpb.AuditEntry(**json.loads(e.value)) for e in newest])

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        return unary_handlers(SERVICE_NAME, self, {"ListAudit": (kpb.ListAuditRequest, kpb.ListAuditResponse)})
