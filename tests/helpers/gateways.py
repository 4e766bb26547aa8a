"""Gateways a test starts for itself, beside the `gateway` fixture's one (no tests here): replicas
on one Redis, or gateways with settings of their own; all stopped when the test ends.

`gateways` is a fixture (offered to every module through tests/conftest.py):
`running = await gateways.start(config, max_watches=1)` starts one on `config` with those
changes and gives it with a stub on a channel of its own. `embedded` is `make run`'s gateway,
which the README's examples are run against.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2_grpc

from gateway.config import GatewayConfig
from gateway.server.process import Gateway

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub


@dataclasses.dataclass
class Running:
    """A gateway started by a test, and a stub on a channel of its own."""

    gateway: Gateway
    channel: grpc.aio.Channel
    stub: Stub


class Gateways:
    """The gateways one test started, in order."""

    def __init__(self) -> None:
        self.running: list[Running] = []

    async def start(self, config: GatewayConfig, **changes: Any) -> Running:
        """Start a gateway on `config` with `changes`, with a stub on a fresh channel."""
        gateway = Gateway(dataclasses.replace(config, **changes))
        await gateway.start()
        channel = grpc.aio.insecure_channel(gateway.address)
        item = Running(gateway, channel, Stub(channel))
        self.running.append(item)
        return item

    async def stop_all(self) -> None:
        """Close every channel and stop every gateway (one already stopped is fine)."""
        for item in self.running:
            await item.channel.close(None)
            await item.gateway.stop(0)


@pytest.fixture
async def gateways() -> AsyncIterator[Gateways]:
    """Gateways the test starts (`await gateways.start(config, **changes)`), all stopped at
    its end."""
    started = Gateways()
    try:
        yield started
    finally:
        await started.stop_all()


MAKE_RUN = GatewayConfig(
    listen="127.0.0.1:0",
    upstream_url=None,
    api_key=None,
    sandbox_item_seconds=0.3,
    max_attempts=1,
    shutdown_grace=0.5,
)
"""`make run`'s gateway: no upstream URL and no key, so the embedded sandbox and its own key, on
loopback; quick items, and one upstream attempt per call, so that an upstream 503 reaches the
client as UNAVAILABLE (what the README's retry service configs are shown to retry)."""


@pytest.fixture
async def embedded() -> AsyncIterator[Gateway]:
    """A gateway on MAKE_RUN, stopped when the test ends."""
    async with Gateway(MAKE_RUN) as running:
        yield running
