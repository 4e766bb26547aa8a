"""Requests that do not decode: refused INVALID_ARGUMENT by the frame, not UNKNOWN by grpc.aio."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    _ServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
else:  # generic only in grpc-stubs
    _ServerInterceptor = grpc.aio.ServerInterceptor


@dataclass(frozen=True)
class UndecodableRequest:
    """What a request deserializer hands the frame instead of raising: grpc.aio would answer a
    message that does not parse with UNKNOWN, before any of our code runs."""

    message_type: str
    error: str


class DecodeGuard(_ServerInterceptor):
    """Makes the request deserializers of the methods under `prefix` tolerant, so that bytes
    that are not the method's request message reach the frame, which answers INVALID_ARGUMENT."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        parse = getattr(handler, "request_deserializer", None)
        if handler is None or parse is None or not method.startswith(self.prefix):
            return handler
        name = method.rsplit("/", 1)[-1]

        def tolerant(data: bytes) -> object:
            try:
                return parse(data)
            except Exception as exc:  # any decode failure: DecodeError, RuntimeWarning, ...
                return UndecodableRequest(f"{name}Request", type(exc).__name__)

        # grpc's method handlers are namedtuples: _replace swaps one field, keeps the rest.
        replaced: grpc.RpcMethodHandler[Any, Any] = handler._replace(  # type: ignore[attr-defined]
            request_deserializer=tolerant
        )
        return replaced
