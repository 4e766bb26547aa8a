"""Every RPC's happy path, end to end: a real channel, the real gateway, the real sandbox."""

from __future__ import annotations

import json
import re
import uuid

import grpc
import pytest
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxServer

from tests.conftest import TOKEN, bearer
from tests.helpers.calls import (
    AUDIO,
    REQUEST_ID_KEY,
    assert_error,
    batch_status,
    create_express,
    express,
    finished_batch,
    manifest,
    metadata_value,
    rpc_error,
    source,
    validated_manifest,
)
from tests.helpers.sandbox_http import client, episode, feed_server, rss

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def test_create_express_batch(stub: Stub) -> None:
    """An express batch is created with one transcription per item and the mode it used."""
    call = stub.CreateBatch(
        express(source(1, client_item_id="a"), source(2, client_item_id="b"), batch_title="Week"),
        metadata=bearer(),
    )
    response: pb.CreateBatchResponse = await call
    assert UUID.match(response.batch_id)
    assert response.total_count == 2
    assert len(response.transcription_ids) == 2
    assert all(UUID.match(t) for t in response.transcription_ids)
    assert response.state == batch_pb2.BATCH_STATE_RECEIVED
    assert response.processing_mode == batch_pb2.PROCESSING_MODE_EXPRESS
    assert await call.code() == grpc.StatusCode.OK


async def test_create_batch_infers_express_mode(stub: Stub) -> None:
    """With processing_mode unspecified, audio_sources alone make an express batch."""
    request = pb.CreateBatchRequest(info=batch_pb2.BatchInfo(), audio_sources=[source(1)])
    response: pb.CreateBatchResponse = await stub.CreateBatch(request, metadata=bearer())
    assert response.processing_mode == batch_pb2.PROCESSING_MODE_EXPRESS
    assert response.total_count == 1


async def test_batch_settings_reach_the_transcriptions(stub: Stub) -> None:
    """Info settings, per-item speaker overrides and titles show on each TranscriptionInfo."""
    info = batch_pb2.BatchInfo(
        model="v0",
        title="Batch title",
        primary_language=batch_pb2.LANGUAGE_EN,
        hebrew_word_format=[batch_pb2.HEBREW_WORD_FORMAT_HYBRID],
        num_speakers=2,
    )
    request = express(
        source(1, title="First", client_item_id="one"),
        source(2, client_item_id="two", num_speakers=3),
        info=info,
    )
    created: pb.CreateBatchResponse = await stub.CreateBatch(request, metadata=bearer())
    status = await batch_status(stub, created.batch_id)
    first, second = status.transcriptions
    assert [first.id, second.id] == list(created.transcription_ids)
    assert (first.title, first.client_item_id, first.num_speakers) == ("First", "one", 2)
    assert (second.client_item_id, second.num_speakers) == ("two", 3)
    assert first.model == "v0"
    assert first.primary_language == batch_pb2.LANGUAGE_EN
    assert list(first.hebrew_word_format) == [batch_pb2.HEBREW_WORD_FORMAT_HYBRID]


async def test_upload_manifest_typed_items_then_standard_batch(stub: Stub) -> None:
    """Typed items become a manifest; once VALID, a standard batch runs one item per entry."""
    upload = pb.UploadManifestRequest(
        items=pb.ManifestItems(items=[source(n, client_item_id=f"m{n}") for n in range(3)]),
        metadata=batch_pb2.ManifestMetadata(title="Parsha", description="three shiurim"),
    )
    uploaded: pb.UploadManifestResponse = await stub.UploadManifest(upload, metadata=bearer())
    assert UUID.match(uploaded.manifest.id)
    assert uploaded.manifest.item_count == 3
    assert uploaded.manifest.size_bytes > 0
    assert uploaded.manifest.status in (
        batch_pb2.MANIFEST_STATUS_PENDING_VALIDATION,
        batch_pb2.MANIFEST_STATUS_VALID,
    )
    valid = await validated_manifest(stub, uploaded.manifest.id)
    assert valid.status == batch_pb2.MANIFEST_STATUS_VALID
    assert (valid.title, valid.description) == ("Parsha", "three shiurim")
    assert list(valid.validation_errors) == []

    request = pb.CreateBatchRequest(
        info=batch_pb2.BatchInfo(),
        processing_mode=batch_pb2.PROCESSING_MODE_STANDARD,
        batch_file_id=uploaded.manifest.id,
    )
    created: pb.CreateBatchResponse = await stub.CreateBatch(request, metadata=bearer())
    assert created.processing_mode == batch_pb2.PROCESSING_MODE_STANDARD
    assert created.total_count == 3
    status = await batch_status(stub, created.batch_id)
    assert [t.client_item_id for t in status.transcriptions] == ["m0", "m1", "m2"]


async def test_upload_manifest_jsonl_then_inferred_standard_batch(stub: Stub) -> None:
    """A JSONL manifest works like typed items; batch_file_id alone infers standard mode."""
    lines = [
        json.dumps({"audio_url": AUDIO.format("j1"), "client_item_id": "j1", "num_speakers": 2}),
        "",
        json.dumps({"audio_url": AUDIO.format("j2"), "title": "Second"}),
    ]
    upload = pb.UploadManifestRequest(jsonl="\n".join(lines))
    uploaded: pb.UploadManifestResponse = await stub.UploadManifest(upload, metadata=bearer())
    assert uploaded.manifest.item_count == 2
    assert uploaded.manifest.size_bytes == len("\n".join(lines).encode())
    valid = await validated_manifest(stub, uploaded.manifest.id)
    assert valid.status == batch_pb2.MANIFEST_STATUS_VALID

    request = pb.CreateBatchRequest(info=batch_pb2.BatchInfo(), batch_file_id=valid.id)
    created: pb.CreateBatchResponse = await stub.CreateBatch(request, metadata=bearer())
    assert created.processing_mode == batch_pb2.PROCESSING_MODE_STANDARD
    status = await batch_status(stub, created.batch_id)
    assert [(t.client_item_id, t.title) for t in status.transcriptions][1] == ("", "Second")
    assert status.transcriptions[0].num_speakers == 2


async def test_invalid_manifest_shows_its_validation_errors(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A manifest the upstream found INVALID (uploaded around the gateway) shows why in
    GetManifest, and a standard batch from it fails INVALID_ARGUMENT (a real upstream 400)."""
    items = [{"audio_url": AUDIO.format(1)}, {"audio_url": "ftp://example.com/a.mp3"}]
    async with client(sandbox) as http:
        answer = await http.post(
            "/v1/transcriptions/batch-files",
            json={"content_type": "json", "json_items": items},
        )
    assert answer.status_code == 200, answer.text
    invalid = await validated_manifest(stub, answer.json()["batch_file_id"])
    assert invalid.status == batch_pb2.MANIFEST_STATUS_INVALID
    assert len(invalid.validation_errors) == 1
    assert "json_items[1]" in invalid.validation_errors[0]

    request = pb.CreateBatchRequest(info=batch_pb2.BatchInfo(), batch_file_id=invalid.id)
    error = await rpc_error(stub.CreateBatch(request, metadata=bearer()))
    info = assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_REJECTED_REQUEST")
    assert info.metadata["upstream_status"] == "400"
    assert info.metadata["batch_file_id"] == invalid.id


async def test_create_manifest_from_rss_pages_through_a_feed(stub: Stub) -> None:
    """A podcast feed becomes a manifest a page at a time, titled from the feed."""
    feed = rss([episode(n) for n in range(1, 6)], title="Daf Yomi")
    async with feed_server({"/feed.xml": (200, feed)}) as base:
        first: pb.CreateManifestFromRssResponse = await stub.CreateManifestFromRss(
            pb.CreateManifestFromRssRequest(rss_url=f"{base}/feed.xml", limit=3),
            metadata=bearer(),
        )
        second: pb.CreateManifestFromRssResponse = await stub.CreateManifestFromRss(
            pb.CreateManifestFromRssRequest(
                rss_url=f"{base}/feed.xml", limit=3, offset=first.next_offset
            ),
            metadata=bearer(),
        )
    assert (first.offset, first.limit, first.has_more) == (0, 3, True)
    assert first.HasField("next_offset")
    assert first.next_offset == 3
    assert first.manifest.item_count == 3
    assert (second.offset, second.has_more, second.manifest.item_count) == (3, False, 2)
    assert not second.HasField("next_offset")
    valid = await validated_manifest(stub, first.manifest.id)
    assert valid.status == batch_pb2.MANIFEST_STATUS_VALID
    assert valid.title == "Daf Yomi"


async def test_create_manifest_from_unusable_feed_is_invalid_argument(stub: Stub) -> None:
    """A feed the upstream cannot use (here: 404 at the feed's URL) is INVALID_ARGUMENT."""
    async with feed_server({}) as base:
        error = await rpc_error(
            stub.CreateManifestFromRss(
                pb.CreateManifestFromRssRequest(rss_url=f"{base}/missing.xml"), metadata=bearer()
            )
        )
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_REJECTED_REQUEST")


async def test_get_manifest(stub: Stub) -> None:
    """GetManifest returns what UploadManifest created, with its checksum."""
    uploaded: pb.UploadManifestResponse = await stub.UploadManifest(
        pb.UploadManifestRequest(items=pb.ManifestItems(items=[source(1)])), metadata=bearer()
    )
    got = await manifest(stub, uploaded.manifest.id)
    assert got.id == uploaded.manifest.id
    assert got.item_count == 1
    assert re.fullmatch(r"[0-9a-f]{64}", got.checksum)
    assert got.created_at.seconds > 0


async def test_list_manifests_pages_with_tokens(stub: Stub) -> None:
    """More manifests than a page: page_size and next_page_token walk them all, newest first,
    and the last page has an empty next_page_token."""
    ids = []
    for n in range(5):
        uploaded: pb.UploadManifestResponse = await stub.UploadManifest(
            pb.UploadManifestRequest(items=pb.ManifestItems(items=[source(n)])),
            metadata=bearer(),
        )
        ids.append(uploaded.manifest.id)
    seen: list[str] = []
    pages = 0
    token = ""
    while True:
        page: pb.ListManifestsResponse = await stub.ListManifests(
            pb.ListManifestsRequest(page_size=2, page_token=token), metadata=bearer()
        )
        pages += 1
        assert len(page.manifests) <= 2
        seen.extend(m.id for m in page.manifests)
        token = page.next_page_token
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert seen == list(reversed(ids))


async def test_list_manifests_default_page(stub: Stub) -> None:
    """page_size 0 means the server's default; a tenant's list holds only its own manifests."""
    await stub.UploadManifest(
        pb.UploadManifestRequest(items=pb.ManifestItems(items=[source(1)])), metadata=bearer()
    )
    mine: pb.ListManifestsResponse = await stub.ListManifests(
        pb.ListManifestsRequest(), metadata=bearer()
    )
    theirs: pb.ListManifestsResponse = await stub.ListManifests(
        pb.ListManifestsRequest(), metadata=bearer("someone-else")
    )
    assert len(mine.manifests) == 1
    assert mine.next_page_token == ""
    assert list(theirs.manifests) == []


async def test_batch_status_counts_add_up_and_reach_completed(stub: Stub) -> None:
    """Every status read has counts that add up to the total, and the batch ends COMPLETED."""
    created = await create_express(stub, source(1), source(2), source(3))
    first = await batch_status(stub, created.batch_id)
    assert first.batch_id == created.batch_id
    assert first.total_count == 3
    assert first.observed_at.seconds > 0
    assert list(first.changed_transcription_ids) == []
    final = await finished_batch(stub, created.batch_id)
    for status in (first, final):
        assert (
            status.completed_count + status.failed_count + status.pending_count
            == status.total_count
        )
    assert final.state == batch_pb2.BATCH_STATE_COMPLETED
    assert (final.completed_count, final.failed_count, final.pending_count) == (3, 0, 0)
    assert all(t.state == batch_pb2.TRANSCRIPTION_STATE_COMPLETED for t in final.transcriptions)
    assert all(t.HasField("duration") for t in final.transcriptions)


async def test_item_with_fail_in_its_url_ends_failed(stub: Stub) -> None:
    """An item whose audio URL contains "fail" ends FAILED; the others still complete."""
    created = await create_express(stub, source(1), source("fail-1"))
    final = await finished_batch(stub, created.batch_id)
    assert final.state == batch_pb2.BATCH_STATE_COMPLETED
    assert (final.completed_count, final.failed_count) == (1, 1)
    states = [t.state for t in final.transcriptions]
    assert states == [
        batch_pb2.TRANSCRIPTION_STATE_COMPLETED,
        batch_pb2.TRANSCRIPTION_STATE_FAILED,
    ]


async def test_batch_of_only_failing_items_ends_failed(stub: Stub) -> None:
    """When every item fails, the batch itself ends FAILED."""
    created = await create_express(stub, source("fail-a"), source("fail-b"))
    final = await finished_batch(stub, created.batch_id)
    assert final.state == batch_pb2.BATCH_STATE_FAILED
    assert final.failed_count == 2


async def test_get_batch_item_by_client_item_id(stub: Stub) -> None:
    """A client_item_id resolves to its transcription's canonical id within the batch."""
    created = await create_express(
        stub, source(1, client_item_id="ep-1"), source(2, client_item_id="ep-2")
    )
    response: pb.GetBatchItemResponse = await stub.GetBatchItem(
        pb.GetBatchItemRequest(batch_id=created.batch_id, client_item_id="ep-2"),
        metadata=bearer(),
    )
    assert response.transcription_info.id == created.transcription_ids[1]
    assert response.transcription_info.client_item_id == "ep-2"


async def test_get_batch_item_unknown_client_item_id_is_not_found(stub: Stub) -> None:
    """A client_item_id the batch does not have is NOT_FOUND, reason BATCH_ITEM_NOT_FOUND."""
    created = await create_express(stub, source(1, client_item_id="ep-1"))
    error = await rpc_error(
        stub.GetBatchItem(
            pb.GetBatchItemRequest(batch_id=created.batch_id, client_item_id="nope"),
            metadata=bearer(),
        )
    )
    info = assert_error(error, grpc.StatusCode.NOT_FOUND, "BATCH_ITEM_NOT_FOUND")
    assert info.metadata["batch_id"] == created.batch_id


async def test_get_transcription_text_and_word_timestamps(stub: Stub) -> None:
    """A completed transcription has text and ordered word timestamps, with speakers when
    more than one was asked for."""
    created = await create_express(stub, source(1, num_speakers=2))
    await finished_batch(stub, created.batch_id)
    response: pb.GetTranscriptionResponse = await stub.GetTranscription(
        pb.GetTranscriptionRequest(transcription_id=created.transcription_ids[0]),
        metadata=bearer(),
    )
    transcript = response.transcription
    assert transcript.text
    assert len(transcript.timestamps) >= 30
    starts = [w.start for w in transcript.timestamps]
    assert starts == sorted(starts)
    assert all(w.end >= w.start for w in transcript.timestamps)
    assert {w.speaker for w in transcript.timestamps} <= {"1", "2"}
    assert transcript.info.id == created.transcription_ids[0]
    assert transcript.info.state == batch_pb2.TRANSCRIPTION_STATE_COMPLETED


@pytest.mark.parametrize(
    ("filter_format", "kept"),
    [
        (batch_pb2.HEBREW_WORD_FORMAT_UNSPECIFIED, {"en", "he"}),
        (batch_pb2.HEBREW_WORD_FORMAT_EN, {"en"}),
        (batch_pb2.HEBREW_WORD_FORMAT_HE, {"he"}),
    ],
    ids=["no-filter", "en", "he"],
)
async def test_get_transcription_filters_hebrew_word_format(
    stub: Stub, filter_format: batch_pb2.HebrewWordFormat, kept: set[str]
) -> None:
    """filter_hebrew_word_format keeps only the asked form of Hebrew words; unset keeps both."""
    created = await create_express(stub, source("hebrew-terms"))
    await finished_batch(stub, created.batch_id)
    response: pb.GetTranscriptionResponse = await stub.GetTranscription(
        pb.GetTranscriptionRequest(
            transcription_id=created.transcription_ids[0],
            filter_hebrew_word_format=filter_format,
        ),
        metadata=bearer(),
    )
    names = {
        batch_pb2.HEBREW_WORD_FORMAT_EN: "en",
        batch_pb2.HEBREW_WORD_FORMAT_HE: "he",
    }
    forms = {names[f] for w in response.transcription.timestamps for f in w.hebrew_word_format}
    assert forms == kept


async def test_get_transcription_status(stub: Stub) -> None:
    """GetTranscriptionStatus reports the settings and, eventually, COMPLETED with a duration."""
    created = await create_express(stub, source(1, title="Shiur", client_item_id="x"))
    await finished_batch(stub, created.batch_id)
    response: pb.GetTranscriptionStatusResponse = await stub.GetTranscriptionStatus(
        pb.GetTranscriptionStatusRequest(transcription_id=created.transcription_ids[0]),
        metadata=bearer(),
    )
    info = response.transcription_info
    assert (info.id, info.title, info.client_item_id) == (
        created.transcription_ids[0],
        "Shiur",
        "x",
    )
    assert info.state == batch_pb2.TRANSCRIPTION_STATE_COMPLETED
    assert info.duration >= 120


async def test_watch_batch_status_streams_to_the_end(stub: Stub) -> None:
    """WatchBatchStatus sends the current status at once, then changes, and ends OK after the
    terminal state. (It answered UNIMPLEMENTED until the streaming issue landed; its full
    behaviour is tested in tests/watch/test_watch.py.)"""
    created = await create_express(stub, source(1), source(2))
    call = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(), timeout=20
    )
    messages: list[pb.WatchBatchStatusResponse] = [message async for message in call]
    assert await call.code() == grpc.StatusCode.OK
    first, last = messages[0].batch_status, messages[-1].batch_status
    assert first.batch_id == created.batch_id
    assert set(first.changed_transcription_ids) == set(created.transcription_ids)
    assert last.state == batch_pb2.BATCH_STATE_COMPLETED
    assert last.completed_count == 2


async def test_success_carries_the_request_id(stub: Stub) -> None:
    """A successful call returns the caller's x-request-id in its initial metadata."""
    request_id = str(uuid.uuid4())
    call = stub.ListManifests(
        pb.ListManifestsRequest(), metadata=(*bearer(TOKEN), (REQUEST_ID_KEY, request_id))
    )
    await call
    assert metadata_value(await call.initial_metadata(), REQUEST_ID_KEY) == request_id
