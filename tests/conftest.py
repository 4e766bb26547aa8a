"""Shared fixtures: real servers on loopback, port 0, one per test (no shared event loops)."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import httpx
import pytest
import structlog
from sofer.batch.v1 import batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.connect.server import faces_of
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
def protocol() -> str:
    """The protocol the `stub` fixture speaks: "grpc", unless a module runs its cases through
    both (`pytestmark = BOTH_PROTOCOLS`): then "connect" too, over the gateway's HTTP port."""
    return "grpc"


BOTH_PROTOCOLS = pytest.mark.both_protocols
"""Runs every test (of a module, as `pytestmark`) that uses a gateway once per protocol: the
same cases, the same assertions; tests without one run once."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_protocols: run the test once over gRPC and once over Connect"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise `protocol` for the tests marked `both_protocols` that use it."""
    marked = metafunc.definition.get_closest_marker("both_protocols") is not None
    if marked and "protocol" in metafunc.fixturenames:
        metafunc.parametrize("protocol", ["grpc", "connect"])


@pytest.fixture
async def gateway(gateway_config: GatewayConfig, protocol: str) -> AsyncIterator[Gateway]:
    """The real gateway (grpc.aio server) on 127.0.0.1, port 0, in front of the sandbox; with
    `http_listen` set, or a `protocol` other than gRPC, its HTTP port too (`gateway.faces`)."""
    config = gateway_config
    if protocol != "grpc" and not config.http_listen:
        config = dataclasses.replace(config, http_listen="127.0.0.1:0")
    async with Gateway(config, faces_of(config)) as running:
        yield running


@pytest.fixture
async def channel(gateway: Gateway) -> AsyncIterator[grpc.aio.Channel]:
    """A real gRPC channel to the test's gateway."""
    async with grpc.aio.insecure_channel(gateway.address) as ch:
        yield ch


@pytest.fixture
def connect_codec() -> str:
    """The form the Connect `stub` sends messages in: JSON (what curl and browsers send), or
    "proto" where a module overrides it."""
    return "json"


@pytest.fixture
async def stub(
    channel: grpc.aio.Channel, gateway: Gateway, protocol: str, connect_codec: str
) -> AsyncIterator[Any]:
    """A BatchTranscriptionService stub on the test's channel; for `protocol` "connect", a
    Connect client of the same methods on the gateway's HTTP port (tests/helpers/connect.py)."""
    if protocol == "grpc":
        yield batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
        return
    from tests.helpers.connect import ConnectStub

    url = f"http://127.0.0.1:{gateway.faces[0].port}"
    async with httpx.AsyncClient() as client:
        yield ConnectStub(url, client=client, codec=connect_codec)
