"""WatchBatchStatus end to end: one poller per (tenant, batch), change-only messages, clean ends."""

from __future__ import annotations

import asyncio
import dataclasses
from itertools import pairwise

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.access.credentials import Credential
from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import OTHER_TOKEN, TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    clear_faults,
    create_batch,
    eventually,
    fault,
    finished_batch,
    pending_faults,
    retry_delay,
    until,
    upstream_count,
)
from tests.helpers.clock import FakeTime
from tests.helpers.hub import sandbox_hub
from tests.helpers.sandbox_http import client
from tests.helpers.sandbox_http import create_express as sandbox_create
from tests.helpers.streams import details_bin, drain

Stub = pb_grpc.BatchTranscriptionServiceStub
STATUS_PATH = "GET /v1/transcriptions/batch/{batch_id}/status"
TERMINAL = {batch_pb2.BATCH_STATE_COMPLETED, batch_pb2.BATCH_STATE_FAILED}


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items finish in about a second, so a batch shows several steps of progress."""
    return SandboxConfig(item_seconds=0.6, manifest_validation_seconds=0.0)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """Fast polling so tests see every step without waiting seconds."""
    return dataclasses.replace(
        gateway_config, watch_fast_interval=0.05, watch_slow_interval=0.2, max_watches=200
    )


async def collect(stub: Stub, batch_id: str, token: str = TOKEN) -> list[batch_pb2.BatchStatus]:
    """Every message of one watch, until the stream ends OK."""
    call = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(token)
    )
    return [message.batch_status async for message in call]


def without_time(status: batch_pb2.BatchStatus) -> batch_pb2.BatchStatus:
    """The status minus what changes on every message (observation time, changed ids)."""
    copy = batch_pb2.BatchStatus()
    copy.CopyFrom(status)
    copy.ClearField("observed_at")
    copy.ClearField("changed_transcription_ids")
    return copy


async def test_watch_follows_a_batch_to_completion(stub: Stub) -> None:
    """The first message comes at once with every id; progress never goes back; the stream
    ends OK right after the terminal state, and no two messages in a row are the same."""
    batch = await create_batch(
        stub, "https://e.com/a.mp3", "https://e.com/b.mp3", "https://e.com/c.mp3"
    )
    messages = await collect(stub, batch.batch_id)
    assert messages[0].batch_id == batch.batch_id
    assert sorted(messages[0].changed_transcription_ids) == sorted(batch.transcription_ids)
    assert messages[-1].state == batch_pb2.BATCH_STATE_COMPLETED
    assert all(m.state not in TERMINAL for m in messages[:-1])
    done = [m.completed_count + m.failed_count for m in messages]
    assert done == sorted(done)
    assert all(
        m.completed_count + m.failed_count + m.pending_count == m.total_count for m in messages
    )
    assert len(messages) >= 2
    for before, after in pairwise(messages):
        assert without_time(before) != without_time(after)
        assert after.observed_at.ToDatetime() >= before.observed_at.ToDatetime()
        old = {t.id: t.state for t in before.transcriptions}
        changed = {t.id for t in after.transcriptions if old.get(t.id) != t.state}
        assert set(after.changed_transcription_ids) == changed


async def test_failed_batch_ends_on_failed(stub: Stub) -> None:
    """A batch whose every item fails ends the stream OK after BATCH_STATE_FAILED."""
    batch = await create_batch(stub, "https://e.com/fail-1.mp3")
    messages = await collect(stub, batch.batch_id)
    assert messages[-1].state == batch_pb2.BATCH_STATE_FAILED
    assert messages[-1].failed_count == 1


async def test_finished_batch_is_one_message(stub: Stub) -> None:
    """Watching a batch that has already finished yields exactly one message, then OK."""
    batch = await create_batch(stub, "https://e.com/a.mp3")
    await collect(stub, batch.batch_id)
    again = await collect(stub, batch.batch_id)
    assert len(again) == 1
    assert again[0].state == batch_pb2.BATCH_STATE_COMPLETED


async def test_many_watchers_share_one_poller(
    stub: Stub, gateway: Gateway, sandbox: SandboxServer
) -> None:
    """Fifty watchers of one batch cost the upstream one poller: fewer status requests than
    watchers, and all of them see the same terminal state."""
    batch = await create_batch(stub, "https://e.com/a.mp3", "https://e.com/b.mp3")
    before = await upstream_count(sandbox, STATUS_PATH)
    results = await asyncio.gather(*(collect(stub, batch.batch_id) for _ in range(50)))
    polls = await upstream_count(sandbox, STATUS_PATH) - before
    assert all(r[-1].state == batch_pb2.BATCH_STATE_COMPLETED for r in results)
    assert polls < 50
    assert gateway.hub is not None
    await until(lambda: gateway.hub is not None and gateway.hub.active_pollers == 0)


async def test_cancel_stops_the_poller(
    stub: Stub, gateway: Gateway, sandbox: SandboxServer
) -> None:
    """When the last watcher cancels, the poller stops: no more upstream status requests."""
    hub = gateway.hub
    assert hub is not None
    batch = await create_batch(stub, *(f"https://e.com/{i}.mp3" for i in range(10)))
    call = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch.batch_id), metadata=bearer()
    )
    await call.read()
    assert hub.active_pollers == 1
    call.cancel()
    await until(lambda: hub.active_pollers == 0 and hub.open_watches == 0)
    settled = await upstream_count(sandbox, STATUS_PATH)
    await asyncio.sleep(0.3)  # several fast-poll intervals
    assert await upstream_count(sandbox, STATUS_PATH) == settled


async def test_foreign_credential_cannot_watch(stub: Stub) -> None:
    """Another tenant's batch id answers NOT_FOUND (BATCH_NOT_FOUND), not the batch."""
    batch = await create_batch(stub, "https://e.com/a.mp3")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await collect(stub, batch.batch_id, token=OTHER_TOKEN)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert "BATCH_NOT_FOUND" in str(raised.value.trailing_metadata())


async def test_invalid_batch_id_is_refused_before_polling(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A malformed batch id answers INVALID_ARGUMENT on `batch_id` and polls nothing."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await collect(stub, "not-a-uuid")
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "batch_id" in (raised.value.details() or "")
    assert await upstream_count(sandbox, STATUS_PATH) == 0


async def test_watch_without_credentials(stub: Stub) -> None:
    """No bearer metadata and no configured key: UNAUTHENTICATED before any upstream call."""
    call = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890")
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call.read()
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_rate_limit_storm_does_not_end_the_watch(stub: Stub, sandbox: SandboxServer) -> None:
    """A run of 429s on the status path is waited out; the watch still ends on COMPLETED."""
    batch = await create_batch(stub, "https://e.com/a.mp3")
    await fault(
        sandbox, status=429, count=8, retry_after=0, path_prefix="/v1/transcriptions/batch/"
    )
    messages = await collect(stub, batch.batch_id)
    assert messages[-1].state == batch_pb2.BATCH_STATE_COMPLETED


async def test_unavailable_burst_keeps_the_last_state(sandbox_clock: FakeTime) -> None:
    """A burst of 503s mid-watch does not end the watch: the watcher keeps its last state while
    the poller backs off, then the watch resumes and ends on COMPLETED. The sandbox, the upstream
    client and the hub share one manual clock: the batch moves only as the poller waits."""
    config = SandboxConfig(item_seconds=10.0, manifest_validation_seconds=0.0, clock=sandbox_clock)
    async with (
        SandboxServer(config, host="127.0.0.1", port=0) as server,
        sandbox_hub(sandbox_clock, server.url) as hub,
        client(server, TOKEN) as http,
    ):
        batch = await sandbox_create(http, "https://e.com/a.mp3", "https://e.com/b.mp3")
        stream = hub.watch(Credential(TOKEN, "caller"), batch["batch_id"])
        first = await anext(stream)
        assert not first.terminal
        before = await upstream_count(server, STATUS_PATH)
        await fault(server, status=503, count=12, path_prefix="/v1/transcriptions/batch/")
        rest = [observation async for observation in stream]
        assert rest[-1].status.status == "COMPLETED"
        assert await upstream_count(server, STATUS_PATH) - before > 12  # the burst, then more
        assert len(await pending_faults(server)) == 0  # every 503 of the burst was answered


async def test_watch_limit(gateway_config: GatewayConfig, stub: Stub) -> None:
    """Past --max-watches open streams, a new watch gets RESOURCE_EXHAUSTED at once."""
    async with (
        Gateway(dataclasses.replace(gateway_config, max_watches=2)) as small,
        grpc.aio.insecure_channel(small.address) as channel,
    ):
        limited = Stub(channel)
        batch = await create_batch(limited, *(f"https://e.com/{i}.mp3" for i in range(10)))
        request = pb.WatchBatchStatusRequest(batch_id=batch.batch_id)
        open_calls = [limited.WatchBatchStatus(request, metadata=bearer()) for _ in range(2)]
        for call in open_calls:
            await call.read()
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await limited.WatchBatchStatus(request, metadata=bearer()).read()
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        for call in open_calls:
            call.cancel()


async def test_shutdown_ends_open_watches_unavailable(gateway_config: GatewayConfig) -> None:
    """On shutdown health goes NOT_SERVING and an open watch ends UNAVAILABLE with the reason
    SHUTTING_DOWN, telling the client to reconnect; pollers stop."""
    gw = Gateway(gateway_config)
    await gw.start()
    try:
        async with grpc.aio.insecure_channel(gw.address) as channel:
            stub = Stub(channel)
            batch = await create_batch(stub, *(f"https://e.com/{i}.mp3" for i in range(10)))
            call = stub.WatchBatchStatus(
                pb.WatchBatchStatusRequest(batch_id=batch.batch_id), metadata=bearer()
            )
            await call.read()
            health = health_pb2_grpc.HealthStub(channel)
            stopping = asyncio.create_task(gw.stop(grace=1.0))
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await drain(call)
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
            status = status_pb2.Status.FromString(details_bin(raised.value))
            info = error_details_pb2.ErrorInfo()
            assert any(d.Unpack(info) for d in status.details)
            assert info.reason == "SHUTTING_DOWN"
            await stopping
            assert gw.hub is not None
            assert gw.hub.active_pollers == 0
            with pytest.raises(grpc.aio.AioRpcError):
                await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
    finally:
        await gw.stop(grace=0)


async def test_hub_conflates_for_a_slow_watcher(sandbox_clock: FakeTime) -> None:
    """A watcher that is not reading holds no backlog: when it reads again it gets the newest
    state at once (here the terminal one), not every step it missed."""
    config = SandboxConfig(item_seconds=10.0, manifest_validation_seconds=0.0, clock=sandbox_clock)
    async with (
        SandboxServer(config, host="127.0.0.1", port=0) as server,
        sandbox_hub(sandbox_clock, server.url) as hub,
        client(server, TOKEN) as http,
    ):
        urls = [f"https://e.com/{i}.mp3" for i in range(4)]
        batch_id = (await sandbox_create(http, *urls))["batch_id"]
        caller = Credential(TOKEN, "caller")
        stream = hub.watch(caller, batch_id)
        first = await anext(stream)
        assert not first.terminal
        fast_reader = [o async for o in hub.watch(caller, batch_id)]
        assert len(fast_reader) >= 2  # the batch did move through several states meanwhile
        second = await anext(stream)
        assert second.terminal
        with pytest.raises(StopAsyncIteration):
            await anext(stream)


# -- a long Retry-After never freezes the watchers (--watch-max-retry-after, 30 s by default) ---

WATCH_DEADLINE = 60.0  # generous; a frozen watch would sit until it, then DEADLINE_EXCEEDED


async def watch_error(stub: Stub, batch_id: str, request_id: str) -> grpc.aio.AioRpcError:
    """The error a watch ends with (it must end with one), within WATCH_DEADLINE."""
    try:
        await collect_within(stub, batch_id, request_id)
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the watch ended OK; an error was expected")


async def collect_within(
    stub: Stub, batch_id: str, request_id: str = "watch"
) -> list[batch_pb2.BatchStatus]:
    """Every message of one watch with a WATCH_DEADLINE deadline, until it ends OK."""
    call = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id),
        metadata=(*bearer(), ("x-request-id", request_id)),
        timeout=WATCH_DEADLINE,
    )
    return [message.batch_status async for message in call]


@pytest.mark.parametrize(
    ("retry_after", "retry_after_format", "at_least"),
    [
        pytest.param(3600, "seconds", 3600.0, id="an-hour-in-seconds"),
        pytest.param(86_400, "date", 86_000.0, id="an-http-date-a-day-ahead"),
    ],
)
async def test_long_retry_after_ends_every_watch_resource_exhausted(
    stub: Stub, sandbox: SandboxServer, retry_after: int, retry_after_format: str, at_least: float
) -> None:
    """A 429 on a batch's first status poll asking for far longer than the cap ends all six
    watches, one of them started after that poll, RESOURCE_EXHAUSTED (RATE_LIMITED) with
    RetryInfo carrying the upstream's delay, long before their deadline, instead of leaving them
    silent; each error names its own call's request id. GetBatchStatus still works, and
    watching again starts afresh and ends OK."""
    batch = await create_batch(stub, "https://e.com/a.mp3")
    # One per watcher: whichever poller a watcher joins (the first, or a fresh one after the
    # first ended its watches), that poller's first poll is answered so.
    await fault(
        sandbox,
        status=429,
        count=6,
        retry_after=retry_after,
        retry_after_format=retry_after_format,
        path_prefix="/v1/transcriptions/batch/",
    )
    early = [
        asyncio.create_task(watch_error(stub, batch.batch_id, f"watcher-{i}")) for i in range(5)
    ]
    await eventually(lambda: upstream_count(sandbox, STATUS_PATH), lambda n: n > 0, interval=0.01)
    late = asyncio.create_task(watch_error(stub, batch.batch_id, "watcher-5"))
    for i, error in enumerate(await asyncio.gather(*early, late)):
        info = assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
        assert retry_delay(error) >= at_least
        assert info.metadata["batch_id"] == batch.batch_id
        assert info.metadata["request_id"] == f"watcher-{i}"  # its own, not the first's
    await clear_faults(sandbox)
    assert (await finished_batch(stub, batch.batch_id)).state == batch_pb2.BATCH_STATE_COMPLETED
    again = await collect_within(stub, batch.batch_id)
    assert again[-1].state == batch_pb2.BATCH_STATE_COMPLETED


async def test_retry_after_under_the_cap_is_waited_out(sandbox_clock: FakeTime) -> None:
    """A 429 on the status poll asking for a second (under the cap) is waited out by the poller,
    exactly that long: the watch then goes on and ends OK on COMPLETED. (One upstream attempt
    per call, so the wait is the poller's, not the upstream client's own retry.)"""
    config = SandboxConfig(item_seconds=10.0, manifest_validation_seconds=0.0, clock=sandbox_clock)
    async with (
        SandboxServer(config, host="127.0.0.1", port=0) as server,
        sandbox_hub(sandbox_clock, server.url, max_attempts=1) as hub,
        client(server, TOKEN) as http,
    ):
        batch_id = (await sandbox_create(http, "https://e.com/a.mp3"))["batch_id"]
        await fault(
            server, status=429, count=1, retry_after=1, path_prefix="/v1/transcriptions/batch/"
        )
        seen = [o async for o in hub.watch(Credential(TOKEN, "caller"), batch_id)]
        assert seen[-1].status.status == "COMPLETED"
        assert sandbox_clock.sleeps[0] == 1.0  # the Retry-After, before any poll interval
        assert await upstream_count(server, STATUS_PATH) >= 2  # the 429, then the answers


def test_pending_call_backlog_follows_max_watches(gateway_config: GatewayConfig) -> None:
    """grpc core's backlog of calls not yet handed to the gateway holds every watch of
    --max-watches plus the unary calls working and queued (soft limit), twice that at most
    (hard limit), so that a burst reaches the gateway's own limits instead of ending a bare
    CANCELLED in core (grpc's defaults are 1,000 and 3,000)."""
    from gateway.server.process import server_options

    config = dataclasses.replace(
        gateway_config, max_watches=25_000, max_concurrent_calls=100, max_queued_calls=200
    )
    options = dict(server_options(config))
    assert options["grpc.server.max_pending_requests"] == 25_300
    assert options["grpc.server.max_pending_requests_hard_limit"] == 50_600
