"""The internal `twinteller.internal.TurnReplication` service: the rows of the turn log
that routers of other zones push here (router/observability/replication.py).

Only routers may append: with TLS the caller must present a router certificate
(twinteller/tls.py ROUTER); in plaintext (development only) anyone reaching the port can.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import grpc

from router.api.boundary import boundary, checked, unary_handlers
from router.observability.turn_log import TurnLog, TurnRow
from twinteller.errors import PermissionDenied
from twinteller.internal import replication_pb2 as rpb
from twinteller.tls import ROUTER

SERVICE_NAME = "twinteller.internal.TurnReplication"
COLUMNS = [f.name for f in fields(TurnRow)]


def _caller_is_router(context: grpc.aio.ServicerContext) -> bool:
    auth = context.auth_context()
    if auth.get("transport_security_type") != [b"ssl"]:
        return True  # plaintext: development only, nobody is identified
    names = auth.get("x509_subject_alternative_name", []) + auth.get("x509_common_name", [])
    return ROUTER.encode() in names


class ReplicationService:
    def __init__(self, turn_log: TurnLog) -> None:
        self._log = turn_log

    @boundary
    async def Append(self, raw: Any, context: grpc.aio.ServicerContext) -> rpb.AppendTurnsResponse:
        request = checked(raw)
        if not _caller_is_router(context):
            raise PermissionDenied("only routers append to the turn log (a router certificate is required)")
        rows = [TurnRow(**{c: getattr(t, c) for c in COLUMNS}) for t in request.turns]
        return rpb.AppendTurnsResponse(stored=await self._log.receive(rows))

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {"Append": (rpb.AppendTurnsRequest, rpb.AppendTurnsResponse)}
        return unary_handlers(SERVICE_NAME, self, methods)
