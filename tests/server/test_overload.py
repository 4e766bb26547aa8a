"""Overload: the concurrency limiter on its own (admit, queue, shed, cancel, FIFO), the gateway
shedding load fast in front of a slow upstream, and gRPC's own message-size limits."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxServer

from gateway.config import GatewayConfig
from gateway.contract.errors import GatewayError, Reason
from gateway.server.limiter import ConcurrencyLimiter
from gateway.server.process import Gateway
from tests.conftest import bearer
from tests.helpers import REPO
from tests.helpers.calls import (
    assert_error,
    assert_healthy,
    create_express,
    detail,
    fault,
    retry_delay,
    rpc_error,
    source,
    upstream_total,
)
from tests.helpers.streams import drain

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
README = REPO / "README.md"
MANIFESTS_PREFIX = "/v1/transcriptions/batch-files"
STATUS_PREFIX = "/v1/transcriptions/batch/"


# -- the limiter on its own -------------------------------------------------------------------


async def _settle() -> None:
    """Let every ready callback and task run (a few loop iterations)."""
    for _ in range(5):
        await asyncio.sleep(0)


def _assert_overloaded(error: GatewayError) -> None:
    assert error.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.reason is Reason.GATEWAY_OVERLOADED
    assert error.retry_after is not None
    assert error.retry_after > 0
    assert error.message


async def test_admits_at_once_under_the_limit() -> None:
    """Up to `limit` callers get a slot without waiting; releasing frees it."""
    limiter = ConcurrencyLimiter(2, max_queue=0, max_wait=0.0)
    await limiter.acquire(None)
    await limiter.acquire(None)
    assert (limiter.active, limiter.queued) == (2, 0)
    limiter.release()
    limiter.release()
    assert limiter.active == 0


async def test_queues_at_the_limit_and_admits_when_a_slot_frees() -> None:
    """At the limit a caller waits, and gets the slot the moment a holder releases it."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=60.0)
    await limiter.acquire(None)
    waiter = asyncio.create_task(limiter.acquire(None))
    await _settle()
    assert not waiter.done()
    assert (limiter.active, limiter.queued) == (1, 1)
    limiter.release()
    await waiter
    assert (limiter.active, limiter.queued) == (1, 0)
    limiter.release()
    assert limiter.active == 0


async def test_sheds_at_once_when_the_queue_is_full() -> None:
    """With the slots taken and the queue full, a caller is refused at once: RESOURCE_EXHAUSTED,
    GATEWAY_OVERLOADED, with a retry delay; the queued callers are unaffected."""
    limiter = ConcurrencyLimiter(1, max_queue=2, max_wait=60.0)
    await limiter.acquire(None)
    queued = [asyncio.create_task(limiter.acquire(None)) for _ in range(2)]
    await _settle()
    with pytest.raises(GatewayError) as caught:
        await limiter.acquire(None)
    _assert_overloaded(caught.value)
    assert "queue is full" in caught.value.message
    assert limiter.shed == 1
    assert (limiter.active, limiter.queued) == (1, 2)
    for _ in range(3):
        limiter.release()
        await _settle()
    await asyncio.gather(*queued)
    assert (limiter.active, limiter.queued) == (0, 0)


async def test_queue_of_zero_sheds_everything_past_the_limit() -> None:
    """`max_queue` 0: no waiting at all past the limit."""
    limiter = ConcurrencyLimiter(1, max_queue=0, max_wait=60.0)
    async with limiter.slot(None):
        with pytest.raises(GatewayError) as caught:
            await limiter.acquire(None)
        _assert_overloaded(caught.value)
    assert limiter.active == 0


async def test_sheds_at_once_when_the_deadline_has_passed() -> None:
    """A caller whose deadline is already spent is not queued at all."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=60.0)
    await limiter.acquire(None)
    with pytest.raises(GatewayError) as caught:
        await limiter.acquire(time.monotonic() - 1.0)
    _assert_overloaded(caught.value)
    assert limiter.queued == 0
    limiter.release()


async def test_a_queued_caller_gives_up_at_its_deadline_not_at_max_wait() -> None:
    """A queued caller waits no longer than its own deadline (shorter than `max_wait` here):
    it is shed while the slot is still held, and it leaves the queue."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=600.0)
    await limiter.acquire(None)
    started = time.monotonic()
    with pytest.raises(GatewayError) as caught:
        await limiter.acquire(started + 0.05)
    _assert_overloaded(caught.value)
    assert time.monotonic() - started < 300.0  # far from max_wait; the exact time is the loop's
    assert (limiter.active, limiter.queued) == (1, 0)
    limiter.release()
    assert limiter.active == 0


async def test_a_queued_caller_gives_up_after_max_wait() -> None:
    """Without a deadline, `max_wait` bounds the wait."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=0.05)
    async with limiter.slot(None):
        with pytest.raises(GatewayError) as caught:
            await limiter.acquire(None)
        _assert_overloaded(caught.value)
        assert limiter.queued == 0
    assert limiter.active == 0


async def test_cancel_while_queued_leaks_no_slot() -> None:
    """A caller cancelled while queued leaves the queue; its slot is never taken."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=60.0)
    await limiter.acquire(None)
    waiter = asyncio.create_task(limiter.acquire(None))
    await _settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (limiter.active, limiter.queued) == (1, 0)
    limiter.release()
    assert limiter.active == 0
    async with limiter.slot(None):  # the slot is usable again
        assert limiter.active == 1


async def test_cancel_right_after_the_hand_over_passes_the_slot_on() -> None:
    """A waiter handed a slot and cancelled before it could run passes the slot to the next
    waiter (or back to the pool): nothing leaks, nothing is lost."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=60.0)
    await limiter.acquire(None)
    first = asyncio.create_task(limiter.acquire(None))
    second = asyncio.create_task(limiter.acquire(None))
    await _settle()
    limiter.release()  # hands the slot to `first` ...
    first.cancel()  # ... which is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await first
    await second  # the slot went on to `second`
    assert (limiter.active, limiter.queued) == (1, 0)
    limiter.release()
    assert limiter.active == 0


async def test_cancel_of_the_body_releases_the_slot() -> None:
    """`slot()` releases on any exit of its body: error, cancellation."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=60.0)

    async def hold() -> None:
        async with limiter.slot(None):
            await asyncio.sleep(3600)

    holder = asyncio.create_task(hold())
    await _settle()
    assert limiter.active == 1
    holder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder
    with pytest.raises(RuntimeError):
        async with limiter.slot(None):
            raise RuntimeError("boom")
    assert limiter.active == 0


async def test_waiters_are_admitted_first_in_first_out() -> None:
    """Queued callers get slots in arrival order, and a newcomer never overtakes the queue."""
    limiter = ConcurrencyLimiter(1, max_queue=10, max_wait=60.0)
    order: list[int] = []

    async def caller(n: int) -> None:
        async with limiter.slot(None):
            order.append(n)
            await asyncio.sleep(0)

    await limiter.acquire(None)
    tasks = []
    for n in range(6):
        tasks.append(asyncio.create_task(caller(n)))
        await _settle()  # each is queued before the next arrives
    assert limiter.queued == 6
    limiter.release()
    await asyncio.gather(*tasks)
    assert order == list(range(6))
    assert (limiter.active, limiter.queued) == (0, 0)


async def test_settings_that_cannot_work_are_refused() -> None:
    """A limit below 1 or a negative queue or wait is a programming error."""
    with pytest.raises(ValueError, match="limit"):
        ConcurrencyLimiter(0, max_queue=1, max_wait=1.0)
    with pytest.raises(ValueError, match="max_queue"):
        ConcurrencyLimiter(1, max_queue=-1, max_wait=1.0)


# -- the gateway under overload ---------------------------------------------------------------

LIMIT, QUEUE, CALLS = 4, 4, 20
SLOW = 4.0


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig, request: pytest.FixtureRequest) -> GatewayConfig:
    """A small limit and queue (queued calls may wait long: the slow calls bound the wait),
    with whatever a test's indirect parameter changes. Identical reads do not share here: these
    tests count each call's own slot and upstream request."""
    changes = {
        "unshared_reads": True,
        "max_concurrent_calls": LIMIT,
        "max_queued_calls": QUEUE,
        "max_queue_wait": 60.0,
        "default_timeout": 60.0,
        **getattr(request, "param", {}),
    }
    return dataclasses.replace(gateway_config, **changes)


async def test_overload_sheds_the_excess_fast_and_serves_the_rest(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer, gateway: Gateway
) -> None:
    """Twenty concurrent calls in front of a slow upstream with 4 slots and 4 queue places: the
    4 + 4 admitted ones answer correctly (late, as the upstream is slow), the other 12 are
    refused RESOURCE_EXHAUSTED GATEWAY_OVERLOADED at once, every one of them before any slow
    call finishes, and never reach the upstream. Afterwards the gateway is healthy."""
    created = await create_express(stub, source(1))
    before = await upstream_total(sandbox)
    await fault(sandbox, delay=SLOW, count=LIMIT + QUEUE, path_prefix=STATUS_PREFIX)
    finished: list[tuple[float, str]] = []

    async def one() -> None:
        try:
            response = await stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(), timeout=60
            )
        except grpc.aio.AioRpcError as exc:
            error = exc
        else:
            assert response.batch_status.batch_id == created.batch_id
            assert response.batch_status.total_count == 1
            finished.append((time.monotonic(), "ok"))
            return
        finished.append((time.monotonic(), "shed"))
        assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "GATEWAY_OVERLOADED")
        assert 0 < retry_delay(error) <= 5
        quota = detail(error, error_details_pb2.QuotaFailure)
        assert quota.violations[0].subject == "gateway concurrency limit"

    await asyncio.gather(*(one() for _ in range(CALLS)))
    outcomes = [outcome for _, outcome in sorted(finished)]
    assert outcomes.count("ok") == LIMIT + QUEUE
    assert outcomes.count("shed") == CALLS - LIMIT - QUEUE
    # Every refusal came before the first slow answer: the excess did not wait for capacity.
    assert outcomes == ["shed"] * (CALLS - LIMIT - QUEUE) + ["ok"] * (LIMIT + QUEUE)
    assert await upstream_total(sandbox) - before == LIMIT + QUEUE
    assert gateway.limiter is not None
    assert (gateway.limiter.active, gateway.limiter.queued) == (0, 0)
    await assert_healthy(channel, stub)


@pytest.mark.parametrize(
    "gateway_config",
    [{"max_concurrent_calls": 1, "max_queued_calls": 0}],
    indirect=True,
)
async def test_watches_do_not_hold_unary_slots(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer, gateway: Gateway
) -> None:
    """WatchBatchStatus has its own limit: with the one unary slot held by a slow call, a watch
    still opens and streams, and an open watch never takes the slot from unary calls."""
    created = await create_express(stub, source(1))
    await fault(sandbox, delay=SLOW, path_prefix=MANIFESTS_PREFIX)
    slow = asyncio.ensure_future(
        stub.ListManifests(pb.ListManifestsRequest(), metadata=bearer(), timeout=60)
    )
    assert gateway.limiter is not None
    limiter = gateway.limiter
    deadline = time.monotonic() + 30
    while limiter.active == 0:  # the slow call holds the slot
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    error = await rpc_error(
        stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer())
    )
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "GATEWAY_OVERLOADED")
    watch = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(), timeout=60
    )
    statuses = await drain(watch)  # the whole watch, to the terminal state
    assert statuses
    assert statuses[-1].batch_id == created.batch_id
    await slow
    # And the other way round: an open watch leaves the slot to unary calls.
    second = await create_express(stub, source(2))
    open_watch = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=second.batch_id), metadata=bearer(), timeout=60
    )
    first = await open_watch.read()
    assert first.batch_status.batch_id == second.batch_id
    assert limiter.active == 0
    await assert_healthy(channel, stub)
    open_watch.cancel()


@pytest.mark.parametrize(
    "gateway_config", [{"max_concurrent_calls": 1, "max_queued_calls": 0}], indirect=True
)
async def test_invalid_and_unauthenticated_calls_release_their_slot(
    stub: Stub, channel: grpc.aio.Channel, gateway: Gateway
) -> None:
    """Calls that fail validation or credentials never hold a slot: with one slot, call after
    call still gets through."""
    for _ in range(5):
        error = await rpc_error(stub.GetBatchStatus(pb.GetBatchStatusRequest(), metadata=bearer()))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        error = await rpc_error(stub.ListManifests(pb.ListManifestsRequest()))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert gateway.limiter is not None
    assert gateway.limiter.active == 0
    await assert_healthy(channel, stub)


async def test_bad_input_is_named_even_when_overloaded(
    stub: Stub, sandbox: SandboxServer, gateway: Gateway
) -> None:
    """With every slot and queue place taken, an invalid request still gets INVALID_ARGUMENT
    naming its field (validation comes before the concurrency limit), while a valid one is
    shed GATEWAY_OVERLOADED."""
    created = await create_express(stub, source(1))
    await fault(sandbox, delay=SLOW, count=LIMIT + QUEUE, path_prefix=STATUS_PREFIX)
    request = pb.GetBatchStatusRequest(batch_id=created.batch_id)

    async def slow_call() -> None:
        await stub.GetBatchStatus(request, metadata=bearer(), timeout=60)

    slow = [asyncio.create_task(slow_call()) for _ in range(LIMIT + QUEUE)]
    assert gateway.limiter is not None
    limiter = gateway.limiter
    async with asyncio.timeout(10):
        while (limiter.active, limiter.queued) != (LIMIT, QUEUE):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    invalid = await rpc_error(stub.GetBatchStatus(pb.GetBatchStatusRequest(), metadata=bearer()))
    assert_error(invalid, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert "batch_id" in (invalid.details() or "")
    shed = await rpc_error(stub.GetBatchStatus(request, metadata=bearer()))
    assert_error(shed, grpc.StatusCode.RESOURCE_EXHAUSTED, "GATEWAY_OVERLOADED")
    await asyncio.gather(*slow)


# -- message sizes ----------------------------------------------------------------------------

SMALL_LIMIT = 64 * 1024


@pytest.mark.parametrize(
    "gateway_config", [{"max_receive_message_bytes": SMALL_LIMIT}], indirect=True
)
async def test_request_over_the_receive_limit_is_refused_by_grpc(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer
) -> None:
    """A request larger than --max-receive-message-bytes is refused RESOURCE_EXHAUSTED by gRPC
    itself, before the gateway's code or the upstream sees it; one under it goes through."""
    line = '{"audio_url": "https://cdn.example.com/a.mp3"}\n'
    big = pb.UploadManifestRequest(jsonl=line * (2 * SMALL_LIMIT // len(line)))
    assert big.ByteSize() > SMALL_LIMIT
    error = await rpc_error(stub.UploadManifest(big, metadata=bearer(), timeout=10))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.details()
    assert await upstream_total(sandbox) == 0
    small = pb.UploadManifestRequest(jsonl=line * 10)
    response = await stub.UploadManifest(small, metadata=bearer(), timeout=10)
    assert response.manifest.item_count == 10
    await assert_healthy(channel, stub)


def test_readme_documents_both_message_size_limits_and_overload_flags() -> None:
    """The README's configuration table lists the size limits and the overload settings, and
    its error table has the overload reason."""
    text = README.read_text(encoding="utf-8")
    for flag in (
        "--max-receive-message-bytes",
        "--max-send-message-bytes",
        "--max-concurrent-calls",
        "--max-queued-calls",
        "--max-queue-wait",
    ):
        assert f"`{flag}`" in text, flag
    assert "`GATEWAY_OVERLOADED`" in text
