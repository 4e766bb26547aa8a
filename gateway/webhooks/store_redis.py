"""The webhooks' store on Redis: every replica sees the same endpoints, cursors and leases.

Keys (the tenant named by its keyed hash, gateway.state.redis_client, never by its key):
- `sgw:wh-endpoints:{tenant}`: a hash, endpoint id -> the endpoint as JSON (its URL, types and
  secrets: signing needs the secrets themselves; docs/webhooks.md, "What is stored");
- `sgw:wh-cursor:{endpoint}:{batch}`: the last event id done with, `CURSOR_TTL` past each move;
- `sgw:wh-lease:{endpoint}:{batch}`: the delivering task's token, expiring unless renewed;
- `sgw:wh-attempts:{endpoint}`: a list of the newest attempts (JSON), at most MAX_ATTEMPTS_KEPT;
- `sgw:wh-active`: a sorted set of `{tenant}|{batch}` by when its events were last appended,
  which every replica's sweep reads to take over lanes whose replica died.

Cursor moves, renewals and releases check the lease token in one script, so a replica whose
lease expired (it stalled) cannot move a cursor another replica now owns.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from redis.exceptions import RedisError

from gateway.state.redis_client import RedisConnection
from gateway.webhooks.store import MAX_ATTEMPTS_KEPT, Attempt, Endpoint, StoreUnavailable

ENDPOINTS = "sgw:wh-endpoints:"
CURSOR = "sgw:wh-cursor:"
LEASE = "sgw:wh-lease:"
ATTEMPTS = "sgw:wh-attempts:"
ACTIVE = "sgw:wh-active"
CURSOR_TTL = 30 * 24 * 3600
"""Seconds a cursor outlives its last move (past any batch's events in the log)."""

_ADVANCE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
"""
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


P = ParamSpec("P")
T = TypeVar("T")


def _translated(method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Redis's failures as StoreUnavailable (the one error the store's users handle)."""

    @functools.wraps(method)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    return run


class RedisWebhookStore:
    """WebhookStore on Redis (see the module)."""

    def __init__(self, redis: RedisConnection) -> None:
        self._redis = redis
        client = redis.client
        self._advance = client.register_script(_ADVANCE)
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)

    def scope(self, tenant: str) -> str:
        return self._redis.hash_tenant(tenant)

    @_translated
    async def add(self, scope: str, endpoint: Endpoint) -> Endpoint:
        key = ENDPOINTS + scope
        client = self._redis.client
        if await client.hsetnx(key, endpoint.id, json.dumps(endpoint.to_record())):
            return endpoint
        found = await client.hget(key, endpoint.id)
        return endpoint if found is None else Endpoint.from_record(json.loads(found))

    @_translated
    async def endpoints(self, scope: str) -> list[Endpoint]:
        values = await self._redis.client.hvals(ENDPOINTS + scope)
        found = [Endpoint.from_record(json.loads(v)) for v in values]
        return sorted(found, key=lambda e: (e.created_at, e.id))

    @_translated
    async def put(self, scope: str, endpoint: Endpoint) -> bool:
        key = ENDPOINTS + scope
        client = self._redis.client
        if not await client.hexists(key, endpoint.id):
            return False
        await client.hset(key, endpoint.id, json.dumps(endpoint.to_record()))
        return True

    @_translated
    async def remove(self, scope: str, endpoint_id: str) -> bool:
        client = self._redis.client
        removed = await client.hdel(ENDPOINTS + scope, endpoint_id)
        await client.delete(ATTEMPTS + endpoint_id)
        # Cursors expire by themselves; a deleted endpoint's id is never reused (a UUID).
        return bool(removed)

    @_translated
    async def attempts(self, endpoint_id: str) -> list[Attempt]:
        values = await self._redis.client.lrange(ATTEMPTS + endpoint_id, 0, MAX_ATTEMPTS_KEPT - 1)
        return [Attempt.from_record(json.loads(v)) for v in values]

    @_translated
    async def record(self, endpoint_id: str, attempt: Attempt) -> None:
        key = ATTEMPTS + endpoint_id
        async with self._redis.client.pipeline(transaction=True) as pipe:
            pipe.lpush(key, json.dumps(attempt.to_record()))
            pipe.ltrim(key, 0, MAX_ATTEMPTS_KEPT - 1)
            pipe.expire(key, CURSOR_TTL)
            await pipe.execute()

    @_translated
    async def cursor(self, endpoint_id: str, batch_id: str) -> str | None:
        value = await self._redis.client.get(f"{CURSOR}{endpoint_id}:{batch_id}")
        return None if value is None else _text(value)

    @_translated
    async def advance(self, endpoint_id: str, batch_id: str, holder: str, event_id: str) -> bool:
        keys = [f"{LEASE}{endpoint_id}:{batch_id}", f"{CURSOR}{endpoint_id}:{batch_id}"]
        return bool(await self._advance(keys=keys, args=[holder, event_id, CURSOR_TTL]))

    @_translated
    async def acquire(self, endpoint_id: str, batch_id: str, holder: str, ttl: float) -> bool:
        keys = [f"{LEASE}{endpoint_id}:{batch_id}"]
        return bool(await self._acquire(keys=keys, args=[holder, int(ttl * 1000)]))

    @_translated
    async def release(self, endpoint_id: str, batch_id: str, holder: str) -> None:
        await self._release(keys=[f"{LEASE}{endpoint_id}:{batch_id}"], args=[holder])

    @_translated
    async def mark_active(self, scope: str, batch_id: str) -> None:
        await self._redis.client.zadd(ACTIVE, {f"{scope}|{batch_id}": time.time()})

    @_translated
    async def active(self, max_age: float) -> list[tuple[str, str]]:
        client = self._redis.client
        await client.zremrangebyscore(ACTIVE, "-inf", time.time() - max_age)
        members = await client.zrange(ACTIVE, 0, -1)
        pairs = [_text(m).split("|", 1) for m in members]
        return [(p[0], p[1]) for p in pairs if len(p) == 2]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
