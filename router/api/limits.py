"""Per-client limits on the public API, so one runaway backend cannot starve the others:
a token bucket of turns (`rate_per_s`, up to `burst` at once) and a cap on calls in
flight (`max_in_flight`), per client. A client is its peer's host (a backend's address;
behind mutual TLS, its identity). Over a limit: RESOURCE_EXHAUSTED, with the wait before
a retry is worth it in the message and in `grpc-retry-pushback-ms`, which gRPC's client
retry policy honours. Clients are kept in a bounded table, least recently seen first out.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import grpc

from twinteller.errors import ResourceExhausted

MAX_CLIENTS = 10_000


@dataclass
class _Client:
    tokens: float
    refilled: float
    in_flight: int = 0


def client_of(context: grpc.aio.ServicerContext) -> str:
    """The peer's host: "ipv4:10.0.0.7:53211" -> "10.0.0.7", "ipv6:[::1]:5" -> "::1"."""
    peer = str(context.peer() or "")
    address = peer.split(":", 1)[1] if ":" in peer else peer
    host = address.rsplit(":", 1)[0] if address.count(":") >= 1 else address
    return host.strip("[]") or peer


class ClientLimits:
    def __init__(
        self, rate_per_s: float, burst: float, max_in_flight: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._max_in_flight = max_in_flight
        self._clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    def _client(self, name: str) -> _Client:
        now = self._clock()
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = _Client(self._burst, now)
            while len(self._clients) > MAX_CLIENTS:
                self._clients.popitem(last=False)
        else:
            client.tokens = min(self._burst, client.tokens + (now - client.refilled) * self._rate)
            client.refilled = now
            self._clients.move_to_end(name)
        return client

    def take(self, name: str) -> None:
        """One turn's token, or ResourceExhausted saying when one will be there."""
        if self._rate <= 0:
            return
        client = self._client(name)
        if client.tokens < 1:
            wait = (1 - client.tokens) / self._rate
            raise ResourceExhausted(
                f"rate limit: at most {self._rate:g} turns a second per client (burst {self._burst:g}); "
                f"retry in {max(1.0, wait * 1000):.0f} ms",
                wait,
            )
        client.tokens -= 1

    @contextlib.contextmanager
    def in_flight(self, name: str) -> Iterator[None]:
        """Hold one of the client's calls in flight for the duration."""
        if self._max_in_flight <= 0:
            yield
            return
        client = self._client(name)
        if client.in_flight >= self._max_in_flight:
            raise ResourceExhausted(
                f"concurrency limit: at most {self._max_in_flight} calls in flight per client; retry in 100 ms", 0.1
            )
        client.in_flight += 1
        try:
            yield
        finally:
            client.in_flight -= 1
