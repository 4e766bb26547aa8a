"""The transcript cache on its own (gateway.watch.transcript_cache), in front of a real sandbox
through a real upstream client: one upstream GET per (tenant, transcription, filter) however
many want it at once, kept serialized in an LRU bounded by bytes, failures never kept, tenants
never sharing. StreamBatchTranscripts end to end: test_transcripts.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.access.credentials import Credential
from gateway.upstream import NotFound, Transcription, Unavailable, UpstreamClient, UpstreamConfig
from gateway.watch.transcript_cache import TranscriptCache
from tests.conftest import OTHER_TOKEN, TOKEN
from tests.helpers.calls import fault, upstream_count
from tests.helpers.clock import FakeTime
from tests.helpers.sandbox_http import client, create_express

FETCH = "GET /v1/transcriptions/{transcription_id}"
CALLER = Credential(TOKEN, "caller")


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Items that finish when the test moves the sandbox clock by two seconds."""
    return SandboxConfig(item_seconds=1.0, manifest_validation_seconds=0.0, clock=sandbox_clock)


@pytest.fixture
async def upstream(sandbox: SandboxServer) -> AsyncIterator[UpstreamClient]:
    """An upstream client of the sandbox, one attempt per call (a failure reaches the cache)."""
    async with UpstreamClient(UpstreamConfig(base_url=sandbox.url, max_attempts=1)) as made:
        yield made


async def transcripts(
    sandbox: SandboxServer, clock: FakeTime, count: int, token: str = TOKEN
) -> list[str]:
    """`count` completed transcriptions of `token`'s tenant; their ids."""
    async with client(sandbox, token) as http:
        batch = await create_express(http, *(f"https://e.com/{i}.mp3" for i in range(count)))
    clock.advance(2.0)
    ids: list[str] = batch["transcription_ids"]
    return ids


def build(answer: Transcription) -> bytes:
    """What the servicer would make of a transcript: here, its JSON."""
    return msgspec.json.encode(answer)


async def want(
    cache: TranscriptCache,
    transcription_id: str,
    word_format: str | None = None,
    credential: Credential = CALLER,
) -> bytes:
    return await cache.message(
        credential, transcription_id, word_format, build, request_id=f"r-{transcription_id}"
    )


async def test_concurrent_wants_share_one_fetch_and_later_ones_are_kept(
    sandbox: SandboxServer, sandbox_clock: FakeTime, upstream: UpstreamClient
) -> None:
    """Ten streams wanting one transcript at once cost one upstream GET and get the same
    bytes; a later want is answered from what was kept, without a GET."""
    (transcription_id,) = await transcripts(sandbox, sandbox_clock, 1)
    cache = TranscriptCache(upstream, timeout=10.0)
    answers = await asyncio.gather(*(want(cache, transcription_id) for _ in range(10)))
    assert len(set(answers)) == 1
    assert await want(cache, transcription_id) == answers[0]
    assert cache.fetches == 1
    assert await upstream_count(sandbox, FETCH) == 1
    assert (len(cache), cache.kept_bytes) == (1, len(answers[0]))


async def test_filters_and_tenants_never_share(
    sandbox: SandboxServer, sandbox_clock: FakeTime, upstream: UpstreamClient
) -> None:
    """Another word filter is another transcript (a fetch of its own); another tenant fetches
    for itself with its own credential, and gets the upstream's NOT_FOUND for a transcription
    that is not its own, which is not kept."""
    (transcription_id,) = await transcripts(sandbox, sandbox_clock, 1)
    cache = TranscriptCache(upstream, timeout=10.0)
    plain = await want(cache, transcription_id)
    hebrew = await want(cache, transcription_id, "he")
    assert plain != hebrew
    stranger = Credential(OTHER_TOKEN, "caller")
    for _ in range(2):
        with pytest.raises(NotFound):
            await want(cache, transcription_id, credential=stranger)
    assert cache.fetches == 4
    assert len(cache) == 2


async def test_kept_transcripts_are_bounded_by_bytes_oldest_first(
    sandbox: SandboxServer, sandbox_clock: FakeTime, upstream: UpstreamClient
) -> None:
    """The cache keeps at most `max_bytes` of transcripts: past it the least recently wanted go
    first (and are fetched again when wanted again); one larger than the whole cache is served
    and not kept."""
    first, second, third = await transcripts(sandbox, sandbox_clock, 3)
    probe = TranscriptCache(upstream, timeout=10.0)
    sizes = [len(await want(probe, tid)) for tid in (first, second, third)]
    cache = TranscriptCache(upstream, timeout=10.0, max_bytes=sizes[0] + sizes[1] + 1)
    await want(cache, first)
    await want(cache, second)
    await want(cache, first)  # first is now the most recently wanted
    await want(cache, third)  # second goes
    fetches = cache.fetches
    await want(cache, first)
    assert cache.fetches == fetches
    await want(cache, second)
    assert cache.fetches == fetches + 1
    assert cache.kept_bytes <= cache.max_bytes
    tiny = TranscriptCache(upstream, timeout=10.0, max_bytes=min(sizes) - 1)
    served = await want(tiny, first)
    assert len(served) == sizes[0]
    assert (len(tiny), tiny.kept_bytes) == (0, 0)


async def test_a_failed_fetch_is_not_kept(
    sandbox: SandboxServer, sandbox_clock: FakeTime, upstream: UpstreamClient
) -> None:
    """A fetch that fails (the upstream answers 503) raises to every want that shared it and
    leaves nothing behind: the next want fetches again, and keeps that."""
    (transcription_id,) = await transcripts(sandbox, sandbox_clock, 1)
    cache = TranscriptCache(upstream, timeout=10.0)
    await fault(sandbox, status=503, count=1, method="GET", path_prefix="/v1/transcriptions/")
    failed = await asyncio.gather(
        *(want(cache, transcription_id) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(outcome, Unavailable) for outcome in failed)
    assert len(cache) == 0
    assert await want(cache, transcription_id)
    assert (cache.fetches, len(cache)) == (2, 1)


async def test_the_cache_reports_its_fetches_and_bytes(
    sandbox: SandboxServer, sandbox_clock: FakeTime, upstream: UpstreamClient
) -> None:
    """Its readings: the upstream fetches (a counter) and the bytes kept now."""
    (transcription_id,) = await transcripts(sandbox, sandbox_clock, 1)
    cache = TranscriptCache(upstream, timeout=10.0)
    kept = await want(cache, transcription_id)
    readings = {reading.name: reading for reading in cache.readings()}
    assert readings["transcript_fetches"].value == 1
    assert readings["transcript_fetches"].counter
    assert readings["transcript_cache_bytes"].value == len(kept)
