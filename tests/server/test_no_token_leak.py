"""A whole session's log output, errors and tracebacks never contain a credential."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import uuid

import grpc
import httpx
import pytest
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import bearer
from tests.helpers.calls import fault, rpc_error

CALLER_TOKEN = "caller-secret-0f3c9a7e5b1d"
SERVICE_KEY = "service-secret-8a2e4c6f0b9d"
MISSING = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """A gateway holding a service key, so both kinds of credential are in play."""
    return dataclasses.replace(gateway_config, api_key=SERVICE_KEY, watch_fast_interval=0.05)


async def test_full_session_never_shows_a_token(
    logs: io.StringIO, gateway: Gateway, channel: grpc.aio.Channel, sandbox: SandboxServer
) -> None:
    """Every RPC, a watch, validation errors, not-found, a rate-limit storm and a 5xx, with the
    caller's own token and with the gateway's key: neither credential appears in any log line,
    error message, or error detail."""
    stub = pb_grpc.BatchTranscriptionServiceStub(channel)
    errors: list[grpc.aio.AioRpcError] = []
    for metadata in (bearer(CALLER_TOKEN), ()):
        created = await stub.CreateBatch(
            pb.CreateBatchRequest(
                request_id=str(uuid.uuid4()),
                info=batch_pb2.BatchInfo(),
                audio_sources=[
                    batch_pb2.AudioSource(audio_url="https://e.com/a.mp3", client_item_id="x")
                ],
            ),
            metadata=metadata,
        )
        watch = stub.WatchBatchStatus(
            pb.WatchBatchStatusRequest(batch_id=created.batch_id), metadata=metadata
        )
        async for _ in watch:
            pass
        await stub.GetBatchItem(
            pb.GetBatchItemRequest(batch_id=created.batch_id, client_item_id="x"), metadata=metadata
        )
        transcription_id = created.transcription_ids[0]
        await stub.GetTranscription(
            pb.GetTranscriptionRequest(transcription_id=transcription_id), metadata=metadata
        )
        await stub.GetTranscriptionStatus(
            pb.GetTranscriptionStatusRequest(transcription_id=transcription_id), metadata=metadata
        )
        uploaded = await stub.UploadManifest(
            pb.UploadManifestRequest(jsonl='{"audio_url": "https://e.com/b.mp3"}'),
            metadata=metadata,
        )
        await stub.GetManifest(
            pb.GetManifestRequest(batch_file_id=uploaded.manifest.id), metadata=metadata
        )
        await stub.ListManifests(pb.ListManifestsRequest(), metadata=metadata)
        errors.append(await rpc_error(stub.CreateBatch(pb.CreateBatchRequest(), metadata=metadata)))
        errors.append(
            await rpc_error(
                stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=MISSING), metadata=metadata)
            )
        )
        await fault(sandbox, status=429, count=20, retry_after=30)
        errors.append(
            await rpc_error(
                stub.GetBatchStatus(
                    pb.GetBatchStatusRequest(batch_id=created.batch_id),
                    metadata=metadata,
                    timeout=2,
                )
            )
        )
        await fault(sandbox, status=500, count=1, method="POST")
        errors.append(
            await rpc_error(
                stub.CreateBatch(
                    pb.CreateBatchRequest(
                        info=batch_pb2.BatchInfo(),
                        audio_sources=[batch_pb2.AudioSource(audio_url="https://e.com/c.mp3")],
                    ),
                    metadata=metadata,
                )
            )
        )
        async with httpx.AsyncClient() as http:
            await http.delete(f"{sandbox.url}/_sandbox/faults")
    errors.append(
        await rpc_error(
            stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=MISSING),
                metadata=(("authorization", f"Basic {CALLER_TOKEN}"),),
            )
        )
    )
    await asyncio.sleep(0.1)  # let the last log lines out
    text = logs.getvalue()
    assert '"rpc"' in text  # the capture did see the session
    assert "upstream_attempt" in text  # ... at DEBUG, retries included
    for secret in (CALLER_TOKEN, SERVICE_KEY):
        assert secret not in text
        for error in errors:
            assert secret not in str(error)
            assert secret.encode() not in repr(error.trailing_metadata()).encode()
