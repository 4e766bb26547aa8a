"""The upstream rate budget on Redis (--redis-url): the Lua-scripted buckets on their own
(tokens, refill, pause, what a refusal says, two replicas on one bucket); two gateways draw
from one bucket per credential, so together they stay under the rate; Redis holds keyed
hashes, never a token; and while Redis is down each gateway goes on with its own bucket, then
shares again. Real
redis-server (tests/helpers/redis_server.py), real gateways, one sandbox that answers 429
past 1.2 times the gateways' rate per token."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from grpc import StatusCode
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from gateway.state.rate_budget_redis import RedisRateBuckets
from gateway.upstream.rate_budget import SharedState
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import eventually, express, read_own, source, upstream_count
from tests.helpers.gateways import Gateways
from tests.helpers.redis_server import RedisConnections, RedisServer

Stub = pb_grpc.BatchTranscriptionServiceStub
RATE, BURST = 20.0, 5
"""The gateways' --upstream-rate-limit and --upstream-burst: fast enough that a run of 60 reads
takes about 3 s, the sandbox's limit (1.2 x RATE) still below what two unshared buckets send."""
STATUS = "GET /v1/transcriptions/batch/{batch_id}/status"
CALL_TIMEOUT = 60.0


pytestmark = pytest.mark.usefixtures("key_secret")


# -- the buckets on their own (gateway.state.rate_budget_redis) ------------------------------


@pytest.fixture
async def buckets(
    redis_connections: RedisConnections,
) -> AsyncIterator[Callable[..., Awaitable[RedisRateBuckets]]]:
    """Make RedisRateBuckets on the test's Redis, each on a connection of its own (a
    replica); all closed at the end."""
    made: list[RedisRateBuckets] = []

    async def make(rate: float, burst: int) -> RedisRateBuckets:
        shared = RedisRateBuckets(await redis_connections.connect(), rate=rate, burst=burst)
        made.append(shared)
        return shared

    try:
        yield make
    finally:
        for shared in made:
            await shared.close()


async def take(shared: RedisRateBuckets, tenant: str = "t") -> SharedState:
    state = await shared.take(tenant)
    assert state is not None
    return state


async def test_a_bucket_grants_its_burst_then_refuses_until_a_token_comes_back(
    buckets: Callable[..., Awaitable[RedisRateBuckets]],
) -> None:
    """A fresh bucket is full: `burst` takes are granted at once, each leaving fewer tokens,
    and the next is refused (no token, no pause). At `rate` per second (Redis's own clock) a
    token comes back and is granted: a fiftieth of a second for a bucket at 50/s."""
    slow = await buckets(rate=1.0, burst=3)
    granted = [await take(slow) for _ in range(3)]
    assert all(state.granted for state in granted)
    assert granted[0].tokens > granted[1].tokens > granted[2].tokens
    refused = await take(slow)
    assert not refused.granted
    assert refused.tokens < 1
    assert refused.paused_for == 0
    fast = await buckets(rate=50.0, burst=3)
    for _ in range(100):  # drain it, however fast it refills on a busy machine
        if not (await take(fast, "drained")).granted:
            break
    else:
        raise AssertionError("the bucket never ran dry")
    again = await eventually(
        lambda: take(fast, "drained"), lambda state: state.granted, interval=0.005
    )
    assert again.tokens < 1


async def test_tenants_have_buckets_of_their_own_shared_by_every_replica(
    buckets: Callable[..., Awaitable[RedisRateBuckets]], redis_server: RedisServer
) -> None:
    """One replica drains a tenant's bucket: the other replica is refused for that tenant, not
    for another; Redis names each bucket by the tenant's keyed hash and lets it expire."""
    first, second = await buckets(rate=0.5, burst=2), await buckets(rate=0.5, burst=2)
    assert (await take(first)).granted
    assert (await take(first)).granted
    assert not (await take(second)).granted
    assert (await take(second, "other tenant")).granted
    async with aioredis.Redis.from_url(redis_server.url) as redis:
        keys = [key async for key in redis.scan_iter(match="sgw:rate:*")]
        assert len(keys) == 2
        for key in keys:
            tenant = key.removeprefix(b"sgw:rate:")
            assert len(tenant) == 32  # a keyed hash, hex: never the tenant itself
            assert int(tenant, 16) >= 0
            assert 0 < await redis.pttl(key) <= 5_000  # refill (at most 4 s) + 1 s


async def test_a_pause_refuses_every_replica_until_it_ends_then_gives_one_token(
    buckets: Callable[..., Awaitable[RedisRateBuckets]],
) -> None:
    """A 429's pause: nobody gets a token before it ends (the refusal says how long is left),
    a shorter pause never cuts a longer one short, and at its end one token comes at once, the
    rest at the rate."""
    first, second = await buckets(rate=0.5, burst=5), await buckets(rate=0.5, burst=5)
    paused = await first.pause("t", 0.6)
    assert paused is not None
    assert 0.5 < paused.paused_for <= 0.6
    shorter = await second.pause("t", 0.05)
    assert shorter is not None
    assert shorter.paused_for > 0.1  # the longer pause stays
    refused = await take(second)
    assert not refused.granted
    assert 0 < refused.paused_for <= 0.6
    after = await eventually(lambda: take(second), lambda state: state.granted, interval=0.02)
    assert after.paused_for == 0
    assert not (await take(first)).granted  # one token at the pause's end, the next at 0.5/s


async def test_a_redis_that_is_away_answers_none_without_asking(
    buckets: Callable[..., Awaitable[RedisRateBuckets]], redis_server: RedisServer
) -> None:
    """While Redis cannot be reached, take and pause answer None (the replica's own bucket
    stands in) and the buckets say they are unavailable."""
    shared = await buckets(rate=5.0, burst=5)
    assert (await take(shared)).granted
    redis_server.stop()
    assert await shared.take("t") is None
    assert not shared.available
    assert await shared.pause("t", 1.0) is None


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
    """60 concurrent reads of one credential (each of its own batch), half through each
    gateway, are all answered: the upstream sees exactly 60 (no 429, so no retry) at no more
    than RATE plus the burst in all, though each gateway alone may send RATE; Redis holds one
    bucket, under a keyed hash."""
    (_, first), (_, second) = stubs
    await create(first)
    await asyncio.sleep(BURST / RATE + 0.2)  # the shared bucket full again
    before = await upstream_count(sandbox, STATUS)
    started = time.monotonic()
    codes = await asyncio.gather(*(read_own((first, second)[i % 2]) for i in range(60)))
    elapsed = time.monotonic() - started
    assert set(codes) == {StatusCode.NOT_FOUND}
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
    shared = budget.shared
    assert shared is not None
    assert not shared.available
    assert logs.getvalue().count("the upstream rate budget uses this replica's own bucket") == 1
    redis_server.start()
    await eventually(lambda: asyncio.sleep(0, shared.available), bool)
    await read(stub, batch_id)
    async with aioredis.Redis.from_url(redis_server.url) as redis:
        assert [key async for key in redis.scan_iter(match="sgw:rate:*")]
