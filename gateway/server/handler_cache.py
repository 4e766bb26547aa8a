"""Wrapped method handlers: made once per method, and made with grpc's public constructors.

The server hands an interceptor the same handler object for a method on every call (the
generated code builds them once), so what an interceptor makes of it can be made once too:
`HandlerCache.get` rebuilds only when the handler it is given is a different object.

An interceptor that changes a part of a handler (its behaviour, its request deserializer or
its response serializer) makes a new one with `rebuilt`, by the constructor grpc documents for
the handler's kind (`grpc.unary_unary_rpc_method_handler`, ...), never by touching the object
grpc returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
else:  # generic only in grpc-stubs
    Handler = grpc.RpcMethodHandler

_FIELDS = {
    (False, False): "unary_unary",
    (False, True): "unary_stream",
    (True, False): "stream_unary",
    (True, True): "stream_stream",
}
"""The attribute holding a handler's behaviour, by (request_streaming, response_streaming)."""
_CONSTRUCTORS: dict[tuple[bool, bool], Callable[..., Handler]] = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


class HandlerCache:
    """What `make(handler)` returned, by method, for the handler it was made from."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[Any, Any]] = {}

    def get(self, method: str, handler: Any, make: Callable[[Any], Any]) -> Any:
        """`make(handler)`, made once per (method, handler object)."""
        made = self._made.get(method)
        if made is None or made[0] is not handler:
            made = self._made[method] = (handler, make(handler))
        return made[1]


def _kind(handler: Handler) -> tuple[bool, bool]:
    return (bool(handler.request_streaming), bool(handler.response_streaming))


def behaviour_of(handler: Handler) -> Callable[..., Any]:
    """The function that serves calls of `handler`'s method (of its kind's field)."""
    behaviour: Callable[..., Any] = getattr(handler, _FIELDS[_kind(handler)])
    return behaviour


def rebuilt(
    handler: Handler,
    *,
    behaviour: Callable[..., Any] | None = None,
    request_deserializer: Callable[[bytes], Any] | None = None,
    response_serializer: Callable[[Any], bytes] | None = None,
) -> Handler:
    """A handler of `handler`'s kind with the parts given replaced and the others kept."""
    return _CONSTRUCTORS[_kind(handler)](
        behaviour or behaviour_of(handler),
        request_deserializer=request_deserializer or handler.request_deserializer,
        response_serializer=response_serializer or handler.response_serializer,
    )
