"""The benchmark's burst client (bench/watch_client.py) against a real gateway and sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sofer.batch.v1.batch_service_pb2_grpc import BatchTranscriptionServiceStub as Stub
from sofer_sandbox import SandboxConfig

from bench.watch_client import Client
from gateway.server.process import Gateway
from tests.conftest import TOKEN
from tests.helpers.calls import create_batch

STREAMS = 3


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items that take a minute: no watch ends by itself during a test."""
    return SandboxConfig(item_seconds=60.0, manifest_validation_seconds=0.0)


async def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    """Wait (generously) until `condition()` holds."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - state of the client's and gateway's tasks
            await asyncio.sleep(0.01)


async def test_burst_streams_stay_open_until_every_client_has_settled(
    gateway: Gateway, stub: Stub
) -> None:
    """A burst client whose streams all have their first message keeps them open until the
    runner releases it (which it does once every client process has settled), then cancels
    them: one process's cancellations never land in another's burst, and the streams are
    cancelled once all had one, as the scenario says."""
    batch = await create_batch(stub, "https://e.com/long.mp3")
    spec = {
        "mode": "burst",
        "target": gateway.address,
        "token": TOKEN,
        "batch_ids": [batch.batch_id],
        "streams": STREAMS,
        "timeout": 30,
    }
    released = asyncio.Event()
    client = Client(spec, released.wait)
    await client.connect()
    hub = gateway.hub
    assert hub is not None
    try:
        burst = asyncio.create_task(client.burst())
        await until(lambda: len(client.tally.first_latencies) == STREAMS)
        await asyncio.sleep(0.3)  # time enough to cancel, had it not waited
        assert not burst.done()
        assert hub.open_watches == STREAMS
        released.set()
        await asyncio.wait_for(burst, 30)
        await until(lambda: hub.open_watches == 0)
    finally:
        await client.close()
    assert client.tally.outcomes == {"open": STREAMS}
    assert not client.tally.refused
