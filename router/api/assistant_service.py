"""The public `twinteller.v1.Assistant` service.

Requests are decoded with the raw (bytes) twins of the public messages, so that every
bad input, invalid UTF-8 included, is an INVALID_ARGUMENT naming the field. Errors become
status codes in router/api/boundary.py.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind

from router.api import validation
from router.api.boundary import abort, boundary, checked, raw_deserializer, status_code
from router.api.limits import ClientLimits, client_of
from router.conversation.sessions import Context
from router.conversation.turn import Outcome, Turn
from router.conversation.turns import TurnHandler
from router.observability.turn_log import TurnLog, TurnRow
from twinteller.config import RouterConfig
from twinteller.errors import InvalidArgument, NotFound
from twinteller.etcd import keys
from twinteller.etcd.leases import LeasePool
from twinteller.etcd.store import Store
from twinteller.internal import raw_pb2
from twinteller.knowledge.masking import mask
from twinteller.telemetry import trace_id_hex, tracer
from twinteller.v1 import assistant_pb2 as pb

log = logging.getLogger(__name__)

SERVICE_NAME = "twinteller.v1.Assistant"
ATTEMPTS_TRAILER = "twinteller-attempts"
CLIENT_ATTEMPT_TRAILER = "twinteller-client-attempt"
PREVIOUS_ATTEMPTS_HEADER = "grpc-previous-rpc-attempts"
FEEDBACK_RETENTION_S = 7 * 24 * 3600


# Told of every feedback stored: intent, channel, rating (metrics).
# Told of each rating: the rated turn's stored response, its channel, the rating.
FeedbackObserver = Callable[[pb.ConverseResponse, str, int], None]


class AssistantService:
    def __init__(
        self,
        config: RouterConfig,
        turns: TurnHandler,
        store: Store,
        on_feedback: FeedbackObserver | None = None,
        turn_log: TurnLog | None = None,
    ) -> None:
        self._config = config
        self._turns = turns
        self._store = store
        self._feedback_leases = LeasePool(store, FEEDBACK_RETENTION_S, bucket_s=3600)
        self._on_feedback = on_feedback
        self._turn_log = turn_log
        self._limits = ClientLimits(config.client_rate_per_s, config.client_burst, config.client_max_in_flight)

    async def _serve(self, turn: Turn, context: grpc.aio.ServicerContext) -> Outcome:
        """The turn answered, and logged (answered or failed) for `locate` and `inspect`."""
        arrived, started = time.time(), time.monotonic()
        try:
            outcome = await self._turns.handle(turn, self._deadline(context))
        except Exception as e:
            self._log(turn, arrived, started, None, (), f"{status_code(e).name}: {e}")
            raise
        self._log(turn, arrived, started, outcome.response, outcome.attempts, "")
        return outcome

    def _log(
        self,
        turn: Turn,
        arrived: float,
        started: float,
        response: pb.ConverseResponse | None,
        attempts: tuple[str, ...],
        error: str,
    ) -> None:
        if self._turn_log is None:
            return
        reply = response or pb.ConverseResponse()
        self._turn_log.record(
            TurnRow(
                at=arrived,
                session_id=turn.session_id,
                turn_id=turn.turn_id,
                channel=turn.channel,
                text=turn.masked,
                action=pb.Action.Name(reply.action) if response is not None else "",
                intent=reply.intent,
                zone=reply.zone,
                model_version=reply.model_version,
                system=reply.system,
                latency_ms=(time.monotonic() - started) * 1000,
                error=error,
                trace_id=reply.trace_id or trace_id_hex(),
                attempts=",".join(attempts),
                router=self._config.identity,
            )
        )

    def _deadline(self, context: grpc.aio.ServicerContext) -> float:
        """The turn's deadline: the caller's. A call without one is refused unless the router
        gives one (--default-deadline-s): every model call is fitted inside it."""
        remaining = context.time_remaining()
        if remaining is None:
            if not self._config.default_deadline_s:
                raise InvalidArgument("deadline: required; set one on the call (a timeout), e.g. 2 s for a turn")
            remaining = self._config.default_deadline_s
        return time.monotonic() + remaining

    def _turn(self, raw: Any) -> Any:
        return validation.converse_request(
            checked(raw), max_text_bytes=self._config.max_text_bytes, max_id_chars=self._config.max_id_chars
        )

    @boundary
    async def Converse(self, raw: Any, context: grpc.aio.ServicerContext) -> pb.ConverseResponse:
        client = client_of(context)
        self._limits.take(client)
        turn = self._turn(raw)
        with self._limits.in_flight(client):
            outcome = await self._serve(turn, context)
        # For operators and `make bench-failover`: which zones this router tried, and which
        # try of the client's retry policy this was (gRPC sends the count of earlier ones).
        previous = str(dict(context.invocation_metadata() or ()).get(PREVIOUS_ATTEMPTS_HEADER, "0"))
        attempt = int(previous) + 1 if previous.isdigit() else 1
        context.set_trailing_metadata(
            ((ATTEMPTS_TRAILER, ",".join(outcome.attempts)), (CLIENT_ATTEMPT_TRAILER, str(attempt)))
        )
        return outcome.response

    async def StreamConverse(
        self, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ConverseResponse]:
        """One call or chat: a response per request, in order. A bad request ends the
        stream with INVALID_ARGUMENT naming the turn; the turns before it stand."""
        index = 0
        stream_span = trace.get_current_span().get_span_context()
        client = client_of(context)
        try:
            with self._limits.in_flight(client):  # a call is one call in flight, however long
                async for raw in requests:
                    index += 1
                    self._limits.take(client)  # ... but each of its turns takes a turn's token
                    try:
                        turn = self._turn(raw)
                    except InvalidArgument as e:
                        raise InvalidArgument(f"message {index}: {e}") from e
                    # One trace per turn, linked to the stream's span: a call can last minutes.
                    with tracer().start_as_current_span(
                        "twinteller.v1.Assistant/StreamConverse.turn",
                        context=otel_context.Context(),
                        kind=SpanKind.SERVER,
                        links=[Link(stream_span)],
                    ):
                        outcome = await self._serve(turn, context)
                    yield outcome.response  # outside the span: never hold a context across a yield
        except grpc.aio.AbortError:
            raise
        except Exception as e:
            await abort(context, e)

    @boundary
    async def Feedback(self, raw: Any, context: grpc.aio.ServicerContext) -> pb.FeedbackResponse:
        self._limits.take(client_of(context))
        self._deadline(context)  # required here too: one rule for the whole public API
        session_id, turn_id, rating, comment = validation.feedback_request(
            checked(raw), max_id_chars=self._config.max_id_chars
        )
        session, stored = await self._store.get_many(keys.session(session_id), keys.turn(session_id, turn_id))
        if session is None:
            raise NotFound(f"session_id: no conversation {session_id!r} (unknown or expired)")
        if stored is None:
            raise NotFound(f"turn_id: no turn {turn_id!r} in session {session_id!r}")
        answered = pb.ConverseResponse.FromString(stored.value)
        # The channel the turn came in on, while the session still remembers the turn.
        turns = Context.from_json(session.value).turns
        channel = next((t.channel for t in turns if t.turn_id == turn_id), "")
        record = {
            "rating": rating,
            "comment": mask(comment),
            "intent": answered.intent,
            "action": pb.Action.Name(answered.action),
            "model_version": answered.model_version,
            "channel": channel,
            "language": answered.language,
            "at": time.time(),
        }
        lease = await self._feedback_leases.current()
        await self._store.put(keys.feedback(session_id, turn_id), json.dumps(record), lease=lease)
        if self._on_feedback is not None:
            self._on_feedback(answered, channel, rating)
        return pb.FeedbackResponse()

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        serialize = pb.ConverseResponse.SerializeToString
        return grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "Converse": grpc.unary_unary_rpc_method_handler(
                    self.Converse,
                    request_deserializer=raw_deserializer(raw_pb2.RawConverseRequest),
                    response_serializer=serialize,
                ),
                "StreamConverse": grpc.stream_stream_rpc_method_handler(
                    self.StreamConverse,
                    request_deserializer=raw_deserializer(raw_pb2.RawConverseRequest),
                    response_serializer=serialize,
                ),
                "Feedback": grpc.unary_unary_rpc_method_handler(
                    self.Feedback,
                    request_deserializer=raw_deserializer(raw_pb2.RawFeedbackRequest),
                    response_serializer=pb.FeedbackResponse.SerializeToString,
                ),
            },
        )
