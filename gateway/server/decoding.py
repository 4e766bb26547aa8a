"""Requests that do not decode: INVALID_ARGUMENT with ErrorInfo, never UNKNOWN from grpc.aio.

grpc.aio runs a method's request deserializer before any of our code, and answers a message that
does not parse with UNKNOWN. `DecodeGuard` makes every hosted method's deserializer tolerant:
bytes that are not the request message become an `UndecodableRequest`. For the batch service the
frame (gateway.server.frame) refuses it, with its request id and log line; for the services grpc
ships (health, reflection), which would trip over it, the guard refuses it itself.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import grpc

from gateway.contract.errors import GatewayError, Reason, abort
from gateway.server.handler_cache import HandlerCache, behaviour_of, rebuilt

if TYPE_CHECKING:
    _ServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
    Context = grpc.aio.ServicerContext[Any, Any]
    Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]]
else:  # generic only in grpc-stubs
    _ServerInterceptor = grpc.aio.ServerInterceptor


@dataclass(frozen=True)
class UndecodableRequest:
    """What a tolerant request deserializer returns instead of raising."""

    message_type: str
    error: str

    def to_error(self) -> GatewayError:
        """INVALID_ARGUMENT (REQUEST_INVALID) naming the message the bytes should have been."""
        return GatewayError(
            grpc.StatusCode.INVALID_ARGUMENT,
            Reason.REQUEST_INVALID,
            f"the request is not a valid {self.message_type} message "
            f"(protobuf decoding failed: {self.error})",
        )


async def refuse(context: Context, request: UndecodableRequest) -> NoReturn:
    """End the call INVALID_ARGUMENT with its google.rpc.Status (context.abort raises)."""
    await abort(context, request.to_error())


def _message_type(parse: Callable[[bytes], object], method: str) -> str:
    """The request message's full name: protobuf deserializers are `Message.FromString`."""
    owner = getattr(parse, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    name = getattr(descriptor, "full_name", None)
    return name if isinstance(name, str) else f"{method.rsplit('/', 1)[-1]}Request"


async def _checked(requests: AsyncIterable[object], context: Context) -> AsyncIterator[object]:
    """The request stream, refused at the first message that did not decode."""
    async for request in requests:
        if isinstance(request, UndecodableRequest):
            await refuse(context, request)
        yield request


def _guarded(handler: grpc.RpcMethodHandler[Any, Any]) -> Callable[..., Any] | None:
    """The handler's behaviour, refusing an UndecodableRequest before the servicer sees it;
    None for a behaviour that is not async (the server hosts none)."""
    inner = behaviour_of(handler)
    if not (inspect.iscoroutinefunction(inner) or inspect.isasyncgenfunction(inner)):
        return None
    streaming_in = handler.request_streaming

    def checked(request: Any, context: Context) -> Any:
        return _checked(request, context) if streaming_in else request

    if inspect.isasyncgenfunction(inner):  # response stream as an async generator

        async def generate(request: Any, context: Context) -> AsyncIterator[Any]:
            if isinstance(request, UndecodableRequest):
                await refuse(context, request)
            async for response in inner(checked(request, context), context):
                yield response

        return generate

    async def respond(request: Any, context: Context) -> Any:  # unary answer or context.write
        if isinstance(request, UndecodableRequest):
            await refuse(context, request)
        return await inner(checked(request, context), context)

    return respond


class DecodeGuard(_ServerInterceptor):
    """Makes the request deserializer of every method tolerant. Undecodable bytes sent to a
    method under one of the `framed` prefixes reach its frame as an `UndecodableRequest`; for
    any other method the guard answers INVALID_ARGUMENT itself."""

    def __init__(self, framed: Sequence[str]) -> None:
        self.framed = tuple(framed)
        self._made = HandlerCache()  # guarded once per method, not per call

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None or getattr(handler, "request_deserializer", None) is None:
            return handler
        method: str = handler_call_details.method
        made: grpc.RpcMethodHandler[Any, Any] = self._made.get(
            method, handler, lambda h: self._tolerant(method, h)
        )
        return made

    def _tolerant(
        self, method: str, handler: grpc.RpcMethodHandler[Any, Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        """`handler` with a deserializer that never raises (and, outside the framed prefixes,
        a behaviour that refuses what did not decode)."""
        parse = handler.request_deserializer
        assert parse is not None  # checked by the caller
        message_type = _message_type(parse, method)

        def tolerant(data: bytes) -> object:
            try:
                return parse(data)
            except Exception as exc:  # any decode failure: DecodeError, RuntimeWarning, ...
                return UndecodableRequest(message_type, type(exc).__name__)

        if method.startswith(self.framed):  # the frame refuses what did not decode
            return rebuilt(handler, request_deserializer=tolerant)
        behaviour = _guarded(handler)
        if behaviour is None:  # it would receive an UndecodableRequest: keep it strict
            return handler
        return rebuilt(handler, behaviour=behaviour, request_deserializer=tolerant)
