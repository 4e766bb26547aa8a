"""Watch-then-cancel soak: streams that end by cancellation leave no tasks, pollers or memory."""

from __future__ import annotations

import asyncio
import dataclasses
import os

import pytest
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import bearer

CYCLES = 2000
WARM_UP = 300


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """A batch that stays in progress for the whole soak."""
    return SandboxConfig(item_seconds=600, manifest_validation_seconds=0.0)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """Quiet logs are not needed: the defaults are fine, but keep polling slow and cheap."""
    return dataclasses.replace(gateway_config, watch_fast_interval=5.0)


def rss_bytes() -> int:
    """This process's resident memory (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_watch_then_cancel_cycles_leak_nothing(
    gateway: Gateway, stub: pb_grpc.BatchTranscriptionServiceStub
) -> None:
    """2,000 watches, each cancelled after its first message, leave the task count where it
    was, no open watch or poller behind, and memory bounded."""
    hub = gateway.hub
    assert hub is not None
    created = await stub.CreateBatch(
        pb.CreateBatchRequest(
            info=batch_pb2.BatchInfo(),
            audio_sources=[batch_pb2.AudioSource(audio_url="https://e.com/long.mp3")],
        ),
        metadata=bearer(),
    )
    request = pb.WatchBatchStatusRequest(batch_id=created.batch_id)

    async def cycle() -> None:
        call = stub.WatchBatchStatus(request, metadata=bearer())
        first = await call.read()
        assert isinstance(first, pb.WatchBatchStatusResponse)
        call.cancel()

    async def settle() -> None:
        async with asyncio.timeout(10):
            while hub.open_watches or hub.active_pollers:  # noqa: ASYNC110 - state of other tasks
                await asyncio.sleep(0.01)

    for _ in range(WARM_UP):
        await cycle()
    await settle()
    tasks_before = len(asyncio.all_tasks())
    rss_before = rss_bytes()
    for _ in range(CYCLES - WARM_UP):
        await cycle()
    await settle()
    await asyncio.sleep(0.2)  # let the server finish the cancelled calls' bookkeeping
    assert len(asyncio.all_tasks()) <= tasks_before + 2
    growth = rss_bytes() - rss_before
    assert growth < 40 * 1024 * 1024, f"RSS grew by {growth / 1e6:.1f} MB over the soak"
