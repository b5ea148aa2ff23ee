"""The admin `twinteller.v1.Operations` service: this router's turn log (router/observability/turn_log.py)
for `locate` (the turns of a conversation, or of a time range and channel) and `inspect`
(error, fallback and reroute counts and latency over a window). Same bearer tokens as
`Knowledge` (router/api/auth.py)."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import grpc

from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from router.observability.turn_log import TurnLog
from twinteller.errors import InvalidArgument
from twinteller.v1 import operations_pb2 as opb

SERVICE_NAME = "twinteller.v1.Operations"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
DEFAULT_WINDOW_S = 900


class OperationsService:
    def __init__(self, turn_log: TurnLog, tokens: Tokens, router_id: str) -> None:
        self._log = turn_log
        self._tokens = tokens
        self._router = router_id

    @boundary
    async def LocateTurns(self, raw: Any, context: grpc.aio.ServicerContext) -> opb.LocateTurnsResponse:
        request = checked(raw)
        self._tokens.actor(context)
        if not 0 <= request.limit <= MAX_LIMIT:
            raise InvalidArgument(f"limit: 0..{MAX_LIMIT}")
        limit = request.limit or DEFAULT_LIMIT
        await self._log.flush()  # the turns of the last half second too
        if request.session_id:
            rows = await self._log.session(request.session_id, limit)
        elif request.since:
            until = request.until or time.time()
            if until <= request.since:
                raise InvalidArgument("until: must be after since")
            rows = await self._log.between(request.since, until, request.channel, limit)
        else:
            raise InvalidArgument("session_id, or since (a time range): one of them is required")
        return opb.LocateTurnsResponse(turns=[opb.TurnRecord(**asdict(r)) for r in rows], router=self._router)

    @boundary
    async def GetTurnStats(self, raw: Any, context: grpc.aio.ServicerContext) -> opb.TurnStats:
        request = checked(raw)
        self._tokens.actor(context)
        if request.window_s < 0:
            raise InvalidArgument("window_s: must not be negative")
        window = request.window_s or DEFAULT_WINDOW_S
        await self._log.flush()
        stats = await self._log.stats(time.time() - window)
        return opb.TurnStats(
            router=self._router,
            window_s=window,
            **asdict(stats),
            log_bytes=self._log.size_bytes(),
            dropped=self._log.dropped,
        )

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "LocateTurns": (opb.LocateTurnsRequest, opb.LocateTurnsResponse),
            "GetTurnStats": (opb.GetTurnStatsRequest, opb.TurnStats),
        }
        return unary_handlers(SERVICE_NAME, self, methods)
