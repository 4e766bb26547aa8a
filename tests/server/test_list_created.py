"""ListTranscriptions' creation-time filters end to end: exact answers across pages, what they
cost upstream (status reads by binary search, then none from the kept times), bad ranges, and
an upstream list found out of creation order."""

from __future__ import annotations

import math
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from tests.conftest import bearer
from tests.helpers.calls import assert_error, detail, field_violations, rpc_error
from tests.helpers.calls import upstream_count as count
from tests.helpers.clock import FakeTime

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
LIST = "GET /v1/transcriptions/"
STATUS = "GET /v1/transcriptions/{transcription_id}/status"
MINUTE = 60
COUNT = 100
READS_PER_FILTER = 2 * math.log2(COUNT) + 2
"""The brief's bound on status reads for one filter over 100 transcriptions (about 15)."""


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """The sandbox stamps `created_at` from the test's wall clock."""
    return SandboxConfig(
        item_seconds=0.5, manifest_validation_seconds=0.0, wall_clock=sandbox_clock.wall_clock
    )


async def _make(stub: Stub, clock: FakeTime, count: int, step: float = MINUTE) -> list[int]:
    """`count` single transcriptions titled "t<n>", each `step` seconds after the previous one
    on the sandbox's wall clock; their creation times (epoch seconds), oldest first."""
    times = []
    for n in range(count):
        request = pb.CreateTranscriptionRequest(
            audio_url=f"https://media.example.org/{n}.mp3", info=batch_pb2.BatchInfo(title=f"t{n}")
        )
        await stub.CreateTranscription(request, metadata=bearer())
        times.append(int(clock.wall))
        clock.advance(step)
    return times


def _at(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


def _request(
    after: Timestamp | None = None, before: Timestamp | None = None, **fields: Any
) -> pb.ListTranscriptionsRequest:
    return pb.ListTranscriptionsRequest(created_after=after, created_before=before, **fields)


async def _walk(
    stub: Stub, after: Timestamp | None = None, before: Timestamp | None = None
) -> tuple[list[str], list[int]]:
    """Every page of 20 of a walk with these bounds: the titles, newest first, and the page
    sizes."""
    titles: list[str] = []
    sizes: list[int] = []
    token = ""
    while True:
        request = _request(after, before, page_size=20, page_token=token)
        page = await stub.ListTranscriptions(request, metadata=bearer())
        titles += [t.title for t in page.transcriptions]
        sizes.append(len(page.transcriptions))
        token = page.next_page_token
        if not token:
            return titles, sizes


def _titles(numbers: range) -> list[str]:
    return [f"t{n}" for n in reversed(numbers)]


async def test_creation_time_filters_cost_a_few_status_reads_then_none(
    stub: Stub, sandbox: SandboxServer, sandbox_clock: FakeTime
) -> None:
    """Of 100 transcriptions made a minute apart, `created_after` keeps exactly those made
    strictly after it and `created_before` those strictly before, across pages; each filter's
    first walk costs at most about 2*log2(100)+2 status reads (a binary search, not one per
    transcription), and walking again costs none (creation times are kept)."""
    times = await _make(stub, sandbox_clock, COUNT)
    before = await count(sandbox, STATUS)
    titles, sizes = await _walk(stub, after=_at(times[29]))  # t29 itself is out
    first_walk = await count(sandbox, STATUS) - before
    assert titles == _titles(range(30, COUNT))
    assert sizes == [20, 20, 20, 10]
    assert 0 < first_walk <= READS_PER_FILTER

    again = await count(sandbox, STATUS)
    assert (await _walk(stub, after=_at(times[29])))[0] == _titles(range(30, COUNT))
    assert await count(sandbox, STATUS) == again

    titles, _ = await _walk(stub, before=_at(times[80] + 30))
    reads = await count(sandbox, STATUS) - again
    assert titles == _titles(range(81))
    assert 0 < reads <= READS_PER_FILTER

    both = await count(sandbox, STATUS)
    titles, sizes = await _walk(stub, after=_at(times[29]), before=_at(times[80]))
    assert titles == _titles(range(30, 80))
    assert sizes == [20, 20, 10]
    assert await count(sandbox, STATUS) - both <= READS_PER_FILTER


async def test_a_range_with_nothing_in_it_is_one_empty_page(
    stub: Stub, sandbox_clock: FakeTime
) -> None:
    """Bounds before the first or after the last transcription, or between two of them, list
    nothing: one empty page, no token."""
    times = await _make(stub, sandbox_clock, 5)
    for after, before in (
        (None, _at(times[0])),
        (_at(times[4]), None),
        (_at(times[2]), _at(times[2] + 1)),
    ):
        assert await _walk(stub, after, before) == ([], [0])


async def test_bad_ranges_are_refused_naming_the_field_before_any_upstream_call(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """created_after not before created_before fails INVALID_ARGUMENT on `created_before`; a
    time past year 9999 or with bad nanos on its own field; none of them reads the upstream."""
    lists = await count(sandbox, LIST)
    cases = [
        (_request(_at(100), _at(100)), "created_before"),
        (_request(_at(200), _at(100)), "created_before"),
        (_request(_at(253_402_300_800)), "created_after"),
        (_request(before=Timestamp(seconds=1, nanos=-1)), "created_before"),
    ]
    for request, field in cases:
        error = await rpc_error(stub.ListTranscriptions(request, metadata=bearer()))
        assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
        assert field_violations(error) == {field: "OUT_OF_RANGE"}
    assert await count(sandbox, LIST) == lists


async def test_a_page_token_is_bound_to_its_creation_time_filters(
    stub: Stub, sandbox_clock: FakeTime
) -> None:
    """A token made with one `created_after` is refused with another, or with none."""
    times = await _make(stub, sandbox_clock, 4)
    first = await stub.ListTranscriptions(_request(_at(times[0]), page_size=1), metadata=bearer())
    assert first.next_page_token
    for after in (_at(times[1]), None):
        request = _request(after, page_token=first.next_page_token)
        error = await rpc_error(stub.ListTranscriptions(request, metadata=bearer()))
        assert field_violations(error) == {"page_token": "INVALID_PAGE_TOKEN"}


async def test_a_list_out_of_creation_order_fails_precondition(
    stub: Stub, sandbox_clock: FakeTime
) -> None:
    """When the upstream's newest-first list turns out not to be in creation order (here each
    transcription stamped earlier than the one before it), a creation-time filter fails
    FAILED_PRECONDITION LIST_NOT_ORDERED instead of answering a wrong page; the other filters
    still work."""
    times = await _make(stub, sandbox_clock, 8, step=-MINUTE)
    request = _request(_at(times[4]))
    error = await rpc_error(stub.ListTranscriptions(request, metadata=bearer()))
    assert_error(error, grpc.StatusCode.FAILED_PRECONDITION, "LIST_NOT_ORDERED")
    violation = detail(error, error_details_pb2.PreconditionFailure).violations[0]
    assert (violation.type, violation.subject) == ("LIST_ORDER", "GET /v1/transcriptions/")
    plain = await stub.ListTranscriptions(pb.ListTranscriptionsRequest(), metadata=bearer())
    assert len(plain.transcriptions) == 8
