"""The replicas' exchange on its own (gateway.watch.exchange) against a real redis-server: leases,
fenced publication, the channel's messages, and what a replica sees while Redis is away. The
watches it serves end to end are in test_shared_watches.py."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime

import pytest
from sofer.batch.v1 import batch_pb2

from gateway.events.redis_log import RedisEventLog
from gateway.upstream import BatchStatusResponse
from gateway.watch.exchange import Published, SharedNews, StaleBase, StatusExchange
from tests.helpers.calls import eventually
from tests.helpers.redis_server import RedisConnections

# -- the exchange itself ------------------------------------------------------------------------


async def exchange(connections: RedisConnections, lease: float) -> StatusExchange:
    """A replica's exchange on the test's Redis, with a lease of `lease` seconds."""
    return StatusExchange(await connections.connect(), lease=lease)


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
    redis_connections: RedisConnections,
) -> None:
    """Holder A stalls past its lease; B takes the lease and publishes; A, waking up, cannot
    publish its older state over B's (the fence), and cannot renew: the latest stays B's."""
    a = await exchange(redis_connections, lease=0.04)
    b = await exchange(redis_connections, lease=0.04)
    key = a.key("tenant", "batch")
    lease_a = await a.acquire(key)
    assert lease_a is not None
    assert await b.acquire(key) is None  # held
    assert await version(a.publish(lease_a, status(1), datetime.now(UTC), base=0)) == 1
    # A stalls (renews no more): Redis expires its lease within 0.75 x 40 ms, and B takes it.
    lease_b = await eventually(lambda: b.acquire(key), lambda got: got is not None, interval=0.01)
    assert lease_b is not None
    assert await version(b.publish(lease_b, status(2), datetime.now(UTC), base=1)) == 2
    assert await a.publish(lease_a, status(1), datetime.now(UTC), base=2) is None
    assert not await a.renew(lease_a)
    latest = await b.latest(key)
    assert latest is not None
    assert (latest.version, latest.status) == (2, status(2))


async def test_a_follower_hears_each_version_once(redis_connections: RedisConnections) -> None:
    """A subscriber of the batch's channel gets every published version, in order, once."""
    a = await exchange(redis_connections, lease=5)
    b = await exchange(redis_connections, lease=5)
    await b.start()
    heard: list[int] = []
    key = b.key("tenant", "batch")
    await b.subscribe(key, lambda news: heard.append(news.shared.version) if news.shared else None)
    lease = await a.acquire(key)
    assert lease is not None
    for completed in range(3):
        await a.publish(lease, status(completed), datetime.now(UTC), base=completed)
    await eventually(lambda: _value(heard), lambda got: len(got) >= 3, within=10)
    assert heard == [1, 2, 3]
    await b.close()


async def version(publication: Awaitable[Published | None]) -> int | None:
    """The version a publication wrote (None: the lease was not the publisher's)."""
    published = await publication
    return None if published is None else published.version


async def _value(items: list[int]) -> list[int]:
    return list(items)


# -- events in the fenced publication ---------------------------------------------------------


def batch_event(completed: int) -> batch_pb2.BatchEvent:
    return batch_pb2.BatchEvent(
        type=batch_pb2.BATCH_EVENT_TYPE_BATCH_UPDATED, batch_id="b", completed_count=completed
    )


async def test_a_publication_appends_its_events_once_and_fenced(
    redis_connections: RedisConnections,
) -> None:
    """The holder's publication appends its events to the batch's stream, atomically with the
    status (the hash names the last event); a publication diffed against another version than
    the kept one (StaleBase) and a stale holder's publication append nothing."""
    connection = await redis_connections.connect()
    log = RedisEventLog(connection)
    a = StatusExchange(connection, lease=0.04, events=log)
    b = StatusExchange(await redis_connections.connect(), lease=0.04, events=log)
    key = a.key("tenant", "batch")
    lease_a = await a.acquire(key)
    assert lease_a is not None
    published = await a.publish(
        lease_a, status(1), datetime.now(UTC), base=0, events=[batch_event(1), batch_event(2)]
    )
    assert published is not None
    ids = [e.event_id for e in published.events]
    kept = await log.read_after("tenant", "batch", None, limit=10)
    assert [e.event_id for e in kept] == ids
    latest = await a.latest(key)
    assert latest is not None
    assert latest.position == ids[-1]
    with pytest.raises(StaleBase):
        await a.publish(lease_a, status(2), datetime.now(UTC), base=0, events=[batch_event(3)])
    lease_b = await eventually(lambda: b.acquire(key), lambda got: got is not None, interval=0.01)
    assert lease_b is not None
    stale = await a.publish(lease_a, status(2), datetime.now(UTC), base=1, events=[batch_event(3)])
    assert stale is None
    assert len(await log.read_after("tenant", "batch", None, limit=10)) == 2
    taken = await b.publish(lease_b, status(2), datetime.now(UTC), base=1, events=[batch_event(4)])
    assert taken is not None
    assert taken.since == ids[-1]
    assert [
        e.completed_count for e in await log.read_after("tenant", "batch", ids[-1], limit=10)
    ] == [4]


async def test_the_channel_names_each_publications_events(
    redis_connections: RedisConnections,
) -> None:
    """A follower hears, with each version, the position before its events and their ids."""
    connection = await redis_connections.connect()
    a = StatusExchange(connection, lease=5, events=RedisEventLog(connection))
    b = StatusExchange(await redis_connections.connect(), lease=5)
    await b.start()
    heard: list[SharedNews] = []
    key = b.key("tenant", "batch")
    await b.subscribe(key, heard.append)
    lease = await a.acquire(key)
    assert lease is not None
    first = await a.publish(lease, status(1), datetime.now(UTC), base=0, events=[batch_event(1)])
    second = await a.publish(
        lease, status(2), datetime.now(UTC), base=1, events=[batch_event(2), batch_event(3)]
    )
    assert first is not None
    assert second is not None
    await eventually(lambda: _count(heard), lambda got: got >= 2, within=10)
    shared = [news.shared for news in heard if news.shared is not None]
    assert [(s.since, s.event_ids, s.position) for s in shared] == [
        ("", (first.position,), first.position),
        (first.position, tuple(e.event_id for e in second.events), second.position),
    ]
    await b.close()


async def _count(items: list[SharedNews]) -> int:
    return len(items)
