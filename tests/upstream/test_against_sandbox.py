"""The upstream client against the real sandbox HTTP server, with its fault injection."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.upstream import (
    BatchAudioSource,
    BatchFileCreateFromRssRequest,
    BatchFileCreateFromRssResponse,
    BatchFileDetail,
    BatchFileMetadata,
    BatchFileStatus,
    BatchFileUploadRequest,
    BatchFileUploadResponse,
    BatchStatus,
    BatchStatusResponse,
    BatchTranscriptionRequest,
    BatchTranscriptionRequestInfo,
    BatchTranscriptionResponse,
    CallOptions,
    DeadlineExceeded,
    HealthResponse,
    InvalidArgument,
    LettersLanguage,
    ListBatchFilesResponse,
    NotFound,
    ProcessingMode,
    ProtocolError,
    RateLimited,
    Transcription,
    TranscriptionInfo,
    TranscriptionStatus,
    Unauthenticated,
    Unavailable,
    UpstreamClient,
    UpstreamConfig,
)

TENANT_A = "tenant-a-key"
TENANT_B = "tenant-b-key"
STATUS_PATH = "/v1/transcriptions/batch/{batch_id}/status"
STATUS = f"GET {STATUS_PATH}"
CREATE = "POST /v1/transcriptions/batch"


class ManualClock:
    """The sandbox's clock, stepped by hand: items finish when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox_clock() -> ManualClock:
    """The clock the sandbox runs on."""
    return ManualClock()


@pytest.fixture
def sandbox_config(sandbox_clock: ManualClock) -> SandboxConfig:
    """Items take 10 s of the manual clock; manifests are validated at once."""
    return SandboxConfig(item_seconds=10.0, manifest_validation_seconds=0.0, clock=sandbox_clock)


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[UpstreamClient]:
    """A client of the sandbox with short backoffs, so retries cost milliseconds."""
    config = UpstreamConfig(
        base_url=sandbox.url, default_timeout=10.0, backoff_base=0.01, backoff_cap=0.05
    )
    async with UpstreamClient(config) as upstream:
        yield upstream


@pytest.fixture
async def admin(sandbox: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for the sandbox's admin API."""
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10.0) as http:
        yield http


async def add_fault(admin: httpx.AsyncClient, **rule: Any) -> None:
    """Queue a fault rule in the sandbox."""
    response = await admin.post("/_sandbox/faults", json=rule)
    assert response.status_code == 200, response.text


async def counts(admin: httpx.AsyncClient) -> dict[str, int]:
    """Requests the sandbox received, by "METHOD /path/template"."""
    response = await admin.get("/_sandbox/stats")
    requests: dict[str, int] = response.json()["requests"]
    return requests


def express(*urls: str) -> BatchTranscriptionRequest:
    """An express batch of the given audio URLs, each with a client_item_id."""
    return BatchTranscriptionRequest(
        info=BatchTranscriptionRequestInfo(primary_language="en", num_speakers=1),
        audio_sources=tuple(
            BatchAudioSource(audio_url=url, client_item_id=f"item-{i}")
            for i, url in enumerate(urls)
        ),
        batch_title="Shiurim",
        processing_mode=ProcessingMode.EXPRESS,
    )


async def new_batch(client: UpstreamClient, token: str = TENANT_A) -> str:
    """Create a one-item express batch; its id."""
    created = await client.create_batch(
        express("https://audio.test/one.mp3"), opts=CallOptions(token)
    )
    return created.batch_id


async def test_express_batch_lifecycle(client: UpstreamClient, sandbox_clock: ManualClock) -> None:
    """Creating, polling, resolving and reading an express batch return the parsed types."""
    created = await client.create_batch(
        express("https://audio.test/a.mp3", "https://audio.test/b.mp3"), opts=CallOptions(TENANT_A)
    )
    assert isinstance(created, BatchTranscriptionResponse)
    assert created.total_count == 2
    assert created.status is BatchStatus.RECEIVED
    uuid.UUID(created.batch_id)

    status = await client.get_batch_status(created.batch_id, opts=CallOptions(TENANT_A))
    assert isinstance(status, BatchStatusResponse)
    assert [t.client_item_id for t in status.transcriptions] == ["item-0", "item-1"]

    sandbox_clock.now += 100.0
    done = await client.get_batch_status(created.batch_id, opts=CallOptions(TENANT_A))
    assert done.status is BatchStatus.COMPLETED
    assert done.completed_count == 2

    item = await client.get_batch_item_by_client_item_id(
        created.batch_id, "item-1", opts=CallOptions(TENANT_A)
    )
    assert isinstance(item, TranscriptionInfo)
    assert item.id == created.transcription_ids[1]

    info = await client.get_transcription_status(item.id, opts=CallOptions(TENANT_A))
    assert info.status is TranscriptionStatus.COMPLETED
    assert isinstance(info.duration, float)

    transcript = await client.get_transcription(
        item.id, filter_hebrew_word_format=LettersLanguage.EN, opts=CallOptions(TENANT_A)
    )
    assert isinstance(transcript, Transcription)
    assert transcript.text
    assert transcript.timestamps


async def test_manifest_lifecycle(client: UpstreamClient) -> None:
    """Uploading, reading, listing page by page and starting a standard batch from manifests."""
    opts = CallOptions(TENANT_A)
    ids = []
    for n in range(3):
        upload = BatchFileUploadRequest(
            content_type="json",
            json_items=(BatchAudioSource(audio_url=f"https://audio.test/{n}.mp3"),),
            metadata=BatchFileMetadata(title=f"manifest {n}"),
        )
        uploaded = await client.upload_batch_file(upload, opts=opts)
        assert isinstance(uploaded, BatchFileUploadResponse)
        ids.append(uploaded.batch_file_id)

    detail = await client.get_batch_file(ids[0], opts=opts)
    assert isinstance(detail, BatchFileDetail)
    assert detail.status is BatchFileStatus.VALID
    assert detail.title == "manifest 0"

    seen: list[str] = []
    cursor = None
    while True:
        page = await client.list_batch_files(cursor=cursor, limit=2, opts=opts)
        assert isinstance(page, ListBatchFilesResponse)
        seen += [f.id for f in page.files]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)

    standard = BatchTranscriptionRequest(
        info=BatchTranscriptionRequestInfo(), batch_file_id=ids[0], processing_mode="standard"
    )
    created = await client.create_batch(standard, opts=opts)
    assert created.total_count == 1


FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Parsha Podcast</title>
<item><title>Bereishis</title><guid>ep-1</guid>
<enclosure url="https://audio.test/ep1.mp3" type="audio/mpeg"/></item>
<item><title>Noach</title><guid>ep-2</guid>
<enclosure url="https://audio.test/ep2.mp3" type="audio/mpeg"/></item>
</channel></rss>"""


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    """An RSS feed served on loopback (port 0), one HTTP/1.1 answer per connection."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
            f"Content-Length: {len(FEED)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + FEED)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/feed.xml"


async def test_manifest_from_rss(client: UpstreamClient, feed_url: str) -> None:
    """Importing a feed one episode at a time returns the paging fields, parsed."""
    request = BatchFileCreateFromRssRequest(rss_url=feed_url, limit=1)
    first = await client.create_batch_file_from_rss(request, opts=CallOptions(TENANT_A))
    assert isinstance(first, BatchFileCreateFromRssResponse)
    assert (first.item_count, first.has_more, first.next_offset) == (1, True, 1)
    request = BatchFileCreateFromRssRequest(rss_url=feed_url, limit=1, offset=1)
    second = await client.create_batch_file_from_rss(request, opts=CallOptions(TENANT_A))
    assert (second.has_more, second.next_offset) == (False, None)


async def test_health(client: UpstreamClient) -> None:
    """The health endpoint answers without a credential."""
    assert await client.get_health(opts=CallOptions("")) == HealthResponse(status="ok")


async def test_another_tenants_batch_is_not_found(client: UpstreamClient) -> None:
    """Tenant B cannot see tenant A's batch, its items or its transcriptions: 404."""
    created = await client.create_batch(
        express("https://audio.test/a.mp3"), opts=CallOptions(TENANT_A)
    )
    other = CallOptions(TENANT_B)
    with pytest.raises(NotFound) as info:
        await client.get_batch_status(created.batch_id, opts=other)
    assert info.value.status == 404
    assert info.value.path == STATUS_PATH
    assert TENANT_B not in str(info.value)
    with pytest.raises(NotFound):
        await client.get_batch_item_by_client_item_id(created.batch_id, "item-0", opts=other)
    with pytest.raises(NotFound):
        await client.get_transcription(created.transcription_ids[0], opts=other)
    assert other.attempts == 1


async def test_missing_credential_is_unauthenticated(client: UpstreamClient) -> None:
    """A call without a token is answered 401: Unauthenticated, not retried."""
    call = CallOptions("")
    with pytest.raises(Unauthenticated):
        await client.get_batch_status(str(uuid.uuid4()), opts=call)
    assert call.attempts == 1


async def test_rule_violation_is_invalid_argument(client: UpstreamClient) -> None:
    """Both speaker settings on one item: the upstream's 400 message reaches the caller."""
    request = BatchTranscriptionRequest(
        info=BatchTranscriptionRequestInfo(),
        audio_sources=(
            BatchAudioSource(
                audio_url="https://a.test/1.mp3", num_speakers=2, auto_detect_speakers=True
            ),
        ),
        processing_mode="express",
    )
    with pytest.raises(InvalidArgument) as info:
        await client.create_batch(request, opts=CallOptions(TENANT_A))
    assert info.value.status in (400, 422)
    assert "speaker" in info.value.message


@pytest.mark.parametrize("fmt", ["seconds", "date", "ms"])
async def test_429_with_retry_after_then_success(
    client: UpstreamClient, admin: httpx.AsyncClient, fmt: str
) -> None:
    """A 429 with Retry-After (seconds, HTTP-date or ms) is waited out, then retried once."""
    batch_id = await new_batch(client)
    await add_fault(
        admin,
        status=429,
        count=1,
        retry_after=0.5,
        retry_after_format=fmt,
        path_prefix="/v1/transcriptions/batch/",
        method="GET",
    )
    call = CallOptions(TENANT_A)
    status = await client.get_batch_status(batch_id, opts=call)
    assert status.batch_id == batch_id
    assert call.attempts == 2
    assert (await counts(admin))[STATUS] == 2


async def test_long_retry_after_is_rate_limited_at_once(
    client: UpstreamClient, admin: httpx.AsyncClient
) -> None:
    """A Retry-After longer than the deadline allows: RateLimited with it, after one request."""
    batch_id = await new_batch(client)
    await add_fault(admin, status=429, count=1, retry_after=60, method="GET")
    call = CallOptions(TENANT_A, deadline=client.deadline_in(5.0))
    with pytest.raises(RateLimited) as info:
        await client.get_batch_status(batch_id, opts=call)
    assert info.value.retry_after == 60.0
    assert (await counts(admin))[STATUS] == 1


async def test_run_of_503_then_success(client: UpstreamClient, admin: httpx.AsyncClient) -> None:
    """Three 503s in a row are retried; the fourth attempt succeeds."""
    batch_id = await new_batch(client)
    await add_fault(admin, status=503, count=3, method="GET")
    call = CallOptions(TENANT_A)
    await client.get_batch_status(batch_id, opts=call)
    assert call.attempts == 4
    assert (await counts(admin))[STATUS] == 4


async def test_slow_answer_against_short_deadline(
    client: UpstreamClient, admin: httpx.AsyncClient
) -> None:
    """An answer slower than the deadline fails DeadlineExceeded about when the deadline ends."""
    batch_id = await new_batch(client)
    await add_fault(admin, delay=2.0, count=1, method="GET")
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        await client.get_batch_status(
            batch_id, opts=CallOptions(TENANT_A, deadline=client.deadline_in(0.2))
        )
    assert time.monotonic() - started < 0.2 + 1.3  # at the deadline (generous), not the delay


async def test_slow_attempt_retried_within_deadline(
    sandbox: SandboxServer, client: UpstreamClient, admin: httpx.AsyncClient
) -> None:
    """With attempt_timeout, a hung read is abandoned and a GET retried before the deadline."""
    batch_id = await new_batch(client)
    await add_fault(admin, delay=1.0, count=1, method="GET")
    config = UpstreamConfig(base_url=sandbox.url, attempt_timeout=0.2, backoff_base=0.01)
    async with UpstreamClient(config) as impatient:
        call = CallOptions(TENANT_A, deadline=impatient.deadline_in(5.0))
        status = await impatient.get_batch_status(batch_id, opts=call)
    assert status.batch_id == batch_id
    assert call.attempts == 2


async def test_post_answered_500_is_sent_once(
    client: UpstreamClient, admin: httpx.AsyncClient
) -> None:
    """A create answered 500 is not retried: one upstream POST, Unavailable, outcome unknown."""
    await add_fault(admin, status=500, count=1, method="POST", path_prefix="/v1/transcriptions/")
    call = CallOptions(TENANT_A)
    with pytest.raises(Unavailable) as info:
        await client.create_batch(express("https://audio.test/a.mp3"), opts=call)
    assert info.value.outcome_unknown
    assert info.value.status == 500
    assert call.attempts == 1
    assert (await counts(admin))[CREATE] == 1


async def test_slow_post_is_not_resent(client: UpstreamClient, admin: httpx.AsyncClient) -> None:
    """A create that times out is not resent: the upstream may (and here does) act on it."""
    await add_fault(admin, delay=0.5, count=1, method="POST")
    with pytest.raises(DeadlineExceeded) as info:
        await client.create_batch(
            express("https://audio.test/a.mp3"),
            opts=CallOptions(TENANT_A, deadline=client.deadline_in(0.2)),
        )
    assert info.value.outcome_unknown
    assert (await counts(admin))[CREATE] == 1


async def test_dropped_connection(client: UpstreamClient, admin: httpx.AsyncClient) -> None:
    """A dropped GET is sent again: once at once by the transport (RFC 9112's retry of an
    idempotent request whose connection closed before any answer), then by the policy; a
    dropped POST is never sent again, and its outcome is unknown."""
    batch_id = await new_batch(client)
    await add_fault(admin, drop=True, count=2, method="GET")
    call = CallOptions(TENANT_A)
    await client.get_batch_status(batch_id, opts=call)
    assert call.attempts == 2
    assert (await counts(admin))[STATUS] == 3

    await add_fault(admin, drop=True, count=1, method="POST")
    with pytest.raises(Unavailable) as info:
        await client.create_batch(express("https://audio.test/a.mp3"), opts=CallOptions(TENANT_A))
    assert info.value.outcome_unknown
    assert (await counts(admin))[CREATE] == 2  # new_batch's, then the dropped one


async def test_malformed_body_is_protocol_error(
    client: UpstreamClient, admin: httpx.AsyncClient
) -> None:
    """A 200 that is not the schema is a ProtocolError after one request."""
    batch_id = await new_batch(client)
    await add_fault(admin, status=200, body='{"batch_id": 7}', count=1, method="GET")
    with pytest.raises(ProtocolError, match=r"BatchStatusResponse\.batch_id"):
        await client.get_batch_status(batch_id, opts=CallOptions(TENANT_A))
    assert (await counts(admin))[STATUS] == 1


async def test_exhausted_budget_allows_one_attempt(
    client: UpstreamClient, admin: httpx.AsyncClient
) -> None:
    """After a burst of failures, a further call makes one attempt, not five."""
    batch_id = await new_batch(client)
    await add_fault(admin, status=503, count=100, method="GET")
    with pytest.raises(Unavailable):
        await client.get_batch_status(batch_id, opts=CallOptions(TENANT_A))
    assert (await counts(admin))[STATUS] == 5

    call = CallOptions(TENANT_A)
    with pytest.raises(Unavailable) as info:
        await client.get_batch_status(batch_id, opts=call)
    assert call.attempts == 1
    assert info.value.retries_throttled
    assert (await counts(admin))[STATUS] == 6
