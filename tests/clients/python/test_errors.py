"""A failed call on the package's channels raises the `GatewayError` subclass that says what to
do, with the gateway's ErrorInfo, BadRequest, RetryInfo and QuotaFailure decoded from the
`grpc-status-details-bin` trailer: against the real gateway and sandbox, sync and grpc.aio."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import grpc
import pytest
from google.rpc import status_pb2
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_gateway_client import (
    GatewayError,
    InvalidArgument,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    Unavailable,
    aio_channel,
    channel,
    from_rpc_error,
)
from sofer_gateway_client.errors import STATUS_DETAILS_KEY, decode_status, error_class
from sofer_sandbox import SandboxServer

from gateway.server.process import Gateway
from tests.conftest import bearer
from tests.helpers.calls import batch_request, fault, upstream_count

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub

INVALID = batch_service_pb2.CreateBatchRequest(
    processing_mode=batch_pb2.PROCESSING_MODE_EXPRESS,
    audio_sources=[batch_pb2.AudioSource(audio_url="ftp://example.com/a.mp3")],
)


async def test_an_invalid_create_raises_invalid_argument_with_its_violations(
    gateway: Gateway,
) -> None:
    """An invalid CreateBatch awaited on `aio_channel` raises InvalidArgument (a GatewayError,
    chained from the AioRpcError) with the reason REQUEST_INVALID, the domain sofer-gateway,
    and one field violation per rule broken, each with its field path and rule."""
    async with aio_channel(gateway.address) as ch:
        with pytest.raises(InvalidArgument) as raised:
            await Stub(ch).CreateBatch(INVALID, metadata=bearer(), timeout=10)
    error = raised.value
    assert isinstance(error.__cause__, grpc.aio.AioRpcError)
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert (error.reason, error.domain) == ("REQUEST_INVALID", "sofer-gateway")
    by_field = {v.field: v.reason for v in error.field_violations}
    assert by_field == {"info": "REQUIRED", "audio_sources[0].audio_url": "INVALID_URL"}
    assert "must be an absolute http(s) URL" in error.message


async def test_a_sync_call_raises_the_typed_error_too(gateway: Gateway) -> None:
    """A blocking call on the sync `channel` raises NotFound (reason BATCH_NOT_FOUND) for an
    unknown batch, and `.future(...).result()` raises it as well; a success returns the
    response as usual."""

    def calls() -> tuple[NotFound, NotFound, str]:
        with channel(gateway.address) as ch:
            stub = Stub(ch)
            request = batch_service_pb2.GetBatchStatusRequest(batch_id=str(uuid.uuid4()))
            with pytest.raises(NotFound) as blocking:
                stub.GetBatchStatus(request, metadata=bearer(), timeout=10)
            with pytest.raises(NotFound) as future:
                stub.GetBatchStatus.future(request, metadata=bearer(), timeout=10).result()
            created = stub.CreateBatch(batch_request(""), metadata=bearer(), timeout=10)
            return blocking.value, future.value, created.batch_id

    blocking, future, batch_id = await asyncio.to_thread(calls)
    assert blocking.reason == future.reason == "BATCH_NOT_FOUND"
    assert blocking.code is grpc.StatusCode.NOT_FOUND
    assert batch_id


async def test_an_upstream_rate_limit_raises_rate_limited_with_retry_after(
    gateway: Gateway, sandbox: SandboxServer
) -> None:
    """The upstream answering 429 with Retry-After 60 (longer than the call may wait) reaches
    the caller as RateLimited with retry_after 60 (the RetryInfo) and the QuotaFailure saying
    which limit."""
    await fault(sandbox, status=429, count=5, retry_after=60, method="GET")
    request = batch_service_pb2.GetBatchStatusRequest(batch_id=str(uuid.uuid4()))
    async with aio_channel(gateway.address) as ch:
        with pytest.raises(RateLimited) as raised:
            await Stub(ch).GetBatchStatus(request, metadata=bearer(), timeout=10)
    error = raised.value
    assert error.reason == "RATE_LIMITED"
    assert error.retry_after == 60
    assert [q.subject for q in error.quota_violations] == ["upstream rate limit"]


async def test_a_create_whose_answer_was_lost_raises_outcome_unknown(
    gateway: Gateway, sandbox: SandboxServer
) -> None:
    """A create the upstream answered 500 after receiving it raises OutcomeUnknown (not plain
    Unavailable: the batch may exist). The channel's service config retried it (UNAVAILABLE)
    with the same request_id, and the gateway answered each retry from its first outcome: one
    upstream POST in all."""
    await fault(sandbox, status=500, count=5, method="POST")
    request_id = str(uuid.uuid4())
    async with aio_channel(gateway.address) as ch:
        with pytest.raises(OutcomeUnknown) as raised:
            await Stub(ch).CreateBatch(batch_request(request_id), metadata=bearer(), timeout=10)
    assert not isinstance(raised.value, Unavailable)
    assert raised.value.reason == "OUTCOME_UNKNOWN"
    assert raised.value.code is grpc.StatusCode.UNAVAILABLE
    assert await upstream_count(sandbox, "POST /v1/transcriptions/batch") == 1


async def test_typed_errors_off_leaves_grpc_errors_alone(gateway: Gateway) -> None:
    """With typed_errors=False the channel raises grpc's own AioRpcError, and from_rpc_error
    turns it into the same typed error the interceptor raises."""
    async with aio_channel(gateway.address, typed_errors=False) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await Stub(ch).CreateBatch(INVALID, metadata=bearer(), timeout=10)
    error = from_rpc_error(raised.value)
    assert isinstance(error, InvalidArgument)
    assert error.reason == "REQUEST_INVALID"
    assert from_rpc_error(error) is error


class Failed(grpc.RpcError):
    """A failed call as another server (or gRPC itself) could end one."""

    def __init__(self, code: grpc.StatusCode, trailer: tuple[tuple[str, bytes], ...]) -> None:
        self._code, self._trailer = code, trailer

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "failed"

    def trailing_metadata(self) -> Any:
        return self._trailer


@pytest.mark.parametrize(
    "trailer",
    [
        (),
        ((STATUS_DETAILS_KEY, b"\xff\xff not a status"),),
        ((STATUS_DETAILS_KEY, status_pb2.Status(code=3, message="x").SerializeToString()),),
        ((STATUS_DETAILS_KEY, b"\x08\x0e" + b"\x12\x00" * 40_000),),
    ],
    ids=["none", "garbled", "another-code", "too-large"],
)
def test_an_error_without_a_readable_status_keeps_its_code_and_message(
    trailer: tuple[tuple[str, bytes], ...],
) -> None:
    """No trailer, an unreadable one, one whose code is not the call's, or one past the size
    bound: the error is still typed by its code (Unavailable), with empty details, never a
    second exception."""
    error = from_rpc_error(Failed(grpc.StatusCode.UNAVAILABLE, trailer))
    assert type(error) is Unavailable
    assert (error.message, error.reason, error.field_violations) == ("failed", "", ())
    assert error.retry_after is None


def test_every_code_has_a_class_and_outcome_unknown_wins() -> None:
    """Each non-OK code maps to the class that says what to do; codes a caller cannot act on
    are ServerError; the reason OUTCOME_UNKNOWN makes OutcomeUnknown whatever the code."""
    assert error_class(grpc.StatusCode.INTERNAL) is ServerError
    assert error_class(grpc.StatusCode.UNIMPLEMENTED) is ServerError
    assert error_class(grpc.StatusCode.OUT_OF_RANGE) is InvalidArgument
    assert error_class(grpc.StatusCode.DEADLINE_EXCEEDED, "OUTCOME_UNKNOWN") is OutcomeUnknown
    assert all(
        issubclass(error_class(code), GatewayError)
        for code in grpc.StatusCode
        if code is not grpc.StatusCode.OK
    )
    assert decode_status(None, grpc.StatusCode.UNKNOWN) is None
