"""Shared fixtures: real servers on loopback, port 0, one per test (no shared event loops)."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
import structlog
from sofer.batch.v1 import batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.observability.logs import configure_logging
from gateway.server.process import Gateway

# Fixtures defined once in tests/helpers/, offered to every test module by name.
pytest_plugins = [
    "tests.helpers.clock",
    "tests.helpers.gateways",
    "tests.helpers.webhook_receiver",  # --- webhooks ---
    "tests.helpers.java",
    "tests.helpers.pki",
    "tests.helpers.redis_server",
]

TOKEN = "tenant-a-token"
OTHER_TOKEN = "tenant-b-token"


def bearer(token: str = TOKEN) -> tuple[tuple[str, str], ...]:
    """gRPC metadata carrying `token` as the caller's credential."""
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything logged during the test (DEBUG and up), as JSON lines; logging is restored
    afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    configure_logging("DEBUG", json=True, stream=out)
    try:
        yield out
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        root.handlers = handlers
        root.setLevel(level)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """The sandbox's settings for one test; override this fixture in a module to change them."""
    return SandboxConfig(item_seconds=0.5, manifest_validation_seconds=0.0)


@pytest.fixture
async def sandbox(sandbox_config: SandboxConfig) -> AsyncIterator[SandboxServer]:
    """A real sandbox HTTP server on 127.0.0.1, port 0, for the duration of one test."""
    async with SandboxServer(sandbox_config, host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def gateway_config(sandbox: SandboxServer, request: pytest.FixtureRequest) -> GatewayConfig:
    """The gateway's settings for one test: the test's sandbox, no key of its own, fast backoff,
    and whatever a test's indirect parameter changes
    (`@pytest.mark.parametrize("gateway_config", [{"api_key": KEY}], indirect=True)`).

    Override in a module to change them for all its tests (an override that takes an indirect
    parameter of another kind, a TLS mode, say, is seen here too: only a dict is applied).
    """
    param = getattr(request, "param", None)
    changes: dict[str, Any] = param if isinstance(param, dict) else {}
    base = GatewayConfig(
        listen="127.0.0.1:0",
        upstream_url=sandbox.url,
        api_key=None,
        default_timeout=10.0,
        backoff_base=0.01,
        backoff_cap=0.1,
        shutdown_grace=0.5,
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
async def gateway(gateway_config: GatewayConfig) -> AsyncIterator[Gateway]:
    """The real gateway (grpc.aio server) on 127.0.0.1, port 0, in front of the sandbox."""
    async with Gateway(gateway_config) as running:
        yield running


@pytest.fixture
async def channel(gateway: Gateway) -> AsyncIterator[grpc.aio.Channel]:
    """A real gRPC channel to the test's gateway."""
    async with grpc.aio.insecure_channel(gateway.address) as ch:
        yield ch


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> batch_service_pb2_grpc.BatchTranscriptionServiceStub:
    """A BatchTranscriptionService stub on the test's channel."""
    return batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
