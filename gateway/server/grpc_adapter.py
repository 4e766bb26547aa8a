"""grpc.aio's side of the seam (gateway.server.call_context): the servicer served by grpc.aio.

`GrpcCallContext` is a `CallContext` over grpc.aio's `ServicerContext`. `for_grpc(servicer,
service)` is what the generated `add_<Service>Servicer_to_server` registers: each RPC of
`service` as grpc.aio calls it, `(request, context)`, running the servicer's method of that name
with the call's `GrpcCallContext`. Nothing else of the gateway's RPC logic sees grpc.aio (the
server's interceptors, which wrap grpc's method handlers, are grpc's own business).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NoReturn

from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message

from gateway.contract.errors import GatewayError, abort
from gateway.server.call_context import CallContext, Metadata

if TYPE_CHECKING:
    import grpc

    Context = grpc.aio.ServicerContext[Any, Any]
    Unary = Callable[[Any, CallContext], Awaitable[Any]]
    Streaming = Callable[[Any, CallContext], AsyncGenerator[Any, None]]


class GrpcCallContext:
    """A `CallContext` over one call's grpc.aio ServicerContext."""

    __slots__ = ("_context",)

    def __init__(self, context: Context) -> None:
        self._context = context

    @property
    def protocol(self) -> str:
        return "grpc"

    def metadata(self) -> Iterable[tuple[str, str | bytes]]:
        """grpc's invocation metadata (keys lower-case, bytes for `-bin` keys)."""
        return self._context.invocation_metadata() or ()

    def time_remaining(self) -> float | None:
        """grpc's time remaining: None without a caller deadline (grpc-stubs say float)."""
        remaining: float | None = self._context.time_remaining()
        return remaining

    def peer_certificate_subject(self) -> str | None:
        """The subject gRPC puts in the auth context when the TLS handshake verified a client
        certificate (`transport_security_type` ssl, `x509_pem_cert` present)."""
        auth = self._context.auth_context()
        if b"ssl" not in list(auth.get("transport_security_type", ())):
            return None
        if not list(auth.get("x509_pem_cert", ())):
            return None
        subject: bytes = next(iter(auth.get("x509_subject", ())), b"")
        return subject.decode(errors="replace")

    def encode(self, message: Message | bytes) -> bytes:
        """protobuf's binary form: what the method's (pass-through) serializer then sends."""
        if isinstance(message, bytes):
            return message
        data: bytes = message.SerializeToString()
        return data

    async def send_initial_metadata(self, metadata: Metadata) -> None:
        await self._context.send_initial_metadata(tuple(metadata))

    def set_trailing_metadata(self, metadata: Metadata) -> None:
        self._context.set_trailing_metadata(tuple(metadata))

    async def abort(self, error: GatewayError, trailing: Metadata = ()) -> NoReturn:
        """The error's status with its google.rpc.Status trailer (`grpc-status-details-bin`)
        and `trailing` beside it; grpc's abort raises."""
        await abort(self._context, error, tuple(trailing))


def for_grpc(servicer: object, service: ServiceDescriptor) -> Any:
    """The methods of `servicer` named after `service`'s RPCs, in grpc.aio's shape, for the
    generated `add_<Service>Servicer_to_server`. Every RPC of the service must have one."""
    methods: dict[str, Callable[..., Any]] = {}
    for rpc in service.methods:
        serve = getattr(servicer, rpc.name)
        if rpc.client_streaming:
            if rpc.server_streaming:
                raise TypeError(f"{rpc.full_name}: bidirectional streaming has no adapter yet")
            methods[rpc.name] = _unary(serve)  # the request iterator passes as the request
        else:
            methods[rpc.name] = _streaming(serve) if rpc.server_streaming else _unary(serve)
    return SimpleNamespace(**methods)


def _unary(serve: Unary) -> Callable[[Any, Context], Awaitable[Any]]:
    async def method(request: Any, context: Context) -> Any:
        return await serve(request, GrpcCallContext(context))

    return method


def _streaming(serve: Streaming) -> Callable[[Any, Context], AsyncIterator[Any]]:
    async def method(request: Any, context: Context) -> AsyncIterator[Any]:
        # Closed with this generator, however grpc.aio stops reading it: the servicer's stream
        # (its frame's summary line) ends now, not later in the event loop's finalizer.
        async with contextlib.aclosing(serve(request, GrpcCallContext(context))) as responses:
            async for response in responses:
                yield response

    return method
