"""Hot reads end to end: identical concurrent reads share one upstream call, and GetBatchStatus
of a watched batch is answered from the watch poller's fresh observation."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.contract import mapping
from gateway.server.process import Gateway
from gateway.upstream.models import BatchStatusResponse
from tests.conftest import OTHER_TOKEN, TOKEN, bearer
from tests.helpers.calls import (
    REQUEST_ID_KEY,
    assert_error,
    create_express,
    rpc_error,
    rpc_lines,
    source,
    until,
    upstream_count,
)
from tests.helpers.clock import FakeTime
from tests.helpers.held import Hold, held_upstream

Stub = pb_grpc.BatchTranscriptionServiceStub
STATUS = "GET /v1/transcriptions/batch/{batch_id}/status"
TRANSCRIPTION = "GET /v1/transcriptions/{transcription_id}"
ITEM_SECONDS = 600.0
"""An item's seconds on the sandbox's (manual) clock."""
FOLLOWERS = 15
REUSE = 60.0
"""Seconds of --status-reuse-window in the reuse test: far longer than two reads take."""


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Batches that stay in progress for the whole test (no change while it reads), unless the
    test moves the sandbox's clock."""
    return SandboxConfig(
        item_seconds=ITEM_SECONDS, manifest_validation_seconds=0.0, clock=sandbox_clock
    )


@pytest.fixture
def hold() -> Hold:
    """The upstream's slowness, by the test's hand: once armed (`slow_upstream`), its GETs wait
    in a proxy until the test releases them, so that the reads the test makes meanwhile find
    the first one still in flight."""
    return Hold(method="GET", armed=False)


@pytest.fixture
async def upstream_url(sandbox: SandboxServer, hold: Hold) -> AsyncIterator[str]:
    """The sandbox behind the proxy that holds what `hold` takes."""
    async with held_upstream(sandbox.url, hold) as url:
        yield url


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig, upstream_url: str) -> GatewayConfig:
    """The held upstream, and no reuse of finished answers (--status-reuse-window 0): these
    tests are about sharing calls in flight; the reuse test turns it on for itself."""
    return dataclasses.replace(gateway_config, upstream_url=upstream_url, status_reuse_window=0.0)


def metadata(token: str = TOKEN, request_id: str | None = None) -> tuple[tuple[str, str], ...]:
    """The caller's credential, and its request id when given."""
    extra = () if request_id is None else ((REQUEST_ID_KEY, request_id),)
    return bearer(token) + extra


def read_status(
    stub: Stub, batch_id: str, token: str = TOKEN, *, timeout: float | None = 30.0, rid: str = ""
) -> Any:
    """A GetBatchStatus call in flight (awaitable, cancellable)."""
    return stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=batch_id),
        metadata=metadata(token, rid or None),
        timeout=timeout,
    )


async def new_batch(stub: Stub, token: str = TOKEN) -> str:
    """A fresh one-item express batch of `token`'s tenant; its id."""
    return (await create_express(stub, source("hot"), token=token)).batch_id


def slow_upstream(hold: Hold) -> None:
    """From now on, upstream GETs wait until the test releases them."""
    hold.armed = True


async def in_flight(gateway: Gateway, calls: int) -> None:
    """Wait until `calls` unary calls are in their handlers (each holds a concurrency slot
    from before it joins a shared read until it ends)."""
    limiter = gateway.limiter
    assert limiter is not None
    await until(lambda: limiter.active == calls)


async def test_concurrent_reads_of_one_batch_cost_one_upstream_request(
    stub: Stub, sandbox: SandboxServer, gateway: Gateway, hold: Hold, logs: io.StringIO
) -> None:
    """16 callers reading one batch at once get the same answer from one upstream request; the
    15 that joined log `shared_read` with no upstream attempts of their own."""
    batch_id = await new_batch(stub)
    before = await upstream_count(sandbox, STATUS)
    slow_upstream(hold)
    leader = asyncio.ensure_future(read_status(stub, batch_id, rid="leader"))
    await hold.until_held(1)
    followers = [
        asyncio.ensure_future(read_status(stub, batch_id, rid=f"follower-{i}"))
        for i in range(FOLLOWERS)
    ]
    await in_flight(gateway, 1 + FOLLOWERS)
    hold.release()
    answers = await asyncio.gather(leader, *followers)
    assert await upstream_count(sandbox, STATUS) == before + 1
    assert {a.batch_status.batch_id for a in answers} == {batch_id}
    assert len({a.SerializeToString() for a in answers}) == 1

    lines = [line for line in rpc_lines(logs) if line["rpc"] == "GetBatchStatus"]
    shared = [line for line in lines if line.get("shared_read") == "true"]
    assert len(shared) == FOLLOWERS
    assert all(line["upstream_attempts"] == 0 for line in shared)
    assert all(line["shared_with"] == "leader" for line in shared)
    (lead,) = [line for line in lines if line["request_id"] == "leader"]
    assert lead["upstream_attempts"] == 1
    assert "shared_read" not in lead


async def test_a_read_after_the_shared_one_finished_goes_upstream_again(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """Nothing is cached: once the shared call has answered, the next read asks the upstream."""
    batch_id = await new_batch(stub)
    before = await upstream_count(sandbox, STATUS)
    await asyncio.gather(*(read_status(stub, batch_id) for _ in range(4)))
    first = await upstream_count(sandbox, STATUS)
    await read_status(stub, batch_id)
    await read_status(stub, batch_id)
    assert await upstream_count(sandbox, STATUS) == first + 2
    assert first - before >= 1


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The batch ids of the GetBatchStatus replies built (decoded answers mapped into a proto)
    from now on, in order."""
    built: list[str] = []
    fill = mapping.fill_batch_status

    def counting(status: batch_pb2.BatchStatus, answer: BatchStatusResponse) -> None:
        built.append(answer.batch_id)
        fill(status, answer)

    monkeypatch.setattr(mapping, "fill_batch_status", counting)
    return built


def without_observed_at(answer: pb.GetBatchStatusResponse) -> pb.GetBatchStatusResponse:
    """`answer` with its observed_at cleared."""
    copy = pb.GetBatchStatusResponse()
    copy.CopyFrom(answer)
    copy.batch_status.ClearField("observed_at")
    return copy


async def test_an_unchanged_batch_read_again_reuses_its_built_reply(
    stub: Stub, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two reads of a batch that has not changed, one after the other, each ask the upstream
    and get the same status, each with its own observed_at (the second later); the reply was
    built (decoded, mapped, serialized) once, for the first answer, and sent again for the
    second, whose bytes were the same."""
    batch_id = await new_batch(stub)
    builds = count_builds(monkeypatch)
    before = await upstream_count(sandbox, STATUS)
    first = await read_status(stub, batch_id)
    second = await read_status(stub, batch_id)
    assert await upstream_count(sandbox, STATUS) == before + 2
    assert builds == [batch_id]
    assert without_observed_at(first) == without_observed_at(second)
    assert first.batch_status.batch_id == batch_id
    assert len(first.batch_status.transcriptions) == 1
    assert not first.batch_status.changed_transcription_ids
    earlier, later = first.batch_status.observed_at, second.batch_status.observed_at
    assert earlier.ToNanoseconds() < later.ToNanoseconds()


async def test_different_answers_never_share_a_built_reply(
    stub: Stub, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads of different batches (two of one tenant, one of another) each get their own
    batch's status: a reply built for one upstream answer never answers another."""
    mine = [await new_batch(stub), await new_batch(stub)]
    theirs = await new_batch(stub, OTHER_TOKEN)
    builds = count_builds(monkeypatch)
    answers = [await read_status(stub, batch_id) for batch_id in mine]
    answers.append(await read_status(stub, theirs, OTHER_TOKEN))
    assert [a.batch_status.batch_id for a in answers] == [*mine, theirs]
    assert len({a.batch_status.transcriptions[0].id for a in answers}) == 3
    assert builds == [*mine, theirs]


async def test_tenants_never_share_a_read(stub: Stub, sandbox: SandboxServer, hold: Hold) -> None:
    """Two tokens reading the same batch id at once cost two upstream requests: the owner gets
    its batch, the other tenant NOT_FOUND, never the owner's answer."""
    mine = await new_batch(stub, TOKEN)
    theirs = await new_batch(stub, OTHER_TOKEN)
    before = await upstream_count(sandbox, STATUS)
    slow_upstream(hold)
    owner = asyncio.ensure_future(read_status(stub, mine, TOKEN))
    await hold.until_held(1)
    stranger = asyncio.ensure_future(rpc_error(read_status(stub, mine, OTHER_TOKEN)))
    own = asyncio.ensure_future(read_status(stub, theirs, OTHER_TOKEN))
    await hold.until_held(3)  # each tenant's read of its own
    hold.release()
    answer, error, other_answer = await asyncio.gather(owner, stranger, own)
    assert answer.batch_status.batch_id == mine
    assert other_answer.batch_status.batch_id == theirs
    assert_error(error, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")
    assert await upstream_count(sandbox, STATUS) == before + 3


async def test_a_follower_past_its_deadline_fails_alone(
    stub: Stub, sandbox: SandboxServer, gateway: Gateway, hold: Hold
) -> None:
    """A follower whose deadline passes gets DEADLINE_EXCEEDED; the others get the answer."""
    batch_id = await new_batch(stub)
    before = await upstream_count(sandbox, STATUS)
    slow_upstream(hold)
    leader = asyncio.ensure_future(read_status(stub, batch_id))
    await hold.until_held(1)
    patient = [asyncio.ensure_future(read_status(stub, batch_id)) for _ in range(3)]
    await in_flight(gateway, 4)
    error = await rpc_error(read_status(stub, batch_id, timeout=1.0))
    hold.release()
    answers = await asyncio.gather(leader, *patient)
    assert_error(error, grpc.StatusCode.DEADLINE_EXCEEDED, "UPSTREAM_TIMEOUT")
    assert {a.batch_status.batch_id for a in answers} == {batch_id}
    assert await upstream_count(sandbox, STATUS) == before + 1


@pytest.mark.parametrize("leaves_by", ["cancel", "deadline"])
async def test_the_leader_leaving_does_not_fail_the_followers(
    stub: Stub, sandbox: SandboxServer, gateway: Gateway, hold: Hold, leaves_by: str
) -> None:
    """The caller whose read started the upstream call cancels it or runs out of time: the
    callers that joined it still get the answer. A cancel leaves the one upstream request to
    them; a leader's deadline bounds its request (so its own caller gets its error in time),
    and the followers, who have time left, then make one request of their own."""
    batch_id = await new_batch(stub)
    before = await upstream_count(sandbox, STATUS)
    slow_upstream(hold)
    leader = read_status(stub, batch_id, timeout=0.6 if leaves_by == "deadline" else 30.0)
    await hold.until_held(1)
    followers = asyncio.gather(*(read_status(stub, batch_id) for _ in range(3)))
    await in_flight(gateway, 4)
    if leaves_by == "cancel":
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
    else:
        error = await rpc_error(leader)
        assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await hold.until_held(2)  # the followers' own request, with their own time
    hold.release()
    answers = await followers
    assert {a.batch_status.batch_id for a in answers} == {batch_id}
    extra = 0 if leaves_by == "cancel" else 1
    assert await upstream_count(sandbox, STATUS) <= before + 1 + extra


async def test_an_upstream_error_reaches_every_waiter(
    stub: Stub, sandbox: SandboxServer, gateway: Gateway, hold: Hold
) -> None:
    """One upstream 404 answers every caller that waited for it, each with its own request id
    in its ErrorInfo."""
    before = await upstream_count(sandbox, STATUS)
    slow_upstream(hold)
    missing = str(uuid.uuid4())
    leader = asyncio.ensure_future(rpc_error(read_status(stub, missing, rid="r-0")))
    await hold.until_held(1)
    others = [
        asyncio.ensure_future(rpc_error(read_status(stub, missing, rid=f"r-{i}")))
        for i in range(1, 4)
    ]
    await in_flight(gateway, 4)
    hold.release()
    errors = await asyncio.gather(leader, *others)
    infos = [assert_error(e, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND") for e in errors]
    assert [info.metadata["request_id"] for info in infos] == [f"r-{i}" for i in range(4)]
    assert await upstream_count(sandbox, STATUS) == before + 1


async def test_transcription_reads_share_only_with_the_same_filter(
    stub: Stub,
    sandbox: SandboxServer,
    gateway: Gateway,
    hold: Hold,
    sandbox_clock: FakeTime,
) -> None:
    """GetTranscription with different `filter_hebrew_word_format` values never share: two
    callers per filter, two filters, two upstream requests."""
    created = await create_express(stub, source("filters"))
    sandbox_clock.advance(2 * ITEM_SECONDS)  # the batch is done
    (transcription_id,) = created.transcription_ids
    before = await upstream_count(sandbox, TRANSCRIPTION)
    slow_upstream(hold)

    def read(word_format: batch_pb2.HebrewWordFormat) -> Any:
        request = pb.GetTranscriptionRequest(
            transcription_id=transcription_id, filter_hebrew_word_format=word_format
        )
        return asyncio.ensure_future(stub.GetTranscription(request, metadata=bearer(), timeout=30))

    first = read(batch_pb2.HEBREW_WORD_FORMAT_UNSPECIFIED)
    await hold.until_held(1)
    others = [
        read(batch_pb2.HEBREW_WORD_FORMAT_UNSPECIFIED),
        read(batch_pb2.HEBREW_WORD_FORMAT_HE),
        read(batch_pb2.HEBREW_WORD_FORMAT_HE),
    ]
    await hold.until_held(2)
    await in_flight(gateway, 4)
    hold.release()
    answers = await asyncio.gather(first, *others)
    assert await upstream_count(sandbox, TRANSCRIPTION) == before + 2
    assert {a.transcription.info.id for a in answers} == {transcription_id}


# -- GetBatchStatus from a watch's poller ------------------------------------------------------


@asynccontextmanager
async def serving(config: GatewayConfig) -> AsyncIterator[Stub]:
    """A gateway of its own with `config`, and a stub on a channel to it."""
    async with Gateway(config) as running, grpc.aio.insecure_channel(running.address) as ch:
        yield pb_grpc.BatchTranscriptionServiceStub(ch)


def watched(gateway_config: GatewayConfig, max_age: float) -> GatewayConfig:
    """A gateway whose pollers poll once a minute (no poll in the test's time after the first)
    and whose GetBatchStatus takes poller observations up to `max_age` seconds old."""
    return dataclasses.replace(
        gateway_config,
        watch_fast_interval=60.0,
        watch_slow_interval=60.0,
        status_max_age=max_age,
    )


@asynccontextmanager
async def watching(stub: Stub, batch_id: str) -> AsyncIterator[batch_pb2.BatchStatus]:
    """An open watch of the batch; yields its first message's status."""
    call = stub.WatchBatchStatus(pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer())
    try:
        first = await call.read()
        assert isinstance(first, pb.WatchBatchStatusResponse)
        yield first.batch_status
    finally:
        call.cancel()


async def test_a_watched_batch_is_read_from_its_poller(
    sandbox: SandboxServer, gateway_config: GatewayConfig, logs: io.StringIO
) -> None:
    """While a watch is open on a batch, GetBatchStatus answers from the poller's fresh
    observation without any upstream request, with the poll's observed_at."""
    async with serving(watched(gateway_config, max_age=30.0)) as stub:
        batch_id = await new_batch(stub)
        async with watching(stub, batch_id) as seen:
            before = await upstream_count(sandbox, STATUS)
            answers = await asyncio.gather(*(read_status(stub, batch_id) for _ in range(16)))
            assert await upstream_count(sandbox, STATUS) == before
    for answer in answers:
        assert answer.batch_status.observed_at == seen.observed_at
        assert answer.batch_status.total_count == seen.total_count == 1
        assert answer.batch_status.batch_id == batch_id
    lines = [line for line in rpc_lines(logs) if line["rpc"] == "GetBatchStatus"]
    assert [line["from_watch_poller"] for line in lines] == ["true"] * 16
    assert all(line["upstream_attempts"] == 0 for line in lines)


async def test_another_tenants_watch_never_answers(
    sandbox: SandboxServer, gateway_config: GatewayConfig
) -> None:
    """A watch open on a batch answers only its own tenant: another token's GetBatchStatus of
    the same id asks the upstream, and gets NOT_FOUND."""
    async with serving(watched(gateway_config, max_age=30.0)) as stub:
        batch_id = await new_batch(stub)
        async with watching(stub, batch_id):
            before = await upstream_count(sandbox, STATUS)
            error = await rpc_error(read_status(stub, batch_id, OTHER_TOKEN))
            assert await upstream_count(sandbox, STATUS) == before + 1
    assert_error(error, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")


async def test_a_disabled_poller_answer_goes_upstream(
    sandbox: SandboxServer, gateway_config: GatewayConfig
) -> None:
    """With --status-max-age 0, GetBatchStatus of a watched batch asks the upstream, and its
    observed_at is newer than the watch's. (An observation older than the max age is not
    offered either: StatusHub.fresh on the hub's clock, tests/watch/test_hub.py.)"""
    async with serving(watched(gateway_config, max_age=0.0)) as stub:
        batch_id = await new_batch(stub)
        async with watching(stub, batch_id) as seen:
            before = await upstream_count(sandbox, STATUS)
            answer = await read_status(stub, batch_id)
            assert await upstream_count(sandbox, STATUS) == before + 1
    assert answer.batch_status.observed_at.ToDatetime() > seen.observed_at.ToDatetime()


async def test_a_status_answer_is_reused_within_the_window(
    gateway_config: GatewayConfig, sandbox: SandboxServer
) -> None:
    """A GetBatchStatus answer from the upstream also answers identical reads that come within
    --status-reuse-window after it (the same observed_at, no second upstream read). (That a
    read after the window goes upstream again: the single-flight group on its clock,
    tests/state/test_singleflight.py.)"""
    config = dataclasses.replace(gateway_config, status_reuse_window=REUSE)
    async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as channel:
        await _reused_within_the_window(Stub(channel), sandbox)


async def _reused_within_the_window(stub: Stub, sandbox: SandboxServer) -> None:
    batch = await create_express(stub, source(1))
    request = pb.GetBatchStatusRequest(batch_id=batch.batch_id)
    before = await upstream_count(sandbox, STATUS)
    first = await stub.GetBatchStatus(request, metadata=bearer())
    again = await stub.GetBatchStatus(request, metadata=bearer())
    assert again.batch_status.observed_at == first.batch_status.observed_at
    assert await upstream_count(sandbox, STATUS) - before == 1
