"""ExtractLink, ListSupportedSites and CreateBatch items that name a page, end to end against
the sandbox's fake sites (docs/sandbox.md, "Fake sites")."""

from __future__ import annotations

import uuid

import grpc
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxServer

from tests.conftest import bearer
from tests.helpers.calls import (
    assert_error,
    batch_status,
    express,
    fault,
    field_violations,
    metadata_value,
    rpc_error,
    source,
    stats,
    upstream_count,
)

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
EXTRACT = "POST /v1/link/extract"
CREATE = "POST /v1/transcriptions/batch"
MEDIA = "https://media.sandbox.invalid"


def page(url: str, **fields: object) -> batch_pb2.AudioSource:
    """An item that names a page instead of its audio."""
    return batch_pb2.AudioSource(page_url=url, **fields)  # type: ignore[arg-type]


async def test_extract_link_resolves_a_page_to_its_audio(stub: Stub) -> None:
    """A YouTube page link comes back as its audio URL, with the upstream's title, format and
    file name."""
    answer = await stub.ExtractLink(
        pb.ExtractLinkRequest(url="https://www.youtube.com/watch?v=abc123"), metadata=bearer()
    )
    assert answer == pb.ExtractLinkResponse(
        audio_url=f"{MEDIA}/youtube/abc123.m4a",
        title="YouTube video abc123",
        file_format="m4a",
        file_name="abc123.m4a",
    )


async def test_supported_sites_are_listed(stub: Stub) -> None:
    """ListSupportedSites names the upstream's sites in its order."""
    answer = await stub.ListSupportedSites(pb.ListSupportedSitesRequest(), metadata=bearer())
    assert [(s.name, s.url) for s in answer.sites] == [
        ("YouTube", "https://www.youtube.com"),
        ("Google Drive", "https://drive.google.com"),
        ("YUTorah", "https://www.yutorah.org"),
    ]


async def test_link_failures_have_their_own_codes_and_reasons(stub: Stub) -> None:
    """A link of no supported site is INVALID_ARGUMENT (LINK_NOT_SUPPORTED, a violation on
    `url`), a missing page NOT_FOUND (LINK_NOT_FOUND), a page whose audio cannot be extracted
    FAILED_PRECONDITION (LINK_EXTRACTION_FAILED); a URL that is no URL never reaches the
    upstream (REQUEST_INVALID)."""
    unsupported = await rpc_error(
        stub.ExtractLink(pb.ExtractLinkRequest(url="https://example.com/x"), metadata=bearer())
    )
    info = assert_error(unsupported, grpc.StatusCode.INVALID_ARGUMENT, "LINK_NOT_SUPPORTED")
    assert info.metadata["upstream_status"] == "400"
    assert field_violations(unsupported) == {"url": "LINK_NOT_SUPPORTED"}
    missing = await rpc_error(
        stub.ExtractLink(pb.ExtractLinkRequest(url="https://youtu.be/missing1"), metadata=bearer())
    )
    assert_error(missing, grpc.StatusCode.NOT_FOUND, "LINK_NOT_FOUND")
    broken = await rpc_error(
        stub.ExtractLink(
            pb.ExtractLinkRequest(url="https://drive.google.com/file/d/broken1/view"),
            metadata=bearer(),
        )
    )
    assert_error(broken, grpc.StatusCode.FAILED_PRECONDITION, "LINK_EXTRACTION_FAILED")
    not_a_url = await rpc_error(
        stub.ExtractLink(pb.ExtractLinkRequest(url="youtube"), metadata=bearer())
    )
    assert_error(not_a_url, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert field_violations(not_a_url) == {"url": "INVALID_URL"}


async def test_a_batch_of_pages_is_created_from_their_audio(stub: Stub) -> None:
    """Items naming a page are resolved before the create: each becomes its page's audio, an
    item without a title takes the page's, and plain items are left as they are."""
    request = express(
        page("https://youtu.be/vid1"),
        source(7, title="plain"),
        page("https://www.yutorah.org/lectures/1234/some-shiur", title="mine"),
    )
    created = await stub.CreateBatch(request, metadata=bearer())
    status = await batch_status(stub, created.batch_id)
    assert [t.title for t in status.transcriptions] == ["YouTube video vid1", "plain", "mine"]


async def test_one_unsupported_link_fails_the_batch_naming_it_and_creates_nothing(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A batch whose items 1 and 2 name a missing page and an unsupported link fails
    INVALID_ARGUMENT (PAGE_URL_NOT_RESOLVED) with a violation on each of those items'
    `page_url`, and nothing is created upstream."""
    request = express(
        page("https://youtu.be/fine1"),
        page("https://www.youtube.com/watch?v=missing-one"),
        page("https://vimeo.com/123"),
        source(3),
    )
    error = await rpc_error(stub.CreateBatch(request, metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "PAGE_URL_NOT_RESOLVED")
    assert field_violations(error) == {
        "audio_sources[1].page_url": "LINK_NOT_FOUND",
        "audio_sources[2].page_url": "LINK_NOT_SUPPORTED",
    }
    counts = await stats(sandbox)
    assert counts["requests"].get(EXTRACT) == 3
    assert CREATE not in counts["requests"]
    assert "created" not in counts


async def test_an_upstream_outage_while_resolving_is_not_blamed_on_the_link(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """When link extraction answers 503 (after the gateway's retries), the batch fails
    UNAVAILABLE (UPSTREAM_UNAVAILABLE), not as a bad link, and nothing is created."""
    await fault(sandbox, status=503, count=100, path_prefix="/v1/link/")
    error = await rpc_error(
        stub.CreateBatch(express(page("https://youtu.be/fine1")), metadata=bearer())
    )
    assert_error(error, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_UNAVAILABLE")
    assert await upstream_count(sandbox, CREATE) == 0


async def test_a_retried_create_with_request_id_does_not_resolve_again(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """With a request_id, the retry of a create that was made gets the recorded answer without
    resolving its links again; a create whose link failed was not recorded, so its retry
    resolves again."""
    request = express(page("https://youtu.be/vid1"), request_id=str(uuid.uuid4()))
    first = await stub.CreateBatch(request, metadata=bearer())
    call = stub.CreateBatch(request, metadata=bearer())
    again = await call
    assert again == first
    assert metadata_value(await call.trailing_metadata(), "idempotent-replayed") == "true"
    assert await upstream_count(sandbox, EXTRACT) == 1
    assert await upstream_count(sandbox, CREATE) == 1
    failing = express(page("https://youtu.be/missing2"), request_id=str(uuid.uuid4()))
    for _ in range(2):
        error = await rpc_error(stub.CreateBatch(failing, metadata=bearer()))
        assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "PAGE_URL_NOT_RESOLVED")
    assert await upstream_count(sandbox, EXTRACT) == 3
    assert await upstream_count(sandbox, CREATE) == 1


async def test_page_url_rules_name_the_item(stub: Stub) -> None:
    """`page_url` with `audio_url` too, or not a URL, fails INVALID_ARGUMENT on the item's
    field; a manifest item may not name a page. Nothing reaches the upstream."""
    request = express(
        batch_pb2.AudioSource(page_url="https://youtu.be/a", audio_url="https://e.com/a.mp3"),
        page("not a url"),
    )
    error = await rpc_error(stub.CreateBatch(request, metadata=bearer()))
    assert field_violations(error) == {
        "audio_sources[0].page_url": "NOT_ALLOWED",
        "audio_sources[1].page_url": "INVALID_URL",
    }
    manifest = pb.UploadManifestRequest(items=pb.ManifestItems(items=[page("https://youtu.be/a")]))
    error = await rpc_error(stub.UploadManifest(manifest, metadata=bearer()))
    assert field_violations(error) == {
        "items.items[0].page_url": "NOT_ALLOWED",
        "items.items[0].audio_url": "REQUIRED",
    }


async def test_resolution_runs_within_the_callers_deadline_and_creates_nothing_late(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A page link whose extraction answers later than the caller's deadline ends the call
    DEADLINE_EXCEEDED by that deadline, not OUTCOME_UNKNOWN: the create was never sent."""
    await fault(sandbox, delay=5.0, count=1, path_prefix="/v1/link/")
    error = await rpc_error(
        stub.CreateBatch(express(page("https://youtu.be/slow1")), metadata=bearer(), timeout=1.0)
    )
    assert_error(error, grpc.StatusCode.DEADLINE_EXCEEDED, "UPSTREAM_TIMEOUT")
    assert await upstream_count(sandbox, CREATE) == 0


async def test_a_single_transcription_may_name_a_page(stub: Stub, sandbox: SandboxServer) -> None:
    """CreateTranscription with a `page_url` creates the transcription of the page's audio,
    titled as the page; a page that does not resolve fails INVALID_ARGUMENT
    PAGE_URL_NOT_RESOLVED on `page_url` and creates nothing; both fields at once are refused."""
    created = await stub.CreateTranscription(
        pb.CreateTranscriptionRequest(
            request_id=str(uuid.uuid4()), page_url="https://youtu.be/single7"
        ),
        metadata=bearer(),
    )
    status = await stub.GetTranscriptionStatus(
        pb.GetTranscriptionStatusRequest(transcription_id=created.transcription_id),
        metadata=bearer(),
    )
    assert status.transcription_info.title == "YouTube video single7"
    before = await upstream_count(sandbox, "POST /v1/transcriptions/")
    error = await rpc_error(
        stub.CreateTranscription(
            pb.CreateTranscriptionRequest(page_url="https://example.org/not-a-site"),
            metadata=bearer(),
        )
    )
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "PAGE_URL_NOT_RESOLVED")
    assert field_violations(error) == {"page_url": "LINK_NOT_SUPPORTED"}
    both = await rpc_error(
        stub.CreateTranscription(
            pb.CreateTranscriptionRequest(
                audio_url=f"{MEDIA}/a.mp3", page_url="https://youtu.be/single7"
            ),
            metadata=bearer(),
        )
    )
    assert_error(both, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert list(field_violations(both)) == ["page_url"]
    assert await upstream_count(sandbox, "POST /v1/transcriptions/") == before


async def test_a_batch_of_pages_resolves_at_most_four_at_once(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """Ten pages in one batch are resolved in parallel but never more than four at a time
    (links.MAX_CONCURRENT_RESOLVES), so one create cannot flood the upstream's extractor."""
    await fault(sandbox, delay=0.1, count=10, method="POST", path_prefix="/v1/link/extract")
    request = express(*(page(f"https://youtu.be/many{n}") for n in range(10)))
    created = await stub.CreateBatch(request, metadata=bearer())
    assert len(created.transcription_ids) == 10
    counts = await stats(sandbox)
    assert counts["requests"][EXTRACT] == 10
    assert 2 <= counts["peak_in_flight"] <= 4
