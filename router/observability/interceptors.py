"""Telemetry in interceptors, not in handlers: a SERVER span per RPC, continuing the
caller's W3C trace context if it sent one. Health checks and reflection are not traced."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import grpc
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode

from twinteller.telemetry import tracer

UNTRACED_PREFIXES = ("/grpc.health.", "/grpc.reflection.")


def _attributes(method: str) -> dict[str, str]:
    service, _, name = method.lstrip("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}


def _finish(span: Any, context: grpc.aio.ServicerContext) -> None:
    code = context.code()
    if code is not None and code != grpc.StatusCode.OK:
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        span.set_status(Status(StatusCode.ERROR, str(context.details() or code.name)))
    else:
        span.set_attribute("rpc.grpc.status_code", 0)


@contextlib.contextmanager
def _server_span(method: str, context: grpc.aio.ServicerContext) -> Iterator[None]:
    parent = propagate.extract(dict(context.invocation_metadata() or ()))
    with tracer().start_as_current_span(
        method.lstrip("/"),  # OTel RPC convention: package.Service/Method
        context=parent,
        kind=SpanKind.SERVER,
        attributes=_attributes(method),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        finally:
            _finish(span, context)


Scope = Callable[[grpc.aio.ServicerContext], contextlib.AbstractContextManager[None]]


def around(handler: grpc.RpcMethodHandler, scope: Scope) -> grpc.RpcMethodHandler:
    """`handler` run inside `scope(context)`, for the whole call (unary) or stream."""
    if handler.unary_unary is not None:
        inner_unary = handler.unary_unary

        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            with scope(context):
                return await inner_unary(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )
    if handler.stream_stream is not None:
        inner_stream = handler.stream_stream

        async def stream(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            with scope(context):
                async for response in inner_stream(requests, context):
                    yield response

        return grpc.stream_stream_rpc_method_handler(
            stream, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )
    return handler


class TracingInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method = details.method
        if handler is None or method.startswith(UNTRACED_PREFIXES):
            return handler
        return around(handler, lambda context: _server_span(method, context))
