"""Requests whose bytes are not the method's message: INVALID_ARGUMENT with ErrorInfo, never
UNKNOWN, on every service the server hosts (issue 9, item 10)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.server.process import SERVICE_NAME, Gateway
from tests.conftest import bearer
from tests.helpers.calls import error_info

GARBAGE = b"\xff\xff\xff\xff\x0f"  # a truncated varint: no protobuf message parses from it


def _identity(data: bytes) -> bytes:
    return data


async def _garbage() -> AsyncIterator[bytes]:
    yield GARBAGE


async def _send_raw(
    channel: grpc.aio.Channel, path: str, *, streaming: bool, bidi: bool = False
) -> None:
    """Send GARBAGE to `path` and read the first answer."""
    if bidi:
        stream = channel.stream_stream(
            path, request_serializer=_identity, response_deserializer=_identity
        )(_garbage(), metadata=bearer(), timeout=10)
        await stream.read()
    elif streaming:
        call = channel.unary_stream(
            path, request_serializer=_identity, response_deserializer=_identity
        )(GARBAGE, metadata=bearer(), timeout=10)
        await call.read()
    else:
        await channel.unary_unary(
            path, request_serializer=_identity, response_deserializer=_identity
        )(GARBAGE, metadata=bearer(), timeout=10)


@pytest.mark.parametrize(
    ("method", "streaming"), [("CreateBatch", False), ("WatchBatchStatus", True)]
)
async def test_garbage_bytes_are_invalid_argument(
    gateway: Gateway, channel: grpc.aio.Channel, method: str, streaming: bool
) -> None:
    """A raw client sending bytes that do not decode gets INVALID_ARGUMENT naming the request
    message, on unary and streaming methods alike, and the server stays healthy."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _send_raw(channel, f"/{SERVICE_NAME}/{method}", streaming=streaming)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"{method}Request" in (raised.value.details() or "")
    health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert health.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    ("path", "streaming", "bidi", "message_type"),
    [
        ("/grpc.health.v1.Health/Check", False, False, "grpc.health.v1.HealthCheckRequest"),
        ("/grpc.health.v1.Health/Watch", True, False, "grpc.health.v1.HealthCheckRequest"),
        (
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            True,
            True,
            "grpc.reflection.v1alpha.ServerReflectionRequest",
        ),
        (f"/{SERVICE_NAME}/GetBatchStatus", False, False, "GetBatchStatusRequest"),
    ],
)
async def test_every_service_refuses_garbage_with_error_info(
    gateway: Gateway,
    channel: grpc.aio.Channel,
    path: str,
    streaming: bool,
    bidi: bool,
    message_type: str,
) -> None:
    """Undecodable bytes sent to health Check or Watch, to server reflection, or to the batch
    service get INVALID_ARGUMENT naming the request message, with a google.rpc.Status whose
    ErrorInfo says REQUEST_INVALID in the gateway's domain (health used to answer UNKNOWN)."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _send_raw(channel, path, streaming=streaming, bidi=bidi)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message_type in (raised.value.details() or "")
    assert error_info(raised.value).reason == "REQUEST_INVALID"
