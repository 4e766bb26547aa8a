"""The webhooks' store on a real Redis: shared by replicas, fenced by the lease, and holding no
tenant key or token."""

from __future__ import annotations

from gateway.webhooks.store import Attempt, Endpoint
from gateway.webhooks.store_redis import RedisWebhookStore
from tests.helpers.redis_server import RedisConnections, RedisServer

TENANT = "tenant-key-of-a-token"


def endpoint(endpoint_id: str = "e1", created: float = 1.0) -> Endpoint:
    return Endpoint(endpoint_id, "https://h.example/x", ("batch.updated",), "whsec_AAAA", created)


async def test_two_replicas_share_endpoints_and_one_lease_per_lane(
    redis_connections: RedisConnections,
) -> None:
    """An endpoint added through one replica is listed by another; only one replica holds an
    (endpoint, batch) lease at a time, and only the holder moves the cursor, which both read."""
    a = RedisWebhookStore(await redis_connections.connect())
    b = RedisWebhookStore(await redis_connections.connect())
    await a.add(a.scope(TENANT), endpoint())
    assert a.scope(TENANT) == b.scope(TENANT)  # the same key secret: one name on every replica
    assert [e.id for e in await b.endpoints(b.scope(TENANT))] == ["e1"]
    assert (await b.endpoints(b.scope(TENANT)))[0].types == ("batch.updated",)
    assert await a.acquire("e1", "b1", "holder-a", ttl=30)
    assert not await b.acquire("e1", "b1", "holder-b", ttl=30)
    assert not await b.advance("e1", "b1", "holder-b", "1-0")
    assert await a.advance("e1", "b1", "holder-a", "1-0")
    await a.release("e1", "b1", "holder-a")
    assert await b.acquire("e1", "b1", "holder-b", ttl=30)
    assert await b.cursor("e1", "b1") == "1-0"


async def test_a_replayed_add_rotation_and_attempts(redis_connections: RedisConnections) -> None:
    """Adding an id that exists answers the stored endpoint; a rotation replaces it; attempts
    are listed newest first; a removed endpoint is gone with its attempts."""
    store = RedisWebhookStore(await redis_connections.connect())
    tenant = store.scope(TENANT)
    first = await store.add(tenant, endpoint())
    replay = await store.add(tenant, Endpoint("e1", "https://h.example/x", (), "whsec_BBBB", 2.0))
    assert replay.secret == first.secret
    rotated = Endpoint("e1", first.url, first.types, "whsec_CCCC", 1.0, "whsec_AAAA", 99.0)
    assert await store.put(tenant, rotated)
    assert (await store.endpoints(tenant))[0].signing_secrets(50.0) == ("whsec_CCCC", "whsec_AAAA")
    for i in range(3):
        await store.record("e1", Attempt("m", str(i), "batch.updated", "b", float(i), 503))
    assert [a.event_id for a in await store.attempts("e1")] == ["2", "1", "0"]
    assert await store.remove(tenant, "e1")
    assert await store.endpoints(tenant) == []
    assert await store.attempts("e1") == []
    assert not await store.put(tenant, rotated)


async def test_redis_names_the_tenant_by_its_keyed_hash_only(
    redis_connections: RedisConnections, redis_server: RedisServer
) -> None:
    """No key or value in Redis contains the tenant key; `active` names the tenant by its
    keyed hash (`scope`), which is all any replica needs to deliver its events."""
    connection = await redis_connections.connect()
    store = RedisWebhookStore(connection)
    assert TENANT not in store.scope(TENANT)
    await store.add(store.scope(TENANT), endpoint())
    await store.mark_active(store.scope(TENANT), "b1")
    assert await store.active(3600) == [(store.scope(TENANT), "b1")]
    client = connection.client
    for key in await client.keys("*"):
        assert TENANT not in repr(key)
        kind = repr(await client.type(key))
        if "hash" in kind:
            dumped = repr(await client.hgetall(key))
        elif "zset" in kind:
            dumped = repr(await client.zrange(key, 0, -1))
        else:
            continue
        assert TENANT not in dumped
