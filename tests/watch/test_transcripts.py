"""StreamBatchTranscripts end to end against the sandbox: each item's result as it finishes,
one upstream fetch per transcript however many streams want it, nothing fetched or sent again
for ids the caller already has, failed items as their info, tenants kept apart."""

from __future__ import annotations

import asyncio
import dataclasses

import grpc
import pytest
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import OTHER_TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    field_violations,
    rpc_error,
    source,
    stats,
    upstream_total,
)
from tests.helpers.metrics import scrape

Stub = pb_grpc.BatchTranscriptionServiceStub
FETCH = "GET /v1/transcriptions/{transcription_id}"
POLL = "GET /v1/transcriptions/batch/{batch_id}/status"
COMPLETED = batch_pb2.TRANSCRIPTION_STATE_COMPLETED
FAILED = batch_pb2.TRANSCRIPTION_STATE_FAILED


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items finish one after another, 0.4 s apart."""
    return SandboxConfig(item_seconds=0.4, manifest_validation_seconds=0.0)


async def create(stub: Stub, *urls: str) -> str:
    request = pb.CreateBatchRequest(
        audio_sources=[batch_pb2.AudioSource(audio_url=u) for u in urls]
        or [source(n) for n in range(3)],
        info=batch_pb2.BatchInfo(),
    )
    answer = await stub.CreateBatch(request, metadata=bearer(), timeout=10)
    return str(answer.batch_id)


async def results(
    stub: Stub, batch_id: str, *, skip: tuple[str, ...] = (), token: str | None = None
) -> list[pb.StreamBatchTranscriptsResponse]:
    request = pb.StreamBatchTranscriptsRequest(batch_id=batch_id, skip_transcription_ids=skip)
    metadata = bearer() if token is None else bearer(token)
    call = stub.StreamBatchTranscripts(request, metadata=metadata, timeout=30)
    return [message async for message in call]


async def requests_of(sandbox: SandboxServer, what: str) -> int:
    counts: dict[str, int] = (await stats(sandbox))["requests"]
    return counts.get(what, 0)


async def test_fifty_subscribers_cost_one_fetch_per_transcript(
    sandbox: SandboxServer, gateway: Gateway, stub: Stub
) -> None:
    """50 streams of one batch of 3, and 5 status watches of it: each stream gets the 3
    transcripts (text and words) as the items finish and ends OK; the upstream served each
    transcript once, and one status poller served streams and watches together."""
    batch_id = await create(stub)
    hub = gateway.hub
    assert hub is not None
    pollers: list[int] = []

    async def sample() -> None:
        while True:
            pollers.append(hub.active_pollers)
            await asyncio.sleep(0.02)

    sampler = asyncio.ensure_future(sample())
    watches = [
        stub.WatchBatchStatus(
            pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=30
        )
        for _ in range(5)
    ]
    try:
        streams = await asyncio.gather(*(results(stub, batch_id) for _ in range(50)))
        for watch in watches:
            assert [m async for m in watch]
    finally:
        sampler.cancel()
    assert max(pollers) == 1
    for messages in streams:
        assert len(messages) == 3
        assert {m.info.state for m in messages} == {COMPLETED}
        for message in messages:
            assert message.HasField("transcription")
            assert message.transcription.text
            assert message.transcription.timestamps
            assert message.transcription.info.id == message.info.id
        assert [m.finished_count for m in messages] == sorted(m.finished_count for m in messages)
        assert messages[-1].finished_count == messages[-1].total_count == 3
        assert len({m.info.id for m in messages}) == 3
    assert await requests_of(sandbox, FETCH) == 3


async def test_a_reconnect_with_skip_ids_fetches_and_sends_nothing_again(
    sandbox: SandboxServer, stub: Stub
) -> None:
    """A stream that got two of three items reconnects naming them: it gets only the third;
    naming all three, it gets nothing and ends OK; no transcript is fetched again."""
    batch_id = await create(stub)
    first = await results(stub, batch_id)
    ids = [m.info.id for m in first]
    fetched = await requests_of(sandbox, FETCH)
    rest = await results(stub, batch_id, skip=tuple(ids[:2]))
    assert [m.info.id for m in rest] == ids[2:]
    assert await results(stub, batch_id, skip=tuple(ids)) == []
    assert await requests_of(sandbox, FETCH) == fetched


async def test_a_failed_item_arrives_as_its_info(sandbox: SandboxServer, stub: Stub) -> None:
    """An item the upstream fails comes as its info with state FAILED and no transcript, and
    is never fetched; the completed one comes with its transcript."""
    batch_id = await create(
        stub, "https://cdn.example.com/ok.mp3", "https://cdn.example.com/will-fail.mp3"
    )
    messages = await results(stub, batch_id)
    by_state = {m.info.state: m for m in messages}
    assert set(by_state) == {COMPLETED, FAILED}
    assert not by_state[FAILED].HasField("transcription")
    assert by_state[COMPLETED].HasField("transcription")
    assert await requests_of(sandbox, FETCH) == 1


async def test_items_already_finished_come_at_once(sandbox: SandboxServer, stub: Stub) -> None:
    """A stream opened after the batch completed gets every item at once and ends OK, from
    the cache: no transcript fetched twice."""
    batch_id = await create(stub)
    await results(stub, batch_id)
    fetched = await requests_of(sandbox, FETCH)
    late = await results(stub, batch_id)
    assert len(late) == 3
    assert await requests_of(sandbox, FETCH) == fetched


async def test_a_foreign_credential_gets_not_found(sandbox: SandboxServer, stub: Stub) -> None:
    """Another tenant's stream of the batch ends NOT_FOUND (BATCH_NOT_FOUND), and fetches no
    transcript."""
    batch_id = await create(stub)
    error = await rpc_error(results(stub, batch_id, token=OTHER_TOKEN))
    assert_error(error, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")
    assert await requests_of(sandbox, FETCH) == 0


async def test_bad_requests_name_the_field_before_any_upstream_call(
    sandbox: SandboxServer, stub: Stub
) -> None:
    """A batch id or a skipped id that is not a UUID, or too many skipped ids, fail
    INVALID_ARGUMENT naming the field, and nothing reaches the upstream."""
    batch = "3f1c2a9e-0000-4000-8000-000000000000"
    cases = {
        "batch_id": pb.StreamBatchTranscriptsRequest(batch_id="nope"),
        "skip_transcription_ids[1]": pb.StreamBatchTranscriptsRequest(
            batch_id=batch, skip_transcription_ids=[batch, "x"]
        ),
        "skip_transcription_ids": pb.StreamBatchTranscriptsRequest(
            batch_id=batch, skip_transcription_ids=[batch] * 501
        ),
    }
    before = await upstream_total(sandbox)
    for field, request in cases.items():

        async def drain(request: pb.StreamBatchTranscriptsRequest = request) -> None:
            async for _ in stub.StreamBatchTranscripts(request, metadata=bearer(), timeout=10):
                pass

        error = await rpc_error(drain())
        assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
        assert field in field_violations(error), (field, field_violations(error))
    assert await upstream_total(sandbox) == before


async def test_fetches_and_the_cache_show_in_the_metrics(
    gateway_config: GatewayConfig, sandbox: SandboxServer
) -> None:
    """Three streams of a batch of three: sofer_gateway_transcript_fetches_total says 3 (one
    per transcript) and sofer_gateway_transcript_cache_bytes what is kept."""
    config = dataclasses.replace(gateway_config, metrics_listen="127.0.0.1:0")
    async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as channel:
        stub = Stub(channel)
        batch_id = await create(stub)
        await asyncio.gather(*(results(stub, batch_id) for _ in range(3)))
        seen = await scrape(gateway.metrics_port)
    assert seen.value("sofer_gateway_transcript_fetches_total") == 3
    assert seen.value("sofer_gateway_transcript_cache_bytes") > 0
