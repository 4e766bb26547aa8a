"""ExportTranscription and GetTranscription read through the shared transcript cache: N formats
of one completed transcript cost the upstream one GET, per credential.

Counted on the real sandbox (`/_sandbox/stats`): the issue's measurement was 30 transcripts in
several formats costing a transcript GET per format.
"""

from __future__ import annotations

import asyncio
import dataclasses

import grpc
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import OTHER_TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    create_express,
    finished_batch,
    rpc_error,
    source,
    upstream_count,
)

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
TRANSCRIPT_GET = "GET /v1/transcriptions/{transcription_id}"
FORMATS = (
    batch_pb2.EXPORT_FORMAT_SRT,
    batch_pb2.EXPORT_FORMAT_TEXT,
    batch_pb2.EXPORT_FORMAT_MARKDOWN,
    batch_pb2.EXPORT_FORMAT_DOCX,
)


async def completed_items(stub: Stub, count: int) -> list[str]:
    """The transcription ids of `count` items, in express batches of 10, all finished."""
    ids: list[str] = []
    for first in range(0, count, 10):
        sources = [source(f"cache-{n}") for n in range(first, min(first + 10, count))]
        created = await create_express(stub, *sources)
        await finished_batch(stub, created.batch_id)
        ids.extend(created.transcription_ids)
    return ids


async def export(
    stub: Stub, transcription_id: str, file_format: batch_pb2.ExportFormat
) -> pb.ExportTranscriptionResponse:
    """One ExportTranscription as the default tenant."""
    response: pb.ExportTranscriptionResponse = await stub.ExportTranscription(
        pb.ExportTranscriptionRequest(transcription_id=transcription_id, format=file_format),
        metadata=bearer(),
    )
    return response


async def test_thirty_transcripts_in_four_formats_cost_thirty_transcript_gets(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """30 completed transcripts, each read once and exported as SRT, text, Markdown and DOCX
    (some exports of one transcript at once, the rest one after another), cost the upstream
    30 transcript GETs in all: one per transcript, where each call used to fetch it again
    (150)."""
    ids = await completed_items(stub, 30)
    before = await upstream_count(sandbox, TRANSCRIPT_GET)
    for transcription_id in ids:
        await asyncio.gather(*(export(stub, transcription_id, f) for f in FORMATS[:2]))
        for file_format in FORMATS[2:]:
            answer = await export(stub, transcription_id, file_format)
            assert answer.info.state == batch_pb2.TRANSCRIPTION_STATE_COMPLETED
        read: pb.GetTranscriptionResponse = await stub.GetTranscription(
            pb.GetTranscriptionRequest(transcription_id=transcription_id), metadata=bearer()
        )
        assert read.transcription.info.id == transcription_id
        assert read.transcription.timestamps
    assert await upstream_count(sandbox, TRANSCRIPT_GET) - before == 30


async def test_a_kept_transcript_is_not_served_to_another_credential(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A transcript kept for its owner is not another credential's: that caller's export is
    fetched for it, and the upstream's 404 answers NOT_FOUND (TRANSCRIPTION_NOT_FOUND)."""
    [transcription_id] = await completed_items(stub, 1)
    await export(stub, transcription_id, batch_pb2.EXPORT_FORMAT_TEXT)
    before = await upstream_count(sandbox, TRANSCRIPT_GET)
    error = await rpc_error(
        stub.ExportTranscription(
            pb.ExportTranscriptionRequest(
                transcription_id=transcription_id, format=batch_pb2.EXPORT_FORMAT_SRT
            ),
            metadata=bearer(OTHER_TOKEN),
        )
    )
    assert_error(error, grpc.StatusCode.NOT_FOUND, "TRANSCRIPTION_NOT_FOUND")
    assert await upstream_count(sandbox, TRANSCRIPT_GET) - before == 1


async def test_an_unfinished_transcript_is_fetched_again(gateway_config: GatewayConfig) -> None:
    """A transcription still in progress is not kept (it will change): each export of it
    reads the upstream again, and sees its progress."""
    slow = SandboxConfig(item_seconds=600.0, manifest_validation_seconds=0.0)
    async with SandboxServer(slow, host="127.0.0.1", port=0) as sandbox:
        config = dataclasses.replace(gateway_config, upstream_url=sandbox.url)
        async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as ch:
            stub = Stub(ch)
            created = await create_express(stub, source("cache-unfinished"))
            [transcription_id] = created.transcription_ids
            before = await upstream_count(sandbox, TRANSCRIPT_GET)
            for file_format in FORMATS[:2]:
                answer = await export(stub, transcription_id, file_format)
                assert answer.info.state != batch_pb2.TRANSCRIPTION_STATE_COMPLETED
            assert await upstream_count(sandbox, TRANSCRIPT_GET) - before == 2


async def test_an_export_the_rate_budget_cannot_send_in_time_fails_at_once(
    gateway_config: GatewayConfig, sandbox: SandboxServer
) -> None:
    """Through the cache, an export still answers as every read does under --upstream-rate-limit:
    with the bucket spent (one request per 5 s), an export with a 2 s deadline fails at once
    RESOURCE_EXHAUSTED, UPSTREAM_QUOTA_EXHAUSTED (not DEADLINE_EXCEEDED after waiting), and
    nothing reaches the upstream."""
    config = dataclasses.replace(gateway_config, upstream_rate_limit=0.2, upstream_burst=1)
    async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as ch:
        stub = Stub(ch)
        request = pb.ExportTranscriptionRequest(
            transcription_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890",
            format=batch_pb2.EXPORT_FORMAT_TEXT,
        )
        spent = await rpc_error(stub.ExportTranscription(request, metadata=bearer()))
        assert_error(spent, grpc.StatusCode.NOT_FOUND, "TRANSCRIPTION_NOT_FOUND")
        before = await upstream_count(sandbox, TRANSCRIPT_GET)
        started = asyncio.get_running_loop().time()
        error = await rpc_error(stub.ExportTranscription(request, metadata=bearer(), timeout=2.0))
        took = asyncio.get_running_loop().time() - started
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "UPSTREAM_QUOTA_EXHAUSTED")
    assert took < 1.5
    assert await upstream_count(sandbox, TRANSCRIPT_GET) == before
