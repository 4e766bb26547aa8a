"""The upstream rate budget on Redis (--redis-url): two gateways draw from one bucket per
credential, so together they stay under the rate; Redis holds keyed hashes, never a token; and
while Redis is down each gateway goes on with its own bucket, then shares again. Real
redis-server (tests/helpers/redis_server.py), real gateways, one sandbox that answers 429
past 1.2 times the gateways' rate per token."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import time
import uuid

import pytest
import redis.asyncio as aioredis
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import eventually, express, source, upstream_count
from tests.helpers.gateways import Gateways
from tests.helpers.redis_server import RedisServer

Stub = pb_grpc.BatchTranscriptionServiceStub
RATE, BURST = 20.0, 5
"""The gateways' --upstream-rate-limit and --upstream-burst: fast enough that a run of 60 reads
takes about 3 s, the sandbox's limit (1.2 x RATE) still below what two unshared buckets send."""
STATUS = "GET /v1/transcriptions/batch/{batch_id}/status"
CALL_TIMEOUT = 60.0


pytestmark = pytest.mark.usefixtures("key_secret")


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """The sandbox rate-limits each token at 1.2 x RATE requests/s."""
    return SandboxConfig(item_seconds=30.0, manifest_validation_seconds=0.0, rate_limit=1.2 * RATE)


@pytest.fixture
def replica_config(gateway_config: GatewayConfig, redis_server: RedisServer) -> GatewayConfig:
    """A replica's settings: RATE requests/s (burst BURST) per credential, shared through the
    test's Redis."""
    return dataclasses.replace(
        gateway_config,
        redis_url=redis_server.url,
        upstream_rate_limit=RATE,
        upstream_burst=BURST,
        default_timeout=CALL_TIMEOUT,
        unshared_reads=True,
        status_reuse_window=0.0,
        status_max_age=0.0,
    )


@pytest.fixture
async def stubs(replica_config: GatewayConfig, gateways: Gateways) -> list[tuple[Gateway, Stub]]:
    """Two gateways on the one Redis, each with a stub on its own channel."""
    running = [await gateways.start(replica_config) for _ in range(2)]
    return [(item.gateway, item.stub) for item in running]


async def read(stub: Stub, batch_id: str) -> pb.GetBatchStatusResponse:
    response: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=batch_id), metadata=bearer(TOKEN), timeout=CALL_TIMEOUT
    )
    return response


async def create(stub: Stub) -> str:
    request = express(source(1), request_id=str(uuid.uuid4()))
    response: pb.CreateBatchResponse = await stub.CreateBatch(
        request, metadata=bearer(TOKEN), timeout=CALL_TIMEOUT
    )
    return response.batch_id


async def test_two_gateways_on_one_redis_stay_under_the_rate_together(
    stubs: list[tuple[Gateway, Stub]], sandbox: SandboxServer, redis_server: RedisServer
) -> None:
    """60 concurrent reads of one credential, half through each gateway, all succeed: the
    upstream sees exactly 60 (no 429, so no retry) at no more than RATE plus the burst in all,
    though each gateway alone may send RATE; Redis holds one bucket, under a keyed hash."""
    (_, first), (_, second) = stubs
    batch_id = await create(first)
    await asyncio.sleep(BURST / RATE + 0.2)  # the shared bucket full again
    before = await upstream_count(sandbox, STATUS)
    started = time.monotonic()
    answers = await asyncio.gather(*(read((first, second)[i % 2], batch_id) for i in range(60)))
    elapsed = time.monotonic() - started
    assert {a.batch_status.batch_id for a in answers} == {batch_id}
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
