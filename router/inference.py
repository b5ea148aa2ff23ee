"""Model calls to Triton, with the zone choice and the retry in the other zone.

Model calls are idempotent, so a failed or slow call is retried in the next zone of the
plan while the caller's deadline allows. Each attempt gets at most
`model_attempt_timeout_s`, and never more than what is left of the deadline minus a
reserve for one more attempt, so a hung zone cannot eat the whole turn. Each attempt is a
CLIENT span carrying the zone and model version, and passes W3C `traceparent` to Triton.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import numpy as np
import tritonclient.grpc as triton_grpc
import tritonclient.grpc.aio as triton_aio
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode

from router.zones import Zone, ZoneDirectory
from twinteller.errors import DeadlineExceeded, ModelCallFailed, Unavailable
from twinteller.telemetry import tracer

log = logging.getLogger(__name__)

# The shortest attempt worth making: below this a call cannot finish on this hardware.
MIN_ATTEMPT_S = 0.05


@dataclass(frozen=True)
class ModelResult:
    zone: str
    version: str
    intents: list[str]
    scores: list[float]
    similarity: float


class ModelClient:
    def __init__(self, directory: ZoneDirectory, model_name: str, attempt_timeout_s: float) -> None:
        self._directory = directory
        self._model = model_name
        self._attempt_timeout = attempt_timeout_s
        self._clients: dict[str, triton_aio.InferenceServerClient] = {}

    def _client(self, zone: Zone) -> triton_aio.InferenceServerClient:
        client = self._clients.get(zone.endpoint)
        if client is None:
            # Keepalive pings find a dead or frozen peer even while no call is in flight.
            keepalive = triton_grpc.KeepAliveOptions(
                keepalive_time_ms=2000, keepalive_timeout_ms=1000, keepalive_permit_without_calls=True
            )
            client = triton_aio.InferenceServerClient(zone.endpoint, keepalive_options=keepalive)
            self._clients[zone.endpoint] = client
        return client

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.close()

    async def classify(self, text: str, version: str, deadline: float) -> ModelResult:
        """Top intents for `text` from model `version`, before `deadline` (monotonic)."""
        plan = self._directory.plan()
        if not plan:
            raise Unavailable("no zone is registered: the model is not being served")
        failures: list[str] = []
        for index, zone in enumerate(plan):
            remaining = deadline - time.monotonic()
            attempts_left = len(plan) - index
            # Leave room for one more attempt elsewhere if there is another zone to try.
            budget = remaining / 2 if attempts_left > 1 else remaining
            timeout = min(self._attempt_timeout, budget)
            if timeout < MIN_ATTEMPT_S:
                break
            try:
                return await self._attempt(zone, text, version, timeout)
            except ModelCallFailed as e:
                failures.append(str(e))
                self._directory.mark_failed(zone.name)
                log.warning("model call failed, trying the next zone: %s", e)
        if time.monotonic() >= deadline - MIN_ATTEMPT_S:
            raise DeadlineExceeded("the deadline was spent before a zone answered: " + "; ".join(failures))
        raise Unavailable("no zone could serve the model: " + "; ".join(failures))

    async def _attempt(self, zone: Zone, text: str, version: str, timeout: float) -> ModelResult:
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
            },
        ) as span:
            headers: dict[str, str] = {}
            propagate.inject(headers)
            data = triton_grpc.InferInput("TEXT", [1, 1], "BYTES")
            data.set_data_from_numpy(np.array([[text.encode("utf-8")]], dtype=np.object_))
            self._directory.begin(zone.name)
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
            served_version = response.get_response().model_version or version
            span.set_attribute("twinteller.model_version", served_version)
            intents = [i.decode("utf-8") for i in response.as_numpy("INTENTS")[0]]
            scores = [float(s) for s in response.as_numpy("SCORES")[0]]
            similarity = float(response.as_numpy("SIMILARITY")[0][0])
            return ModelResult(zone.name, served_version, intents, scores, similarity)
