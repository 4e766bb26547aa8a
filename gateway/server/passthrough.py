"""Pre-serialized responses: a method whose handler yields bytes sends them as they are.

grpc.aio serializes every response a handler yields with the method's response serializer
(the generated `SerializeToString`). `PassThrough` swaps that serializer, for the methods it
names, for one that passes bytes through and serializes a message as before: so a message
made once (gateway.watch.fanout: one WatchBatchStatus change for a thousand watchers) is not
serialized again per stream.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import grpc

from gateway.server.handler_cache import HandlerCache, rebuilt

if TYPE_CHECKING:
    _ServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
    Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]]
else:  # generic only in grpc-stubs
    _ServerInterceptor = grpc.aio.ServerInterceptor

Serializer = Callable[[Any], bytes]


def passing(serialize: Serializer) -> Serializer:
    """`serialize`, except that bytes pass through unchanged."""

    def serializer(message: Any) -> bytes:
        if type(message) is bytes:
            return message
        return serialize(message)

    return serializer


class PassThrough(_ServerInterceptor):
    """Lets the handlers of `methods` ("/package.Service/Method") yield serialized bytes.

    Put it last (innermost) among the server's interceptors, so that those wrapping the
    handler keep its serializer."""

    def __init__(self, methods: Iterable[str]) -> None:
        self.methods = frozenset(methods)
        self._swapped = HandlerCache()  # swapped once per method, not per call

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or method not in self.methods:
            return handler
        result: grpc.RpcMethodHandler[Any, Any] = self._swapped.get(method, handler, _swap)
        return result


def _swap(handler: grpc.RpcMethodHandler[Any, Any]) -> grpc.RpcMethodHandler[Any, Any]:
    """`handler` with a response serializer that lets bytes pass through."""
    serialize = handler.response_serializer
    return rebuilt(handler, response_serializer=passing(serialize) if serialize else None)
