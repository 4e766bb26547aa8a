"""The replicas' exchange on its own (gateway.watch.exchange) against a real redis-server: leases,
fenced publication, the channel's messages, and what a replica sees while Redis is away. The
watches it serves end to end are in test_shared_watches.py."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime

from gateway.upstream import BatchStatusResponse
from gateway.watch.exchange import Published, StatusExchange
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
