"""What the status hub's log lines say of a watch's credential: never the token, never the
tenant key (an unsalted SHA-256 of the token, which a guessed token could be checked against);
with Redis, the tenant as Redis names it (a keyed hash), else nothing."""

from __future__ import annotations

import dataclasses
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc

from gateway.access.credentials import Credential
from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from gateway.state.redis_client import KEY_SECRET_ENV, TenantHasher
from tests.conftest import TOKEN, bearer
from tests.helpers.redis_server import RedisServer
from tests.helpers.streams import drain

SECRET = "redis-key-secret-for-the-hub-logs"
POLL_EVENTS = ("poll ", "status poller")
"""How the hub's poller lines start (`poll ended the watches`, `poll failed; ...`)."""


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, for one test."""
    with RedisServer(tmp_path) as server:
        yield server


async def watch_unknown_batch(config: GatewayConfig) -> None:
    """A watch of a batch the upstream does not know: its poller logs why it ended it."""
    async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as channel:
        stub = pb_grpc.BatchTranscriptionServiceStub(channel)
        request = pb.WatchBatchStatusRequest(batch_id=str(uuid.uuid4()))
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await drain(stub.WatchBatchStatus(request, metadata=bearer(), timeout=10))
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def hub_lines(out: io.StringIO) -> list[dict[str, Any]]:
    """The hub's poller's log lines."""
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return [line for line in lines if str(line.get("event", "")).startswith(POLL_EVENTS)]


def assert_no_tenant_key(out: io.StringIO) -> None:
    """Nothing logged holds the token or the start of its tenant key (8 hex digits: shorter
    runs turn up by chance in ids)."""
    tenant = Credential(TOKEN, "caller").tenant
    assert TOKEN not in out.getvalue()
    assert tenant[:8] not in out.getvalue()


async def test_a_watch_logs_no_tenant_key_without_redis(
    gateway_config: GatewayConfig, logs: io.StringIO
) -> None:
    """Without Redis, the poller's lines name the batch and not the tenant at all."""
    await watch_unknown_batch(gateway_config)
    lines = hub_lines(logs)
    assert lines, logs.getvalue()
    assert all("tenant" not in line for line in lines)
    assert_no_tenant_key(logs)


async def test_a_watch_logs_the_tenant_as_redis_names_it(
    gateway_config: GatewayConfig,
    redis_server: RedisServer,
    logs: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With Redis, the poller's lines name the tenant by its keyed hash, as Redis's keys do
    (useless to anyone without the deployment's secret), never by its tenant key."""
    monkeypatch.setenv(KEY_SECRET_ENV, SECRET)
    await watch_unknown_batch(dataclasses.replace(gateway_config, redis_url=redis_server.url))
    lines = hub_lines(logs)
    assert lines, logs.getvalue()
    keyed = TenantHasher(SECRET.encode())(Credential(TOKEN, "caller").tenant)
    assert {line.get("tenant") for line in lines} == {keyed}
    assert_no_tenant_key(logs)
