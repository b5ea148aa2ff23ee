"""The gRPC boundary of every twinteller service: typed errors become the status codes of
the README ("The API") here and nowhere else; anything unexpected is logged and reported as INTERNAL
with the trace id, never as UNKNOWN. Requests are decoded leniently (`raw_deserializer`)
so that bytes that are no protobuf message at all are an INVALID_ARGUMENT too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError

from twinteller.errors import (
    Conflict,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    StoreError,
    TwintellerError,
    Unauthenticated,
    Unavailable,
)
from twinteller.telemetry import trace_id_hex

log = logging.getLogger(__name__)
T = TypeVar("T")

_CODES: dict[type[TwintellerError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    StoreError: grpc.StatusCode.UNAVAILABLE,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Conflict: grpc.StatusCode.ABORTED,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
}
# gRPC's retry policy waits this long before its next attempt (gRFC A6 server pushback).
PUSHBACK = "grpc-retry-pushback-ms"


class MalformedRequest:
    """What the deserializer returns for bytes that are not a protobuf message at all."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def raw_deserializer(message: Any) -> Callable[[bytes], Any]:
    def deserialize(data: bytes) -> Any:
        try:
            return message.FromString(data)
        except DecodeError as e:
            return MalformedRequest(str(e))

    return deserialize


def checked(request: Any) -> Any:
    if isinstance(request, MalformedRequest):
        raise InvalidArgument(f"request is not a valid protobuf message: {request.reason}")
    return request


def status_code(error: BaseException) -> grpc.StatusCode:
    """The status code `error` is reported with."""
    if isinstance(error, TwintellerError):
        return next((c for kind, c in _CODES.items() if isinstance(error, kind)), grpc.StatusCode.INTERNAL)
    return grpc.StatusCode.INTERNAL


async def abort(context: grpc.aio.ServicerContext, error: Exception) -> None:
    if isinstance(error, ResourceExhausted):
        pushback = ((PUSHBACK, str(max(1, round(error.retry_after_s * 1000)))),)
        await context.abort(status_code(error), str(error), trailing_metadata=pushback)
    if isinstance(error, TwintellerError):
        await context.abort(status_code(error), str(error))
    log.exception("unexpected error in handler", exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error (trace {trace_id_hex()})")


def boundary(handler: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(handler)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> T:
        try:
            return await handler(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as e:
            await abort(context, e)
            raise  # unreachable: abort raises

    return wrapper


def unary_handlers(service: str, servicer: Any, methods: dict[str, tuple[Any, Any]]) -> grpc.GenericRpcHandler:
    """The handler of a service whose every method is unary: {name: (request, response)}
    message classes; the servicer's method of that name serves it."""
    return grpc.method_handlers_generic_handler(
        service,
        {
            name: grpc.unary_unary_rpc_method_handler(
                getattr(servicer, name),
                request_deserializer=raw_deserializer(request),
                response_serializer=response.SerializeToString,
            )
            for name, (request, response) in methods.items()
        },
    )
