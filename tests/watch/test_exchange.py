"""Watch pollers shared by replicas on Redis (--redis-url, gateway.watch.exchange): one poller
per batch however many replicas have watchers, the state at once for a new watcher anywhere,
a take-over when the holder dies, a stale holder that cannot publish, and Redis outages that
leave every watch going. Real redis-server, real gateways (in-process and `serve`), one sandbox.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import pytest
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import REDIS_HEALTH_SERVICE
from gateway.state.redis_client import KEY_SECRET_ENV, RedisConnection, RedisSettings
from gateway.upstream import BatchStatusResponse
from gateway.watch.exchange import StatusExchange
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import assert_error, eventually, rpc_error, source, stats
from tests.helpers.gateways import Gateways, Running
from tests.helpers.metrics import scrape
from tests.helpers.processes import start_serve, start_serving
from tests.helpers.redis_server import SECRET, RedisServer

pytestmark = pytest.mark.usefixtures("key_secret")

Stub = pb_grpc.BatchTranscriptionServiceStub
POLL = "GET /v1/transcriptions/batch/{batch_id}/status"
TERMINAL = {batch_pb2.BATCH_STATE_COMPLETED, batch_pb2.BATCH_STATE_FAILED}


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items take 3 s: a batch of three takes long enough to be watched across a take-over."""
    return SandboxConfig(item_seconds=3.0, manifest_validation_seconds=0.0)


@pytest.fixture
def shared(gateway_config: GatewayConfig, redis_server: RedisServer) -> GatewayConfig:
    """The test's gateway settings on the test's Redis, with a steady 0.3 s poll cadence (so
    that polls count pollers) and a 1 s lease."""
    return dataclasses.replace(
        gateway_config,
        redis_url=redis_server.url,
        watch_fast_interval=0.3,
        watch_slow_interval=0.3,
        watch_backoff_factor=1.0,
        poll_lease=1.0,
    )


async def create(stub: Stub, items: int = 3) -> str:
    request = pb.CreateBatchRequest(
        audio_sources=[source(n) for n in range(items)], info=batch_pb2.BatchInfo()
    )
    answer = await stub.CreateBatch(request, metadata=bearer(), timeout=10)
    return str(answer.batch_id)


async def polls(sandbox: SandboxServer) -> int:
    """Batch status reads the sandbox received."""
    requests: dict[str, int] = (await stats(sandbox))["requests"]
    return requests.get(POLL, 0)


async def watch(stub: Stub, batch_id: str) -> list[pb.WatchBatchStatusResponse]:
    """Every message of one watch, to its end."""
    call = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=60
    )
    return [message async for message in call]


def progress(message: pb.WatchBatchStatusResponse) -> tuple[int, int]:
    return (message.batch_status.completed_count, message.batch_status.failed_count)


def state(message: pb.WatchBatchStatusResponse) -> tuple[object, ...]:
    """What a watcher sees change: the batch's state, counts and each item's status."""
    status = message.batch_status
    items = tuple((t.id, t.state) for t in status.transcriptions)
    return (status.state, status.completed_count, status.failed_count, items)


def assert_clean(messages: list[pb.WatchBatchStatusResponse]) -> None:
    """A watch that ends on the terminal state, never repeats itself, never goes back."""
    assert messages, "no message"
    assert messages[-1].batch_status.state in TERMINAL
    states = [state(m) for m in messages]
    for before, after in itertools.pairwise(states):
        assert before != after, "a duplicate message"
    steps = [progress(m) for m in messages]
    assert steps == sorted(steps), f"progress went backwards: {steps}"


async def test_watchers_on_three_replicas_cost_one_poller(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """Five watchers of one batch on each of three replicas: the upstream sees one poller's
    worth of status reads (not three), at no moment do two replicas lead, and every watcher
    sees the batch to COMPLETED without a duplicate or a step back."""
    group = [await gateways.start(shared) for _ in range(3)]
    batch_id = await create(group[0].stub)
    before = await polls(sandbox)
    started = time.monotonic()
    leaders: list[int] = []

    async def sample() -> None:
        while True:
            leaders.append(sum(r.gateway.hub.leading for r in group if r.gateway.hub))
            await asyncio.sleep(0.05)

    sampler = asyncio.ensure_future(sample())
    try:
        watches = await asyncio.gather(*(watch(r.stub, batch_id) for r in group for _ in range(5)))
    finally:
        sampler.cancel()
    seconds = time.monotonic() - started
    for messages in watches:
        assert_clean(messages)
    one_poller = seconds / shared.watch_fast_interval
    assert await polls(sandbox) - before <= 1.5 * one_poller + 4, (seconds, one_poller)
    assert max(leaders) <= 1


async def test_a_new_watcher_on_another_replica_gets_the_state_without_an_upstream_call(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """A watch on replica A; then a watch of the same batch on replica B: B's first message is
    A's latest state, and the upstream saw no read for it."""
    slow = dataclasses.replace(shared, watch_fast_interval=30.0, watch_slow_interval=30.0)
    first, second = await gateways.start(slow), await gateways.start(slow)
    batch_id = await create(first.stub)
    watching = first.stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=60
    )
    seen = await watching.read()
    assert isinstance(seen, pb.WatchBatchStatusResponse)
    before = await polls(sandbox)
    joined = second.stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=60
    )
    got = await joined.read()
    assert isinstance(got, pb.WatchBatchStatusResponse)
    assert state(got) == state(seen)
    assert got.batch_status.observed_at == seen.batch_status.observed_at
    assert await polls(sandbox) == before
    watching.cancel()
    joined.cancel()


async def test_a_follower_takes_over_when_the_holder_is_killed(
    sandbox: SandboxServer, redis_server: RedisServer
) -> None:
    """Two `serve` processes; replica A's watchers came first, so A polls for both. A is
    killed (SIGKILL) mid-batch: B takes the lease over, and B's watchers end OK on the
    terminal state with no duplicate and no step back."""
    flags = (
        "--upstream-url", sandbox.url, "--redis-url", redis_server.url,
        "--poll-lease", "1", "--watch-fast-interval", "0.3", "--watch-slow-interval", "0.3",
    )  # fmt: skip
    env = {KEY_SECRET_ENV: SECRET}
    holder, holder_address = await start_serve(*flags, env=env)
    follower, follower_address = await start_serve(*flags, env=env)
    drains = [asyncio.ensure_future(_drain(p)) for p in (holder, follower)]
    try:
        async with (
            grpc.aio.insecure_channel(holder_address) as a,
            grpc.aio.insecure_channel(follower_address) as b,
        ):
            batch_id = await create(Stub(a), items=4)
            first = Stub(a).WatchBatchStatus(
                pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=60
            )
            await first.read()
            watching = [asyncio.ensure_future(watch(Stub(b), batch_id)) for _ in range(3)]
            await asyncio.sleep(0.5)
            following = await polls(sandbox)
            await asyncio.sleep(3.0)  # B follows A: one poller's worth of reads, not two
            assert await polls(sandbox) - following <= 1.5 * 3.0 / 0.3
            holder.kill()
            await holder.wait()
            before = await polls(sandbox)
            results = await asyncio.gather(*watching)
            for messages in results:
                assert_clean(messages)
            assert await polls(sandbox) > before  # B polled after A died
    finally:
        for process in (holder, follower):
            if process.returncode is None:
                process.kill()
                await process.wait()
        for drain in drains:
            drain.cancel()


async def _drain(process: asyncio.subprocess.Process) -> None:
    """Read a `serve` process's log so that a full pipe never blocks it."""
    assert process.stdout is not None
    while await process.stdout.readline():
        pass


async def test_the_holder_letting_go_hands_the_poller_over_at_once(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """Running A leads; its only watcher leaves while replica B still has watchers: B leads
    next (A let go), and B's watchers see the batch to its end."""
    first, second = await gateways.start(shared), await gateways.start(shared)
    batch_id = await create(first.stub)
    leaving = first.stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=60
    )
    await leaving.read()
    await eventually(lambda: _leading(first), lambda n: n == 1)
    staying = asyncio.ensure_future(watch(second.stub, batch_id))
    await asyncio.sleep(0.5)
    leaving.cancel()
    await eventually(lambda: _leading(second), lambda n: n == 1, within=10)
    assert_clean(await staying)


async def _leading(item: Running) -> int:
    assert item.gateway.hub is not None
    return item.gateway.hub.leading


async def test_an_error_ends_the_watches_on_every_replica(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways
) -> None:
    """Watches of a batch that does not exist on two replicas both end NOT_FOUND
    (BATCH_NOT_FOUND): the holder's 404 reaches the follower's watchers too."""
    first, second = await gateways.start(shared), await gateways.start(shared)
    missing = "00000000-0000-4000-8000-000000000000"
    errors = await asyncio.gather(
        rpc_error(_drain_watch(first.stub, missing)), rpc_error(_drain_watch(second.stub, missing))
    )
    for error in errors:
        assert_error(error, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")


async def _drain_watch(stub: Stub, batch_id: str) -> None:
    await watch(stub, batch_id)


async def test_redis_stopped_and_started_again_under_watches(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    redis_server: RedisServer,
    gateways: Gateways,
) -> None:
    """Redis goes away while two replicas have watchers of a batch: both go on polling for
    themselves (local mode; `redis_available` says False), Redis comes back and they share
    again; every watcher sees the batch to COMPLETED."""
    first, second = await gateways.start(shared), await gateways.start(shared)
    batch_id = await create(first.stub, items=4)
    watching = [asyncio.ensure_future(watch(r.stub, batch_id)) for r in (first, second)]
    await asyncio.sleep(1.0)
    redis_server.stop()
    await eventually(lambda: _available(first, second), lambda up: up == (False, False), within=15)
    await asyncio.sleep(1.5)
    redis_server.start()
    await eventually(lambda: _available(first, second), lambda up: up == (True, True), within=15)
    for messages in await asyncio.gather(*watching):
        assert_clean(messages)


async def _available(*items: Running) -> tuple[bool | None, ...]:
    return tuple(item.gateway.redis_available for item in items)


async def test_nothing_secret_is_kept_in_redis(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    redis_server: RedisServer,
    gateways: Gateways,
) -> None:
    """After shared watches, no Redis key or value holds the caller's token or its plain
    SHA-256 tenant key."""
    first, second = await gateways.start(shared), await gateways.start(shared)
    batch_id = await create(first.stub, items=1)
    await asyncio.gather(watch(first.stub, batch_id), watch(second.stub, batch_id))
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        keys = [key async for key in client.scan_iter("sgw:poll-*")]
        assert keys
        from gateway.access.credentials import Credential

        tenant = Credential(TOKEN, "caller").tenant
        for key in keys:
            assert TOKEN.encode() not in key
            assert tenant.encode() not in key
            if await client.type(key) == b"hash":
                for value in (await client.hgetall(key)).values():
                    assert TOKEN.encode() not in value
                    assert tenant.encode() not in value
    finally:
        await client.aclose()


# -- the exchange itself ------------------------------------------------------------------------


@pytest.fixture
async def connections(redis_server: RedisServer) -> AsyncIterator[list[RedisConnection]]:
    made: list[RedisConnection] = []
    try:
        yield made
    finally:
        for connection in made:
            await connection.aclose()


async def exchange(made: list[RedisConnection], url: str, lease: float) -> StatusExchange:
    connection = RedisConnection(RedisSettings(url, SECRET.encode(), fallback_local=False))
    await connection.start()
    made.append(connection)
    return StatusExchange(connection, lease=lease)


def status(completed: int) -> BatchStatusResponse:
    return BatchStatusResponse(
        batch_id="b",
        status="PROCESSING",
        total_count=3,
        completed_count=completed,
        failed_count=0,
        pending_count=3 - completed,
        transcriptions=(),
    )


async def test_a_stale_holder_cannot_publish_after_another_took_over(
    redis_server: RedisServer, connections: list[RedisConnection]
) -> None:
    """Holder A stalls past its lease; B takes the lease and publishes; A, waking up, cannot
    publish its older state over B's (the fence), and cannot renew: the latest stays B's."""
    a = await exchange(connections, redis_server.url, lease=0.3)
    b = await exchange(connections, redis_server.url, lease=0.3)
    key = a.key("tenant", "batch")
    lease_a = await a.acquire(key)
    assert lease_a is not None
    assert await b.acquire(key) is None  # held
    assert await a.publish(lease_a, status(1), datetime.now(UTC)) == 1
    await asyncio.sleep(0.5)  # A stalls: its lease expires
    lease_b = await b.acquire(key)
    assert lease_b is not None
    assert await b.publish(lease_b, status(2), datetime.now(UTC)) == 2
    assert await a.publish(lease_a, status(1), datetime.now(UTC)) is None
    assert not await a.renew(lease_a)
    latest = await b.latest(key)
    assert latest is not None
    assert (latest.version, latest.status) == (2, status(2))


async def test_a_follower_hears_each_version_once(
    redis_server: RedisServer, connections: list[RedisConnection]
) -> None:
    """A subscriber of the batch's channel gets every published version, in order, once."""
    a = await exchange(connections, redis_server.url, lease=5)
    b = await exchange(connections, redis_server.url, lease=5)
    await b.start()
    heard: list[int] = []
    key = b.key("tenant", "batch")
    await b.subscribe(key, lambda news: heard.append(news.shared.version) if news.shared else None)
    lease = await a.acquire(key)
    assert lease is not None
    for completed in range(3):
        await a.publish(lease, status(completed), datetime.now(UTC))
    await eventually(lambda: _value(heard), lambda got: len(got) >= 3, within=10)
    assert heard == [1, 2, 3]
    await b.close()


async def _value(items: list[int]) -> list[int]:
    return list(items)


async def test_redis_mode_shows_in_health_and_metrics(
    shared: GatewayConfig,
    sandbox: SandboxServer,
    redis_server: RedisServer,
    gateways: Gateways,
) -> None:
    """With --redis-url the health service `sofer.gateway.Redis` says SERVING and
    sofer_gateway_redis_up 1 while Redis answers, and a watched batch shows one poll lease;
    with Redis stopped they say NOT_SERVING and 0 while the gateway itself stays SERVING; both
    come back with Redis."""
    item = await gateways.start(dataclasses.replace(shared, metrics_listen="127.0.0.1:0"))
    health = health_pb2_grpc.HealthStub(item.channel)
    port = item.gateway.metrics_port

    async def looks() -> tuple[int, int, float]:
        redis = await health.Check(health_pb2.HealthCheckRequest(service=REDIS_HEALTH_SERVICE))
        overall = await health.Check(health_pb2.HealthCheckRequest(service=""))
        return redis.status, overall.status, (await scrape(port)).value("sofer_gateway_redis_up")

    serving, not_serving = (
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    )
    assert await eventually(looks, lambda got: got == (serving, serving, 1))
    batch_id = await create(item.stub, items=4)
    watching = asyncio.ensure_future(watch(item.stub, batch_id))
    await eventually(lambda: scrape(port), lambda s: s.value("sofer_gateway_poll_leases") == 1)
    redis_server.stop()
    await eventually(looks, lambda got: got == (not_serving, serving, 0), within=15)
    redis_server.start()
    await eventually(looks, lambda got: got == (serving, serving, 1), within=15)
    assert_clean(await watching)


async def _serving(*flags: str) -> tuple[asyncio.subprocess.Process, str, int]:
    """A `serve` process on the test's Redis: (process, gRPC address, metrics port)."""
    process, event = await start_serving(*flags, env={KEY_SECRET_ENV: SECRET})
    return process, str(event["address"]), int(event["metrics_port"])


async def test_three_serve_processes_poll_a_watched_batch_once(
    sandbox: SandboxServer, redis_server: RedisServer
) -> None:
    """Three `serve` processes on one Redis, four watchers of one batch on each: the upstream
    sees one poller's worth of status reads, the processes' poll leases (their metrics) never
    add up to more than one, and every watcher sees the batch to its end."""
    flags = (
        "--upstream-url", sandbox.url, "--redis-url", redis_server.url, "--poll-lease", "1",
        "--watch-fast-interval", "0.3", "--watch-slow-interval", "0.3",
        "--watch-backoff-factor", "1", "--metrics-listen", "127.0.0.1:0",
    )  # fmt: skip
    started = [await _serving(*flags) for _ in range(3)]
    drains = [asyncio.ensure_future(_drain(process)) for process, _, _ in started]
    leases: list[float] = []

    async def sample() -> None:
        while True:
            scrapes = [await scrape(port) for _, _, port in started]
            leases.append(sum(s.value("sofer_gateway_poll_leases") for s in scrapes))
            await asyncio.sleep(0.1)

    try:
        channels = [grpc.aio.insecure_channel(address) for _, address, _ in started]
        try:
            stubs = [Stub(channel) for channel in channels]
            batch_id = await create(stubs[0])
            before = await polls(sandbox)
            began = time.monotonic()
            sampler = asyncio.ensure_future(sample())
            try:
                results = await asyncio.gather(
                    *(watch(stub, batch_id) for stub in stubs for _ in range(4))
                )
            finally:
                sampler.cancel()
            seconds = time.monotonic() - began
        finally:
            for channel in channels:
                await channel.close(None)
        for messages in results:
            assert_clean(messages)
        one_poller = seconds / 0.3
        assert await polls(sandbox) - before <= 1.5 * one_poller + 4, (seconds, one_poller)
        assert leases
        assert max(leases) <= 1
    finally:
        for process, _, _ in started:
            if process.returncode is None:
                process.kill()
                await process.wait()
        for drain in drains:
            drain.cancel()
