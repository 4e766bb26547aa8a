"""The event log on Redis (--redis-url): one Redis Stream per (tenant, batch).

- **Key**: `sgw:events:<tenant hmac>:<batch>`, the tenant named as every gateway key names it
  (its keyed hash, gateway.state.redis_client), never the token.
- **Entries**: Redis's own ids (the event ids, gateway.events.positions); fields `e`, the
  serialized BatchEvent without its id, and `p`, the id of the entry appended before it (`0-0`
  for the first). A reader checks that the first entry after its position links back to it:
  if not, entries in between were trimmed (EventsExpired).
- **Bounds**: each append trims the stream to `max_events` entries (exactly) and drops entries
  older than `max_age` (MINID: the ids count the Redis server's milliseconds, the bound the
  gateway's clock; they agree to within the replicas' clock skew); the key expires `max_age`
  after the last append.
- **Written once cluster-wide**: the hub's lease holder appends within the fenced publication of
  gateway.watch.exchange (`APPEND_FUNCTION` is part of its script), atomic with the status it
  publishes. `append` here is the same script unfenced, for tests and tools.

Redis errors are raised as gateway.state.redis_client raises them (`RedisError`, `OSError`);
the caller decides what the client sees.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import cast

from sofer.batch.v1 import batch_pb2

from gateway.events import positions
from gateway.events.log import Listeners, LogBounds
from gateway.events.model import EventsExpired
from gateway.state.redis_client import RedisConnection

EVENTS_PREFIX = "sgw:events:"
START = "0-0"
"""The `p` of a stream's first entry: no event before it."""

APPEND_FUNCTION = """
local function append_events(key, max_events, oldest_ms, ttl_ms, first, last)
  local prev = '0-0'
  local tail = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if #tail > 0 then prev = tail[1][1] end
  local ids = {}
  for i = first, last do
    prev = redis.call('XADD', key, 'MAXLEN', max_events, '*', 'p', prev, 'e', ARGV[i])
    ids[#ids + 1] = prev
  end
  -- never the entries just added, whatever the replica's clock says
  local newest = tonumber(string.match(ids[1], '^(%d+)'))
  if oldest_ms > newest then oldest_ms = newest end
  if oldest_ms > 0 then redis.call('XTRIM', key, 'MINID', oldest_ms) end
  redis.call('PEXPIRE', key, ttl_ms)
  return ids
end
"""
"""A Lua function for scripts that append: events `ARGV[first..last]` (serialized, without
ids) to stream `key`, then trims it to `max_events` entries and drops those older than
`oldest_ms` (epoch milliseconds, as Redis's ids count them), and expires it `ttl_ms` later;
returns their ids (`RedisEventLog.bounds_args` gives the three numbers)."""

_APPEND = (
    APPEND_FUNCTION
    + """
return append_events(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), 4, #ARGV)
"""
)


def with_ids(
    events: Sequence[batch_pb2.BatchEvent], ids: Sequence[bytes | str]
) -> list[batch_pb2.BatchEvent]:
    """Copies of `events` with the ids their append returned."""
    kept = []
    for event, event_id in zip(events, ids, strict=True):
        stored = batch_pb2.BatchEvent()
        stored.CopyFrom(event)
        stored.event_id = event_id.decode() if isinstance(event_id, bytes) else event_id
        kept.append(stored)
    return kept


class RedisEventLog(Listeners):
    """The per-(tenant, batch) event logs on Redis (see the module)."""

    def __init__(
        self,
        redis: RedisConnection,
        bounds: LogBounds | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` (epoch seconds) dates the age bound; tests inject one."""
        super().__init__()
        self._redis = redis
        self.bounds = bounds or LogBounds()
        self._clock = clock
        self._append = redis.client.register_script(_APPEND)

    def bounds_args(self) -> list[int]:
        """`max_events`, `oldest_ms` and `ttl_ms` of APPEND_FUNCTION, as of now."""
        max_age_ms = max(int(self.bounds.max_age * 1000), 1)
        return [self.bounds.max_events, int(self._clock() * 1000) - max_age_ms, max_age_ms]

    def scope(self, tenant: str) -> str:
        return self._redis.hash_tenant(tenant)

    def key(self, tenant: str, batch_id: str) -> str:
        """The stream of (tenant, batch): the tenant only as its keyed hash."""
        return self._key(self.scope(tenant), batch_id)

    @staticmethod
    def _key(scope: str, batch_id: str) -> str:
        return f"{EVENTS_PREFIX}{scope}:{batch_id}"

    async def append(
        self, tenant: str, batch_id: str, events: Sequence[batch_pb2.BatchEvent]
    ) -> list[batch_pb2.BatchEvent]:
        if not events:
            return []
        ids = await self._append(
            keys=[self.key(tenant, batch_id)],
            args=[*self.bounds_args(), *(event.SerializeToString() for event in events)],
        )
        kept = with_ids(events, cast(list[bytes], ids))
        self.appended(tenant, batch_id)
        return kept

    async def read_after(
        self, tenant: str, batch_id: str, after: str | None, *, limit: int
    ) -> Sequence[batch_pb2.BatchEvent]:
        return await self.read_scope(self.scope(tenant), batch_id, after, limit=limit)

    async def read_scope(
        self, scope: str, batch_id: str, after: str | None, *, limit: int
    ) -> Sequence[batch_pb2.BatchEvent]:
        key = self._key(scope, batch_id)
        client = self._redis.client
        if after is not None and positions.redis_id(after) is None:
            raise EventsExpired("the position is from a log kept in memory (a restart)")
        start = "-" if after is None else f"({after}"
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            await client.xrange(key, min=start, max="+", count=limit),
        )
        if after is not None:
            if entries:
                if entries[0][1].get(b"p", b"").decode() != after:
                    raise EventsExpired("events after the position were trimmed")
            elif after != START:
                tail = cast(
                    list[tuple[bytes, dict[bytes, bytes]]],
                    await client.xrevrange(key, max="+", min="-", count=1),
                )
                if not tail or tail[0][0].decode() != after:
                    raise EventsExpired("the batch's log no longer holds the position")
        events = []
        for entry_id, fields in entries:
            event = batch_pb2.BatchEvent.FromString(fields[b"e"])
            event.event_id = entry_id.decode()
            events.append(event)
        return events
