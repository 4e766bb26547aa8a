"""The event logs, in memory and on a real redis-server, read as resumable streams and webhooks
read them: every event after a position once, in order; EventsExpired when events after it were
dropped (by length, by age, by eviction or a restart), never a silent gap. Time is the tests'
clock (FakeTime's wall clock)."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Protocol

import pytest
from sofer.batch.v1 import batch_pb2

from gateway.events.log import EventLog, LogBounds, MemoryEventLog
from gateway.events.model import EventsExpired
from gateway.events.positions import redis_id
from gateway.events.redis_log import START, RedisEventLog
from tests.helpers.clock import FakeTime
from tests.helpers.redis_server import RedisConnections

BATCH = "6f1c1e3a-2b7e-4a53-9d37-0c1f6a3b5e21"


class MakeLog(Protocol):
    def __call__(self, bounds: LogBounds, clock: FakeTime) -> Awaitable[EventLog]: ...


@pytest.fixture(params=["memory", "redis"])
def make_log(request: pytest.FixtureRequest) -> MakeLog:
    """Each test runs on both logs."""
    connections: RedisConnections | None = (
        request.getfixturevalue("redis_connections") if request.param == "redis" else None
    )

    async def memory(bounds: LogBounds, clock: FakeTime) -> EventLog:
        return MemoryEventLog(bounds, clock=clock.wall_clock)

    async def redis(bounds: LogBounds, clock: FakeTime) -> EventLog:
        assert connections is not None
        return RedisEventLog(await connections.connect(), bounds, clock=clock.wall_clock)

    return memory if request.param == "memory" else redis


def event(n: int) -> batch_pb2.BatchEvent:
    """The n-th test event (its completed_count says which)."""
    return batch_pb2.BatchEvent(
        type=batch_pb2.BATCH_EVENT_TYPE_BATCH_UPDATED, batch_id=BATCH, completed_count=n
    )


def same_millisecond(a: str, b: str) -> bool:
    """Two Redis ids of the same millisecond (False for the in-memory log's ids)."""
    first, second = redis_id(a), redis_id(b)
    return first is not None and second is not None and first[0] == second[0]


def counts(events: object) -> list[int]:
    return [e.completed_count for e in events]  # type: ignore[attr-defined]


async def test_a_reader_gets_every_event_after_its_position_once_in_order(
    make_log: MakeLog,
) -> None:
    """Appended events come back with increasing ids; reading after any of them gives exactly
    the ones after it, in pages of `limit`, then nothing."""
    log = await make_log(LogBounds(), FakeTime())
    first = await log.append("tenant", BATCH, [event(1), event(2)])
    second = await log.append("tenant", BATCH, [event(3)])
    ids = [e.event_id for e in first + second]
    assert len(set(ids)) == 3
    assert all(ids)
    assert counts(await log.read_after("tenant", BATCH, None, limit=10)) == [1, 2, 3]
    assert counts(await log.read_after("tenant", BATCH, ids[0], limit=1)) == [2]
    assert counts(await log.read_after("tenant", BATCH, ids[1], limit=10)) == [3]
    assert list(await log.read_after("tenant", BATCH, ids[2], limit=10)) == []
    read = await log.read_after("tenant", BATCH, ids[0], limit=10)
    assert [e.event_id for e in read] == ids[1:]


async def test_logs_are_per_tenant_and_batch(make_log: MakeLog) -> None:
    """Another tenant's log of the same batch id, or another batch's, is not this one's."""
    log = await make_log(LogBounds(), FakeTime())
    await log.append("tenant", BATCH, [event(1)])
    await log.append("other", BATCH, [event(7)])
    await log.append("tenant", "another-batch", [event(9)])
    assert counts(await log.read_after("tenant", BATCH, None, limit=10)) == [1]
    assert counts(await log.read_after("other", BATCH, None, limit=10)) == [7]


async def test_events_trimmed_by_length_expire_older_positions(make_log: MakeLog) -> None:
    """Past `max_events` the oldest go: a position before them is expired, a position the
    log still links to reads on."""
    log = await make_log(LogBounds(max_events=3), FakeTime())
    kept = await log.append("tenant", BATCH, [event(n) for n in range(1, 6)])
    assert counts(await log.read_after("tenant", BATCH, None, limit=10)) == [3, 4, 5]
    with pytest.raises(EventsExpired):
        await log.read_after("tenant", BATCH, kept[0].event_id, limit=10)
    assert counts(await log.read_after("tenant", BATCH, kept[2].event_id, limit=10)) == [4, 5]


async def test_events_older_than_max_age_expire(make_log: MakeLog) -> None:
    """An event appended more than `max_age` ago is dropped at the next append: a position
    before it is expired; the newest position still reads (nothing after it)."""
    clock = FakeTime(wall=time.time())  # Redis dates its entries by its own clock
    log = await make_log(LogBounds(max_age=60), clock)
    old = await log.append("tenant", BATCH, [event(1), event(2)])
    clock.advance(61)
    new = await log.append("tenant", BATCH, [event(3)])
    # Redis keeps entries of the millisecond of the newest (ids count milliseconds): append
    # until the newest is of a later one than the old.
    while same_millisecond(new[0].event_id, old[-1].event_id):
        new = await log.append("tenant", BATCH, [event(3)])
    with pytest.raises(EventsExpired):
        await log.read_after("tenant", BATCH, old[0].event_id, limit=10)
    assert list(await log.read_after("tenant", BATCH, new[0].event_id, limit=10)) == []


async def test_listeners_hear_each_append(make_log: MakeLog) -> None:
    """A listener is told (tenant, batch) after each append, once; a failing one does not stop
    the others."""
    log = await make_log(LogBounds(), FakeTime())
    heard: list[tuple[str, str]] = []

    def failing(tenant: str, batch_id: str) -> None:
        raise RuntimeError("a listener's own bug")

    log.add_listener(failing)
    log.add_listener(lambda tenant, batch_id: heard.append((tenant, batch_id)))
    await log.append("tenant", BATCH, [event(1)])
    await log.append("tenant", BATCH, [])
    assert heard == [("tenant", BATCH)]


async def test_a_memory_position_after_a_restart_is_expired() -> None:
    """A new process's log answers a position of the old one EventsExpired, even when the new
    log has as many events: never a wrong position."""
    before = MemoryEventLog()
    old = await before.append("tenant", BATCH, [event(1), event(2)])
    after = MemoryEventLog()
    await after.append("tenant", BATCH, [event(1), event(2), event(3)])
    with pytest.raises(EventsExpired):
        await after.read_after("tenant", BATCH, old[0].event_id, limit=10)


async def test_an_evicted_batch_expires_its_positions() -> None:
    """Past `max_batches` the least recently used batch's log goes; a position in it is
    expired, even once the batch has new events."""
    log = MemoryEventLog(LogBounds(max_batches=1))
    old = await log.append("tenant", BATCH, [event(1), event(2)])
    await log.append("tenant", "another-batch", [event(9)])
    with pytest.raises(EventsExpired):
        await log.read_after("tenant", BATCH, old[0].event_id, limit=10)
    await log.append("tenant", BATCH, [event(3)])
    with pytest.raises(EventsExpired):
        await log.read_after("tenant", BATCH, old[1].event_id, limit=10)


async def test_redis_keys_name_the_tenant_by_its_keyed_hash(
    redis_connections: RedisConnections,
) -> None:
    """The stream's key carries the tenant's keyed hash, never the tenant key itself, and the
    stream expires."""
    connection = await redis_connections.connect()
    log = RedisEventLog(connection, LogBounds(max_age=60))
    await log.append("tenant-key-secret", BATCH, [event(1)])
    keys = [
        key.decode() if isinstance(key, bytes) else key for key in await connection.client.keys("*")
    ]
    assert keys == [f"sgw:events:{connection.hash_tenant('tenant-key-secret')}:{BATCH}"]
    assert "tenant-key-secret" not in keys[0]
    assert 0 < await connection.client.pttl(keys[0]) <= 60_000


async def test_a_redis_stream_that_expired_expires_its_positions(
    redis_connections: RedisConnections,
) -> None:
    """The stream gone (expired) and written again: a position in the old one is expired, the
    start of the log reads the new events."""
    connection = await redis_connections.connect()
    log = RedisEventLog(connection)
    old = await log.append("tenant", BATCH, [event(1)])
    await connection.client.delete(log.key("tenant", BATCH))
    with pytest.raises(EventsExpired):
        await log.read_after("tenant", BATCH, old[0].event_id, limit=10)
    await log.append("tenant", BATCH, [event(2)])
    with pytest.raises(EventsExpired):
        await log.read_after("tenant", BATCH, old[0].event_id, limit=10)
    assert counts(await log.read_after("tenant", BATCH, START, limit=10)) == [2]
