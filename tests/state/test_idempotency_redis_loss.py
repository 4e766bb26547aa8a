"""Idempotency records on Redis that are lost or unreadable: Redis emptied while a create is in
flight and another replica follows its record, and records holding what this gateway never
wrote. Never a second upstream POST for one request_id, never INTERNAL. Real redis-server,
real gateways, one sandbox (as tests/state/test_idempotency_redis.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from sofer_sandbox import SandboxServer

from gateway.access.credentials import Credential
from gateway.config import GatewayConfig
from gateway.state.idempotency_redis import TOMBSTONE_TTL
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import assert_error, batch_request, eventually, fault, rpc_error
from tests.helpers.gateways import Gateways, Running
from tests.helpers.redis_server import RedisServer
from tests.state.test_idempotency_redis import POST_BATCH, batches, posts

pytestmark = pytest.mark.usefixtures("key_secret")

UNREADABLE = "idempotency record unreadable"


@pytest.fixture
def shared(gateway_config: GatewayConfig, redis_server: RedisServer) -> GatewayConfig:
    """The test's gateway settings, on the test's Redis."""
    return dataclasses.replace(gateway_config, redis_url=redis_server.url)


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """A client of the test's Redis, as an operator's redis-cli."""
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


async def record_key(redis: aioredis.Redis, request_id: str) -> bytes | None:
    """The Redis key of the record of `request_id` (any tenant), None while there is none."""
    async for key in redis.scan_iter(match=f"sgw:idem:*:{request_id}"):
        assert isinstance(key, bytes)
        return key
    return None


async def follows(redis: aioredis.Redis) -> int:
    """MGETs Redis has served: a replica following a record in flight reads it with one."""
    stats: dict[str, Any] = await redis.info("commandstats")
    return int(stats.get("cmdstat_mget", {}).get("calls", 0))


async def held_create(
    first: Running, sandbox: SandboxServer, request_id: str
) -> asyncio.Future[Any]:
    """A create on `first` that the upstream has carried out and whose answer it holds back
    for 3 s: in flight, its batch made."""
    await fault(sandbox, after=True, delay=3.0, count=1, method="POST", path_prefix=POST_BATCH)
    owner: asyncio.Future[Any] = asyncio.ensure_future(
        first.stub.CreateBatch(batch_request(request_id), metadata=bearer(), timeout=30)
    )
    await eventually(lambda: batches(sandbox), lambda n: n == 1)
    return owner


async def test_redis_emptied_while_another_replica_follows_a_create_sends_it_once(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    gateways: Gateways,
    redis: aioredis.Redis,
) -> None:
    """Replica A's create is in flight, replica B follows its record, and Redis is emptied
    (FLUSHALL): B never claims the request_id again. It answers UNAVAILABLE OUTCOME_UNKNOWN (or,
    if A has put its record back first, A's batch); one POST, one batch; once A's answer has
    come, a retry on B gets A's batch, put back by A."""
    first, second = [await gateways.start(shared) for _ in range(2)]
    request_id = str(uuid.uuid4())
    owner = await held_create(first, sandbox, request_id)
    read = await follows(redis)
    follower = asyncio.ensure_future(
        second.stub.CreateBatch(batch_request(request_id), metadata=bearer(), timeout=30)
    )
    await eventually(lambda: follows(redis), lambda n: n > read)
    await redis.flushall()
    try:
        followed = await follower
    except grpc.aio.AioRpcError as error:
        assert_error(error, grpc.StatusCode.UNAVAILABLE, "OUTCOME_UNKNOWN")
        followed = None
    created = await owner
    assert followed in (None, created)
    assert await posts(sandbox) == 1
    assert await batches(sandbox) == 1
    retry = await second.stub.CreateBatch(batch_request(request_id), metadata=bearer())
    assert retry == created
    assert await posts(sandbox) == 1


async def test_the_owner_puts_a_lost_pending_record_back(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    gateways: Gateways,
    redis: aioredis.Redis,
) -> None:
    """Redis emptied while replica A's create is in flight: A's heartbeat puts its pending
    record back, so a retry arriving on replica B after that waits for A's create and gets its
    batch, with no second POST."""
    first, second = [await gateways.start(shared) for _ in range(2)]
    request_id = str(uuid.uuid4())
    owner = await held_create(first, sandbox, request_id)
    await redis.flushall()
    await eventually(lambda: record_key(redis, request_id), lambda key: key is not None)
    retry = await second.stub.CreateBatch(batch_request(request_id), metadata=bearer(), timeout=30)
    assert retry == await owner
    assert await posts(sandbox) == 1


async def test_a_definite_failure_leaves_a_short_lived_tombstone(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    gateways: Gateways,
    redis: aioredis.Redis,
) -> None:
    """A create the upstream refused (400) is recorded as `failed` for at most a minute, not
    deleted: a replica following it knows it may claim again (a record gone means lost); the
    retry claims over it and makes the batch."""
    (running,) = [await gateways.start(shared)]
    await fault(sandbox, status=400, count=1, method="POST", path_prefix=POST_BATCH)
    request_id = str(uuid.uuid4())
    await rpc_error(running.stub.CreateBatch(batch_request(request_id), metadata=bearer()))
    key = await record_key(redis, request_id)
    assert key is not None
    value = json.loads(await redis.get(key) or b"{}")
    assert value["state"] == "failed"
    assert 0 < await redis.pttl(key) <= TOMBSTONE_TTL * 1000
    assert (await running.stub.CreateBatch(batch_request(request_id), metadata=bearer())).batch_id
    assert await batches(sandbox) == 1


def _edited(**fields: Any) -> Any:
    def edit(value: bytes) -> bytes:
        return json.dumps(json.loads(value) | fields).encode()

    return edit


@pytest.mark.parametrize(
    "damage",
    [
        lambda _: b"\x00garbage\xff",
        lambda _: b'{"state": "sideways"}',
        _edited(state="done", kind="NoSuchAnswer"),
        _edited(state="done", body='{"batch_id": 7}'),
        _edited(failure={"kind": 3}),
    ],
    ids=["not-json", "unknown-state", "unknown-kind", "bad-answer", "bad-failure"],
)
async def test_an_unreadable_record_answers_outcome_unknown_and_is_logged_once(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    gateways: Gateways,
    redis: aioredis.Redis,
    logs: io.StringIO,
    damage: Any,
) -> None:
    """A record overwritten with what this gateway never writes: every retry of its request_id
    answers UNAVAILABLE OUTCOME_UNKNOWN (not INTERNAL), nothing is sent upstream again, and the
    gateway logs it once, by its Redis key: never the token or its plain tenant key."""
    running = await gateways.start(shared)
    request_id = str(uuid.uuid4())
    await running.stub.CreateBatch(batch_request(request_id), metadata=bearer())
    key = await record_key(redis, request_id)
    assert key is not None
    await redis.set(key, damage(await redis.get(key)), keepttl=True)
    for _ in range(3):
        error = await rpc_error(
            running.stub.CreateBatch(batch_request(request_id), metadata=bearer())
        )
        assert_error(error, grpc.StatusCode.UNAVAILABLE, "OUTCOME_UNKNOWN")
    assert await posts(sandbox) == 1
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.strip()]
    logged = [line for line in lines if line.get("event", "").startswith(UNREADABLE)]
    assert len(logged) == 1
    assert logged[0]["key"] == key.decode()
    tenant = Credential(TOKEN, "caller").tenant
    assert TOKEN not in logs.getvalue()
    assert tenant[:8] not in logs.getvalue()
