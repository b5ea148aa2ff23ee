"""Steady conversational load, for the chaos tests and `make bench-failover`.

`workers` threads each hold conversations of a few turns, one turn every `interval_s`,
and record every turn: when it started and ended, the zone that answered, the router's
`twinteller-attempts` trailer (which zones it tried) and `twinteller-client-attempt`
(which try of the client's retry policy this was), or the error. With `retry=True`
workers call through the README's channel (twinteller/client.py: all routers, retries on
UNAVAILABLE); with `retry=False` each worker calls one router with no retries at all, so
a failure inside the cluster shows up as a failed turn. Bounded: the load stops by itself
after `max_s` seconds even if nobody stops it.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass

import grpc

from twinteller import client
from twinteller.tls import ROUTER, Tls
from twinteller.tls import channel as tls_channel
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

QUESTIONS = [
    "my card still hasn't arrived",
    "how do I top up by bank transfer",
    "why was I charged a fee for withdrawing cash",
    "can I get a virtual card",
    "what's the exchange rate for euros",
    "I forgot my passcode",
    "my transfer hasn't gone through yet",
]


@dataclass(frozen=True)
class TurnRecord:
    started: float  # time.monotonic()
    ended: float
    session_id: str
    turn_id: str
    zone: str  # "" when the turn failed
    attempts: tuple[str, ...]  # zones the router tried: ("a:failed", "b:ok"); ("replay",)
    client_attempt: int  # 1, or 2+ when the client's retry policy had to resend it
    error: str  # "" when answered, else "CODE: details"
    system: str = ""  # who answered: "twinteller" or "legacy" (while replacing the legacy bot)
    model_version: str = ""  # that served it ("" when the turn failed or the legacy bot answered)

    @property
    def latency(self) -> float:
        return self.ended - self.started

    @property
    def rerouted(self) -> bool:
        """Not answered by the first zone the first router tried."""
        return self.client_attempt > 1 or len(self.attempts) > 1 or bool(self.error)


def _trailer(call: grpc.Call | grpc.RpcError, name: str) -> str:
    for key, value in call.trailing_metadata() or ():  # type: ignore[union-attr]
        if key == name:
            return str(value)
    return ""


class ConversationLoad:
    def __init__(
        self,
        routers: list[str],
        tls: Tls | None,
        *,
        workers: int = 4,
        interval_s: float = 0.05,
        retry: bool = True,
        timeout_s: float = 5.0,
        turns_per_session: int = 4,
        max_s: float = 180.0,
    ) -> None:
        self._routers = routers
        self._tls = tls
        self._interval = interval_s
        self._retry = retry
        self._timeout = timeout_s
        self._turns_per_session = turns_per_session
        self._max_s = max_s
        self._records: list[TurnRecord] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, args=(i,), daemon=True) for i in range(workers)]

    def __enter__(self) -> ConversationLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self._timeout + 5)

    def records(self) -> list[TurnRecord]:
        with self._lock:
            return list(self._records)

    def failures(self) -> list[TurnRecord]:
        return [r for r in self.records() if r.error]

    def wait_turns(self, count: int, timeout: float = 30.0) -> None:
        """Until `count` turns have been answered (the load is really flowing)."""
        deadline = time.monotonic() + timeout
        while sum(1 for r in self.records() if not r.error) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"fewer than {count} turns answered in {timeout}s")
            time.sleep(0.05)

    def _channel(self, worker: int) -> grpc.Channel:
        if self._retry:
            return client.channel(self._routers, self._tls)
        return tls_channel(self._routers[worker % len(self._routers)], self._tls, ROUTER)

    def _work(self, worker: int) -> None:
        started = time.monotonic()
        questions = itertools.cycle(QUESTIONS[worker % len(QUESTIONS) :] + QUESTIONS[: worker % len(QUESTIONS)])
        with self._channel(worker) as channel:
            stub = pb_grpc.AssistantStub(channel)
            turn, session = 0, ""
            while not self._stop.is_set() and time.monotonic() - started < self._max_s:
                if turn % self._turns_per_session == 0:
                    session = f"load-{worker}-{uuid.uuid4().hex[:12]}"
                turn += 1
                request = pb.ConverseRequest(session_id=session, turn_id=str(turn), text=next(questions))
                self._record(stub, request)
                self._stop.wait(self._interval)

    def _record(self, stub: pb_grpc.AssistantStub, request: pb.ConverseRequest) -> None:
        begun = time.monotonic()
        try:
            reply, call = stub.Converse.with_call(request, timeout=self._timeout)
            zone, error, trailers, system, version = reply.zone, "", call, reply.system, reply.model_version
        except grpc.RpcError as e:
            zone, error, trailers, system, version = "", f"{e.code().name}: {e.details()}", e, "", ""  # type: ignore[attr-defined]
        attempts = tuple(a for a in _trailer(trailers, "twinteller-attempts").split(",") if a)
        record = TurnRecord(
            begun,
            time.monotonic(),
            request.session_id,
            request.turn_id,
            zone,
            attempts,
            int(_trailer(trailers, "twinteller-client-attempt") or 1),
            error,
            system,
            version,
        )
        with self._lock:
            self._records.append(record)
