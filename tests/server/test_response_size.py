"""An answer larger than --max-send-message-bytes ends with the gateway's own error: not grpc's
bare RESOURCE_EXHAUSTED after a call the gateway logged and counted OK; over gRPC and over Connect
alike (each case runs through both: the limit applies to the message as the protocol sends it)."""

from __future__ import annotations

import dataclasses
import io
import json

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc

from gateway.config import GatewayConfig
from tests.conftest import BOTH_PROTOCOLS, bearer
from tests.helpers.calls import create_express, error_info, finished_batch, rpc_error, source

Stub = pb_grpc.BatchTranscriptionServiceStub
pytestmark = BOTH_PROTOCOLS  # the tests with a `stub`: over gRPC and over Connect
LIMIT = 300
"""Bytes: more than a batch's status, less than a transcript of the sandbox's."""


@pytest.fixture
def connect_codec() -> str:
    """Binary protobuf over Connect: the limit applies to the message as sent, and a status in
    JSON is already past LIMIT (docs/connect.md)."""
    return "proto"


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """Answers of at most LIMIT bytes."""
    return dataclasses.replace(gateway_config, max_send_message_bytes=LIMIT)


async def test_a_transcript_too_large_to_send_is_refused_with_error_info(
    stub: Stub, logs: io.StringIO
) -> None:
    """GetTranscription of a transcript larger than the limit: RESOURCE_EXHAUSTED with ErrorInfo
    RESPONSE_TOO_LARGE naming the flag and the way out (ExportTranscription, fetch), and the
    call's log line says RESOURCE_EXHAUSTED, not OK; smaller answers still go out."""
    batch = await create_express(stub, source(1))
    await finished_batch(stub, batch.batch_id)
    request = pb.GetTranscriptionRequest(transcription_id=batch.transcription_ids[0])
    error = await rpc_error(stub.GetTranscription(request, metadata=bearer(), timeout=10))
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    info = error_info(error)
    assert info.reason == "RESPONSE_TOO_LARGE"
    assert info.metadata["transcription_id"] == batch.transcription_ids[0]
    assert "--max-send-message-bytes" in (error.details() or "")
    assert "ExportTranscription" in (error.details() or "")
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    [line] = [x for x in lines if x.get("event") == "rpc" and x.get("rpc") == "GetTranscription"]
    assert (line["code"], line["reason"]) == ("RESOURCE_EXHAUSTED", "RESPONSE_TOO_LARGE")


async def test_a_stream_message_too_large_ends_the_stream_with_error_info(stub: Stub) -> None:
    """StreamBatchTranscripts whose transcript is larger than the limit ends RESOURCE_EXHAUSTED
    RESPONSE_TOO_LARGE naming the transcription, so the caller can skip it and go on."""
    batch = await create_express(stub, source(1))
    call = stub.StreamBatchTranscripts(
        pb.StreamBatchTranscriptsRequest(batch_id=batch.batch_id), metadata=bearer(), timeout=30
    )

    async def read_all() -> None:
        async for _ in call:
            pass

    error = await rpc_error(read_all())
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    info = error_info(error)
    assert info.reason == "RESPONSE_TOO_LARGE"
    assert info.metadata["transcription_id"] == batch.transcription_ids[0]
