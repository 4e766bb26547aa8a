"""The upstream rate budget on Redis: one token bucket per upstream credential for every replica.

A bucket is one Redis hash, `sgw:rate:<tenant hmac>` (gateway.state.redis_client names the tenant),
with fields `t` (tokens), `u` (when `t` was true, ms) and `p` (paused until, ms), changed only
by the Lua scripts below, which run atomically and read the time from Redis itself, so that
the replicas' clocks never have to agree. A bucket left alone long enough to fill up again
expires: a missing bucket is a full one.

Why scripts and not the `limits` library: `limits` counts hits in windows (fixed, moving,
sliding) and can say when a window resets, but has no way to pause a key for a Retry-After,
nor to say where the n-th token will come, which the priority queue needs to refuse a request
at once; and the queue (gateway.upstream.rate_schedule) is per replica anyway. The shared part
is twenty lines of Lua.

While Redis cannot be reached, `take` and `pause` answer None without trying (the caller uses
its local bucket, at the full rate), the outage is logged once, and a probe asks Redis every
PROBE_EVERY seconds until it answers: then the replicas share the bucket again.
"""

from __future__ import annotations

from typing import Final

import structlog
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from gateway.state.redis_client import Reachability, RedisConnection
from gateway.upstream.rate_budget import SharedState

log = structlog.get_logger("gateway.state.rate_budget_redis")

KEY_PREFIX: Final = "sgw:rate:"
PROBE_EVERY: Final = 1.0
"""Seconds between the probes of a Redis that stopped answering."""

_NOW_AND_REFILL: Final = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 't', 'u', 'p')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
local paused = tonumber(state[3]) or 0
if now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate / 1000)
  updated = now
end
"""
_STORE: Final = """
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(updated), 'p', tostring(paused))
local refill = (burst - tokens) * 1000 / rate
redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(updated - now, 0) + refill) + 1000)
return {granted, tostring(tokens), tostring(math.max(paused - now, 0))}
"""
TAKE: Final = (
    _NOW_AND_REFILL
    + """
local granted = 0
if now >= paused and tokens >= 1 - 1e-9 then
  tokens = math.max(tokens - 1, 0)
  granted = 1
end
"""
    + _STORE
)
"""KEYS: the bucket; ARGV: rate (tokens/s), burst. Takes one token if there is one (and no
pause); returns {granted 0/1, tokens now (when paused: at its end), ms of pause left}."""
PAUSE: Final = (
    _NOW_AND_REFILL
    + """
local granted = 0
local ends = now + tonumber(ARGV[3])
if ends > paused then
  paused = ends
  tokens = math.min(1, burst)
  updated = ends
end
"""
    + _STORE
)
"""KEYS: the bucket; ARGV: rate, burst, ms of pause. Nobody gets a token before the pause
ends (a longer pause already running stays); then one at once, the rest at the rate."""


class RedisRateBuckets:
    """gateway.upstream.rate_budget.SharedBuckets on Redis, for one rate and burst (every
    replica must be given the same: each script call carries its caller's)."""

    def __init__(self, redis: RedisConnection, *, rate: float, burst: int) -> None:
        self._redis = redis
        self._args = (repr(float(rate)), str(int(burst)))
        self._take = redis.client.register_script(TAKE)
        self._pause = redis.client.register_script(PAUSE)
        self._reach = Reachability(
            redis,
            meanwhile="the upstream rate budget uses this replica's own bucket, at the full "
            "--upstream-rate-limit, until it is back",
            again="the upstream rate budget is shared again",
            interval=PROBE_EVERY,
        )

    @property
    def available(self) -> bool:
        """Whether Redis answered last time (False: the local bucket stands in)."""
        return self._reach.available

    async def take(self, tenant: str) -> SharedState | None:
        """Take a token from the tenant's shared bucket if it has one; None: Redis is away."""
        return await self._run(self._take, tenant)

    async def pause(self, tenant: str, seconds: float) -> SharedState | None:
        """Pause the tenant's shared bucket for `seconds`; None: Redis is away."""
        return await self._run(self._pause, tenant, str(max(int(seconds * 1000), 1)))

    async def close(self) -> None:
        """Stop probing (the connection is the caller's)."""
        await self._reach.close()

    async def _run(self, script: AsyncScript, tenant: str, *more: str) -> SharedState | None:
        if not self._reach.available:
            return None
        key = KEY_PREFIX + self._redis.hash_tenant(tenant)
        try:
            granted, tokens, paused_ms = await script(keys=[key], args=[*self._args, *more])
            return SharedState(bool(int(granted)), float(tokens), float(paused_ms) / 1000)
        except (RedisError, OSError, ValueError, TypeError) as exc:  # down, or not our script
            self._reach.lost(exc)
            return None
