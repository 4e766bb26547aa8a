"""The official `soferai` SDK parses every sandbox answer it has a method for."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sofer_sandbox import SandboxConfig, SandboxServer
from soferai import AsyncSoferAI
from soferai.balance.errors import UserNotFound
from soferai.core.api_error import ApiError
from soferai.link.errors import LinkError, LinkNotFound, LinkNotSupported
from soferai.transcribe import (
    BatchAudioSource,
    BatchFileMetadata,
    BatchManifestAudioSource,
    TranscriptionRequestInfo,
)
from soferai.transcribe.errors import AuthenticationError, BatchNotFound, TranscriptionNotFound

from tests.helpers.clock import FakeTime
from tests.helpers.sandbox_http import SSL_CONTEXT, client

UNKNOWN = "d5e9c84f-c2b2-4bf4-b4b0-7ffd7a9ffc32"
SDK_KEY = "sdk-tenant"


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Items take one second on the fake clock; manifests validate at once."""
    return SandboxConfig(item_seconds=1.0, manifest_validation_seconds=0.0, clock=sandbox_clock)


@pytest.fixture
async def sdk(sandbox: SandboxServer) -> AsyncIterator[AsyncSoferAI]:
    """The SDK's async client pointed at the sandbox, on an httpx client this test closes."""
    async with httpx.AsyncClient(timeout=10.0, verify=SSL_CONTEXT) as http:
        yield AsyncSoferAI(api_key=SDK_KEY, base_url=sandbox.url, httpx_client=http)


async def test_sdk_express_batch_status_and_transcripts(
    sdk: AsyncSoferAI, sandbox_clock: FakeTime
) -> None:
    """create (express), batch status, transcription status and transcription all parse."""
    created = await sdk.batch_transcribe.create_batch_transcription(
        info=TranscriptionRequestInfo(primary_language="en", num_speakers=2),
        processing_mode="express",
        audio_sources=[
            BatchAudioSource(audio_url="https://example.com/a.mp3", title="A"),
            BatchAudioSource(audio_url="https://example.com/fail.mp3"),
        ],
        batch_title="SDK",
    )
    assert created.total_count == 2
    assert created.status == "RECEIVED"
    pending = await sdk.batch_transcribe.get_batch_status(batch_id=created.batch_id)
    assert pending.pending_count == 2
    ok_id, failed_id = created.transcription_ids
    early = await sdk.transcribe.get_transcription(transcription_id=ok_id)
    assert (early.text, early.info.status) == ("", "RECEIVED")
    sandbox_clock.advance(2.0)
    done = await sdk.batch_transcribe.get_batch_status(batch_id=created.batch_id)
    assert (done.status, done.completed_count, done.failed_count) == ("COMPLETED", 1, 1)
    assert [t.title for t in done.transcriptions] == ["A", "SDK - Item 2"]
    info = await sdk.transcribe.get_transcription_status(transcription_id=ok_id)
    assert info.status == "COMPLETED"
    assert info.num_speakers == 2
    assert isinstance(info.duration, float)
    transcript = await sdk.transcribe.get_transcription(
        transcription_id=ok_id, filter_hebrew_word_format="en"
    )
    assert transcript.timestamps
    assert transcript.info.id == ok_id
    with pytest.raises(ApiError) as failed:
        await sdk.transcribe.get_transcription(transcription_id=failed_id)
    assert failed.value.status_code == 400


async def test_sdk_manifests_and_standard_batch(sdk: AsyncSoferAI) -> None:
    """upload (JSON and JSONL), list, get batch file and a standard batch all parse."""
    uploaded = await sdk.batch_transcribe.upload_batch_file(
        content_type="json",
        json_items=[
            BatchManifestAudioSource(audio_url="https://example.com/1.mp3", title="One"),
            BatchManifestAudioSource(audio_url="https://example.com/2.mp3"),
        ],
        metadata=BatchFileMetadata(title="Series", description="Fall"),
    )
    assert (uploaded.status, uploaded.item_count) == ("VALID", 2)
    invalid = await sdk.batch_transcribe.upload_batch_file(
        content_type="jsonl", jsonl='{"audio_url": "nope"}'
    )
    assert invalid.status == "INVALID"
    assert invalid.validation_errors
    listing = await sdk.batch_transcribe.list_batch_files()
    assert [f.id for f in listing.files] == [invalid.batch_file_id, uploaded.batch_file_id]
    detail = await sdk.batch_transcribe.get_batch_file(batch_file_id=str(uploaded.batch_file_id))
    assert (detail.title, detail.description) == ("Series", "Fall")
    created = await sdk.batch_transcribe.create_batch_transcription(
        info=TranscriptionRequestInfo(),
        processing_mode="standard",
        batch_file_id=uploaded.batch_file_id,
    )
    assert created.total_count == 2


async def test_sdk_health(sdk: AsyncSoferAI) -> None:
    """The health answer parses."""
    health = await sdk.health.get_health()
    assert health.status == "ok"


async def test_sdk_maps_sandbox_errors_to_its_exceptions(sandbox: SandboxServer) -> None:
    """401 and 404 raise the SDK's own AuthenticationError, BatchNotFound, TranscriptionNotFound."""
    async with httpx.AsyncClient(timeout=10.0, verify=SSL_CONTEXT) as http:
        anonymous = AsyncSoferAI(api_key=None, base_url=sandbox.url, httpx_client=http)
        with pytest.raises(AuthenticationError):
            await anonymous.batch_transcribe.list_batch_files()
        sdk = AsyncSoferAI(api_key=SDK_KEY, base_url=sandbox.url, httpx_client=http)
        with pytest.raises(BatchNotFound):
            await sdk.batch_transcribe.get_batch_status(batch_id=UNKNOWN)
        with pytest.raises(BatchNotFound):
            await sdk.batch_transcribe.get_batch_file(batch_file_id=UNKNOWN)
        with pytest.raises(TranscriptionNotFound):
            await sdk.transcribe.get_transcription_status(transcription_id=UNKNOWN)


async def test_sdk_single_transcriptions_and_the_list(
    sdk: AsyncSoferAI, sandbox_clock: FakeTime
) -> None:
    """create (URL with a chosen id, base64 file), its status and transcript, and the list."""
    chosen = uuid.uuid4()
    by_url = await sdk.transcribe.create_transcription(
        audio_url="https://example.com/single.mp3",
        info=TranscriptionRequestInfo(id=chosen, title="One", num_speakers=2),
    )
    assert str(by_url) == str(chosen)
    by_file = await sdk.transcribe.create_transcription(
        audio_file=base64.b64encode(b"RIFF bytes").decode(),
        info=TranscriptionRequestInfo(model="v1", primary_language="en", hebrew_word_format=["he"]),
    )
    with pytest.raises(ApiError) as taken:
        await sdk.transcribe.create_transcription(
            audio_url="https://example.com/single.mp3", info=TranscriptionRequestInfo(id=chosen)
        )
    assert taken.value.status_code == 409
    pending = await sdk.transcribe.list_transcriptions()
    assert [(str(t.id), t.status) for t in pending] == [
        (str(by_file), "RECEIVED"),
        (str(chosen), "RECEIVED"),
    ]
    sandbox_clock.advance(2.0)
    info = await sdk.transcribe.get_transcription_status(transcription_id=chosen)
    assert (info.title, info.status, info.num_speakers) == ("One", "COMPLETED", 2)
    transcript = await sdk.transcribe.get_transcription(transcription_id=by_file)
    assert transcript.timestamps
    assert transcript.info.title == "Untitled"
    done = await sdk.transcribe.list_transcriptions()
    assert [t.status for t in done] == ["COMPLETED", "COMPLETED"]


async def test_sdk_balance_duration_and_insufficient_funds(
    sdk: AsyncSoferAI, sandbox: SandboxServer
) -> None:
    """duration, balance, an INSUFFICIENT_FUNDS transcription and UserNotFound all parse."""
    seconds = await sdk.utils.get_duration(audio_url="https://example.com/d.mp3")
    assert seconds.duration_seconds > 0
    by_file = await sdk.utils.get_duration(audio_file=base64.b64encode(b"x").decode())
    assert by_file.duration_seconds > 0
    before = await sdk.balance.get_balance()
    assert before.available_balance == before.total_balance == before.all_time_deposits
    await sdk.transcribe.create_transcription(
        audio_url="https://example.com/d.mp3", info=TranscriptionRequestInfo()
    )
    after = await sdk.balance.get_balance()
    assert after.pending_balance == before.available_balance - after.available_balance
    assert after.pending_balance > 0
    async with client(sandbox, token=SDK_KEY) as admin:
        await admin.post("/_sandbox/balance", json={"total_balance": 0})
        unfunded = await sdk.transcribe.create_transcription(
            audio_url="https://example.com/e.mp3", info=TranscriptionRequestInfo()
        )
        info = await sdk.transcribe.get_transcription_status(transcription_id=unfunded)
        assert info.status == "INSUFFICIENT_FUNDS"
        await admin.delete("/_sandbox/balance")
    with pytest.raises(UserNotFound):
        await sdk.balance.get_balance()


async def test_sdk_link_api(sdk: AsyncSoferAI) -> None:
    """supported sites and extraction parse; 400/404/500 raise the SDK's Link errors."""
    sites = await sdk.link.get_supported_sites()
    assert "YouTube" in [site.name for site in sites]
    link = await sdk.link.extract(url="https://youtu.be/dQw4w9WgXcQ")
    assert (link.file_name, link.file_format) == ("dQw4w9WgXcQ.m4a", "m4a")
    assert link.download_url.startswith("https://media.sandbox.invalid/")
    with pytest.raises(LinkNotSupported):
        await sdk.link.extract(url="https://vimeo.com/1")
    with pytest.raises(LinkNotFound):
        await sdk.link.extract(url="https://youtu.be/missing1")
    with pytest.raises(LinkError):
        await sdk.link.extract(url="https://youtu.be/broken1")
