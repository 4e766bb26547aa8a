"""The server's interceptors build their wrapped handlers once per method, not once per call,
and by grpc's public constructors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest

from gateway.server.decoding import DecodeGuard
from gateway.server.handler_cache import HandlerCache, behaviour_of, rebuilt
from gateway.server.passthrough import PassThrough
from gateway.server.request_message import RequestMessageTimeout


class _Details:
    def __init__(self, method: str) -> None:
        self.method = method


async def _unary(request: Any, context: Any) -> bytes:
    return b""


def test_a_handler_is_made_once_per_method_and_handler_object() -> None:
    """`get` calls `make` only for a method it has not seen or a different handler object."""
    cache = HandlerCache()
    made: list[object] = []

    def make(handler: object) -> object:
        made.append(handler)
        return ("wrapped", handler)

    first, second = object(), object()
    assert cache.get("/a", first, make) is cache.get("/a", first, make)
    cache.get("/b", first, make)
    cache.get("/a", second, make)
    assert made == [first, first, second]


async def test_every_interceptor_returns_the_same_wrapped_handler_on_every_call() -> None:
    """Two calls of one method get the very same wrapped handler from each interceptor: the
    wrapping is not rebuilt on the hot path."""
    handler = grpc.unary_unary_rpc_method_handler(
        _unary, request_deserializer=bytes, response_serializer=bytes
    )

    async def continuation(details: Any) -> Any:
        return handler

    for interceptor in (
        DecodeGuard(framed=()),
        RequestMessageTimeout(5.0),
        PassThrough(["/s/M"]),
    ):
        one = await interceptor.intercept_service(continuation, _Details("/s/M"))  # type: ignore[arg-type]
        two = await interceptor.intercept_service(continuation, _Details("/s/M"))  # type: ignore[arg-type]
        assert one is two
        assert one is not handler


def _parse(data: bytes) -> bytes:
    return data


def _serialize(message: bytes) -> bytes:
    return message


CONSTRUCTORS = [
    grpc.unary_unary_rpc_method_handler,
    grpc.unary_stream_rpc_method_handler,
    grpc.stream_unary_rpc_method_handler,
    grpc.stream_stream_rpc_method_handler,
]


@pytest.mark.parametrize("construct", CONSTRUCTORS, ids=lambda c: c.__name__.split("_rpc")[0])
def test_a_rebuilt_handler_keeps_its_kind_and_every_part_not_replaced(
    construct: Callable[..., Any],
) -> None:
    """`rebuilt` makes a handler of the same kind by grpc's own constructor: a part given is
    replaced, every other part (behaviour, deserializer, serializer) is the original's."""
    handler = construct(_unary, request_deserializer=_parse, response_serializer=_serialize)

    def other(data: bytes) -> bytes:
        return data

    only_serializer = rebuilt(handler, response_serializer=other)
    assert (only_serializer.request_streaming, only_serializer.response_streaming) == (
        handler.request_streaming,
        handler.response_streaming,
    )
    assert behaviour_of(only_serializer) is _unary
    assert only_serializer.request_deserializer is _parse
    assert only_serializer.response_serializer is other

    async def behaviour(request: Any, context: Any) -> bytes:
        return b"new"

    both = rebuilt(handler, behaviour=behaviour, request_deserializer=other)
    assert behaviour_of(both) is behaviour
    assert (both.request_deserializer, both.response_serializer) == (other, _serialize)
    assert type(both) is type(handler)
