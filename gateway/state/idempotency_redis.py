"""Idempotent creates on Redis: gateway.state.idempotency's promise, shared by replicas and kept
across restarts: one upstream POST per (credential, RPC, request_id), even across a crash.

A record is one Redis string, `sgw:idem:<tenant hmac>:<rpc>:<request_id>`
(gateway.state.redis_client names the tenant), holding JSON, and living `ttl` seconds from its last
write:

- claimed with SET NX PX before the upstream POST: `pending`, with the payload's fingerprint,
  the claiming process (`owner`), a token of this claim, and `until`, past which no create can
  still be running (the create's own timeout and a margin). The owner runs the create as the
  in-memory store does: shielded from its caller, holding the caller's concurrency slot;
- settled by the owner with a compare-and-set on the exact pending value it wrote (so a
  process whose claim was taken from it can never overwrite the record): `done` with the
  upstream's answer, or `unknown` with the error of an outcome in doubt. A definite failure
  leaves `failed`, a tombstone living TOMBSTONE_TTL that a retry claims over (with the same
  compare-and-set): a record is never deleted, so a record that is gone was lost, not settled;
- abandoned: a pending record whose owner is gone (kill -9, a crash: its liveness key
  `sgw:idem-owner:<owner>`, renewed every HEARTBEAT seconds while it runs, has expired), or
  that outlived `until`, becomes `unknown` with the same compare-and-set. Its POST may have
  been sent, so nobody sends it again: every retry answers OUTCOME_UNKNOWN.

Duplicates in this process share the owner's task; on other replicas they poll the record with
backoff, bounded by their deadline, and claim anew only on a tombstone. A record that vanishes
while they follow it (Redis emptied, or restarted without its data) answers OUTCOME_UNKNOWN:
its create may be in flight still, and a second claim would send it twice. The owner puts its
pending record back at its next heartbeat, and its outcome when the create ends (only where no
one has claimed since), so that later retries find them. A record this gateway cannot read
(damaged, planted, or of another version) answers OUTCOME_UNKNOWN too, logged once per record
by its Redis key (the tenant in it is the keyed hash, never the token).

While Redis cannot be reached, a create with a request_id
fails UNAVAILABLE (IDEMPOTENCY_STORE_UNAVAILABLE) before anything is sent, or with
`--idempotency-fallback local` uses this process's memory (gateway.state.idempotency); the outage is
logged once, shown by `redis_available`, and the heartbeat notices when Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import grpc
import structlog
from redis.exceptions import RedisError

from gateway.contract.errors import GatewayError, Reason
from gateway.state import idempotency_record as record
from gateway.state.idempotency import (
    IdempotencyStore,
    Slot,
    remaining,
    request_id_reused,
    still_in_flight,
)
from gateway.state.idempotency_answers import (
    record_unreadable,
    record_vanished,
    store_unavailable,
)
from gateway.state.redis_client import RedisConnection, stop_if_cancelled

T = TypeVar("T")
log = structlog.get_logger("gateway.state.idempotency_redis")

HEARTBEAT = 1.0
"""Seconds between renewals of this process's liveness key (and checks that Redis is back)."""
OWNER_TTL = 5.0
"""Seconds a liveness key outlives its last renewal: how soon a dead owner's creates are
declared in doubt."""
PENDING_SLACK = 5.0
"""Seconds a pending record lives past the create's own timeout (clock skew between replicas,
the answer's margin) before it counts as abandoned, owner alive or not."""
POLL_FIRST, POLL_MAX = 0.02, 0.25
"""A waiter's first and longest pause between reads of a record in flight elsewhere."""
CLAIM_TRIES = 10
"""Claims tried for one call when the record keeps changing (definite failures elsewhere)."""
TOMBSTONE_TTL = 60.0
"""Seconds a definite failure's tombstone lives: far longer than a follower's pause between
reads of the record, so that it sees `failed` and not a record gone."""
UNREADABLE_LOGGED = 1024
"""Unreadable records this process remembers having logged (each is logged once)."""
RECORD_PREFIX = "sgw:idem:"
OWNER_PREFIX = "sgw:idem-owner:"


class _Retry(Exception):
    """The create a waiter followed failed for certain (a tombstone): claim again."""


class RedisIdempotencyStore:
    """Records of creates by (tenant, RPC, request_id) in Redis: see the module docstring.
    `start()` in the running loop, `close()` on stop (the connection is the caller's)."""

    def __init__(
        self,
        redis: RedisConnection,
        *,
        ttl: float,
        create_timeout: float,
        fallback: IdempotencyStore | None = None,
    ) -> None:
        self._redis = redis
        self.ttl_ms = max(int(ttl * 1000), 1)
        self.pending_ms = int((create_timeout + PENDING_SLACK) * 1000)
        self.fallback = fallback
        """This process's memory, used while Redis is unreachable (`--idempotency-fallback
        local`); None: such creates fail IDEMPOTENCY_STORE_UNAVAILABLE."""
        self.owner = uuid.uuid4().hex
        self._owner_key = OWNER_PREFIX + self.owner
        self.tombstone_ms = max(int(TOMBSTONE_TTL * 1000), 1)
        self._running: dict[str, tuple[str, bytes, asyncio.Task[Any]]] = {}
        """The creates this process runs: (payload, pending value, task), by key."""
        self._unsaved: dict[str, tuple[bytes, bytes, int]] = {}
        """Outcomes Redis could not take when they came: (pending value, new value, its ms to
        live), by key."""
        self._unreadable: set[str] = set()
        self._available = True
        self._heartbeat: asyncio.Task[None] | None = None
        self._closed = False
        self._cas = redis.client.register_script(record.COMPARE_AND_SET)

    @property
    def redis_available(self) -> bool:
        """Whether Redis answered the last time the store asked (for health details, metrics)."""
        return self._available

    async def start(self) -> None:
        """Announce this process as a live owner and keep doing so; a Redis that is down is
        logged and does not stop the start."""
        await self._beat()
        self._heartbeat = asyncio.create_task(self._beat_forever())

    async def run(
        self,
        tenant: str,
        rpc: str,
        request_id: str,
        payload: str,
        operation: Callable[[], Awaitable[T]],
        *,
        wait_until: float | None,
        slot: Slot | None = None,
    ) -> tuple[T, bool]:
        """As IdempotencyStore.run, across every gateway on this Redis. Also raises
        GatewayError(UNAVAILABLE, IDEMPOTENCY_STORE_UNAVAILABLE) while Redis cannot be reached
        (without the local fallback), and replays OUTCOME_UNKNOWN for a create whose owner died."""
        key = f"{RECORD_PREFIX}{self._redis.hash_tenant(tenant)}:{rpc}:{request_id.lower()}"
        for _ in range(CLAIM_TRIES):
            mine = self._running.get(key)
            if mine is not None:  # a duplicate of a create this process runs: share its task
                if mine[0] != payload:
                    raise request_id_reused(rpc, request_id)
                return await _outcome(mine[2], rpc, request_id, wait_until), True
            pending, current = None, None
            if self._available:
                try:
                    pending, current = await self._claim(key, payload)
                except (RedisError, OSError) as exc:
                    self._lost(exc)
                else:
                    self._found()
            if not self._available:  # nothing was sent: fail, or fall back to memory
                if self.fallback is None:
                    raise store_unavailable(rpc, request_id)
                return await self.fallback.run(
                    tenant, rpc, request_id, payload, operation, wait_until=wait_until, slot=slot
                )
            if pending is not None:
                task = self._launch(key, pending, payload, operation, slot)
                return await _outcome(task, rpc, request_id, wait_until), False
            assert current is not None
            try:
                return cast(
                    T, await self._follow(key, current, rpc, request_id, payload, wait_until)
                ), True
            except _Retry:
                continue
            except record.Unreadable as exc:
                self._unreadable_once(key, exc)
                raise record_unreadable(rpc, request_id) from None
        raise GatewayError(
            grpc.StatusCode.UNAVAILABLE,
            Reason.IDEMPOTENCY_STORE_UNAVAILABLE,
            f"the record of request_id {request_id} kept changing while the {rpc} waited for "
            "it: retry with the same request_id",
            {"request_id": request_id},
        )

    async def close(self) -> None:
        """Cancel the creates still in flight (their records become OUTCOME_UNKNOWN), stop the
        heartbeat, and withdraw this process's liveness key. A second call does nothing."""
        if self._closed:
            return
        self._closed = True
        running = [task for _, _, task in self._running.values()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        with contextlib.suppress(RedisError, OSError):
            await self._redis.client.delete(self._owner_key)
        if self.fallback is not None:
            await self.fallback.close()

    async def _claim(self, key: str, payload: str) -> tuple[bytes | None, bytes | None]:
        """(our pending value, None) when this call claimed the record (free, or a tombstone),
        else (None, the record's current value)."""
        mine = record.pending(payload, self.owner, uuid.uuid4().hex, self.pending_ms)
        client = self._redis.client
        for _ in range(CLAIM_TRIES):
            # The liveness key goes with the claim, in one round trip: a Redis restarted empty
            # never shows our fresh claim without it (others would call it abandoned).
            async with client.pipeline(transaction=False) as both:
                both.set(self._owner_key, b"1", px=int(OWNER_TTL * 1000))
                both.set(key, mine, nx=True, px=self.ttl_ms)
                _, claimed = await both.execute()
            if claimed:
                return mine, None
            current = _raw(await client.get(key))
            if current == mine:  # our SET went through; redis-py resent it after a broken link
                return mine, None
            if current is not None and _tombstone(current):
                if await self._cas(keys=[key], args=[current, mine, self.ttl_ms, "0"]):
                    return mine, None
            elif current is not None:
                return None, current
        raise RedisError("the record kept changing between SET NX and GET")

    def _launch(
        self,
        key: str,
        pending: bytes,
        payload: str,
        operation: Callable[[], Awaitable[T]],
        slot: Slot | None,
    ) -> asyncio.Task[T]:
        """Start the create this call claimed, shielded from its caller, with the caller's slot
        handed over until it ends."""
        task = asyncio.create_task(self._own(key, pending, operation))
        self._running[key] = (payload, pending, task)
        task.add_done_callback(lambda done: self._forget(key, done))
        if slot is not None:
            release = slot.hand_over()
            task.add_done_callback(lambda _: release())
        return task

    async def _own(self, key: str, pending: bytes, operation: Callable[[], Awaitable[T]]) -> T:
        """Run the create this process claimed, and record its outcome before anyone gets it."""
        entry = record.decode(pending)
        try:
            result = await operation()
        except asyncio.CancelledError:  # shutdown (close): the POST may have been sent
            await self._settle(key, pending, entry.in_doubt(record.SHUT_DOWN))
            raise
        except Exception as exc:
            if getattr(exc, "outcome_unknown", False):
                await self._settle(key, pending, entry.in_doubt(record.Failure.of(exc)))
            else:  # a definite failure: the upstream did not act, a retry may try again
                await self._settle(key, pending, entry.failed(), self.tombstone_ms)
            raise
        await self._settle(key, pending, entry.done(result))
        return result

    async def _settle(self, key: str, pending: bytes, new: bytes, ttl_ms: int = 0) -> None:
        """Replace our pending record by `new` (living `ttl_ms`, else the store's TTL), unless
        it was taken from us; put it back if Redis lost it and no one has claimed since."""
        lives = ttl_ms or self.ttl_ms
        try:
            changed = await self._cas(keys=[key], args=[pending, new, lives, "1"])
        except (RedisError, OSError) as exc:
            self._lost(exc)
            self._unsaved[key] = (pending, new, lives)  # the heartbeat stores it later
            return
        self._found()
        if not changed:
            log.warning(
                "idempotency record taken over while its create ran (this gateway looked dead "
                "to the others): its retries answer OUTCOME_UNKNOWN"
            )

    async def _follow(
        self,
        key: str,
        current: bytes,
        rpc: str,
        request_id: str,
        payload: str,
        wait_until: float | None,
    ) -> Any:
        """The outcome of a create claimed by another process, waited for within the caller's
        deadline; a pending record whose owner is gone becomes OUTCOME_UNKNOWN, and so does a
        record that vanishes meanwhile. _Retry on a tombstone; record.Unreadable."""
        client = self._redis.client
        pause = POLL_FIRST
        while True:
            entry = record.decode(current)
            if entry.state == "failed":
                raise _Retry
            if entry.fp != payload:
                raise request_id_reused(rpc, request_id)
            if entry.state == "done":
                return entry.answer()
            if entry.state == "unknown":
                raise (entry.failure or record.ABANDONED).error()
            try:
                found, beat = await client.mget(key, OWNER_PREFIX + entry.owner)
                latest = _raw(found)
                if latest is None:
                    raise record_vanished(rpc, request_id)
                if latest != current:
                    current = latest
                    continue
                if beat is None or record.now_ms() > entry.until:
                    await self._cas(
                        keys=[key],
                        args=[current, entry.in_doubt(record.ABANDONED), self.ttl_ms, "0"],
                    )
                    latest = _raw(await client.get(key))
                    if latest is None:
                        raise record_vanished(rpc, request_id)
                    current = latest
                    continue
            except (RedisError, OSError) as exc:
                self._lost(exc)
                raise store_unavailable(rpc, request_id, following=True) from None
            self._found()
            left = remaining(wait_until)
            if left is not None and left <= 0:
                raise still_in_flight(rpc, request_id)
            await asyncio.sleep(pause if left is None else min(pause, left))
            pause = min(pause * 1.5, POLL_MAX)

    def _forget(self, key: str, task: asyncio.Task[Any]) -> None:
        running = self._running.get(key)
        if running is not None and running[2] is task:
            del self._running[key]

    def _unreadable_once(self, key: str, exc: record.Unreadable) -> None:
        """Log an unreadable record the first time this process meets it (every retry of its
        request_id meets it again until it expires)."""
        if key in self._unreadable:
            return
        if len(self._unreadable) >= UNREADABLE_LOGGED:
            self._unreadable.clear()
        self._unreadable.add(key)
        log.warning(
            "idempotency record unreadable: its request_id answers OUTCOME_UNKNOWN until it "
            "expires (--idempotency-ttl) or is deleted",
            key=key,
            error=str(exc)[:200],
        )

    async def _beat(self) -> None:
        """Renew this process's liveness key, put back the pending records of the creates it
        runs that Redis lost (only where no one has claimed since), and store the outcomes
        Redis missed."""
        client = self._redis.client
        try:
            async with client.pipeline(transaction=False) as beat:
                beat.set(self._owner_key, b"1", px=int(OWNER_TTL * 1000))
                for key, (_, pending, _) in self._running.items():
                    beat.set(key, pending, nx=True, px=self.ttl_ms)
                await beat.execute()
            for key, (pending, new, lives) in list(self._unsaved.items()):
                await self._cas(keys=[key], args=[pending, new, lives, "1"])
                del self._unsaved[key]
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return
        self._found()

    async def _beat_forever(self) -> None:
        while True:
            stop_if_cancelled()
            await asyncio.sleep(HEARTBEAT)
            await self._beat()

    def _lost(self, exc: BaseException) -> None:
        """Redis did not answer: say so once per outage."""
        if self._available:
            self._available = False
            log.warning(
                "redis unavailable: creates with a request_id "
                + (
                    "use this process's memory (--idempotency-fallback local) until it is back"
                    if self.fallback is not None
                    else "fail UNAVAILABLE (IDEMPOTENCY_STORE_UNAVAILABLE) until it is back"
                ),
                redis=self._redis.settings.where,
                error=f"{type(exc).__name__}: {exc}",
            )

    def _found(self) -> None:
        if not self._available:
            self._available = True
            log.info("redis available again", redis=self._redis.settings.where)


async def _outcome(task: asyncio.Task[T], rpc: str, request_id: str, wait_until: float | None) -> T:
    """The create's result, waited for at most until `wait_until`; the create runs on."""
    try:
        async with asyncio.timeout(remaining(wait_until)):
            return await asyncio.shield(task)
    except TimeoutError:
        raise still_in_flight(rpc, request_id) from None


def _tombstone(value: bytes) -> bool:
    """Whether a record's value is a definite failure's tombstone (unreadable ones are not)."""
    try:
        return record.decode(value).state == "failed"
    except record.Unreadable:
        return False


def _raw(value: object) -> bytes | None:
    """A value as redis-py hands it over (bytes: the client does not decode responses)."""
    return value if isinstance(value, bytes) or value is None else str(value).encode()
