"""Overload: the gateway shedding load fast in front of a slow upstream, and gRPC's own
message-size limits. (The concurrency limiter on its own: test_limiter.py.)"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import bearer
from tests.helpers import REPO
from tests.helpers.calls import (
    assert_error,
    assert_healthy,
    create_express,
    detail,
    retry_delay,
    rpc_error,
    source,
    until,
    upstream_total,
)
from tests.helpers.held import Hold, held_upstream
from tests.helpers.streams import drain

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
README = REPO / "README.md"
MANIFESTS_PREFIX = "/v1/transcriptions/batch-files"
STATUS_PREFIX = "/v1/transcriptions/batch/"


# -- the gateway under overload ---------------------------------------------------------------

LIMIT, QUEUE, CALLS = 4, 4, 20


@pytest.fixture
def hold() -> Hold:
    """The slow upstream of these tests: status reads are held until the test releases them
    (a test may point it at other requests before making any)."""
    return Hold(method="GET", path_prefix=STATUS_PREFIX)


@pytest.fixture
async def upstream_url(sandbox: SandboxServer, hold: Hold) -> AsyncIterator[str]:
    """The sandbox behind a proxy that holds what `hold` takes."""
    async with held_upstream(sandbox.url, hold) as url:
        yield url


@pytest.fixture
def gateway_config(
    gateway_config: GatewayConfig, upstream_url: str, request: pytest.FixtureRequest
) -> GatewayConfig:
    """A small limit and queue in front of the held upstream (queued calls may wait long: the
    held calls bound the wait), with whatever a test's indirect parameter changes. The tests
    count each call's own slot and upstream request, so each call reads a batch of its own
    (identical reads would share one upstream call)."""
    changes = {
        "upstream_url": upstream_url,
        "max_concurrent_calls": LIMIT,
        "max_queued_calls": QUEUE,
        "max_queue_wait": 60.0,
        "default_timeout": 60.0,
        **getattr(request, "param", {}),
    }
    return dataclasses.replace(gateway_config, **changes)


async def test_overload_sheds_the_excess_fast_and_serves_the_rest(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer, gateway: Gateway, hold: Hold
) -> None:
    """Twenty concurrent calls in front of a slow upstream with 4 slots and 4 queue places: the
    other 12 are refused RESOURCE_EXHAUSTED GATEWAY_OVERLOADED at once, all of them while the
    admitted calls are still waiting for the upstream, and never reach it; the 4 + 4 admitted
    ones then answer correctly. Afterwards the gateway is healthy."""
    batches = [(await create_express(stub, source(n))).batch_id for n in range(CALLS)]
    before = await upstream_total(sandbox)
    outcomes: list[str] = []

    async def one(batch_id: str) -> None:
        try:
            response = await stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=60
            )
        except grpc.aio.AioRpcError as exc:
            error = exc
        else:
            assert response.batch_status.batch_id == batch_id
            assert response.batch_status.total_count == 1
            outcomes.append("ok")
            return
        outcomes.append("shed")
        assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "GATEWAY_OVERLOADED")
        assert 0 < retry_delay(error) <= 5
        quota = detail(error, error_details_pb2.QuotaFailure)
        assert quota.violations[0].subject == "gateway concurrency limit"

    calls = [asyncio.ensure_future(one(batch_id)) for batch_id in batches]
    await hold.until_held(LIMIT)
    await until(lambda: len(outcomes) == CALLS - LIMIT - QUEUE)
    # Every refusal came while the admitted calls were held: the excess did not wait.
    assert outcomes == ["shed"] * (CALLS - LIMIT - QUEUE)
    assert gateway.limiter is not None
    assert (gateway.limiter.active, gateway.limiter.queued) == (LIMIT, QUEUE)
    hold.release()
    await asyncio.gather(*calls)
    assert outcomes.count("ok") == LIMIT + QUEUE
    assert await upstream_total(sandbox) - before == LIMIT + QUEUE
    assert (gateway.limiter.active, gateway.limiter.queued) == (0, 0)
    await assert_healthy(channel, stub)


@pytest.mark.parametrize(
    "gateway_config",
    [{"max_concurrent_calls": 1, "max_queued_calls": 0}],
    indirect=True,
)
async def test_watches_do_not_hold_unary_slots(
    stub: Stub, channel: grpc.aio.Channel, gateway: Gateway, hold: Hold
) -> None:
    """WatchBatchStatus has its own limit: with the one unary slot held by a slow call, a watch
    still opens and streams, and an open watch never takes the slot from unary calls."""
    hold.path_prefix = MANIFESTS_PREFIX  # the slow call is a ListManifests; polls pass
    created = await create_express(stub, source(1))
    slow = asyncio.ensure_future(
        stub.ListManifests(pb.ListManifestsRequest(), metadata=bearer(), timeout=60)
    )
    await hold.until_held(1)
    assert gateway.limiter is not None
    limiter = gateway.limiter
    assert limiter.active == 1  # the slow call holds the slot
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
    hold.release()
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
    stub: Stub, gateway: Gateway, hold: Hold
) -> None:
    """With every slot and queue place taken, an invalid request still gets INVALID_ARGUMENT
    naming its field (validation comes before the concurrency limit), while a valid one is
    shed GATEWAY_OVERLOADED."""
    created = [await create_express(stub, source(n)) for n in range(LIMIT + QUEUE + 1)]
    slow = [
        asyncio.ensure_future(
            stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=batch.batch_id), metadata=bearer(), timeout=60
            )
        )
        for batch in created[:-1]
    ]
    assert gateway.limiter is not None
    limiter = gateway.limiter
    await hold.until_held(LIMIT)
    await until(lambda: (limiter.active, limiter.queued) == (LIMIT, QUEUE))
    invalid = await rpc_error(stub.GetBatchStatus(pb.GetBatchStatusRequest(), metadata=bearer()))
    assert_error(invalid, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert "batch_id" in (invalid.details() or "")
    request = pb.GetBatchStatusRequest(batch_id=created[-1].batch_id)
    shed = await rpc_error(stub.GetBatchStatus(request, metadata=bearer()))
    assert_error(shed, grpc.StatusCode.RESOURCE_EXHAUSTED, "GATEWAY_OVERLOADED")
    hold.release()
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
