"""The priced items of the manifests uploaded through this gateway, so that the spending guards
and EstimateCost can price a standard batch (the upstream has no read of a manifest's items).

A manifest is remembered under (tenant, batch_file_id) as its items' URLs, client ids and own
speaker settings (`labels`: the setting's price effect, None when the item sets none and the
batch's applies). In memory: the newest MAX_MANIFESTS manifests and at most MAX_ITEMS items in
all (least recently used dropped first). On Redis, for every replica: one string per manifest,
`sgw:manifest:<keyed hash of the tenant>:<batch_file_id>` (gateway.state.redis_client names
the tenant: Redis never holds a token), holding the items as JSON, expiring TTL_SECONDS after
the upload.

Remembering never fails an upload: a Redis that cannot be reached is logged (once, until it
answers again) and the manifest is simply unknown later. Reading it while Redis cannot be
reached raises ManifestStoreUnavailable: the guard then fails closed.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final, Protocol

import structlog
from redis.exceptions import RedisError

from gateway.state.redis_client import RedisConnection

log = structlog.get_logger("gateway.state.manifest_items")

KEY_PREFIX: Final = "sgw:manifest:"
TTL_SECONDS: Final = 7 * 86400
"""How long Redis keeps a manifest's items: a manifest is normally batched within days."""
MAX_MANIFESTS: Final = 1_000
"""Manifests one process keeps in memory (without --redis-url)."""
MAX_ITEMS: Final = 100_000
"""Items one process keeps in memory in all: 1,000 manifests of 500 items with long URLs would
otherwise hold about a gigabyte."""
MAX_STORED_BYTES: Final = 4 * 1024 * 1024
"""The largest manifest record read back from Redis (500 items of 2,048-character URLs take
about 1.1 MB): anything larger is not ours and is treated as unknown."""


@dataclass(frozen=True)
class ManifestItem:
    """One item of a manifest, as far as its price goes."""

    audio_url: str
    client_item_id: str
    labels: bool | None
    """Whether the item's own speaker setting pays for labels; None: it sets none."""


class ManifestStoreUnavailable(Exception):
    """The shared store of manifests could not be read (Redis is down)."""


class ManifestItems(Protocol):
    """Where the manifests' items are kept."""

    async def remember(self, tenant: str, batch_file_id: str, items: list[ManifestItem]) -> None:
        """Keep `items` as the manifest's; never raises for the store's failure."""
        ...

    async def lookup(self, tenant: str, batch_file_id: str) -> list[ManifestItem] | None:
        """The manifest's items; None when this gateway does not know it."""
        ...


class MemoryManifestItems:
    """The manifests of one process, least recently used dropped past the bounds."""

    def __init__(self, max_manifests: int = MAX_MANIFESTS, max_items: int = MAX_ITEMS) -> None:
        self.max_manifests = max_manifests
        self.max_items = max_items
        self._manifests: OrderedDict[tuple[str, str], list[ManifestItem]] = OrderedDict()
        self._items = 0

    def __len__(self) -> int:
        return len(self._manifests)

    async def remember(self, tenant: str, batch_file_id: str, items: list[ManifestItem]) -> None:
        key = (tenant, batch_file_id)
        old = self._manifests.pop(key, None)
        if old is not None:
            self._items -= len(old)
        self._manifests[key] = list(items)
        self._items += len(items)
        while len(self._manifests) > self.max_manifests or self._items > self.max_items:
            _, dropped = self._manifests.popitem(last=False)
            self._items -= len(dropped)

    async def lookup(self, tenant: str, batch_file_id: str) -> list[ManifestItem] | None:
        key = (tenant, batch_file_id)
        items = self._manifests.get(key)
        if items is not None:
            self._manifests.move_to_end(key)
        return items


class RedisManifestItems:
    """The manifests on Redis, for every replica (see the module's docstring)."""

    def __init__(self, redis: RedisConnection, ttl_seconds: int = TTL_SECONDS) -> None:
        self._redis = redis
        self.ttl_seconds = ttl_seconds
        self._failing = False

    def key(self, tenant: str, batch_file_id: str) -> str:
        """The manifest's key (never the tenant key itself)."""
        return f"{KEY_PREFIX}{self._redis.hash_tenant(tenant)}:{batch_file_id}"

    async def remember(self, tenant: str, batch_file_id: str, items: list[ManifestItem]) -> None:
        record = json.dumps([[i.audio_url, i.client_item_id, i.labels] for i in items])
        try:
            await self._redis.client.set(
                self.key(tenant, batch_file_id), record, ex=self.ttl_seconds
            )
        except (RedisError, OSError) as exc:
            if not self._failing:
                self._failing = True
                log.warning(
                    "redis unavailable: manifests uploaded meanwhile cannot be priced by the "
                    "spending guards or EstimateCost (COST_UNKNOWN)",
                    error=type(exc).__name__,
                )
            return
        self._failing = False

    async def lookup(self, tenant: str, batch_file_id: str) -> list[ManifestItem] | None:
        try:
            raw = await self._redis.client.get(self.key(tenant, batch_file_id))
        except (RedisError, OSError) as exc:
            raise ManifestStoreUnavailable(type(exc).__name__) from exc
        if raw is None or len(raw) > MAX_STORED_BYTES:
            return None
        try:
            return [
                ManifestItem(str(u), str(c), None if b is None else bool(b))
                for u, c, b in json.loads(raw)
            ]
        except (ValueError, TypeError):  # not a record this gateway wrote
            return None
