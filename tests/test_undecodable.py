"""Requests whose bytes are not the method's message: INVALID_ARGUMENT, never UNKNOWN."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.server import SERVICE_NAME, Gateway
from tests.conftest import bearer

GARBAGE = b"\xff\xff\xff\xff\x0f"  # a truncated varint: no protobuf message parses from it


def _identity(data: bytes) -> bytes:
    return data


async def _send_raw(channel: grpc.aio.Channel, path: str, *, streaming: bool) -> None:
    """Send GARBAGE to `path` and read the first answer."""
    if streaming:
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
