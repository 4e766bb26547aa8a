"""The seam between the RPC logic and grpc.aio (gateway.server.call_context): the frame serves a
method through any `CallContext`, and only the adapter and the registration name grpc.aio."""

from __future__ import annotations

import ast
import inspect
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import grpc
import pytest
from google.protobuf.message import Message
from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.access.caller_quota import CallerQuota
from gateway.access.credentials import CallerAuth, Credential
from gateway.contract.errors import GatewayError, Reason
from gateway.server.call_context import Metadata
from gateway.server.frame import REQUEST_ID_KEY, Call, stream_rpc, unary_rpc
from gateway.server.grpc_adapter import for_grpc
from gateway.server.inflight import InFlight
from gateway.server.process import SERVICE
from tests.helpers import REPO

BATCH = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"


class _Ended(Exception):
    """What the in-memory context's abort raises (as every protocol's abort must: raise)."""


@dataclass
class MemoryContext:
    """A `CallContext` of no protocol at all: what a call sent and what it got, in memory."""

    sent: list[tuple[str, str | bytes]] = field(default_factory=list)
    remaining: float | None = None
    subject: str | None = None
    initial: list[Metadata] = field(default_factory=list)
    trailing: list[Metadata] = field(default_factory=list)
    ended: list[tuple[GatewayError, Metadata]] = field(default_factory=list)

    protocol = "memory"

    def metadata(self) -> Iterable[tuple[str, str | bytes]]:
        return self.sent

    def time_remaining(self) -> float | None:
        return self.remaining

    def peer_certificate_subject(self) -> str | None:
        return self.subject

    def encode(self, message: Message | bytes) -> bytes:
        return message if isinstance(message, bytes) else message.SerializeToString()

    async def send_initial_metadata(self, metadata: Metadata) -> None:
        self.initial.append(metadata)

    def set_trailing_metadata(self, metadata: Metadata) -> None:
        self.trailing.append(metadata)

    async def abort(self, error: GatewayError, trailing: Metadata = ()) -> NoReturn:
        self.ended.append((error, trailing))
        raise _Ended


class Methods:
    """A servicer with the frame's settings and one method of each kind, recording its calls."""

    def __init__(self, *, api_key: str | None = None, mtls: bool = False) -> None:
        self.api_key = api_key
        self.caller_auth = CallerAuth(mtls=mtls) if mtls else None
        self.default_timeout = 30.0
        self.limiter = None
        self.in_flight = InFlight()
        self.metrics = None
        self.caller_quota = CallerQuota()
        self.max_response_bytes = 1000
        self.calls: list[Call] = []
        self.fail: GatewayError | None = None
        self.answer = pb.GetBatchStatusResponse()
        self.chunks = [bytes([n]) for n in range(3)]

    @unary_rpc("GetBatchStatus")
    async def GetBatchStatus(
        self, request: pb.GetBatchStatusRequest, call: Call
    ) -> pb.GetBatchStatusResponse:
        self.calls.append(call)
        call.set_trailing_metadata((("idempotent-replayed", "true"),))
        if self.fail is not None:
            raise self.fail
        return self.answer

    @stream_rpc("WatchBatchStatus")
    async def WatchBatchStatus(
        self, request: pb.WatchBatchStatusRequest, call: Call
    ) -> AsyncIterator[bytes]:
        self.calls.append(call)
        for chunk in self.chunks:
            yield chunk


def _bearer(token: str = "caller-own-token") -> tuple[str, str]:
    return ("authorization", f"Bearer {token}")


async def test_a_unary_call_answers_through_any_call_context() -> None:
    """Without grpc: the caller's request id and token are read from the context's metadata,
    the request id goes back in the initial metadata, the handler's trailing metadata reaches
    the context, and the caller's deadline bounds the upstream work."""
    methods = Methods()
    context = MemoryContext(sent=[_bearer(), (REQUEST_ID_KEY, "ticket-1")], remaining=10.0)
    started = time.monotonic()
    answer = await methods.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=BATCH), context)
    assert pb.GetBatchStatusResponse.FromString(answer) == pb.GetBatchStatusResponse()
    [call] = methods.calls
    assert call.request_id == "ticket-1"
    assert call.credential == Credential("caller-own-token", "caller")
    assert call.options.deadline is not None
    assert started + 9.0 < call.options.deadline < started + 10.0  # less the answer margin
    assert context.initial == [((REQUEST_ID_KEY, "ticket-1"),)]
    assert context.trailing == [(("idempotent-replayed", "true"),)]
    assert context.ended == []


async def test_an_error_ends_the_call_through_the_context_trailers_only() -> None:
    """A failing call sends no initial metadata (so a client may retry it): it ends through the
    context's abort with its status, the request id in the trailers and in its ErrorInfo."""
    methods = Methods()
    methods.fail = GatewayError(grpc.StatusCode.UNAVAILABLE, Reason.UPSTREAM_UNAVAILABLE, "down")
    context = MemoryContext(sent=[_bearer()])
    with pytest.raises(_Ended):
        await methods.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=BATCH), context)
    [(error, trailing)] = context.ended
    request_id = methods.calls[0].request_id
    assert (error.code, error.reason) == (grpc.StatusCode.UNAVAILABLE, Reason.UPSTREAM_UNAVAILABLE)
    assert error.metadata["request_id"] == request_id
    assert tuple(trailing) == ((REQUEST_ID_KEY, request_id),)
    assert context.initial == []


async def test_bad_input_and_missing_credentials_end_before_the_handler() -> None:
    """An invalid request ends INVALID_ARGUMENT and a call without a credential UNAUTHENTICATED,
    through the context, and the handler never runs."""
    methods = Methods()
    invalid = MemoryContext(sent=[_bearer()])
    with pytest.raises(_Ended):
        await methods.GetBatchStatus(pb.GetBatchStatusRequest(), invalid)
    anonymous = MemoryContext()
    with pytest.raises(_Ended):
        await methods.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=BATCH), anonymous)
    assert [e.code for e, _ in invalid.ended + anonymous.ended] == [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNAUTHENTICATED,
    ]
    assert methods.calls == []


async def test_a_verified_client_certificate_from_the_context_spends_the_configured_key() -> None:
    """With mutual TLS on, the certificate subject the context reports authenticates a caller
    without a token: it spends the configured key, named by its subject."""
    methods = Methods(api_key="organisation-key", mtls=True)
    context = MemoryContext(subject="CN=billing")
    await methods.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=BATCH), context)
    assert methods.calls[0].credential == Credential(
        "organisation-key", "configured", "cert:CN=billing"
    )


async def test_a_stream_sends_its_initial_metadata_before_its_first_message() -> None:
    """A streaming method through the context: the request id goes out in the initial
    metadata once, before the first message, and every message follows."""
    methods = Methods()
    context = MemoryContext(sent=[_bearer(), (REQUEST_ID_KEY, "ticket-2")])
    seen: list[tuple[int, bytes]] = []
    async for message in methods.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=BATCH), context
    ):
        seen.append((len(context.initial), message))
    assert seen == [(1, b"\x00"), (1, b"\x01"), (1, b"\x02")]
    assert context.initial == [((REQUEST_ID_KEY, "ticket-2"),)]


async def test_an_answer_larger_than_the_limit_ends_with_its_own_error() -> None:
    """An answer larger than `max_response_bytes` is never handed to the protocol: the call
    ends RESOURCE_EXHAUSTED (RESPONSE_TOO_LARGE) through the context, naming the limit's flag,
    with no initial metadata sent; a stream's too-large message ends the stream the same way
    after the messages before it."""
    methods = Methods()
    methods.max_response_bytes = 1
    status = pb.GetBatchStatusResponse()
    status.batch_status.batch_id = BATCH
    methods.answer = status
    unary = MemoryContext(sent=[_bearer()])
    with pytest.raises(_Ended):
        await methods.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=BATCH), unary)
    [(error, _)] = unary.ended
    assert (error.code, error.reason) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        Reason.RESPONSE_TOO_LARGE,
    )
    assert "--max-send-message-bytes" in error.message
    assert unary.initial == []
    stream = MemoryContext(sent=[_bearer()])
    methods.max_response_bytes = 1
    methods.chunks = [b"a", b"bb"]
    seen: list[bytes] = []

    async def follow() -> None:
        async for message in methods.WatchBatchStatus(
            pb.WatchBatchStatusRequest(batch_id=BATCH), stream
        ):
            seen.append(message)

    with pytest.raises(_Ended):
        await follow()
    assert seen == [b"a"]
    assert [e.reason for e, _ in stream.ended] == [Reason.RESPONSE_TOO_LARGE]


def _names_grpc_aio(path: str) -> list[int]:
    """The lines of `path` (in the repository) whose code names `grpc.aio`."""
    tree = ast.parse((REPO / path).read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "aio"
        and isinstance(node.value, ast.Name)
        and node.value.id == "grpc"
    ]


@pytest.mark.parametrize(
    "module",
    [
        "gateway/server/frame.py",
        "gateway/server/servicer.py",
        "gateway/server/call_context.py",
        "gateway/access/credentials.py",
    ],
)
def test_the_rpc_logic_never_names_grpc_aio(module: str) -> None:
    """The frame, the servicer and the credentials see a call only as a CallContext: grpc.aio
    is named by the adapter and the server's registration, not by them."""
    assert _names_grpc_aio(module) == []


def test_the_grpc_adapter_names_grpc_aio() -> None:
    """The check above can fail: it finds grpc.aio where it is used."""
    assert _names_grpc_aio("gateway/server/grpc_adapter.py") != []


def test_every_rpc_of_the_service_has_a_grpc_method() -> None:
    """`for_grpc` gives grpc.aio a `(request, context)` function for every RPC of the service:
    coroutine functions for unary RPCs, async generator functions for server streaming."""

    class Everything:
        def __getattr__(self, name: str) -> Any:
            async def method(request: Any, context: Any) -> Any:
                return name

            return method

    adapted = for_grpc(Everything(), SERVICE)
    for rpc in SERVICE.methods:
        method = getattr(adapted, rpc.name)
        if rpc.server_streaming:
            assert inspect.isasyncgenfunction(method), rpc.name
        else:
            assert inspect.iscoroutinefunction(method), rpc.name
