"""Watches under the upstream rate budget: polls come last (Priority.POLL) and stretch their
cadence to what callers leave, so watches go on, later, and never fail for the budget. A real
gateway at --upstream-rate-limit RATE in front of a sandbox that answers 429 past 1.2 x RATE
per token.

The budget runs on real time (its queue wakes on the event loop's timers), so these tests do
too; RATE is high enough that the runs take seconds, not tens of them."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from pathlib import Path

import grpc
import pytest
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from gateway.state.redis_client import KEY_SECRET_ENV
from tests.conftest import bearer
from tests.helpers.calls import batch_status, create_express, read_own, source, upstream_total
from tests.helpers.metrics import scrape
from tests.helpers.redis_server import RedisServer

Stub = pb_grpc.BatchTranscriptionServiceStub
WATCH_TIMEOUT = 180.0
RATE, BURST = 20.0, 5
"""The gateways' --upstream-rate-limit and --upstream-burst."""


async def create(stub: Stub, n: int) -> str:
    """A one-item express batch; its id."""
    return (await create_express(stub, source(n))).batch_id


async def read(stub: Stub, batch_id: str) -> batch_pb2.BatchStatus:
    """A GetBatchStatus through the gateway (its own upstream read: reads are not shared)."""
    return await batch_status(stub, batch_id)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items finish 1.5 s apart; the sandbox answers 429 past 1.2 x RATE requests/s per token."""
    return SandboxConfig(item_seconds=1.5, manifest_validation_seconds=0.0, rate_limit=1.2 * RATE)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """RATE requests/s (burst BURST) per credential; no answer reused; fast watch polls."""
    return dataclasses.replace(
        gateway_config,
        upstream_rate_limit=RATE,
        upstream_burst=BURST,
        default_timeout=90.0,
        status_reuse_window=0.0,
        status_max_age=0.0,
        watch_fast_interval=0.5,
        watch_slow_interval=2.0,
        metrics_listen="127.0.0.1:0",
    )


async def watch(stub: Stub, batch_id: str) -> list[pb.WatchBatchStatusResponse]:
    call = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=WATCH_TIMEOUT
    )
    return [message async for message in call]


async def test_fifty_watches_and_a_hundred_reads_stay_under_the_rate_and_all_finish(
    gateway: Gateway, sandbox: SandboxServer, stub: Stub
) -> None:
    """Five batches with ten watchers each, and 100 reads at the same time: no 429 from the
    upstream, no more than RATE requests/s (plus the burst) upstream, every read answered, and
    every watch ends OK on COMPLETED, its progress never going back; polls waited for the
    budget (they came last; a poll refused for its own deadline is tried again later) rather
    than failing a watch."""
    batches = [await create(stub, n) for n in range(5)]
    before = await upstream_total(sandbox)
    started = time.monotonic()
    watches = [asyncio.ensure_future(watch(stub, b)) for b in batches for _ in range(10)]
    answers = await asyncio.gather(*(read_own(stub) for _ in range(100)))
    streams = await asyncio.gather(*watches)
    elapsed = time.monotonic() - started
    assert set(answers) == {grpc.StatusCode.NOT_FOUND}  # each read its own batch id: answered
    for messages in streams:
        assert messages[-1].batch_status.state == batch_pb2.BATCH_STATE_COMPLETED
        steps = [m.batch_status.completed_count for m in messages]
        assert steps == sorted(steps)
        for before_state, after_state in itertools.pairwise(messages):
            assert before_state.batch_status != after_state.batch_status
    sent = await upstream_total(sandbox) - before
    assert sent <= RATE * elapsed + BURST + 1, (sent, elapsed)
    metrics = await scrape(gateway.metrics_port)
    assert metrics.value("sofer_gateway_upstream_requests_total", status_class="429") == 0
    exhausted = "sofer_gateway_upstream_rate_budget_exhausted_total"
    assert metrics.value(exhausted, priority="read") == 0  # every caller was served
    polls = metrics.value("sofer_gateway_upstream_rate_budget_wait_seconds_count", priority="poll")
    assert polls > 0
    slow = metrics.value("sofer_gateway_upstream_rate_budget_wait_seconds_sum", priority="poll")
    assert slow > 0  # polls waited behind the reads


async def test_a_watch_with_no_state_yet_waits_for_the_budget_instead_of_failing(
    gateway: Gateway, sandbox: SandboxServer, stub: Stub
) -> None:
    """A watch opened behind 12 s worth of queued reads (more than the 10 s poll timeout) gets
    its first message once the reads are through, instead of an error."""
    batch_id = await create(stub, 9)
    reads = [asyncio.ensure_future(read_own(stub)) for _ in range(int(12 * RATE))]
    await asyncio.sleep(0.2)
    first = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=WATCH_TIMEOUT
    )
    message = await first.read()
    assert isinstance(message, pb.WatchBatchStatusResponse)
    assert message.batch_status.batch_id == batch_id
    first.cancel()
    await asyncio.gather(*reads)


async def test_two_replicas_on_redis_share_the_budget_with_their_watches(
    gateway_config: GatewayConfig,
    sandbox: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two replicas sharing one Redis (one bucket, one poller per batch): 25 watches and 50
    reads on each, at once: together no more than RATE requests/s (plus the burst) upstream, no
    429, every read answered and every watch ends OK on COMPLETED."""
    monkeypatch.setenv(KEY_SECRET_ENV, "redis-key-secret-for-the-tests-0123")
    with RedisServer(tmp_path) as redis_server:
        config = dataclasses.replace(gateway_config, redis_url=redis_server.url)
        async with Gateway(config) as first, Gateway(config) as second:
            channels = [grpc.aio.insecure_channel(g.address) for g in (first, second)]
            try:
                stubs = [Stub(channel) for channel in channels]
                batches = [await create(stubs[0], n) for n in range(5)]
                before = await upstream_total(sandbox)
                started = time.monotonic()
                watches = [
                    asyncio.ensure_future(watch(stubs[i % 2], batches[i % 5])) for i in range(50)
                ]
                reads = [read_own(stubs[i % 2]) for i in range(100)]
                answers = await asyncio.gather(*reads)
                streams = await asyncio.gather(*watches)
                elapsed = time.monotonic() - started
            finally:
                for channel in channels:
                    await channel.close(None)
            assert set(answers) == {grpc.StatusCode.NOT_FOUND}
            for messages in streams:
                assert messages[-1].batch_status.state == batch_pb2.BATCH_STATE_COMPLETED
            sent = await upstream_total(sandbox) - before
            assert sent <= RATE * elapsed + BURST + 1, (sent, elapsed)
            for gateway in (first, second):
                metrics = await scrape(gateway.metrics_port)
                assert (
                    metrics.value("sofer_gateway_upstream_requests_total", status_class="429") == 0
                )
