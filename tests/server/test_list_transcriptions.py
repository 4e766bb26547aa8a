"""ListTranscriptions end to end: pages over the sandbox's unpaged list, filters, page tokens,
and what walking every page costs upstream."""

from __future__ import annotations

import grpc
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxServer

from tests.conftest import OTHER_TOKEN, TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    create_express,
    field_violations,
    finished_batch,
    rpc_error,
    source,
    upstream_count,
)

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
LIST = "GET /v1/transcriptions/"


async def _make(stub: Stub, count: int, token: str = TOKEN) -> list[str]:
    """`count` transcriptions in express batches of 10, titled "t<n>"; their ids, newest first."""
    ids: list[str] = []
    for first in range(0, count, 10):
        numbers = range(first, min(first + 10, count))
        created = await create_express(
            stub, *(source(n, title=f"t{n}") for n in numbers), token=token
        )
        ids.extend(created.transcription_ids)
    return ids[::-1]


async def test_walking_every_page_returns_each_once_for_one_list_get(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """120 transcriptions walked 25 at a time come back in 5 pages, each exactly once, newest
    first (the last page has the 20 left), and the whole walk costs the upstream one list GET
    (the list is held per tenant)."""
    ids = await _make(stub, 120)
    before = await upstream_count(sandbox, LIST)
    seen: list[str] = []
    token = ""
    sizes = []
    while True:
        page = await stub.ListTranscriptions(
            pb.ListTranscriptionsRequest(page_size=25, page_token=token), metadata=bearer()
        )
        sizes.append(len(page.transcriptions))
        seen += [t.transcription_id for t in page.transcriptions]
        token = page.next_page_token
        if not token:
            break
    assert sizes == [25, 25, 25, 25, 20]
    assert seen == ids
    assert await upstream_count(sandbox, LIST) - before == 1


async def test_the_default_page_is_fifty(stub: Stub) -> None:
    """page_size 0 means 50: 60 transcriptions come as a page of 50 and a page of 10."""
    await _make(stub, 60)
    first = await stub.ListTranscriptions(pb.ListTranscriptionsRequest(), metadata=bearer())
    assert len(first.transcriptions) == 50
    assert first.next_page_token
    second = await stub.ListTranscriptions(
        pb.ListTranscriptionsRequest(page_token=first.next_page_token), metadata=bearer()
    )
    assert len(second.transcriptions) == 10
    assert not second.next_page_token


async def test_filters_by_state_and_title(stub: Stub) -> None:
    """`states` keeps the transcriptions in one of them, `title_contains` those whose title
    contains the text (any case); together they combine with AND, across pages."""
    done = await create_express(stub, source("ok-1", title="Shiur Alpha"), source("fail-2"))
    await finished_batch(stub, done.batch_id)
    await create_express(stub, source(3, title="shiur beta"), source(4, title="Other"))
    failed = await stub.ListTranscriptions(
        pb.ListTranscriptionsRequest(states=[batch_pb2.TRANSCRIPTION_STATE_FAILED]),
        metadata=bearer(),
    )
    assert [t.transcription_id for t in failed.transcriptions] == [done.transcription_ids[1]]
    assert failed.transcriptions[0].state == batch_pb2.TRANSCRIPTION_STATE_FAILED
    titled = await stub.ListTranscriptions(
        pb.ListTranscriptionsRequest(title_contains="SHIUR", page_size=1), metadata=bearer()
    )
    assert [t.title for t in titled.transcriptions] == ["shiur beta"]
    rest = await stub.ListTranscriptions(
        pb.ListTranscriptionsRequest(
            title_contains="SHIUR", page_size=1, page_token=titled.next_page_token
        ),
        metadata=bearer(),
    )
    assert [t.title for t in rest.transcriptions] == ["Shiur Alpha"]
    assert not rest.next_page_token
    both = await stub.ListTranscriptions(
        pb.ListTranscriptionsRequest(
            title_contains="shiur", states=[batch_pb2.TRANSCRIPTION_STATE_COMPLETED]
        ),
        metadata=bearer(),
    )
    assert [t.title for t in both.transcriptions] == ["Shiur Alpha"]


async def test_a_tenant_sees_only_its_own(stub: Stub) -> None:
    """Another credential's transcriptions are not listed."""
    await _make(stub, 3, token=OTHER_TOKEN)
    mine = await _make(stub, 2)
    page = await stub.ListTranscriptions(pb.ListTranscriptionsRequest(), metadata=bearer())
    assert [t.transcription_id for t in page.transcriptions] == mine


async def test_bad_page_tokens_are_invalid_argument_before_any_upstream_call(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A malformed token, another credential's, or one made for other filters fails
    INVALID_ARGUMENT naming `page_token`, and costs no upstream list GET."""
    await _make(stub, 3, token=OTHER_TOKEN)
    others = await stub.ListTranscriptions(
        pb.ListTranscriptionsRequest(page_size=1), metadata=bearer(OTHER_TOKEN)
    )
    await _make(stub, 3)
    mine = await stub.ListTranscriptions(
        pb.ListTranscriptionsRequest(page_size=1), metadata=bearer()
    )
    before = await upstream_count(sandbox, LIST)
    bad = [
        pb.ListTranscriptionsRequest(page_token="not a token!"),
        pb.ListTranscriptionsRequest(page_token="eyJ2IjoyfQ"),  # {"v":2}: another version
        pb.ListTranscriptionsRequest(page_token=others.next_page_token),
        pb.ListTranscriptionsRequest(page_token=mine.next_page_token, title_contains="x"),
    ]
    for request in bad:
        error = await rpc_error(stub.ListTranscriptions(request, metadata=bearer()))
        assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
        assert field_violations(error) == {"page_token": "INVALID_PAGE_TOKEN"}
    assert await upstream_count(sandbox, LIST) == before


async def test_bad_page_size_and_states_name_their_fields(stub: Stub) -> None:
    """page_size past 200, an UNSPECIFIED or unknown state, and an overlong title filter are
    INVALID_ARGUMENT, each on its field."""
    request = pb.ListTranscriptionsRequest(
        page_size=201,
        states=[batch_pb2.TRANSCRIPTION_STATE_UNSPECIFIED, 99],  # type: ignore[list-item]
        title_contains="x" * 513,
    )
    error = await rpc_error(stub.ListTranscriptions(request, metadata=bearer()))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert field_violations(error) == {
        "page_size": "OUT_OF_RANGE",
        "states[0]": "NOT_ALLOWED",
        "states[1]": "UNKNOWN_ENUM_VALUE",
        "title_contains": "TOO_LONG",
    }
