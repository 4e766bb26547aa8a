"""A bound on how long a call may wait for its request message: answered, never held open.

grpc.aio (1.85) reads a unary-request method's message itself, before the handler runs, with no
bound and no answer when it does not come: a stream whose HEADERS carry END_STREAM and no
message is never answered, and one whose message never completes (a length prefix announcing
more bytes than are sent) waits for ever; each holds its core call, its HTTP/2 stream and two
asyncio tasks until the client goes away. gRPC core has no channel argument that bounds this.

`RequestMessageTimeout` hands every method to grpc.aio as request-streaming, so the handler runs
as soon as the headers are in and reads the message itself: it gets `timeout` seconds, then the
call ends DEADLINE_EXCEEDED; a stream that ends without a message ends INVALID_ARGUMENT at once.
Both carry ErrorInfo (REQUEST_MESSAGE_TIMEOUT and REQUEST_INVALID, domain sofer-gateway). For
request-streaming methods (reflection) the first message is bounded the same way; later ones
are the conversation's pauses (grpcurl keeps its reflection stream open while its call runs),
bounded by `grpc.max_concurrent_streams` per connection.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn

import grpc
import structlog

from gateway.contract.errors import GatewayError, Reason, abort
from gateway.server.handler_cache import HandlerCache, behaviour_of

if TYPE_CHECKING:
    _ServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
    Context = grpc.aio.ServicerContext[Any, Any]
    Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]]
    Receive = Callable[[AsyncIterable[Any], Context], Awaitable[Any]]
else:  # generic only in grpc-stubs
    _ServerInterceptor = grpc.aio.ServerInterceptor

log = structlog.get_logger("gateway.server.request_message")


class RequestMessageTimeout(_ServerInterceptor):
    """Ends a call whose request message has not arrived `timeout` seconds after it began."""

    def __init__(
        self, timeout: float, *, conversations: tuple[str, ...] = ("/grpc.reflection.",)
    ) -> None:
        self.timeout = timeout
        self.conversations = conversations
        """Method prefixes whose later messages may pause without bound (see the module)."""
        self._made = HandlerCache()  # bounded once per method, not per call

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler: grpc.RpcMethodHandler[Any, Any] | None = await continuation(handler_call_details)
        if handler is None:  # no such method: grpc answers UNIMPLEMENTED
            return None  # type: ignore[return-value]  # grpc-stubs omit the None
        method: str = handler_call_details.method
        made: grpc.RpcMethodHandler[Any, Any] = self._made.get(
            method,
            handler,
            lambda h: (
                _bounded(
                    h, _Wait(method, self.timeout, every=not method.startswith(self.conversations))
                )
                or h
            ),
        )
        return made


class _Wait:
    """The wait for one call's request message, and how it ends when none comes in time."""

    def __init__(self, method: str, timeout: float, *, every: bool = False) -> None:
        self.method = method
        self.timeout = timeout
        self.every = every
        """Bound the pause before each later message of a stream too."""

    async def one(self, requests: AsyncIterable[Any], context: Context) -> Any:
        """The single request message of a unary-request method, within `timeout` seconds.

        Read with `context.read()`, not through `requests`: grpc.aio makes its async generator
        only when it is iterated, so nothing is left to close afterwards (that generator, left
        suspended, would be closed by the loop's finalizer hook, in a task of its own)."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                message = await context.read()
        except TimeoutError:
            await self._end(context, started, self._late())
        if message is grpc.aio.EOF:  # type: ignore[attr-defined]  # not in grpc-stubs
            await self._end(context, started, self._missing())
        return message

    async def first(self, requests: AsyncIterable[Any], context: Context) -> AsyncIterator[Any]:
        """A request stream whose first message is bounded like a unary request."""
        return self._stream(requests, context)

    async def _stream(self, requests: AsyncIterable[Any], context: Context) -> AsyncIterator[Any]:
        """The stream, each wait bounded (only the first for a conversation). A framed stream
        (`every`: the service's own, gateway.server.frame) gets the GatewayError raised where it
        reads, and answers it with its request id and log line; a conversation's is answered
        here."""
        iterator = aiter(requests)
        first = True
        while True:
            waited = time.monotonic()
            try:
                async with asyncio.timeout(self.timeout if first or self.every else None):
                    request = await anext(iterator)
            except StopAsyncIteration:
                return  # a stream may carry no message at all
            except TimeoutError:
                error = self._late() if first else self._paused()
                if self.every:
                    raise error from None
                await self._end(context, waited, error)
            first = False
            yield request

    def _paused(self) -> GatewayError:
        return GatewayError(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            Reason.REQUEST_MESSAGE_TIMEOUT,
            f"the next request message of {self.method} did not come within {self.timeout:g} s "
            "of the previous one (the gateway's --request-message-timeout)",
        )

    def _missing(self) -> GatewayError:
        return GatewayError(
            grpc.StatusCode.INVALID_ARGUMENT,
            Reason.REQUEST_INVALID,
            f"the call ended without a complete request message: {self.method} takes exactly one",
        )

    def _late(self) -> GatewayError:
        return GatewayError(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            Reason.REQUEST_MESSAGE_TIMEOUT,
            f"the request message of {self.method} was not complete within "
            f"{self.timeout:g} s of the call's start (the gateway's --request-message-timeout)",
        )

    async def _end(self, context: Context, started: float, error: GatewayError) -> NoReturn:
        """Answer the call with `error` and its google.rpc.Status (context.abort raises)."""
        log.info(
            "rpc",
            rpc=self.method,
            code=error.code.name,
            reason=error.reason.value,
            duration_ms=round((time.monotonic() - started) * 1000, 2),
        )
        await abort(context, error)


def _bounded(
    handler: grpc.RpcMethodHandler[Any, Any], wait: _Wait
) -> grpc.RpcMethodHandler[Any, Any] | None:
    """`handler` as a request-streaming handler whose behaviour waits for the request message
    with `wait`; None for a behaviour that is not async (the server hosts none)."""
    streaming_out = handler.response_streaming
    inner = behaviour_of(handler)
    receive: Receive = wait.first if handler.request_streaming else wait.one
    behaviour: Callable[..., Any]
    if inspect.isasyncgenfunction(inner):  # response stream as an async generator

        async def generate(requests: AsyncIterable[Any], context: Context) -> AsyncIterator[Any]:
            async for response in inner(await receive(requests, context), context):
                yield response

        behaviour = generate
    elif inspect.iscoroutinefunction(inner):  # a unary answer, or a stream by context.write

        async def respond(requests: AsyncIterable[Any], context: Context) -> Any:
            return await inner(await receive(requests, context), context)

        behaviour = respond
    else:
        return None
    make = (
        grpc.stream_stream_rpc_method_handler
        if streaming_out
        else grpc.stream_unary_rpc_method_handler
    )
    return make(
        behaviour,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
