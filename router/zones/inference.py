"""Model calls to Triton: zone choice, hedging and retry in the other zone.

Model calls are idempotent, so the router may ask two zones the same question:
- if the first zone has not answered within `hedge_delay_s`, the same call goes to the next
  zone of the plan as well (a hedge) and the first answer wins, the other is cancelled: a
  hung zone (SIGSTOP, no reset) costs a turn `hedge_delay_s`, not a timeout. When every
  call is slow (the zones are saturated, not broken) the hedge waits longer: HEDGE_FACTOR
  times the recent p90 latency, so hedges do not add load where load is the problem;
- if a call fails outright, it is retried in the next zone at once.
Every extra call is paid from the retry budget (router/zones/budget.py), so a sick cluster is not
flooded. Each attempt gets at most `model_attempt_timeout_s` and never outlives the caller's
deadline. A zone that failed, or lost to a hedge, is suspect for a while (router/zones/directory.py).

Each attempt is a CLIENT span carrying the zone and model version and passes W3C
`traceparent` to Triton; the result names every attempt ("a:failed", "a:slow", "b:ok"),
which the service returns in the `twinteller-attempts` trailer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import tritonclient.grpc as triton_grpc
import tritonclient.grpc.aio as triton_aio
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode

from router.zones.budget import RetryBudget
from router.zones.directory import Zone, ZoneDirectory
from twinteller.errors import DeadlineExceeded, ModelCallFailed, Unavailable
from twinteller.telemetry import tracer
from twinteller.tls import Tls, triton_arguments

log = logging.getLogger(__name__)

# The shortest attempt worth making: below this a call cannot finish on this hardware.
MIN_ATTEMPT_S = 0.05
BUDGET_EXHAUSTED = "retry budget exhausted"
# A hedge waits at least this many times the recent p90 of answered calls (saturation: every
# call is slow; hedging then doubles work) and never less than `hedge_delay_s`.
HEDGE_FACTOR = 2.0
RECENT_CALLS = 200


def triton_client(endpoint: str, tls: Tls | None) -> triton_aio.InferenceServerClient:
    """A Triton gRPC client whose channel notices a dead or frozen peer by keepalive even
    while idle, and reconnects within about a second once the zone is back (gRPC's default
    reconnect backoff grows to two minutes, which would keep a restarted zone idle)."""
    limit = triton_grpc.MAX_GRPC_MESSAGE_SIZE
    secure = triton_arguments(tls)
    return triton_aio.InferenceServerClient(
        endpoint,
        creds=secure.get("creds"),
        channel_args=[
            *secure.get("channel_args", []),
            ("grpc.max_send_message_length", limit),
            ("grpc.max_receive_message_length", limit),
            ("grpc.keepalive_time_ms", 2000),
            ("grpc.keepalive_timeout_ms", 1000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
            ("grpc.initial_reconnect_backoff_ms", 100),
            # gRPC also uses this as the connect timeout: 1 s, like one model attempt.
            ("grpc.min_reconnect_backoff_ms", 1000),
            ("grpc.max_reconnect_backoff_ms", 1000),
        ],
    )


@dataclass(frozen=True)
class ModelResult:
    zone: str
    version: str
    intents: list[str]
    scores: list[float]
    similarity: float
    attempts: tuple[str, ...] = ()  # "zone:ok|failed|slow", in the order they were started


class ModelClient:
    def __init__(
        self,
        directory: ZoneDirectory,
        model_name: str,
        *,
        attempt_timeout_s: float,
        hedge_delay_s: float,
        budget: RetryBudget,
        tls: Tls | None,
    ) -> None:
        self._directory = directory
        self._tls = tls
        self._model = model_name
        self._attempt_timeout = attempt_timeout_s
        self._hedge_delay = hedge_delay_s
        self.budget = budget
        self._recent: deque[float] = deque(maxlen=RECENT_CALLS)  # latencies of answered calls
        self._clients: dict[str, triton_aio.InferenceServerClient] = {}

    def _client(self, zone: Zone) -> triton_aio.InferenceServerClient:
        client = self._clients.get(zone.endpoint)
        if client is None:
            client = self._clients[zone.endpoint] = triton_client(zone.endpoint, self._tls)
        return client

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.close()

    def hedge_delay(self) -> float:
        """How long the first zone gets before a hedge: `hedge_delay_s`, or more when the
        recent calls were all slow."""
        if len(self._recent) < RECENT_CALLS // 4:
            return self._hedge_delay
        ordered = sorted(self._recent)
        return max(self._hedge_delay, HEDGE_FACTOR * ordered[int(0.9 * (len(ordered) - 1))])

    async def classify(self, text: str, version: str, deadline: float) -> ModelResult:
        """Top intents for `text` from model `version`, before `deadline` (monotonic)."""
        return (await self.classify_many([text], version, deadline))[0]

    async def classify_many(self, texts: list[str], version: str, deadline: float) -> list[ModelResult]:
        """Top intents for each of `texts` in one model call (a batch of len(texts): an IVR
        turn's n-best hypotheses), with the same hedging and retries as one text."""
        plan = self._directory.plan()
        if not plan:
            raise Unavailable("no zone is registered: the model is not being served")
        self.budget.deposit()
        pending: dict[asyncio.Task[list[ModelResult]], Zone] = {}
        trail: dict[str, str] = {}  # zone -> outcome, in start order
        failures: list[str] = []
        hedging = True
        hedge_after = self.hedge_delay()

        def launch(extra: bool) -> None:
            nonlocal hedging
            timeout = min(self._attempt_timeout, deadline - time.monotonic())
            if timeout < MIN_ATTEMPT_S or len(trail) == len(plan):
                return
            if extra and not self.budget.withdraw():
                hedging = False  # wait for what is in flight instead of asking again
                if BUDGET_EXHAUSTED not in failures:
                    failures.append(BUDGET_EXHAUSTED)
                return
            zone = plan[len(trail)]
            trail[zone.name] = "pending"
            pending[asyncio.create_task(self._attempt(zone, texts, version, timeout))] = zone

        try:
            launch(extra=False)
            while pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                hedge = hedging and len(trail) < len(plan)
                done, _ = await asyncio.wait(
                    pending, timeout=min(left, hedge_after) if hedge else left, return_when="FIRST_COMPLETED"
                )
                winner: list[ModelResult] | None = None
                for task in done:  # two may finish together: settle every one of them
                    zone = pending.pop(task)
                    try:
                        result = task.result()
                    except ModelCallFailed as e:
                        trail[zone.name] = "failed"
                        failures.append(str(e))
                        self._directory.mark_failed(zone.name)
                        continue
                    trail[zone.name] = "ok"
                    winner = winner or result
                if winner is not None:
                    for loser in pending.values():  # lost to a hedge: too slow to keep first
                        trail[loser.name] = "slow"
                        self._directory.mark_failed(loser.name)
                    return [_with_trail(result, trail) for result in winner]
                if done or hedge:  # a zone failed, or the hedge delay passed: try the next one
                    launch(extra=True)
        finally:
            for task, zone in pending.items():
                task.cancel()
                trail[zone.name] = "cancelled"
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        why = "(" + ", ".join(f"{z}:{o}" for z, o in trail.items()) + "): " + "; ".join(failures)
        if time.monotonic() >= deadline - MIN_ATTEMPT_S:
            raise DeadlineExceeded(f"the deadline was spent before a zone answered {why}")
        raise Unavailable(f"no zone could serve the model {why}")

    async def _attempt(self, zone: Zone, texts: list[str], version: str, timeout: float) -> list[ModelResult]:
        with tracer().start_as_current_span(
            "triton.infer",
            kind=SpanKind.CLIENT,
            attributes={
                "rpc.system": "grpc",
                "rpc.service": "inference.GRPCInferenceService",
                "rpc.method": "ModelInfer",
                "server.address": zone.endpoint,
                "twinteller.zone": zone.name,
                "twinteller.model": self._model,
                "twinteller.model_version": version,
                "twinteller.batch": len(texts),
            },
        ) as span:
            headers: dict[str, str] = {}
            propagate.inject(headers)
            data = triton_grpc.InferInput("TEXT", [len(texts), 1], "BYTES")
            data.set_data_from_numpy(np.array([[t.encode("utf-8")] for t in texts], dtype=np.object_))
            self._directory.begin(zone.name)
            started = time.monotonic()
            try:
                response = await asyncio.wait_for(
                    self._client(zone).infer(
                        self._model, [data], model_version=version, headers=headers, client_timeout=timeout
                    ),
                    timeout,
                )
            except TimeoutError as e:
                span.set_status(Status(StatusCode.ERROR, "timeout"))
                raise ModelCallFailed(zone.name, f"no answer within {timeout:.3f}s") from e
            except Exception as e:
                span.set_status(Status(StatusCode.ERROR, str(e)[:200]))
                raise ModelCallFailed(zone.name, str(e)[:300]) from e
            finally:
                self._directory.end(zone.name)
            self._directory.mark_ok(zone.name)
            self._recent.append(time.monotonic() - started)
            served_version = response.get_response().model_version or version
            span.set_attribute("twinteller.model_version", served_version)
            intents, scores = response.as_numpy("INTENTS"), response.as_numpy("SCORES")
            similarity = response.as_numpy("SIMILARITY")
            return [
                ModelResult(
                    zone.name,
                    served_version,
                    [i.decode("utf-8") for i in intents[row]],
                    [float(s) for s in scores[row]],
                    float(similarity[row][0]),
                )
                for row in range(len(texts))
            ]


def _with_trail(result: ModelResult, trail: dict[str, str]) -> ModelResult:
    return ModelResult(
        result.zone,
        result.version,
        result.intents,
        result.scores,
        result.similarity,
        tuple(f"{zone}:{outcome}" for zone, outcome in trail.items()),
    )
