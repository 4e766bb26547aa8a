"""Delivery lanes: one task per (endpoint, batch) with events to deliver, draining the log.

The event log is the outbox. A lane reads the batch's events after its cursor, in order, and
for each event the endpoint wants makes attempts until one is answered 2xx, moving the cursor
past it only then (at-least-once, in order per batch and endpoint). Between failed attempts it
waits a full-jitter exponential backoff (gateway.upstream.backoff); once the next wait would end
past `retry_for` since the first attempt, the delivery is given up (recorded, counted) and the
lane moves on. A 410 Gone disables the endpoint and ends its lanes.

A lane holds the (endpoint, batch) lease of the store while it runs, renewed every third of its
time, and moves the cursor only while it holds it: with Redis, a replica killed mid-delivery
stops renewing, its lease expires, and the next replica that looks (a new event, or the sweep
every `sweep_every` seconds over the batches marked active) takes the lane over from the cursor,
whether or not the tenant ever called it: lanes name tenants as the store and the log do (their
`scope`, in Redis the keyed hash), never by a key only a caller's replica holds.
The event being delivered when the replica died is delivered again, under the same webhook-id
(gateway.webhooks.sender.webhook_id): receivers deduplicate by it.

Each lane is its own task, and attempts are bounded per endpoint (`per_endpoint`) and in all
(the sender's connection limit): a slow or dead endpoint delays only its own lanes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from sofer.batch.v1 import batch_pb2

from gateway.events.model import WEBHOOK_TYPE_NAMES, EventLogReader, EventsExpired
from gateway.state.redis_client import stop_if_cancelled
from gateway.upstream.backoff import full_jitter
from gateway.webhooks.sender import Outcome, Sender, payload, webhook_id
from gateway.webhooks.store import Attempt, Endpoint, WebhookStore

log = structlog.get_logger("gateway.webhooks.deliveries")

Sleep = Callable[[float], Awaitable[None]]
Counter = Callable[[str], None]
"""Told each attempt's outcome label (gateway.webhooks.sender.Outcome.label)."""

READ_LIMIT = 100
"""Events a lane reads from the log at a time."""


@dataclass(frozen=True)
class Policy:
    """How long and how often deliveries are retried, and how many run at once."""

    retry_for: float = 24 * 3600.0
    """Seconds from an event's first attempt after which it is given up (--webhook-retry-for)."""
    backoff_base: float = 1.0
    backoff_cap: float = 600.0
    per_endpoint: int = 4
    """Attempts in flight at once per endpoint (its lanes beyond wait)."""
    lease: float = 30.0
    """Seconds an (endpoint, batch) lease lasts unless renewed (taken over after a crash)."""
    sweep_every: float = 5.0
    """Seconds between looks at the batches with work (takeovers, events missed)."""


class _Result(enum.Enum):
    DELIVERED = "delivered"
    GAVE_UP = "gave_up"
    GONE = "gone"
    STOP = "stop"
    """The endpoint was deleted or disabled, or the lease lost: this lane ends."""


class Deliveries:
    """Runs the lanes of this replica (see the module)."""

    def __init__(
        self,
        store: WebhookStore,
        events: EventLogReader,
        sender: Sender,
        policy: Policy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        counted: Counter | None = None,
    ) -> None:
        """`clock` times the retries and `sleep` waits between them (tests inject both);
        the lease is renewed on real time, as the store's (or Redis's) expiry runs."""
        self.store = store
        self.events = events
        self.sender = sender
        self.policy = policy or Policy()
        self._clock = clock
        self._wall = wall_clock
        self._sleep = sleep
        self._rng = rng
        self._counted = counted
        self._replica = uuid.uuid4().hex
        self._lanes: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._again: set[tuple[str, str]] = set()
        self._per_endpoint: dict[str, asyncio.Semaphore] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False

    def wall(self) -> float:
        """Now, on the wall clock (Unix seconds) these deliveries stamp attempts with."""
        return self._wall()

    @property
    def lanes(self) -> int:
        """Lanes running on this replica."""
        return len(self._lanes)

    async def settled(self) -> None:
        """Return once no lane runs and none is being started (the lanes of events appended
        before the call have run to their end: delivered, given up, or stopped)."""
        while self._lanes or self._tasks:
            await asyncio.gather(*self._lanes.values(), *self._tasks, return_exceptions=True)

    def start(self) -> None:
        self.events.add_listener(self.poke)
        self._sweeper = asyncio.create_task(self._sweep(), name="webhook sweep")

    async def close(self) -> None:
        """Stop every lane (leases are released; another replica takes their batches on)."""
        self._closed = True
        tasks = [*self._lanes.values(), *self._tasks]
        if self._sweeper is not None:
            tasks.append(self._sweeper)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def poke(self, tenant: str, batch_id: str) -> None:
        """Events of (tenant, batch) were appended: start (or wake) its lanes."""
        if self._closed:
            return
        task = asyncio.create_task(self._poke(self.store.scope(tenant), batch_id, mark=True))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poke(self, scope: str, batch_id: str, *, mark: bool) -> None:
        try:
            if mark:
                await self.store.mark_active(scope, batch_id)
            for endpoint in await self.store.endpoints(scope):
                if endpoint.disabled or (endpoint.batch_id and endpoint.batch_id != batch_id):
                    continue
                self._lane(scope, endpoint.id, batch_id)
        except Exception:  # a store that cannot be read: the sweep looks again
            log.warning("webhook lanes not started", batch_id=batch_id, exc_info=True)

    def _lane(self, scope: str, endpoint_id: str, batch_id: str) -> None:
        key = (endpoint_id, batch_id)
        if key in self._lanes:
            self._again.add(key)
            return
        task = asyncio.create_task(self._run(scope, endpoint_id, batch_id), name="webhook lane")
        self._lanes[key] = task
        task.add_done_callback(lambda _: self._ended(key))

    def _ended(self, key: tuple[str, str]) -> None:
        self._lanes.pop(key, None)
        endpoint_id = key[0]
        if not any(lane[0] == endpoint_id for lane in self._lanes):
            self._per_endpoint.pop(endpoint_id, None)  # no lane of it waits on its bound

    async def _sweep(self) -> None:
        while True:
            stop_if_cancelled()
            await asyncio.sleep(self.policy.sweep_every)
            try:
                active = await self.store.active(self.policy.retry_for + 3600.0)
            except Exception:
                log.warning("webhook sweep could not read the store", exc_info=True)
                continue
            for scope, batch_id in active:  # any scope's: the store names it
                await self._poke(scope, batch_id, mark=False)

    async def _run(self, scope: str, endpoint_id: str, batch_id: str) -> None:
        holder = f"{self._replica}:{uuid.uuid4().hex}"
        store, key = self.store, (endpoint_id, batch_id)
        try:
            if not await store.acquire(endpoint_id, batch_id, holder, self.policy.lease):
                return  # another replica's lane: the sweep looks again
        except Exception:
            log.warning("webhook lease not taken", batch_id=batch_id, exc_info=True)
            return
        keeper = asyncio.create_task(self._keep(endpoint_id, batch_id, holder))
        try:
            while not keeper.done():
                self._again.discard(key)
                events = await self._read(scope, endpoint_id, batch_id)
                if not events:
                    if key in self._again:
                        continue
                    return
                for event in events:
                    endpoint = await self._endpoint(scope, endpoint_id)
                    if endpoint is None or endpoint.disabled or keeper.done():
                        return
                    type_name = WEBHOOK_TYPE_NAMES.get(event.type, "")
                    observed = event.observed_at.ToNanoseconds() / 1e9
                    if endpoint.wants(batch_id, type_name, observed):
                        result = await self._deliver(scope, endpoint, event, type_name, keeper)
                        if result is _Result.GONE:
                            await store.put(scope, _disabled(endpoint))
                            log.info("webhook endpoint disabled: it answered 410 Gone")
                            return
                        if result is _Result.STOP:
                            return
                    if not await store.advance(endpoint_id, batch_id, holder, event.event_id):
                        return  # the lease went to another replica, which goes on from here
        except Exception:
            log.exception("webhook lane failed; the sweep starts it again", batch_id=batch_id)
        finally:
            keeper.cancel()
            with contextlib.suppress(Exception):
                await store.release(endpoint_id, batch_id, holder)

    async def _keep(self, endpoint_id: str, batch_id: str, holder: str) -> None:
        """Renew the lease; return (ending the lane at its next step) once it is lost."""
        while True:
            stop_if_cancelled()
            await asyncio.sleep(self.policy.lease / 3)
            with contextlib.suppress(Exception):
                if not await self.store.acquire(endpoint_id, batch_id, holder, self.policy.lease):
                    return

    async def _read(
        self, scope: str, endpoint_id: str, batch_id: str
    ) -> list[batch_pb2.BatchEvent]:
        cursor = await self.store.cursor(endpoint_id, batch_id)
        try:
            return list(await self.events.read_scope(scope, batch_id, cursor, limit=READ_LIMIT))
        except EventsExpired:
            # The log dropped events this endpoint never got: say so, go on from the oldest.
            await self.store.record(
                endpoint_id,
                Attempt("", cursor or "", "", batch_id, self._wall(), error="events expired"),
            )
            return list(await self.events.read_scope(scope, batch_id, None, limit=READ_LIMIT))

    async def _endpoint(self, scope: str, endpoint_id: str) -> Endpoint | None:
        for endpoint in await self.store.endpoints(scope):
            if endpoint.id == endpoint_id:
                return endpoint
        return None

    async def _deliver(
        self,
        scope: str,
        endpoint: Endpoint,
        event: batch_pb2.BatchEvent,
        type_name: str,
        keeper: asyncio.Task[None],
    ) -> _Result:
        """Attempts until a 2xx, a 410, `retry_for` runs out, or the lease is lost (`keeper`
        ended: the new holder delivers this event, and the ones after it, in order)."""
        message_id = webhook_id(endpoint.id, event.event_id)
        body = payload(event)
        limit = self._per_endpoint.setdefault(
            endpoint.id, asyncio.Semaphore(self.policy.per_endpoint)
        )
        first, attempt = self._clock(), 0
        while True:
            attempt += 1
            async with limit:
                outcome = await self.sender.send(
                    endpoint.url, endpoint.signing_secrets(self._wall()), message_id, body
                )
            if self._counted is not None:
                self._counted(outcome.label)
            seen = Attempt(
                message_id, event.event_id, type_name, event.batch_id, self._wall(),
                status_code=outcome.status, error=outcome.error,
            )  # fmt: skip
            if outcome.delivered or outcome.gone:
                await self.store.record(endpoint.id, seen)
                return _Result.DELIVERED if outcome.delivered else _Result.GONE
            wait = full_jitter(
                attempt, base=self.policy.backoff_base, cap=self.policy.backoff_cap, rng=self._rng
            )
            if self._clock() - first + wait > self.policy.retry_for:
                await self.store.record(endpoint.id, _gave_up(seen, outcome))
                return _Result.GAVE_UP
            await self.store.record(endpoint.id, _retrying(seen, self._wall() + wait))
            await self._sleep(wait)
            current = await self._endpoint(scope, endpoint.id)
            if current is None or current.disabled or keeper.done():
                return _Result.STOP
            endpoint = current  # a rotated secret signs the next attempt


def _disabled(endpoint: Endpoint) -> Endpoint:
    return dataclasses.replace(endpoint, disabled="the endpoint answered 410 Gone")


def _gave_up(seen: Attempt, outcome: Outcome) -> Attempt:
    reason = outcome.error or f"HTTP {outcome.status}"
    return dataclasses.replace(seen, error=f"gave up after --webhook-retry-for: {reason}")


def _retrying(seen: Attempt, at: float) -> Attempt:
    return dataclasses.replace(seen, next_retry_at=at)
