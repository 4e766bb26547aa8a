"""Watch pollers shared by replicas on Redis: one poller per (tenant, batch) across all of them.

The status hub (gateway.watch.hub) of every replica with watchers of a batch takes part:

- **Lease**: `sgw:poll-lease:<tenant hmac>:<batch>`, taken with SET NX PX by one replica,
  which then polls the upstream. Its value is a token of this one lease; the holder renews it
  (a script that checks the token) every `lease / 4` seconds while it polls, and deletes it
  (same check) when it stops. The key lives three quarters of `lease` past each renewal, so
  that a holder that died or stalled has lost it within `0.75 * lease`. Only a replica with a
  watcher of the batch asks for the lease, so a credential never leaves the process that
  received it: the holder polls with its own watcher's credential.
- **Fenced publication**: the holder publishes each new status with a script that first checks
  its lease token, so a holder whose lease expired (it stalled, or Redis evicted the key) can
  never publish after another took over. The script keeps the latest status in the hash
  `sgw:poll-status:<tenant hmac>:<batch>` (fields `v`, a version that only goes up, and
  `body`), and PUBLISHes it on the channel of that name. An error that ends the watches (404,
  401, a long Retry-After) is published the same way, not kept: a watcher that joins later
  starts afresh.
- **Events** (gateway.events.redis_log): the same script appends the events the holder made
  of the change (diffed against the status at the version it names: a publication made
  against any other version is refused, so a new holder never diffs against a status older
  or newer than the last published one) to the batch's stream `sgw:events:<tenant hmac>:
  <batch>`, trims it, and keeps the last event id in the hash (`pos`). The channel message
  carries the position before and the ids; a follower that had the version before remakes the
  same events (gateway.events.model.changes is a pure function of the two statuses) and checks
  their number; else its watchers read them from the stream.
- **Followers**: every other replica with watchers subscribes to the channel (one pub/sub
  connection per replica for all its topics) and reads the hash when its topic starts, so a
  new watcher gets the current state at once, without an upstream call. A message with a
  version it has already seen is dropped: no duplicates. Followers try for the lease every
  `lease / 4` seconds, and at once when the holder says it let go ("released"), so when the
  holder dies or stalls another replica with watchers takes over within one lease.
- **Nothing secret**: keys carry the HMAC of the tenant (gateway.state.redis_client), values the
  upstream's status and the gateway's own (already sanitised) error messages.
- **Redis unavailable**: every method raises `SharedUnavailable`; the hub then polls for
  itself (local mode) until `available` is True again (checked every HEARTBEAT seconds), logged
  once each way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar, cast

import grpc
import msgspec
import structlog
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from sofer.batch.v1 import batch_pb2

from gateway.contract.errors import GatewayError, Reason
from gateway.events.redis_log import APPEND_FUNCTION, EVENTS_PREFIX, RedisEventLog, with_ids
from gateway.state.redis_client import Reachability, RedisConnection, stop_if_cancelled
from gateway.upstream import BatchStatusResponse

T = TypeVar("T")
log = structlog.get_logger("gateway.watch.exchange")

LEASE_PREFIX = "sgw:poll-lease:"
STATUS_PREFIX = "sgw:poll-status:"
HEARTBEAT = 1.0
"""Seconds between checks that Redis is back, while it is unavailable."""
LISTEN_TIMEOUT = 1.0
"""Seconds the pub/sub reader waits for a message before looking again (below the client's
command timeout, so an idle channel never counts as a broken connection)."""
LEASE_TTL = 0.75
"""The lease key's life past each renewal, as a fraction of --poll-lease: expiry (0.75) plus
a follower's next try (0.25) make a take-over within one lease of the holder's death."""
STATUS_TTL = 3600.0
"""Seconds the latest status outlives its last write or lease renewal."""

_PUBLISH = (
    APPEND_FUNCTION
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
if tonumber(redis.call('HGET', KEYS[2], 'v') or '0') ~= tonumber(ARGV[5]) then return {-2} end
local since = redis.call('HGET', KEYS[2], 'pos') or ''
local pos = since
local ids = {}
if #ARGV >= 9 then
  ids = append_events(KEYS[3], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), 9, #ARGV)
  pos = ids[#ids]
end
local v = redis.call('HINCRBY', KEYS[2], 'v', 1)
redis.call('HSET', KEYS[2], 'body', ARGV[2], 'pos', pos)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local listed = table.concat(ids, ',')
redis.call('PUBLISH', KEYS[2], 's|' .. v .. '|' .. since .. '|' .. listed .. '|' .. ARGV[2])
return {v, since, unpack(ids)}
"""
)
_PUBLISH_ERROR = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PUBLISH', KEYS[2], 'e|' .. ARGV[2])
return 1
"""
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', KEYS[2], 'r|')
return 1
"""


class SharedUnavailable(Exception):
    """Redis could not be reached: the hub polls for itself until it is back."""


class StaleBase(Exception):
    """A publication diffed against another version than the latest shared one: nothing was
    written; take in the latest and diff again."""


@dataclass(frozen=True)
class SharedKey:
    """The Redis names of one (tenant, batch)."""

    lease: str
    status: str
    """The hash of the latest status, and the channel its changes are published on."""
    events: str = ""
    """The batch's event stream (gateway.events.redis_log)."""


@dataclass(frozen=True)
class Lease:
    """This replica's lease on one batch's poller: `token` proves it."""

    key: SharedKey
    token: str = dataclasses.field(repr=False)


@dataclass(frozen=True)
class SharedStatus:
    """One status as the replicas share it: its version (1, 2, ...), when the holder read it."""

    version: int
    status: BatchStatusResponse
    observed_at: datetime
    position: str = ""
    """The id of the batch's last event as of this status ("": none known)."""
    since: str = ""
    """On the channel: the position before this version's events."""
    event_ids: tuple[str, ...] = ()
    """On the channel: the ids of this version's events, in order."""


@dataclass(frozen=True)
class Published:
    """What a fenced publication wrote: the version, and the events with their ids."""

    version: int
    since: str
    events: list[batch_pb2.BatchEvent]

    @property
    def position(self) -> str:
        return self.events[-1].event_id if self.events else self.since


@dataclass(frozen=True)
class SharedNews:
    """What arrives on a batch's channel."""

    kind: Literal["status", "error", "released"]
    shared: SharedStatus | None = None
    error: GatewayError | None = None


Handler = Callable[[SharedNews], None]


class _Body(msgspec.Struct, frozen=True):
    observed_at: datetime
    status: BatchStatusResponse


class _ErrorBody(msgspec.Struct, frozen=True):
    code: str
    reason: str
    message: str
    metadata: dict[str, str] = {}
    retry_after: float | None = None
    quota_subject: str = ""


def encode_status(status: BatchStatusResponse, observed_at: datetime) -> bytes:
    """A status as the replicas share it (JSON, the upstream's field names)."""
    return msgspec.json.encode(_Body(observed_at, status))


def decode_status(version: int, body: bytes, position: str = "") -> SharedStatus:
    """The inverse of `encode_status`; raises msgspec.DecodeError on a foreign body."""
    parsed = msgspec.json.decode(body, type=_Body)
    return SharedStatus(version, parsed.status, parsed.observed_at, position)


def encode_error(error: GatewayError) -> bytes:
    """An error that ends the watches, as the other replicas rebuild it."""
    return msgspec.json.encode(
        _ErrorBody(
            code=error.code.name,
            reason=error.reason.value,
            message=error.message,
            metadata=dict(error.metadata),
            retry_after=error.retry_after,
            quota_subject=error.quota_subject,
        )
    )


def decode_error(body: bytes) -> GatewayError:
    """The inverse of `encode_error`."""
    parsed = msgspec.json.decode(body, type=_ErrorBody)
    return GatewayError(
        grpc.StatusCode[parsed.code],
        Reason(parsed.reason),
        parsed.message,
        dict(parsed.metadata),
        retry_after=parsed.retry_after,
        quota_subject=parsed.quota_subject or "upstream rate limit",
    )


def parse_news(data: bytes) -> SharedNews:
    """A channel message: `s|<version>|<since>|<event ids>|<body>`, `e|<error>` or `r|`."""
    kind, _, rest = data.partition(b"|")
    if kind == b"s":
        version, since, listed, body = rest.split(b"|", 3)
        ids = tuple(listed.decode().split(",")) if listed else ()
        position = ids[-1] if ids else since.decode()
        shared = decode_status(int(version), body, position)
        return SharedNews(
            "status", shared=dataclasses.replace(shared, since=since.decode(), event_ids=ids)
        )
    if kind == b"e":
        return SharedNews("error", error=decode_error(rest))
    if kind == b"r":
        return SharedNews("released")
    raise ValueError(f"unknown message kind {kind!r}")


class StatusExchange:
    """This replica's side of the shared pollers: leases, publication, subscriptions.

    `start()` in the running loop, `close()` on stop (the connection is the caller's)."""

    def __init__(
        self, redis: RedisConnection, *, lease: float, events: RedisEventLog | None = None
    ) -> None:
        """`events`: the log the holder's publications append to (None: no events)."""
        self._redis = redis
        self.events = events
        self.lease_seconds = lease
        self.lease_ms = max(int(lease * LEASE_TTL * 1000), 1)
        self.renew_every = lease / 4
        """Seconds between the holder's renewals (and the followers' tries for the lease)."""
        self.status_ttl_ms = int(max(STATUS_TTL, lease * 10) * 1000)
        self.replica = uuid.uuid4().hex[:12]
        self._handlers: dict[str, set[Handler]] = {}
        self._pubsub: PubSub | None = None
        self._joined: set[str] = set()
        """Channels the current pub/sub connection has subscribed to."""
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self.reach = Reachability(
            redis,
            meanwhile="watch pollers run per replica (local mode) until it is back",
            again="watch pollers shared again",
            interval=HEARTBEAT,
        )
        self.leases_held = 0
        """Leases this replica holds now (a metric)."""
        client = redis.client
        self._publish = client.register_script(_PUBLISH)
        self._publish_error = client.register_script(_PUBLISH_ERROR)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def available(self) -> bool:
        """Whether Redis answered the last command (else the hub polls for itself)."""
        return self.reach.available

    async def wait_available(self) -> None:
        """Return when Redis answers again."""
        await self.reach.wait_available()

    def key(self, tenant: str, batch_id: str) -> SharedKey:
        """The Redis names of (tenant, batch): the tenant only as its HMAC."""
        scope = f"{self._redis.hash_tenant(tenant)}:{batch_id}"
        return SharedKey(LEASE_PREFIX + scope, STATUS_PREFIX + scope, EVENTS_PREFIX + scope)

    def tenant_name(self, tenant: str) -> str:
        """How Redis names a tenant (its tenant key, HMAC'd): what a log line may say of it."""
        return self._redis.hash_tenant(tenant)

    async def start(self) -> None:
        """Start the pub/sub reader."""
        self._listener = asyncio.create_task(self._listen(), name="status-exchange listener")

    async def close(self) -> None:
        """Stop the reader and the probe; close the pub/sub connection."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        await self.reach.close()
        await self._drop_pubsub()

    # -- leases and publication ---------------------------------------------------------------

    async def acquire(self, key: SharedKey) -> Lease | None:
        """This replica's lease on the batch's poller, or None while another holds it."""
        token = f"{self.replica}:{uuid.uuid4().hex}"
        taken = await self._run(self._redis.client.set(key.lease, token, nx=True, px=self.lease_ms))
        if not taken:
            return None
        self.leases_held += 1
        return Lease(key, token)

    async def renew(self, lease: Lease) -> bool:
        """Extend the lease; False when it is no longer this replica's (it expired)."""
        kept = await self._run(
            self._renew(
                keys=[lease.key.lease, lease.key.status],
                args=[lease.token, self.lease_ms, self.status_ttl_ms],
            )
        )
        return bool(kept)

    async def publish(
        self,
        lease: Lease,
        status: BatchStatusResponse,
        observed_at: datetime,
        *,
        base: int,
        events: Sequence[batch_pb2.BatchEvent] = (),
    ) -> Published | None:
        """Keep and publish a new status, with `events` (made against the status of version
        `base`) appended to the batch's log, fenced by the lease: what was written, or None
        when the lease is no longer this replica's (nothing was written). Raises StaleBase
        when the latest version is not `base` (nothing was written)."""
        appended = [] if self.events is None else list(events)
        bounds = [] if not appended or self.events is None else self.events.bounds_args()
        answer = await self._run(
            self._publish(
                keys=[lease.key.lease, lease.key.status, lease.key.events],
                args=[
                    lease.token,
                    encode_status(status, observed_at),
                    self.status_ttl_ms,
                    self.lease_ms,
                    base,
                    *bounds,
                    *(event.SerializeToString() for event in appended),
                ],
            )
        )
        fields = cast(list[int | bytes], answer)
        version = int(fields[0])
        if version == -2:
            raise StaleBase(f"the shared status moved past version {base}")
        if version < 0:
            return None
        since = fields[1].decode() if isinstance(fields[1], bytes) else ""
        ids = [bytes(cast(bytes, i)) for i in fields[2:]]
        return Published(version, since, with_ids(appended, ids))

    async def publish_error(self, lease: Lease, error: GatewayError) -> bool:
        """Tell the other replicas' watchers the error that ended the watches (fenced)."""
        sent = await self._run(
            self._publish_error(
                keys=[lease.key.lease, lease.key.status], args=[lease.token, encode_error(error)]
            )
        )
        return bool(sent)

    async def release(self, lease: Lease) -> None:
        """Let the lease go (if it is still this replica's): a follower takes over at once."""
        self.leases_held -= 1
        await self._run(self._release(keys=[lease.key.lease, lease.key.status], args=[lease.token]))

    async def latest(self, key: SharedKey) -> SharedStatus | None:
        """The batch's latest shared status, if any replica has published one."""
        fields = await self._run(self._redis.client.hmget(key.status, ["v", "body", "pos"]))
        version, body, position = cast(list[bytes | None], fields)
        if version is None or body is None:
            return None
        try:
            return decode_status(int(version), body, (position or b"").decode())
        except (msgspec.DecodeError, ValueError):
            log.warning("unreadable shared status ignored", key=key.status)
            return None

    # -- subscriptions ------------------------------------------------------------------------

    async def subscribe(self, key: SharedKey, handler: Handler) -> None:
        """Call `handler` with each message on the batch's channel (from the reader task)."""
        self._handlers.setdefault(key.status, set()).add(handler)
        if key.status not in self._joined:
            pubsub = await self._ensure_pubsub()
            await self._run(pubsub.subscribe(key.status))
            self._joined.add(key.status)
            self._subscribed.set()

    async def unsubscribe(self, key: SharedKey, handler: Handler) -> None:
        """Stop calling `handler`; the channel is left when its last handler goes."""
        handlers = self._handlers.get(key.status)
        if handlers is None:
            return
        handlers.discard(handler)
        if handlers:
            return
        del self._handlers[key.status]
        if key.status in self._joined and self._pubsub is not None and self.available:
            self._joined.discard(key.status)
            with contextlib.suppress(SharedUnavailable):
                await self._run(self._pubsub.unsubscribe(key.status))

    async def _ensure_pubsub(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis.client.pubsub(ignore_subscribe_messages=True)
        return self._pubsub

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        self._joined.clear()
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _listen(self) -> None:
        """Read every channel message and hand it to the topic's handlers."""
        while True:
            stop_if_cancelled()
            pubsub = self._pubsub
            if pubsub is None or not pubsub.subscribed:
                self._subscribed.clear()
                await self._subscribed.wait()
                continue
            try:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=LISTEN_TIMEOUT
                )
            except Exception as exc:  # a broken connection, whatever redis-py calls it
                self.reach.lost(exc)
                await self._drop_pubsub()
                await self.reach.wait_available()
                await self._resubscribe()
                continue
            if message is None or message.get("type") != "message":
                continue
            self._dispatch(message)

    def _dispatch(self, message: dict[str, object]) -> None:
        channel = message["channel"]
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        data = message["data"]
        if not isinstance(data, bytes):
            return
        try:
            news = parse_news(data)
        except (msgspec.DecodeError, ValueError, KeyError):
            log.warning("unreadable shared status message ignored", channel=name)
            return
        for handler in list(self._handlers.get(name, ())):
            try:
                handler(news)
            except Exception:
                log.exception("shared status handler failed", channel=name)

    async def _resubscribe(self) -> None:
        """After an outage: a new pub/sub connection on every channel still wanted."""
        if not self._handlers:
            return
        channels = list(self._handlers)
        try:
            pubsub = await self._ensure_pubsub()
            await self._run(pubsub.subscribe(*channels))
            self._joined.update(channels)
            self._subscribed.set()
        except SharedUnavailable:
            await self._drop_pubsub()

    # -- availability -------------------------------------------------------------------------

    async def _run(self, command: Awaitable[T]) -> T:
        """Await a Redis command; a failure marks Redis unavailable and raises SharedUnavailable."""
        try:
            result = await command
        except (RedisError, OSError) as exc:
            self.reach.lost(exc)
            raise SharedUnavailable(str(exc)) from None
        return result
