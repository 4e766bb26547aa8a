"""The remembered items of uploaded manifests (gateway.state.manifest_items): the bounded LRU
in memory, and a real Redis shared by two connections (two replicas)."""

from __future__ import annotations

import pytest

from gateway.state.manifest_items import (
    KEY_PREFIX,
    ManifestItem,
    ManifestStoreUnavailable,
    MemoryManifestItems,
    RedisManifestItems,
)
from tests.helpers.redis_server import RedisConnections, RedisServer


def _items(n: int, prefix: str = "a") -> list[ManifestItem]:
    return [
        ManifestItem(f"https://cdn.example.com/{prefix}{i}.mp3", f"{i}", None) for i in range(n)
    ]


async def test_memory_keeps_the_newest_manifests_up_to_its_count() -> None:
    """Past its count of manifests the least recently used one is forgotten (its batch then
    cannot be priced); one read meanwhile counts as used; tenants are apart."""
    store = MemoryManifestItems(max_manifests=3)
    for n in range(3):
        await store.remember("t", f"m{n}", _items(2))
    assert await store.lookup("t", "m0") is not None  # m0 now the most recently used
    await store.remember("t", "m3", _items(2))
    assert len(store) == 3
    assert await store.lookup("t", "m1") is None
    assert await store.lookup("t", "m0") == _items(2)
    assert await store.lookup("other", "m0") is None


async def test_memory_bounds_the_items_it_keeps_in_all() -> None:
    """Past its count of items in all, the oldest manifests are forgotten until the rest fit;
    a manifest remembered again replaces its items instead of counting twice."""
    store = MemoryManifestItems(max_manifests=100, max_items=10)
    await store.remember("t", "m0", _items(4))
    await store.remember("t", "m0", _items(4, "b"))
    await store.remember("t", "m1", _items(4))
    assert await store.lookup("t", "m0") == _items(4, "b")
    await store.remember("t", "m2", _items(4))
    assert await store.lookup("t", "m1") is None  # m0 was read after m1, so m1 went first
    assert len(store) == 2


async def test_redis_shares_a_manifest_between_replicas_under_a_hashed_key(
    redis_connections: RedisConnections,
) -> None:
    """A manifest remembered by one replica is read by another; its key names the tenant by
    its keyed hash, never the tenant key, and expires after the TTL."""
    one, two = await redis_connections.connect(), await redis_connections.connect()
    items = [ManifestItem("https://cdn.example.com/x.mp3", "x", True), *_items(2)]
    await RedisManifestItems(one).remember("tenant-key", "m", items)
    assert await RedisManifestItems(two).lookup("tenant-key", "m") == items
    assert await RedisManifestItems(two).lookup("another", "m") is None
    keys = [k.decode() async for k in two.client.scan_iter(match=f"{KEY_PREFIX}*")]
    assert len(keys) == 1
    assert "tenant-key" not in keys[0]
    assert 0 < await two.client.ttl(keys[0]) <= 7 * 86400


async def test_redis_down_never_fails_an_upload_and_fails_a_read(
    redis_server: RedisServer, redis_connections: RedisConnections
) -> None:
    """While Redis is down, remembering is skipped without an error (the upload goes on), and
    a read raises ManifestStoreUnavailable (the guard fails closed)."""
    store = RedisManifestItems(await redis_connections.connect())
    redis_server.stop()
    await store.remember("t", "m", _items(1))
    with pytest.raises(ManifestStoreUnavailable):
        await store.lookup("t", "m")
