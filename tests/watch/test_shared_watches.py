"""Watches shared by replicas on Redis (--redis-url), end to end: one poller per batch however
many replicas have watchers, the state at once for a new watcher anywhere, a take-over when the
holder lets go or dies, and Redis outages that leave every watch going. Real redis-server, real
gateways (in-process and `serve`), one sandbox.

The sandbox runs on the test's manual clock (`sandbox_clock`): a batch stands still until the
test moves it, so a take-over or an outage always happens mid-batch, and no test waits for items
to finish. The gateways' own polling, leases and Redis probes run on real time (a 0.3 s cadence,
a 1 s lease): what is counted over real seconds is their polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import Awaitable, Callable

import grpc
import pytest
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.access.credentials import Credential
from gateway.config import GatewayConfig
from gateway.server.process import REDIS_HEALTH_SERVICE
from gateway.state.redis_client import KEY_SECRET_ENV
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import assert_error, eventually, rpc_error, source, until, upstream_count
from tests.helpers.clock import FakeTime
from tests.helpers.gateways import Gateways, Running
from tests.helpers.metrics import scrape
from tests.helpers.processes import start_serve, start_serving
from tests.helpers.redis_server import RedisServer

pytestmark = pytest.mark.usefixtures("key_secret")

Stub = pb_grpc.BatchTranscriptionServiceStub
POLL = "GET /v1/transcriptions/batch/{batch_id}/status"
TERMINAL = {batch_pb2.BATCH_STATE_COMPLETED, batch_pb2.BATCH_STATE_FAILED}
CADENCE = 0.3
"""Seconds between a poller's polls (fast and slow alike): polls in a window count pollers."""
ITEM = 3.0
"""An item's seconds on the sandbox clock: in a batch of n items, item k (from 0) is done
ITEM * (1 + k/n) after the batch's creation (sofer_sandbox.timeline), all of them by 2 * ITEM."""
WINDOW = 1.5
"""Real seconds over which polls are counted: one poller makes WINDOW / CADENCE of them."""


@pytest.fixture
def sandbox_config(sandbox_clock: FakeTime) -> SandboxConfig:
    """Batches that move only when the test advances the sandbox clock."""
    return SandboxConfig(item_seconds=ITEM, manifest_validation_seconds=0.0, clock=sandbox_clock)


@pytest.fixture
def shared(gateway_config: GatewayConfig, redis_server: RedisServer) -> GatewayConfig:
    """The test's gateway settings on the test's Redis, with a steady poll cadence (so that
    polls count pollers) and a 1 s lease."""
    return dataclasses.replace(
        gateway_config,
        redis_url=redis_server.url,
        watch_fast_interval=CADENCE,
        watch_slow_interval=CADENCE,
        watch_backoff_factor=1.0,
        poll_lease=1.0,
    )


SERVE_FLAGS = (
    "--poll-lease", "1", "--watch-fast-interval", str(CADENCE),
    "--watch-slow-interval", str(CADENCE), "--watch-backoff-factor", "1",
)  # fmt: skip


async def create(stub: Stub, items: int = 3) -> str:
    """A batch of `items` express items; its id."""
    request = pb.CreateBatchRequest(
        audio_sources=[source(n) for n in range(items)], info=batch_pb2.BatchInfo()
    )
    answer = await stub.CreateBatch(request, metadata=bearer(), timeout=10)
    return str(answer.batch_id)


async def polls(sandbox: SandboxServer) -> int:
    """Batch status reads the sandbox received."""
    return await upstream_count(sandbox, POLL)


class Watcher:
    """One watch of a batch, reading every message in the background until it ends."""

    def __init__(self, stub: Stub, batch_id: str) -> None:
        self.messages: list[pb.WatchBatchStatusResponse] = []
        self._task = asyncio.ensure_future(self._read(stub, batch_id))

    async def _read(self, stub: Stub, batch_id: str) -> None:
        call = stub.WatchBatchStatus(
            pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer(), timeout=60
        )
        async for message in call:
            self.messages.append(message)

    def completed(self) -> int:
        """Items completed in the last message (-1 before the first)."""
        return self.messages[-1].batch_status.completed_count if self.messages else -1

    async def end(self) -> list[pb.WatchBatchStatusResponse]:
        """Every message, once the watch has ended (raising its error, if it had one)."""
        await self._task
        return self.messages

    def cancel(self) -> None:
        self._task.cancel()


def finish(clock: FakeTime, created: float, done: int, items: int) -> None:
    """Move the sandbox clock to when `done` of the batch's `items` items (created at `created`
    on that clock) have finished."""
    clock.advance(created + ITEM * (1 + (done - 1) / items) - clock.now)


async def seen_by_all(watchers: list[Watcher], completed: int) -> None:
    """Wait until every watcher has seen `completed` items done."""
    await until(lambda: all(w.completed() >= completed for w in watchers), within=20)


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
    steps = [(m.batch_status.completed_count, m.batch_status.failed_count) for m in messages]
    assert steps == sorted(steps), f"progress went backwards: {steps}"


async def sampled(
    probe: Callable[[], Awaitable[float]], every: float = 0.1
) -> tuple[list[float], float]:
    """`await probe()` every `every` seconds for about WINDOW real seconds: the samples, and the
    real seconds they took."""
    samples = []
    started = time.monotonic()
    while time.monotonic() - started < WINDOW:
        samples.append(await probe())
        await asyncio.sleep(every)
    return samples, time.monotonic() - started


def one_poller(seconds: float) -> float:
    """The most status reads one poller makes in `seconds` of real time, with room for a loaded
    machine (two pollers would make twice `seconds / CADENCE`)."""
    return 1.5 * seconds / CADENCE + 2


async def test_watchers_on_three_replicas_cost_one_poller(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways, sandbox_clock: FakeTime
) -> None:
    """Five watchers of one batch on each of three replicas: over a window of real time the
    upstream sees one poller's worth of status reads (not three), at no moment do two replicas
    lead, and every watcher sees the batch move to COMPLETED without a duplicate or a step
    back."""
    group = [await gateways.start(shared) for _ in range(3)]
    created = sandbox_clock.now
    batch_id = await create(group[0].stub)
    watchers = [Watcher(r.stub, batch_id) for r in group for _ in range(5)]
    await seen_by_all(watchers, 0)
    before = await polls(sandbox)

    async def leading() -> float:
        return sum(r.gateway.hub.leading for r in group if r.gateway.hub)

    leaders, seconds = await sampled(leading)
    assert await polls(sandbox) - before <= one_poller(seconds)
    assert max(leaders) <= 1
    for done in (1, 2, 3):
        finish(sandbox_clock, created, done, 3)
        await seen_by_all(watchers, done)
    for watcher in watchers:
        assert_clean(await watcher.end())


async def test_transcription_watchers_on_three_replicas_cost_one_poller(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways, sandbox_clock: FakeTime
) -> None:
    """WatchTranscription rides the same exchange: three watchers of one single transcription
    on each of three replicas cost one poller's worth of status reads (not three), at no moment
    do two replicas lead, and every watcher ends at COMPLETED once the transcription is done."""
    group = [await gateways.start(shared) for _ in range(3)]
    created = await group[0].stub.CreateTranscription(
        pb.CreateTranscriptionRequest(
            info=batch_pb2.BatchInfo(), audio_url="https://cdn.example.com/single.mp3"
        ),
        metadata=bearer(),
        timeout=10,
    )
    transcription_id = created.transcription_id
    seen: list[list[pb.WatchTranscriptionResponse]] = [[] for _ in range(9)]

    async def watch(stub: Stub, into: list[pb.WatchTranscriptionResponse]) -> None:
        request = pb.WatchTranscriptionRequest(transcription_id=transcription_id)
        async for message in stub.WatchTranscription(request, metadata=bearer(), timeout=60):
            into.append(message)

    tasks = [
        asyncio.ensure_future(watch(r.stub, seen[3 * i + k]))
        for i, r in enumerate(group)
        for k in range(3)
    ]
    await until(lambda: all(seen), within=20)
    path = "GET /v1/transcriptions/{transcription_id}/status"
    before = await upstream_count(sandbox, path)

    async def leading() -> float:
        return sum(r.gateway.hub.leading for r in group if r.gateway.hub)

    leaders, seconds = await sampled(leading)
    assert await upstream_count(sandbox, path) - before <= one_poller(seconds)
    assert max(leaders) <= 1
    sandbox_clock.advance(3 * ITEM)
    await asyncio.gather(*tasks)
    for messages in seen:
        assert messages[-1].transcription_info.state == batch_pb2.TRANSCRIPTION_STATE_COMPLETED


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


async def _drain(process: asyncio.subprocess.Process) -> None:
    """Read a `serve` process's log so that a full pipe never blocks it."""
    assert process.stdout is not None
    while await process.stdout.readline():
        pass


async def test_a_follower_takes_over_when_the_holder_is_killed(
    sandbox: SandboxServer, redis_server: RedisServer, sandbox_clock: FakeTime, key_secret: str
) -> None:
    """Two `serve` processes; replica A's watcher came first, so A polls for both: B's
    watchers cost no reads of their own. A is killed (SIGKILL) mid-batch: B takes the lease
    over, polls, and B's watchers see the rest of the batch and end OK on the terminal state
    with no duplicate and no step back."""
    flags = ("--upstream-url", sandbox.url, "--redis-url", redis_server.url, *SERVE_FLAGS)
    env = {KEY_SECRET_ENV: key_secret}  # `serve` inherits no SOFER_* variable
    holder, holder_address = await start_serve(*flags, env=env)
    follower, follower_address = await start_serve(*flags, env=env)
    drains = [asyncio.ensure_future(_drain(p)) for p in (holder, follower)]
    try:
        async with (
            grpc.aio.insecure_channel(holder_address) as a,
            grpc.aio.insecure_channel(follower_address) as b,
        ):
            created = sandbox_clock.now
            batch_id = await create(Stub(a), items=4)
            first = Watcher(Stub(a), batch_id)
            await seen_by_all([first], 0)
            watchers = [Watcher(Stub(b), batch_id) for _ in range(3)]
            await seen_by_all(watchers, 0)
            before, started = await polls(sandbox), time.monotonic()
            await asyncio.sleep(WINDOW)  # B follows A: one poller's worth of reads, not two
            seconds = time.monotonic() - started
            assert await polls(sandbox) - before <= one_poller(seconds)
            finish(sandbox_clock, created, 1, 4)
            await seen_by_all(watchers, 1)
            holder.kill()
            await holder.wait()
            before = await polls(sandbox)
            sandbox_clock.advance(2 * ITEM)  # the rest of the batch, for B's poller to find
            for watcher in watchers:
                assert_clean(await watcher.end())
            assert await polls(sandbox) > before  # B polled after A died
            with contextlib.suppress(grpc.aio.AioRpcError):  # A's own watch died with A
                await first.end()
    finally:
        for process in (holder, follower):
            if process.returncode is None:
                process.kill()
                await process.wait()
        for drain in drains:
            drain.cancel()


async def _leading(item: Running) -> int:
    assert item.gateway.hub is not None
    return item.gateway.hub.leading


async def test_the_holder_letting_go_hands_the_poller_over_at_once(
    shared: GatewayConfig, sandbox: SandboxServer, gateways: Gateways, sandbox_clock: FakeTime
) -> None:
    """Replica A leads; its only watcher leaves while replica B still has watchers: B leads
    next (A let go), and B's watchers see the batch to its end."""
    first, second = await gateways.start(shared), await gateways.start(shared)
    batch_id = await create(first.stub)
    leaving = Watcher(first.stub, batch_id)
    await seen_by_all([leaving], 0)
    await eventually(lambda: _leading(first), lambda n: n == 1)
    staying = Watcher(second.stub, batch_id)
    await seen_by_all([staying], 0)
    leaving.cancel()
    await eventually(lambda: _leading(second), lambda n: n == 1, within=10)
    sandbox_clock.advance(2 * ITEM)
    assert_clean(await staying.end())


async def test_an_error_ends_the_watches_on_every_replica(
    shared: GatewayConfig, gateways: Gateways
) -> None:
    """Watches of a batch that does not exist on two replicas both end NOT_FOUND
    (BATCH_NOT_FOUND): the holder's 404 reaches the follower's watchers too."""
    first, second = await gateways.start(shared), await gateways.start(shared)
    missing = "00000000-0000-4000-8000-000000000000"
    errors = await asyncio.gather(
        rpc_error(Watcher(first.stub, missing).end()),
        rpc_error(Watcher(second.stub, missing).end()),
    )
    for error in errors:
        assert_error(error, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")


async def _available(*items: Running) -> tuple[bool | None, ...]:
    return tuple(item.gateway.redis_available for item in items)


async def test_redis_stopped_and_started_again_under_watches(
    shared: GatewayConfig,
    redis_server: RedisServer,
    gateways: Gateways,
    sandbox_clock: FakeTime,
) -> None:
    """Redis goes away while two replicas have watchers of a batch: both go on polling for
    themselves (local mode; `redis_available` says False) and their watchers see the batch
    move meanwhile; Redis comes back and they share again; every watcher sees the batch to
    COMPLETED."""
    first, second = await gateways.start(shared), await gateways.start(shared)
    created = sandbox_clock.now
    batch_id = await create(first.stub, items=4)
    watchers = [Watcher(r.stub, batch_id) for r in (first, second)]
    await seen_by_all(watchers, 0)
    redis_server.stop()
    await eventually(lambda: _available(first, second), lambda up: up == (False, False), within=15)
    finish(sandbox_clock, created, 1, 4)
    await seen_by_all(watchers, 1)
    redis_server.start()
    await eventually(lambda: _available(first, second), lambda up: up == (True, True), within=15)
    sandbox_clock.advance(2 * ITEM)
    for watcher in watchers:
        assert_clean(await watcher.end())


async def test_nothing_secret_is_kept_in_redis(
    shared: GatewayConfig,
    redis_server: RedisServer,
    gateways: Gateways,
    sandbox_clock: FakeTime,
) -> None:
    """After shared watches, no Redis key or value holds the caller's token or its plain
    SHA-256 tenant key."""
    first, second = await gateways.start(shared), await gateways.start(shared)
    batch_id = await create(first.stub, items=1)
    watchers = [Watcher(r.stub, batch_id) for r in (first, second)]
    await seen_by_all(watchers, 0)
    sandbox_clock.advance(2 * ITEM)
    for watcher in watchers:
        await watcher.end()
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        keys = [key async for key in client.scan_iter("sgw:poll-*")]
        assert keys
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


async def test_redis_mode_shows_in_health_and_metrics(
    shared: GatewayConfig,
    redis_server: RedisServer,
    gateways: Gateways,
    sandbox_clock: FakeTime,
) -> None:
    """With --redis-url the health service `sofer.gateway.Redis` says SERVING and
    sofer_gateway_redis_up 1 while Redis answers, and a watched batch shows one poll lease;
    with Redis stopped they say NOT_SERVING and 0 while the gateway itself stays SERVING; both
    come back with Redis."""
    item = await gateways.start(shared, metrics_listen="127.0.0.1:0")
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
    watcher = Watcher(item.stub, batch_id)
    await eventually(lambda: scrape(port), lambda s: s.value("sofer_gateway_poll_leases") == 1)
    redis_server.stop()
    await eventually(looks, lambda got: got == (not_serving, serving, 0), within=15)
    redis_server.start()
    await eventually(looks, lambda got: got == (serving, serving, 1), within=15)
    sandbox_clock.advance(2 * ITEM)
    assert_clean(await watcher.end())


async def _serving(*flags: str, secret: str) -> tuple[asyncio.subprocess.Process, str, int]:
    """A `serve` process on the test's Redis: (process, gRPC address, metrics port)."""
    process, event = await start_serving(*flags, env={KEY_SECRET_ENV: secret})
    return process, str(event["address"]), int(event["metrics_port"])


async def test_three_serve_processes_poll_a_watched_batch_once(
    sandbox: SandboxServer, redis_server: RedisServer, sandbox_clock: FakeTime, key_secret: str
) -> None:
    """Three `serve` processes on one Redis, four watchers of one batch on each: over a window
    of real time the upstream sees one poller's worth of status reads, the processes' poll
    leases (their metrics) never add up to more than one, and every watcher sees the batch to
    its end."""
    flags = (
        "--upstream-url", sandbox.url, "--redis-url", redis_server.url, *SERVE_FLAGS,
        "--metrics-listen", "127.0.0.1:0",
    )  # fmt: skip
    started = [await _serving(*flags, secret=key_secret) for _ in range(3)]
    drains = [asyncio.ensure_future(_drain(process)) for process, _, _ in started]
    channels = [grpc.aio.insecure_channel(address) for _, address, _ in started]
    try:
        stubs = [Stub(channel) for channel in channels]
        batch_id = await create(stubs[0])
        watchers = [Watcher(stub, batch_id) for stub in stubs for _ in range(4)]
        await seen_by_all(watchers, 0)
        before = await polls(sandbox)

        async def leases() -> float:
            scrapes = [await scrape(port) for _, _, port in started]
            return sum(s.value("sofer_gateway_poll_leases") for s in scrapes)

        held, seconds = await sampled(leases)
        assert await polls(sandbox) - before <= one_poller(seconds)
        assert max(held) <= 1
        sandbox_clock.advance(2 * ITEM)
        for watcher in watchers:
            assert_clean(await watcher.end())
    finally:
        for channel in channels:
            await channel.close(None)
        for process, _, _ in started:
            if process.returncode is None:
                process.kill()
                await process.wait()
        for drain in drains:
            drain.cancel()
