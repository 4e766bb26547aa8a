"""The server's interceptors build their wrapped handlers once per method, not once per call."""

from __future__ import annotations

from typing import Any

import grpc

from gateway.server.decoding import DecodeGuard
from gateway.server.handler_cache import HandlerCache
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
