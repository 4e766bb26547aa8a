"""The Redis idempotency store on its own (gateway.state.idempotency_redis), against a real
redis-server: two stores on one Redis stand for two replicas. One create per (tenant, RPC,
request_id) whichever store is asked; a duplicate elsewhere waits for the outcome within its
deadline; an outcome in doubt, a dead owner or a shutdown answer OUTCOME_UNKNOWN to every retry;
a definite failure may be retried; Redis away fails before anything is sent (or falls back to
memory). The gateway's use of it end to end: test_idempotency_redis.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import pytest
import redis.asyncio as aioredis

from gateway.contract.errors import GatewayError, Reason
from gateway.state.idempotency import IdempotencyStore
from gateway.state.idempotency_redis import OWNER_PREFIX, RECORD_PREFIX, RedisIdempotencyStore
from gateway.upstream import BatchTranscriptionResponse, InvalidArgument, Unavailable
from tests.helpers.redis_server import RedisConnections, RedisServer

TENANT, RPC, REQUEST_ID, PAYLOAD = "tenant-key", "CreateBatch", "Req-1", "fingerprint-1"
ANSWER = BatchTranscriptionResponse(
    batch_id="b-1", transcription_ids=("t-1",), total_count=1, status="RECEIVED"
)


class Create:
    """A create the test controls: counts its calls, answers when released."""

    def __init__(self, answer: object = ANSWER) -> None:
        self.calls = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.answer = answer

    async def __call__(self) -> object:
        self.calls += 1
        self.started.set()
        await self.release.wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
async def stores(
    redis_connections: RedisConnections,
) -> AsyncIterator[Callable[..., Awaitable[RedisIdempotencyStore]]]:
    """Make started stores on the test's Redis, each on a connection of its own (a replica);
    all closed at the end."""
    made: list[RedisIdempotencyStore] = []

    async def make(
        *, ttl: float = 60.0, fallback: IdempotencyStore | None = None
    ) -> RedisIdempotencyStore:
        connection = await redis_connections.connect()
        store = RedisIdempotencyStore(connection, ttl=ttl, create_timeout=10.0, fallback=fallback)
        await store.start()
        made.append(store)
        return store

    try:
        yield make
    finally:
        for store in made:
            await store.close()


def run(
    store: RedisIdempotencyStore,
    create: Callable[[], Awaitable[object]],
    *,
    payload: str = PAYLOAD,
    request_id: str = REQUEST_ID,
    wait: float | None = None,
) -> Awaitable[tuple[object, bool]]:
    """`store.run` of the test's create, waiting at most `wait` seconds (None: no bound)."""
    wait_until = None if wait is None else time.monotonic() + wait
    return store.run(TENANT, RPC, request_id, payload, create, wait_until=wait_until)


async def test_one_create_for_duplicates_on_two_replicas(
    stores: Callable[..., Awaitable[RedisIdempotencyStore]],
) -> None:
    """The same request_id on two replicas while the create runs on the first: the second
    waits and gets the first's answer, marked a replay; the create ran once. A later retry
    on either replica is a replay too, even in another case of the request_id."""
    a, b = await stores(), await stores()
    create = Create()
    first = asyncio.ensure_future(run(a, create))
    await create.started.wait()
    second = asyncio.ensure_future(run(b, create))
    await asyncio.sleep(0)
    assert not second.done()
    create.release.set()
    assert await first == (ANSWER, False)
    assert await second == (ANSWER, True)
    assert await run(b, create, request_id=REQUEST_ID.upper()) == (ANSWER, True)
    assert create.calls == 1


async def test_another_payload_for_a_request_id_is_refused(
    stores: Callable[..., Awaitable[RedisIdempotencyStore]],
) -> None:
    """A request_id reused for another payload, on the replica that made it or another:
    ALREADY_EXISTS (REQUEST_ID_REUSED) naming it, and nothing is run."""
    a, b = await stores(), await stores()
    create = Create()
    create.release.set()
    await run(a, create)
    for store in (a, b):
        with pytest.raises(GatewayError) as refused:
            await run(store, create, payload="another payload")
        assert refused.value.code is grpc.StatusCode.ALREADY_EXISTS
        assert refused.value.reason is Reason.REQUEST_ID_REUSED
        assert refused.value.metadata["request_id"] == REQUEST_ID
    assert create.calls == 1


async def test_a_definite_failure_is_forgotten_and_may_be_retried(
    stores: Callable[..., Awaitable[RedisIdempotencyStore]],
) -> None:
    """A create the upstream refused did not happen: its error reaches the caller, the record
    is deleted, and a retry on another replica runs the create again."""
    a, b = await stores(), await stores()
    refused = Create(InvalidArgument("bad audio_url", status=400))
    refused.release.set()
    with pytest.raises(InvalidArgument):
        await run(a, refused)
    retry = Create()
    retry.release.set()
    assert await run(b, retry) == (ANSWER, False)
    assert retry.calls == 1


async def test_an_outcome_in_doubt_is_repeated_to_every_retry(
    stores: Callable[..., Awaitable[RedisIdempotencyStore]],
) -> None:
    """A create that may have been sent and then failed (outcome unknown): every retry, on any
    replica, gets that error again, marked in doubt, and nothing is run again."""
    a, b = await stores(), await stores()
    doubtful = Create(Unavailable("upstream 502", status=502, outcome_unknown=True))
    doubtful.release.set()
    with pytest.raises(Unavailable):
        await run(a, doubtful)
    for store in (a, b):
        with pytest.raises(Unavailable) as again:
            await run(store, Create())
        assert again.value.outcome_unknown
        assert again.value.status == 502
    assert doubtful.calls == 1


async def test_a_duplicate_elsewhere_waits_no_longer_than_its_deadline(
    stores: Callable[..., Awaitable[RedisIdempotencyStore]],
) -> None:
    """A duplicate on another replica whose deadline passes while the create still runs gets
    DEADLINE_EXCEEDED (OUTCOME_UNKNOWN: retry to get the outcome) in time; the create runs on
    and its outcome answers the next retry."""
    a, b = await stores(), await stores()
    create = Create()
    first = asyncio.ensure_future(run(a, create))
    await create.started.wait()
    started = time.monotonic()
    with pytest.raises(GatewayError) as late:
        await run(b, create, wait=0.2)
    assert time.monotonic() - started < 5.0
    assert late.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert late.value.reason is Reason.OUTCOME_UNKNOWN
    create.release.set()
    await first
    assert await run(b, create) == (ANSWER, True)
    assert create.calls == 1


async def test_a_create_whose_owner_died_is_in_doubt(
    stores: Callable[..., Awaitable[RedisIdempotencyStore]], redis_server: RedisServer
) -> None:
    """A pending create whose owner is gone (its liveness key has expired: kill -9) becomes
    OUTCOME_UNKNOWN for every retry, never a second create."""
    a, b = await stores(), await stores()
    create = Create()
    running = asyncio.ensure_future(run(a, create))
    await create.started.wait()
    async with aioredis.Redis.from_url(redis_server.url) as redis:
        assert await redis.delete(OWNER_PREFIX + a.owner) == 1  # as when it expires
        retry = Create()
        with pytest.raises(Unavailable) as doubt:
            await run(b, retry)
        assert doubt.value.outcome_unknown
        assert "stopped before it recorded the answer" in doubt.value.message
        assert retry.calls == 0
        keys = [key async for key in redis.scan_iter(f"{RECORD_PREFIX}*")]
        assert len(keys) == 1
    running.cancel()


async def test_a_shutdown_leaves_its_creates_in_doubt(
    stores: Callable[..., Awaitable[RedisIdempotencyStore]],
) -> None:
    """A replica that stops while its create runs cancels it and records the outcome as
    unknown: a retry elsewhere answers OUTCOME_UNKNOWN ("shut down"), never a second create."""
    a, b = await stores(), await stores()
    create = Create()
    running = asyncio.ensure_future(run(a, create))
    await create.started.wait()
    await a.close()
    with pytest.raises(asyncio.CancelledError):
        await running
    with pytest.raises(Unavailable) as doubt:
        await run(b, Create())
    assert doubt.value.outcome_unknown
    assert "shut down" in doubt.value.message


async def test_redis_away_fails_before_anything_is_sent_or_falls_back(
    stores: Callable[..., Awaitable[RedisIdempotencyStore]], redis_server: RedisServer
) -> None:
    """With Redis stopped, a create fails UNAVAILABLE (IDEMPOTENCY_STORE_UNAVAILABLE) without
    running, and the store says Redis is away; a store with the local fallback runs it once in
    this process's memory instead (its retry a replay)."""
    strict = await stores()
    lenient = await stores(fallback=IdempotencyStore(ttl=60.0))
    redis_server.stop()
    create = Create()
    create.release.set()
    with pytest.raises(GatewayError) as away:
        await run(strict, create)
    assert away.value.code is grpc.StatusCode.UNAVAILABLE
    assert away.value.reason is Reason.IDEMPOTENCY_STORE_UNAVAILABLE
    assert not strict.redis_available
    assert create.calls == 0
    assert await run(lenient, create) == (ANSWER, False)
    assert await run(lenient, create) == (ANSWER, True)
    assert create.calls == 1


async def test_records_name_no_tenant_and_expire(
    stores: Callable[..., Awaitable[RedisIdempotencyStore]], redis_server: RedisServer
) -> None:
    """A record's key carries the tenant only as a keyed hash, and lives `ttl` from its last
    write."""
    store = await stores(ttl=30.0)
    create = Create()
    create.release.set()
    await run(store, create)
    async with aioredis.Redis.from_url(redis_server.url) as redis:
        (key,) = [key async for key in redis.scan_iter(f"{RECORD_PREFIX}*")]
        assert TENANT.encode() not in key
        assert key.endswith(f":{RPC}:{REQUEST_ID.lower()}".encode())
        assert 0 < await redis.pttl(key) <= 30_000
