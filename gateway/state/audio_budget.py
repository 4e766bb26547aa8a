"""Each caller's audio spent per UTC day (`--caller-daily-audio-hours`): in memory, or on Redis
shared by every replica.

A day's account of one caller holds its running total and one entry per reservation (a create
that was let through), in milliseconds of audio, so that a reservation can be given back once
(a create that certainly failed) and a retry of the same create (the same reservation key: its
request_id) is never counted twice. `reserve` is one atomic step: check that the total plus the
new audio stays within the limit, and add it; two replicas racing for the last hour cannot both
get it.

On Redis a day's account is one hash, `sgw:audio:<keyed hash of the caller>:<YYYY-MM-DD>`
(gateway.state.redis_client names it: Redis never holds a token or a caller's name), with the
field `total` and one field per reservation key, changed only by the Lua scripts below; it
expires two days after it was last written. While Redis cannot be reached, `reserve` raises
BudgetStoreUnavailable (the create fails rather than spend uncounted), and a `release` that
fails leaves the audio counted (never under-count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Protocol

import structlog
from redis.exceptions import RedisError

from gateway.state.redis_client import RedisConnection

log = structlog.get_logger("gateway.state.audio_budget")

KEY_PREFIX: Final = "sgw:audio:"
TTL_SECONDS: Final = 2 * 86400
"""How long a day's account outlives its last write: past its day nothing reads it."""

RESERVE: Final = """
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '0')
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return {1, total}
end
local ms, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
if total + ms > limit then
  return {0, total}
end
total = redis.call('HINCRBY', KEYS[1], 'total', ms)
redis.call('HSET', KEYS[1], ARGV[1], ms)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {1, total}
"""
"""KEYS: the day's account; ARGV: reservation key, ms, limit ms, ttl s. Returns {granted 0/1,
total ms after}; a key already reserved is granted again without counting."""
RELEASE: Final = """
local ms = redis.call('HGET', KEYS[1], ARGV[1])
if not ms then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'total', -tonumber(ms))
return 1
"""
"""KEYS: the day's account; ARGV: reservation key. Gives its audio back, once."""


class BudgetStoreUnavailable(Exception):
    """The shared account could not be read or written (Redis is down)."""


@dataclass(frozen=True)
class Outcome:
    """A reservation's answer: whether it was granted, and the caller's total for the day (ms)
    after it (when granted) or as it stands (when refused)."""

    granted: bool
    total_ms: int


class AudioBudgets(Protocol):
    """Where the accounts live."""

    async def reserve(self, caller: str, day: str, key: str, ms: int, limit_ms: int) -> Outcome:
        """Add `ms` under `key` to the caller's `day` unless that passes `limit_ms`."""
        ...

    async def release(self, caller: str, day: str, key: str) -> None:
        """Give back what `key` reserved (nothing if it holds nothing)."""
        ...


@dataclass
class _Day:
    total: int = 0
    reserved: dict[str, int] = field(default_factory=dict)


class MemoryAudioBudgets:
    """The accounts of one process; only today's are kept (a new day drops the others)."""

    def __init__(self) -> None:
        self._day = ""
        self._accounts: dict[str, _Day] = {}

    def _account(self, caller: str, day: str) -> _Day:
        if day != self._day:
            self._day, self._accounts = day, {}
        return self._accounts.setdefault(caller, _Day())

    async def reserve(self, caller: str, day: str, key: str, ms: int, limit_ms: int) -> Outcome:
        account = self._account(caller, day)
        if key in account.reserved:
            return Outcome(True, account.total)
        if account.total + ms > limit_ms:
            return Outcome(False, account.total)
        account.total += ms
        account.reserved[key] = ms
        return Outcome(True, account.total)

    async def release(self, caller: str, day: str, key: str) -> None:
        if day != self._day:
            return
        account = self._accounts.get(caller)
        if account is not None and key in account.reserved:
            account.total -= account.reserved.pop(key)


class RedisAudioBudgets:
    """The accounts on Redis, for every replica (see the module's docstring)."""

    def __init__(self, redis: RedisConnection) -> None:
        self._redis = redis
        self._reserve = redis.client.register_script(RESERVE)
        self._release = redis.client.register_script(RELEASE)

    def _key(self, caller: str, day: str) -> str:
        return f"{KEY_PREFIX}{self._redis.hash_tenant(caller)}:{day}"

    async def reserve(self, caller: str, day: str, key: str, ms: int, limit_ms: int) -> Outcome:
        try:
            granted, total = await self._reserve(
                keys=[self._key(caller, day)], args=[key, ms, limit_ms, TTL_SECONDS]
            )
        except (RedisError, OSError) as exc:
            raise BudgetStoreUnavailable(type(exc).__name__) from exc
        return Outcome(bool(int(granted)), int(total))

    async def release(self, caller: str, day: str, key: str) -> None:
        try:
            await self._release(keys=[self._key(caller, day)], args=[key])
        except (RedisError, OSError) as exc:
            log.warning(
                "redis unavailable: a failed create's audio stays counted in its caller's "
                "daily budget",
                error=type(exc).__name__,
            )
