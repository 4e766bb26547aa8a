"""The upstream rate budget end to end: a real gateway at --upstream-rate-limit 5 in front of a
real sandbox that answers 429 past 6 requests/s per token. Callers see no 429 however many
they are, creates overtake waiting reads, a read that cannot get its turn in time fails at once
without reaching the upstream, and a 429 from the upstream holds every call of the credential.

Counts are over whole runs of several seconds, with room for the burst; no latency is asserted
but lower bounds (a held request cannot come early, however noisy the machine)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    eventually,
    express,
    fault,
    retry_delay,
    rpc_error,
    source,
    upstream_count,
)
from tests.helpers.metrics import scrape

Stub = pb_grpc.BatchTranscriptionServiceStub
RATE = 5.0
BURST = 5
STATUS = "GET /v1/transcriptions/batch/{batch_id}/status"
CREATE = "POST /v1/transcriptions/batch"
CALL_TIMEOUT = 90.0
"""Seconds a queued call may take: 100 reads at 5/s need 20 s, a noisy machine more."""


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """The sandbox rate-limits each token at 6 requests/s (429 with Retry-After past it)."""
    return SandboxConfig(item_seconds=30.0, manifest_validation_seconds=0.0, rate_limit=6.0)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """The gateway spends at most 5 requests/s per credential; no answer is reused, and metrics
    count the upstream's answers."""
    return dataclasses.replace(
        gateway_config,
        upstream_rate_limit=RATE,
        default_timeout=CALL_TIMEOUT,
        status_reuse_window=0.0,
        status_max_age=0.0,
        metrics_listen="127.0.0.1:0",
    )


@pytest.fixture
async def callers(gateway: Gateway) -> AsyncIterator[list[Stub]]:
    """Three callers, each on its own channel, all spending the same token."""
    channels = [grpc.aio.insecure_channel(gateway.address) for _ in range(3)]
    try:
        yield [Stub(channel) for channel in channels]
    finally:
        for channel in channels:
            await channel.close(None)


def metadata(request_id: str | None = None) -> tuple[tuple[str, str], ...]:
    """The shared token, and a request id of the caller's own."""
    return (*bearer(TOKEN), ("x-request-id", request_id or uuid.uuid4().hex))


async def read(
    stub: Stub, batch_id: str, seconds: float = CALL_TIMEOUT
) -> pb.GetBatchStatusResponse:
    request = pb.GetBatchStatusRequest(batch_id=batch_id)
    response: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
        request, metadata=metadata(), timeout=seconds
    )
    return response


async def read_own(stub: Stub, seconds: float = CALL_TIMEOUT) -> grpc.StatusCode:
    """GetBatchStatus of a batch id that no other read names, so that each read is an upstream
    request of its own (identical concurrent reads share one); the upstream knows no such
    batch: the code it ends with, NOT_FOUND when it was answered."""
    error = await rpc_error(read(stub, str(uuid.uuid4()), seconds))
    return error.code()


async def create(stub: Stub, n: int) -> str:
    request = express(source(n), request_id=str(uuid.uuid4()))
    response: pb.CreateBatchResponse = await stub.CreateBatch(
        request, metadata=metadata(), timeout=CALL_TIMEOUT
    )
    return response.batch_id


async def settle(gateway: Gateway) -> None:
    """Wait until the bucket is full again (nothing queued, a burst's worth of time passed)."""
    budget = gateway.rate_budget
    assert budget is not None
    await eventually(lambda: asyncio.sleep(0, budget.waiting), lambda n: n == 0)
    await asyncio.sleep(BURST / RATE + 0.2)


async def waiting_at_least(gateway: Gateway, n: int) -> None:
    budget = gateway.rate_budget
    assert budget is not None
    await eventually(
        lambda: asyncio.sleep(0, budget.waiting), lambda count: count >= n, interval=0.01
    )


async def test_a_hundred_reads_from_three_callers_stay_under_the_rate_without_a_429(
    gateway: Gateway, sandbox: SandboxServer, callers: list[Stub]
) -> None:
    """100 concurrent reads of one credential (each of its own batch) from three callers are all
    answered by the upstream; it sees exactly 100 requests (none answered 429, so none
    retried), no faster than 5/s plus the burst; each token's wait is counted by priority."""
    await create(callers[0], 1)
    await settle(gateway)
    before = await upstream_count(sandbox, STATUS)
    started = time.monotonic()
    codes = await asyncio.gather(*(read_own(callers[i % 3]) for i in range(100)))
    elapsed = time.monotonic() - started
    assert set(codes) == {grpc.StatusCode.NOT_FOUND}
    assert await upstream_count(sandbox, STATUS) - before == 100
    assert RATE * elapsed + BURST + 1 >= 100, elapsed
    metrics = await scrape(gateway.metrics_port)
    assert metrics.value("sofer_gateway_upstream_requests_total", status_class="429") == 0
    waits = metrics.value("sofer_gateway_upstream_rate_budget_wait_seconds_count", priority="read")
    assert waits == 100
    assert (
        metrics.value("sofer_gateway_upstream_rate_budget_wait_seconds_count", priority="create")
        == 1
    )


async def test_creates_are_served_before_reads_that_waited_longer(
    gateway: Gateway, sandbox: SandboxServer, callers: list[Stub]
) -> None:
    """Twenty-five reads, twenty of them waiting for tokens; three creates sent after them
    reach the upstream first: many of the reads end after the last create."""
    await settle(gateway)
    ended: list[str] = []

    async def track(kind: str, call: asyncio.Future[object] | object) -> None:
        await call  # type: ignore[misc]
        ended.append(kind)

    reads = [asyncio.create_task(track("read", read_own(callers[i % 3]))) for i in range(25)]
    await waiting_at_least(gateway, 15)
    creates = [asyncio.create_task(track("create", create(callers[i], i + 2))) for i in range(3)]
    await asyncio.gather(*reads, *creates)
    last_create = max(i for i, kind in enumerate(ended) if kind == "create")
    assert ended[last_create + 1 :].count("read") >= 5, ended


async def test_a_read_that_cannot_get_its_turn_in_time_fails_at_once_unsent(
    gateway: Gateway, sandbox: SandboxServer, callers: list[Stub]
) -> None:
    """With 25 reads queued (5 s of tokens), a read with a 2 s deadline fails at once
    RESOURCE_EXHAUSTED, UPSTREAM_QUOTA_EXHAUSTED, with RetryInfo past its deadline, well
    before the deadline (not DEADLINE_EXCEEDED); the upstream never sees it."""
    await settle(gateway)
    before = await upstream_count(sandbox, STATUS)
    reads = [asyncio.create_task(read_own(callers[i % 3])) for i in range(30)]
    await waiting_at_least(gateway, 20)
    started = time.monotonic()
    error = await rpc_error(read(callers[1], str(uuid.uuid4()), seconds=2.0))
    elapsed = time.monotonic() - started
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "UPSTREAM_QUOTA_EXHAUSTED")
    assert retry_delay(error) >= 2.0
    assert elapsed < 2.0
    await asyncio.gather(*reads)
    assert await upstream_count(sandbox, STATUS) - before == 30
    metrics = await scrape(gateway.metrics_port)
    assert metrics.value("sofer_gateway_upstream_rate_budget_exhausted_total", priority="read") == 1


async def test_a_429_from_the_upstream_pauses_the_credential_for_other_calls(
    gateway: Gateway, sandbox: SandboxServer, callers: list[Stub]
) -> None:
    """The upstream answers one read 429 with Retry-After 4: that read fails RATE_LIMITED (its
    1 s deadline is shorter), and the next read of the credential, another batch, is held
    until the pause ends; the pause shows in the metrics while it lasts."""
    first, second = await create(callers[0], 1), await create(callers[0], 2)
    await settle(gateway)
    await fault(
        sandbox, status=429, retry_after=4, count=1, path_prefix=f"/v1/transcriptions/batch/{first}"
    )
    error = await rpc_error(read(callers[0], first, seconds=1.0))
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    limited = time.monotonic()
    metrics = await scrape(gateway.metrics_port)
    assert metrics.value("sofer_gateway_upstream_rate_budget_pauses_total") == 1
    assert metrics.value("sofer_gateway_upstream_rate_budget_paused_seconds") > 0
    before = await upstream_count(sandbox, STATUS)
    answer = await read(callers[1], second)
    assert answer.batch_status.batch_id == second
    assert time.monotonic() - limited >= 2.5  # of the 4 s pause
    assert await upstream_count(sandbox, STATUS) - before == 1
