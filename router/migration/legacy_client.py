"""The legacy bot as another backend, behind one small interface: `ask(text, ...)` ->
(rule, answer). Two adapters ship, chosen by the `--legacy` address:

- `http://host:port`: a plain HTTP/JSON bot (POST /answer {"text", "session", "channel"}
  -> {"rule", "answer"}), as the reference bot in legacy/ serves;
- `grpc://host:port`: a gRPC bot (legacybot.v1.LegacyBot/Ask).

A bot that fails (refused, timed out, an unreadable reply) is skipped for `suspect_s`, so a dead
or hung legacy costs one slow turn per router, not one per turn; callers see
`LegacyUnavailable` and serve twinteller's answer instead (router/migration/shadow.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import grpc

from twinteller.config import legacy_address
from twinteller.errors import TwintellerError
from twinteller.legacybot import legacybot_pb2 as lpb
from twinteller.legacybot import legacybot_pb2_grpc as lpb_grpc

MAX_ANSWER_BYTES = 64 * 1024


class LegacyUnavailable(TwintellerError):
    """The legacy bot did not answer (down, slow, or talking nonsense)."""


class LegacySkipped(LegacyUnavailable):
    """Not asked: it failed moments ago (`suspect_s`)."""


@dataclass(frozen=True)
class LegacyReply:
    rule: str  # "" when no rule matched (answer is then the bot's fallback)
    answer: str


class Transport(Protocol):
    async def ask(self, text: str, session: str, channel: str, timeout: float) -> LegacyReply: ...

    async def close(self) -> None: ...


class HttpTransport:
    def __init__(self, base_url: str) -> None:
        self._url = base_url.rstrip("/") + "/answer"
        self._session: aiohttp.ClientSession | None = None

    async def ask(self, text: str, session: str, channel: str, timeout: float) -> LegacyReply:
        if self._session is None:  # created on the router's loop, reused (keep-alive)
            self._session = aiohttp.ClientSession()
        body = {"text": text, "session": session, "channel": channel}
        async with self._session.post(self._url, json=body, timeout=aiohttp.ClientTimeout(total=timeout)) as reply:
            if reply.status != 200:
                raise LegacyUnavailable(f"legacy bot answered HTTP {reply.status}")
            data = await reply.json(content_type=None)
        if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
            raise LegacyUnavailable("legacy bot's reply has no answer")
        return LegacyReply(str(data.get("rule") or ""), data["answer"])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class GrpcTransport:
    def __init__(self, target: str) -> None:
        self._channel = grpc.aio.insecure_channel(
            target, options=[("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 1000)]
        )
        self._stub = lpb_grpc.LegacyBotStub(self._channel)

    async def ask(self, text: str, session: str, channel: str, timeout: float) -> LegacyReply:
        request = lpb.AskRequest(text=text, session=session, channel=channel)
        reply = await self._stub.Ask(request, timeout=timeout)
        return LegacyReply(reply.rule, reply.answer)

    async def close(self) -> None:
        await self._channel.close()


def transport(address: str) -> Transport:
    kind, target = legacy_address(address)
    return HttpTransport(target) if kind == "http" else GrpcTransport(target)


class LegacyBot:
    def __init__(
        self, transport: Transport, *, timeout_s: float, suspect_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._transport = transport
        self._timeout = timeout_s
        self._suspect_s = suspect_s
        self._clock = clock
        self._suspect_until = float("-inf")

    @property
    def suspect(self) -> bool:
        return self._clock() < self._suspect_until

    async def ask(self, text: str, session: str, channel: str, deadline: float) -> LegacyReply:
        """The legacy's answer, within `timeout_s` and the turn's `deadline` (monotonic)."""
        if self.suspect:
            raise LegacySkipped("legacy bot failed moments ago; not asked")
        timeout = min(self._timeout, deadline - time.monotonic())
        if timeout <= 0:
            raise LegacyUnavailable("no time left for the legacy bot")
        try:
            reply = await asyncio.wait_for(self._transport.ask(text, session, channel, timeout), timeout)
        except (TimeoutError, aiohttp.ClientError, grpc.RpcError, OSError, ValueError, LegacyUnavailable) as e:
            self._suspect_until = self._clock() + self._suspect_s
            raise LegacyUnavailable(f"legacy bot: {type(e).__name__} {e}".strip()) from e
        if len(reply.answer.encode()) > MAX_ANSWER_BYTES:
            raise LegacyUnavailable(f"legacy bot's answer is over {MAX_ANSWER_BYTES} bytes")
        return reply

    async def close(self) -> None:
        await self._transport.close()
