"""--watch-max-retry-after end to end: the cap a watch poller waits out reaches the status hub.

Needs gateway/server/process.py to pass `max_retry_after=config.watch_max_retry_after` to StatusHub.
"""

from __future__ import annotations

import dataclasses

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import bearer
from tests.helpers.calls import assert_error, create_batch, fault, retry_delay, rpc_error

Stub = pb_grpc.BatchTranscriptionServiceStub

CAP = 2.0
RETRY_AFTER = 5  # over CAP, under the 30 s default: only the configured cap ends the watch


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items finish in about a second."""
    return SandboxConfig(item_seconds=0.6, manifest_validation_seconds=0.0)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """A small cap, fast polling, and one upstream attempt per call (so a 429 reaches the
    poller rather than being waited out by the upstream client's own retry)."""
    return dataclasses.replace(
        gateway_config,
        watch_max_retry_after=CAP,
        watch_fast_interval=0.05,
        watch_slow_interval=0.2,
        max_attempts=1,
    )


async def test_retry_after_past_the_configured_cap_ends_the_watch(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer
) -> None:
    """With --watch-max-retry-after 2, a 429 asking for 5 s (which the 30 s default would wait
    out) ends the watch RESOURCE_EXHAUSTED (RATE_LIMITED) with RetryInfo of those 5 s."""
    assert gateway.hub is not None
    assert gateway.hub.max_retry_after == CAP
    batch = await create_batch(stub, "https://e.com/a.mp3")
    await fault(
        sandbox,
        status=429,
        count=1,
        retry_after=RETRY_AFTER,
        path_prefix="/v1/transcriptions/batch/",
    )
    call = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch.batch_id), metadata=bearer(), timeout=60
    )
    error = await rpc_error(call.read())
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert retry_delay(error) >= RETRY_AFTER


@pytest.mark.parametrize("gateway_config", [{"upstream_rate_limit": 5.0}], indirect=True)
async def test_a_budget_paused_by_a_429_past_the_cap_ends_a_stateless_watch(
    gateway: Gateway, stub: Stub, sandbox: SandboxServer
) -> None:
    """With --upstream-rate-limit, a caller's read that gets a 429 asking for 120 s pauses the
    credential's rate budget; a watch opened then, with no state yet, is refused its poll by
    the paused budget, and that counts as the 429 itself: the watch ends at once
    RESOURCE_EXHAUSTED (RATE_LIMITED) with RetryInfo of the upstream's wait, instead of staying
    silent until its deadline."""
    batch = await create_batch(stub, "https://e.com/a.mp3")
    await fault(sandbox, status=429, count=1, retry_after=120, path_prefix="/v1/transcriptions/")
    read = pb.GetBatchStatusRequest(batch_id=batch.batch_id)
    error = await rpc_error(stub.GetBatchStatus(read, metadata=bearer(), timeout=5))
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    call = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch.batch_id), metadata=bearer(), timeout=20
    )
    error = await rpc_error(call.read())
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert retry_delay(error) > 60  # the upstream's 120 s, past the budget's 60 s pause
