"""The upstream rate budget on Redis (--redis-url): two gateways draw from one bucket per
credential, so together they stay under the rate; Redis holds keyed hashes, never a token; and
while Redis is down each gateway goes on with its own bucket, then shares again. Real
redis-server (tests/helpers/redis_server.py), real gateways, one sandbox at 6 requests/s per
token."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import redis.asyncio as aioredis
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from gateway.state.redis_client import KEY_SECRET_ENV
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import eventually, express, source, upstream_count
from tests.helpers.redis_server import RedisServer

Stub = pb_grpc.BatchTranscriptionServiceStub
RATE, BURST = 5.0, 5
STATUS = "GET /v1/transcriptions/batch/{batch_id}/status"
CALL_TIMEOUT = 60.0


@pytest.fixture(autouse=True)
def key_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both gateways share one Redis key secret, as replicas must."""
    monkeypatch.setenv(KEY_SECRET_ENV, "rate-budget-secret-for-the-tests-0123")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, for one test."""
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """The sandbox rate-limits each token at 6 requests/s."""
    return SandboxConfig(item_seconds=30.0, manifest_validation_seconds=0.0, rate_limit=6.0)


@pytest.fixture
def replica_config(gateway_config: GatewayConfig, redis_server: RedisServer) -> GatewayConfig:
    """A replica's settings: 5 requests/s per credential, shared through the test's Redis."""
    return dataclasses.replace(
        gateway_config,
        redis_url=redis_server.url,
        upstream_rate_limit=RATE,
        default_timeout=CALL_TIMEOUT,
        status_reuse_window=0.0,
        status_max_age=0.0,
    )


@pytest.fixture
async def stubs(replica_config: GatewayConfig) -> AsyncIterator[list[tuple[Gateway, Stub]]]:
    """Two gateways on the one Redis, each with a stub on its own channel."""
    running: list[tuple[Gateway, grpc.aio.Channel]] = []
    try:
        for _ in range(2):
            gateway = Gateway(replica_config)
            await gateway.start()
            running.append((gateway, grpc.aio.insecure_channel(gateway.address)))
        yield [(gateway, Stub(channel)) for gateway, channel in running]
    finally:
        for gateway, channel in running:
            await channel.close(None)
            await gateway.stop(0)


async def read(stub: Stub, batch_id: str) -> pb.GetBatchStatusResponse:
    response: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=batch_id), metadata=bearer(TOKEN), timeout=CALL_TIMEOUT
    )
    return response


async def read_own(stub: Stub) -> grpc.StatusCode:
    """GetBatchStatus of a batch id that no other read names, so that each read is an upstream
    request of its own (identical concurrent reads share one); the upstream knows no such
    batch: the code it ends with, NOT_FOUND when it was answered."""
    try:
        await read(stub, str(uuid.uuid4()))
    except grpc.aio.AioRpcError as error:
        return error.code()
    raise AssertionError("a batch nobody created was found")


async def create(stub: Stub) -> str:
    request = express(source(1), request_id=str(uuid.uuid4()))
    response: pb.CreateBatchResponse = await stub.CreateBatch(
        request, metadata=bearer(TOKEN), timeout=CALL_TIMEOUT
    )
    return response.batch_id


async def test_two_gateways_on_one_redis_stay_under_the_rate_together(
    stubs: list[tuple[Gateway, Stub]], sandbox: SandboxServer, redis_server: RedisServer
) -> None:
    """60 concurrent reads of one credential (each of its own batch), half through each
    gateway, are all answered: the upstream sees exactly 60 (no 429, so no retry) at no more
    than 5/s plus the burst in all, though each gateway alone may send 5/s; Redis holds one
    bucket, under a keyed hash."""
    (_, first), (_, second) = stubs
    await create(first)
    await asyncio.sleep(BURST / RATE + 0.2)  # the shared bucket full again
    before = await upstream_count(sandbox, STATUS)
    started = time.monotonic()
    codes = await asyncio.gather(*(read_own((first, second)[i % 2]) for i in range(60)))
    elapsed = time.monotonic() - started
    assert set(codes) == {grpc.StatusCode.NOT_FOUND}
    assert await upstream_count(sandbox, STATUS) - before == 60
    assert RATE * elapsed + BURST + 1 >= 60, elapsed
    async with aioredis.Redis.from_url(redis_server.url) as redis:
        keys = [key async for key in redis.scan_iter(match="sgw:rate:*")]
        assert len(keys) == 1
        tenant = keys[0].decode().removeprefix("sgw:rate:")
        assert len(tenant) == 32
        assert int(tenant, 16) >= 0
        for value in (await redis.hgetall(keys[0])).values():
            assert TOKEN.encode() not in value


async def test_with_redis_down_each_gateway_uses_its_own_bucket_then_shares_again(
    stubs: list[tuple[Gateway, Stub]],
    sandbox: SandboxServer,
    redis_server: RedisServer,
    logs: io.StringIO,
) -> None:
    """Redis stops: reads go on through the local bucket (logged once, not per read); Redis
    comes back: the gateway notices, and its next read draws from the shared bucket again."""
    (gateway, stub), _ = stubs
    batch_id = await create(stub)
    redis_server.stop()
    for _ in range(3):
        await read(stub, batch_id)
    budget = gateway.rate_budget
    assert budget is not None
    shared = budget._shared
    assert shared is not None
    assert not shared.available
    assert logs.getvalue().count("the upstream rate budget uses this replica's own bucket") == 1
    redis_server.start()
    await eventually(lambda: asyncio.sleep(0, shared.available), bool)
    await read(stub, batch_id)
    async with aioredis.Redis.from_url(redis_server.url) as redis:
        assert [key async for key in redis.scan_iter(match="sgw:rate:*")]
