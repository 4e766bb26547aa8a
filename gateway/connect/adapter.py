"""The Connect side of the seam (gateway.server.call_context): the servicer served by connectrpc.

`ConnectCallContext` is a `CallContext` over one call's connectrpc `RequestContext`: metadata
from the HTTP headers, the deadline from `connect-timeout-ms` (`grpc-timeout` for gRPC-Web),
initial and trailing metadata into the response's headers and trailers, and an abort that
raises the `ConnectError` with the same code, message and details (ErrorInfo, BadRequest,
RetryInfo, ...) the gRPC side sends in `grpc-status-details-bin`. `endpoints(servicer,
service)` maps every RPC of the service to the servicer's method of that name, as
gateway.server.grpc_adapter's `for_grpc` does for grpc.aio: one implementation, two protocols.

The frame encodes every answer itself (`CallContext.encode`: protobuf's JSON or binary form,
whichever the caller asked for) so that it can refuse one too large with its own error; the
codecs (`CODECS`) pass those bytes through, and never raise on bytes that do not decode: they
hand the frame an `UndecodableRequest`, which it refuses INVALID_ARGUMENT with ErrorInfo and its
summary line, as on the gRPC side.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, NoReturn

import grpc
from connectrpc.code import Code
from connectrpc.codec import Codec
from connectrpc.errors import ConnectError, ErrorDetail
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from connectrpc.request import RequestContext
from connectrpc.server import Endpoint
from google.protobuf import descriptor_pb2, json_format
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass
from protobuf.wkt import Any as AnyDetail

from gateway.contract.errors import GatewayError
from gateway.server.call_context import CallContext, Metadata
from gateway.server.decoding import UndecodableRequest

JSON = "json"
PROTO = "proto"


def protocol_of(content_type: str) -> str:
    """The protocol a request's content type names: gRPC-Web, gRPC, else Connect (whose unary
    calls are `application/json` or `application/proto`, streams `application/connect+...`)."""
    kind = content_type.lower()
    if kind.startswith("application/grpc-web"):
        return "grpc-web"
    if kind.startswith("application/grpc"):
        return "grpc"
    return "connect"


def codec_of(content_type: str, query_encoding: str) -> str:
    """The codec of a call: a GET names it in its `encoding` query parameter, anything else in
    its content type (`application/json`, `application/connect+json`, `application/grpc-web+json`,
    ...); protobuf's binary form otherwise."""
    if query_encoding:
        return JSON if query_encoding == JSON else PROTO
    base = content_type.lower().split(";", 1)[0].strip()
    return JSON if base.endswith(("/json", "+json")) else PROTO


class ConnectCallContext:
    """A `CallContext` over one call's connectrpc RequestContext."""

    __slots__ = ("_codec", "_ctx", "_protocol", "_subject")

    def __init__(
        self, ctx: RequestContext[Any, Any], codec: str, protocol: str, subject: str | None
    ) -> None:
        self._ctx = ctx
        self._codec = codec
        self._protocol = protocol
        self._subject = subject

    @property
    def protocol(self) -> str:
        return self._protocol

    def metadata(self) -> Iterable[tuple[str, str | bytes]]:
        """The request's HTTP headers (keys lower-case); `-bin` values base64-decoded, as
        Connect and gRPC-Web send them."""
        for key, value in self._ctx.request_headers.allitems():
            name = key.lower()
            if name.endswith("-bin"):
                with contextlib.suppress(ValueError):
                    yield name, base64.b64decode(value + "=" * (-len(value) % 4))
                continue
            yield name, value

    def time_remaining(self) -> float | None:
        """What is left of `connect-timeout-ms` (or gRPC-Web's `grpc-timeout`); None without."""
        remaining = self._ctx.timeout_ms
        return None if remaining is None else remaining / 1000.0

    def peer_certificate_subject(self) -> str | None:
        """The verified client certificate's subject, where the server names it (None: the
        HTTP server does not tell the application, docs/connect.md)."""
        return self._subject

    def encode(self, message: Message | bytes) -> bytes:
        """protobuf's JSON form (proto3 JSON mapping, lowerCamelCase names) for a JSON call,
        its binary form otherwise. Bytes are an answer the servicer keeps encoded (a shared
        status): they pass as they are in binary, and are read back for JSON."""
        if self._codec != JSON:
            return message if isinstance(message, bytes) else message.SerializeToString()
        answer: Message = (
            self._ctx.method.output.FromString(message) if isinstance(message, bytes) else message
        )
        text: str = json_format.MessageToJson(answer, indent=None)
        return text.encode()

    async def send_initial_metadata(self, metadata: Metadata) -> None:
        """Response headers: sent with the first message (a stream) or the answer (unary)."""
        headers = self._ctx.response_headers
        for key, value in metadata:
            headers.add(key, value)

    def set_trailing_metadata(self, metadata: Metadata) -> None:
        trailers = self._ctx.response_trailers
        for key, value in metadata:
            trailers.add(key, value)

    async def abort(self, error: GatewayError, trailing: Metadata = ()) -> NoReturn:
        """`trailing` into the trailers; raises the error as Connect carries it."""
        self.set_trailing_metadata(trailing)
        raise to_connect_error(error)


def to_connect_error(error: GatewayError) -> ConnectError:
    """The ConnectError of `error`: the same code, message and google.rpc details (ErrorInfo
    first) as the gRPC side's `grpc-status-details-bin`, in Connect's error body."""
    status = error.to_status()
    details = [ErrorDetail(AnyDetail(type_url=d.type_url, value=d.value)) for d in status.details]
    return ConnectError(connect_code(error.code), error.message, details)


def connect_code(code: grpc.StatusCode) -> Code:
    """Connect's name of a gRPC status code (the same codes; CANCELLED is spelt CANCELED)."""
    if code is grpc.StatusCode.CANCELLED:
        return Code.CANCELED
    return Code[code.name]


@dataclasses.dataclass(frozen=True)
class _PassThrough:
    """A codec whose encode passes the frame's bytes through and whose decode never raises."""

    codec_name: str

    def name(self) -> str:
        return self.codec_name

    def encode(self, message: object) -> bytes:
        if isinstance(message, bytes):
            return message
        assert isinstance(message, Message)  # what the frame answers when not bytes
        if self.codec_name == JSON:
            return json_format.MessageToJson(message, indent=None).encode()
        data: bytes = message.SerializeToString()
        return data

    def decode(self, data: bytes | bytearray, message_class: type[Any]) -> Any:
        message = message_class()
        try:
            if self.codec_name == JSON:
                text = bytes(data)
                if not text.lstrip().startswith(b"{"):  # protobuf's parser takes `[]` as `{}`
                    raise json_format.ParseError("expected a JSON object")
                json_format.Parse(text, message)
            else:
                message.ParseFromString(bytes(data))
        except (json_format.ParseError, DecodeError, UnicodeDecodeError, ValueError) as exc:
            return UndecodableRequest(message.DESCRIPTOR.full_name, str(exc) or "malformed")
        return message


CODECS: list[Codec[Any, Any]] = [_PassThrough(PROTO), _PassThrough(JSON)]
"""The codecs the Connect application serves: protobuf's binary form and its JSON mapping."""


def idempotency_of(method: MethodDescriptor) -> IdempotencyLevel:
    """The RPC's `idempotency_level` option: NO_SIDE_EFFECTS reads answer GET too."""
    options = descriptor_pb2.MethodOptions()
    options.ParseFromString(method.GetOptions().SerializeToString())
    level = options.idempotency_level
    if level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS:
        return IdempotencyLevel.NO_SIDE_EFFECTS
    if level == descriptor_pb2.MethodOptions.IDEMPOTENT:
        return IdempotencyLevel.IDEMPOTENT
    return IdempotencyLevel.UNKNOWN


ContextOf = Callable[[RequestContext[Any, Any]], CallContext]
"""Makes a call's CallContext from its RequestContext (the HTTP layer knows the codec)."""


def endpoints(
    servicer: object, service: ServiceDescriptor, context_of: ContextOf
) -> Mapping[str, Any]:
    """Every RPC of `service` at its Connect path (`/<service>/<method>`), running the
    servicer's method of that name with the call's CallContext."""
    mapped: dict[str, Any] = {}  # connectrpc's Endpoint kinds (unary, client/server stream)
    for rpc in service.methods:
        serve = getattr(servicer, rpc.name)
        kind = _stream_type(rpc)
        info = MethodInfo(
            name=rpc.name,
            service_name=service.full_name,
            input=GetMessageClass(rpc.input_type),
            output=GetMessageClass(rpc.output_type),
            idempotency_level=idempotency_of(rpc),
            stream_type=kind,
        )
        path = f"/{service.full_name}/{rpc.name}"
        if kind is StreamType.SERVER_STREAM:
            mapped[path] = Endpoint.server_stream(info, _streaming(serve, context_of))
        elif kind is StreamType.CLIENT_STREAM:
            mapped[path] = Endpoint.client_stream(info, _unary(serve, context_of))
        else:
            mapped[path] = Endpoint.unary(info, _unary(serve, context_of))
    return mapped


def _stream_type(rpc: MethodDescriptor) -> StreamType:
    if rpc.client_streaming and rpc.server_streaming:
        raise TypeError(f"{rpc.full_name}: bidirectional streaming has no adapter yet")
    if rpc.client_streaming:
        return StreamType.CLIENT_STREAM
    return StreamType.SERVER_STREAM if rpc.server_streaming else StreamType.UNARY


def _unary(
    serve: Callable[[Any, CallContext], Awaitable[Any]], context_of: ContextOf
) -> Callable[[Any, RequestContext[Any, Any]], Awaitable[Any]]:
    async def method(request: Any, ctx: RequestContext[Any, Any]) -> Any:
        return await serve(request, context_of(ctx))

    return method


def _streaming(
    serve: Callable[[Any, CallContext], AsyncGenerator[Any, None]], context_of: ContextOf
) -> Callable[[Any, RequestContext[Any, Any]], AsyncIterator[Any]]:
    async def method(request: Any, ctx: RequestContext[Any, Any]) -> AsyncIterator[Any]:
        # Closed with this generator, however the runtime stops reading it: the servicer's
        # stream (its frame's summary line) ends now, not later in the loop's finalizer.
        async with contextlib.aclosing(serve(request, context_of(ctx))) as responses:
            async for response in responses:
                yield response

    return method
