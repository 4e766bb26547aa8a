"""The status hub: one upstream poller per (tenant, batch), shared by every watcher of it.

What a topic polls is its `Subject`: a batch's status (`BATCHES`, WatchBatchStatus and
StreamBatchTranscripts) or a manifest's validation (`MANIFESTS`, WatchManifest: GET
/v1/transcriptions/batch-files/{id}, until VALID or INVALID). Both share everything below
(the watch limit, the cadence, the failure policy, shutdown) except sharing through Redis, which
carries batch statuses only: a manifest topic polls on its own replica.

The shape is grpc_health's async servicer (`grpc_health/v1/_async.py`) with a poller behind it:
one topic per key, every watcher woken when the value changes, each reading the latest value
when it is ready, clean-up in `finally`.

- A topic is keyed by the credential's tenant key and the batch id, so a tenant never sees
  another's poller, state or errors.
- The poller polls fast at first and backs off while nothing changes (`Cadence`), back to fast
  on a change. It stops after a terminal state, and is cancelled when its last watcher leaves.
- Failures never leave a watcher waiting in silence (`gateway.watch.poll_failures`): a 429 waits
  its `Retry-After` up to `max_retry_after`, past it the watches end RESOURCE_EXHAUSTED with
  RetryInfo; other transient failures keep the last state and back off (full jitter, at most
  `Cadence.error_backoff_cap`); a topic with no state at all spends at most `max_retry_after`
  on failed polls. A final failure (404, 401, 403, ...) ends every watch of the topic at once.
  Polls ask the upstream rate budget (`--upstream-rate-limit`) last (Priority.POLL); when it
  has no token for them (QuotaExhausted: nothing was sent) the poller waits until it has,
  stretching its cadence, and the watches go on.
- A topic whose watches an error ended is forgotten at once: a watcher that joins later gets a
  new topic and poller (its first poll is fresh), never the old error.
- Conflation: a watcher holds no queue. It reads `latest` when it is ready, so a slow watcher
  gets the newest state, never a backlog, and never slows the poller or other watchers.
- Wake-up: one `asyncio.Event` per topic version, replaced and set on each change, wakes every
  watcher in the same turn of the loop. Nothing is shared that a watcher must lock (an
  `asyncio.Condition` would cost each watcher a lock round and a predicate call per change).
- Each observation carries its topic `version` and a `memo` shared by every watcher that reads
  it, so what is made of it for them (gateway.watch.fanout: the message bytes) is made once.
- `close()` (shutdown) ends every open watch with UNAVAILABLE and stops every poller.
- Events (gateway.events): a change of a batch is diffed against the status announced before
  it (`changes`) and appended to the batch's event log once cluster-wide, by the poller that
  read it: in memory, or with Redis within the lease holder's fenced publication (diffed
  against the last published status, exactly). Each observation carries the events it added
  and the log's position before and after them, for resumable streams (gateway.watch.resume).
  In local mode nothing is appended: the next holder's diff against the last published status
  covers the gap, coarser (one event per item for several changes) but without a loss.
- Shared by replicas (`--redis-url`: gateway.watch.exchange): a topic's task then polls only
  while this replica holds the batch's lease, publishing each change through Redis (fenced by
  the lease) as well as to its own watchers; otherwise it follows what the holder publishes,
  and takes the lease over when the holder lets go or dies. While Redis cannot be reached it
  polls for itself (local mode) and rejoins when Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import enum
import functools
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import grpc
import structlog
from sofer.batch.v1 import batch_pb2

from gateway.access.credentials import Credential
from gateway.contract.errors import GatewayError, Reason
from gateway.events.log import EventLog, MemoryEventLog
from gateway.events.model import changes
from gateway.observability import tracing
from gateway.observability.metrics import Reading
from gateway.state.redis_client import stop_if_cancelled
from gateway.upstream import (
    BatchStatusResponse,
    CallOptions,
    DeadlineExceeded,
    Priority,
    QuotaExhausted,
    RateLimited,
    Unavailable,
    UpstreamClient,
    UpstreamError,
)
from gateway.upstream.backoff import full_jitter
from gateway.watch import poll_failures
from gateway.watch.exchange import (
    Lease,
    Published,
    SharedNews,
    SharedStatus,
    SharedUnavailable,
    StaleBase,
    StatusExchange,
)
from gateway.watch.subjects import BATCHES, Subject

S = TypeVar("S")

log = structlog.get_logger("gateway.watch.hub")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Cadence:
    """How often a poller asks the upstream for a batch's status."""

    fast: float = 1.0
    """Seconds between polls at first and after every change."""
    slow: float = 20.0
    """The longest interval, reached while nothing changes."""
    factor: float = 1.5
    """Each unchanged poll multiplies the interval by this, up to `slow`."""
    poll_timeout: float = 10.0
    """Deadline of one poll (the upstream client's retries included)."""
    error_backoff_cap: float = 20.0
    """The longest wait after transient failures in a row."""


@dataclass(frozen=True)
class Observed(Generic[S]):
    """A status as the poller read it, and when (wall clock, UTC)."""

    status: S
    observed_at: datetime
    version: int = 0
    """The topic's version this observation is (1, 2, ...: one per change the poller saw)."""
    memo: dict[object, object] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    """What is derived from this observation for its watchers, made once (gateway.watch.fanout)."""
    read_at: float = dataclasses.field(default_factory=time.monotonic, compare=False, repr=False)
    """When it was read, on the hub's clock (time.monotonic unless a test injects one): its age
    for GetBatchStatus (StatusHub.fresh)."""
    terminal: bool = dataclasses.field(default=False, compare=False)
    """The status will not change any more (a batch COMPLETED or FAILED, a manifest VALID or
    INVALID: its Subject's `final`), set by the hub."""
    events: tuple[batch_pb2.BatchEvent, ...] | None = dataclasses.field(
        default=(), compare=False, repr=False
    )
    """The events appended to the batch's log with this observation, with their ids (None:
    appended by another replica and not known here: read the log from `since`)."""
    since: str = dataclasses.field(default="", compare=False)
    """The log's position (an event id) before `events` ("": none known)."""
    position: str = dataclasses.field(default="", compare=False)
    """The log's position after `events`: the id of the batch's last event ("": none known)."""


Observation = Observed[BatchStatusResponse]
"""A batch's status as the poller read it."""


class _Outcome(enum.Enum):
    """Why a topic's poll loop returned."""

    DONE = "done"
    """A terminal state, or an error that ended the watches: the topic is finished."""
    LOST = "lost"
    """Shared mode: this replica's lease was taken over; follow the new holder."""
    REJOIN = "rejoin"
    """Local mode: Redis answers again; share the poller again."""


class _Topic:
    """One (tenant, batch): its latest observation, its watchers and its poller."""

    def __init__(self, key: tuple[str, str], credential: Credential, subject: Subject[Any]) -> None:
        self.key = key
        self.credential = credential
        self.subject = subject
        self.changed = asyncio.Event()
        """Set (and replaced by a new one) when `latest` or `error` changes."""
        self.latest: Observed[Any] | None = None
        self.version = 0
        self.error: GatewayError | None = None
        self.watchers = 0
        self.poller: asyncio.Task[None] | None = None
        self.shared_version = 0
        """Shared mode: the newest version of the replicas' status this topic has taken in."""
        self.shared_status: Any = None
        """Shared mode: the status of `shared_version` (what the next publication diffs against)."""
        self.position = ""
        """The event log's position as of `latest`."""
        self.lease: Lease | None = None
        """Shared mode: this replica's lease while it polls for every replica."""
        self.local = False
        """Shared mode: polling for itself because Redis cannot be reached."""
        self.turn = asyncio.Event()
        """Shared mode: set when the holder lets go, or the topic ends (followers look again)."""
        self.wake = asyncio.Event()
        """Shared mode: set when the lease is lost (the poller stops waiting)."""

    @property
    def batch_id(self) -> str:
        return self.key[1]

    def news_since(self, seen: int) -> bool:
        """A version newer than `seen`, or an error that ends the watches."""
        return self.version > seen or self.error is not None


class StatusHub:
    """Fans one upstream poller per (tenant, batch) out to any number of watchers."""

    def __init__(
        self,
        client: UpstreamClient,
        cadence: Cadence | None = None,
        *,
        max_watches: int = 10_000,
        max_retry_after: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        shared: StatusExchange | None = None,
        events: EventLog | None = None,
    ) -> None:
        """`max_retry_after` (seconds, --watch-max-retry-after) is the longest Retry-After a
        poller waits out, and the longest a topic without any state spends on failed polls.
        `sleep`, `clock` (monotonic) and `rng` (uniform in [0, 1)) make the policy testable.
        `shared` (--redis-url) shares each batch's poller with the other replicas. `events`:
        the batches' event log (with `shared`, the Redis one its publications append to, whose
        listeners the hub tells); None: no events."""
        self._client = client
        self.cadence = cadence or Cadence()
        self.max_watches = max_watches
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._shared = shared
        self.events: EventLog = events if events is not None else MemoryEventLog()
        """The batches' event log (in memory unless given)."""
        self._events: EventLog | None = (
            self.events if events is not None or shared is None else None
        )
        """The log appended to: None in shared mode without one (no events)."""
        self._topics: dict[tuple[str, str, str], _Topic] = {}
        """By (subject kind, tenant, id)."""
        self._pollers: set[asyncio.Task[None]] = set()
        self._open = 0
        self._closing = False

    @property
    def open_watches(self) -> int:
        """Watches in progress across all topics."""
        return self._open

    @property
    def active_pollers(self) -> int:
        """Poller tasks not yet finished (in shared mode, followers' included)."""
        return sum(1 for task in self._pollers if not task.done())

    @property
    def leading(self) -> int:
        """Shared mode: batches this replica polls for every replica (leases held)."""
        return sum(1 for topic in self._topics.values() if topic.lease is not None)

    def readings(self) -> list[Reading]:
        """The hub's live values, for the metrics (GatewayMetrics.track)."""
        return [
            Reading(
                "open_watches",
                "WatchBatchStatus, StreamBatchTranscripts and WatchManifest streams open now",
                self.open_watches,
            ),
            Reading("active_pollers", "Upstream status pollers running now", self.active_pollers),
            Reading(
                "poll_leases",
                "With --redis-url: batches this replica polls for every replica (leases held)",
                self.leading,
            ),
        ]

    def watch(self, credential: Credential, batch_id: str) -> AsyncIterator[Observation]:
        """The batch's current status at once, then each change; returns after a terminal one
        (see `watch_subject`)."""
        return self.watch_subject(credential, batch_id, BATCHES)

    async def watch_subject(
        self, credential: Credential, batch_id: str, subject: Subject[S]
    ) -> AsyncIterator[Observed[S]]:
        """The status of `subject` `batch_id` at once, then each change; returns after a
        terminal one.

        A topic that already has a state gives it at once, whatever its poller is doing.
        Raises GatewayError: RESOURCE_EXHAUSTED past `max_watches`, UNAVAILABLE when shutting
        down, and the error that ended the topic's watches (NOT_FOUND, UNAUTHENTICATED, a
        RESOURCE_EXHAUSTED rate limit, ...).
        """
        if self._closing:
            raise _shutting_down()
        if self._open >= self.max_watches:
            raise GatewayError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                Reason.WATCH_LIMIT_REACHED,
                f"this gateway already serves {self.max_watches} watches: retry later, "
                "or poll GetBatchStatus",
                quota_subject="open watches per gateway process",
            )
        topic = self._join(credential, batch_id, subject)
        traced = tracing.watch_joined(topic)  # the polls' spans link to this watch's span
        try:
            seen = 0
            while True:
                while not topic.news_since(seen):
                    await topic.changed.wait()
                observation, error = topic.latest, topic.error
                if observation is not None and observation.version > seen:
                    seen = observation.version
                    yield observation
                    if observation.terminal:
                        return
                    continue
                if error is not None:
                    # A copy per watcher: the RPC frame adds its call's request id to the error.
                    raise dataclasses.replace(error, metadata=dict(error.metadata))
        finally:
            tracing.watch_left(topic, traced)
            self._leave(topic)

    def _join(self, credential: Credential, batch_id: str, subject: Subject[Any]) -> _Topic:
        key = (credential.tenant, batch_id)
        topic = self._topics.get((subject.kind, *key))
        if topic is None:
            topic = self._topics[(subject.kind, *key)] = _Topic(key, credential, subject)
            # A fresh context: the poller serves every watcher, so it must not carry the first
            # watcher's request id and rpc name into its log lines.
            task = asyncio.create_task(
                self._run(topic),
                name=f"{subject.kind}-poller {batch_id}",
                context=contextvars.Context(),
            )
            topic.poller = task
            self._pollers.add(task)
            task.add_done_callback(self._pollers.discard)
        topic.watchers += 1
        self._open += 1
        return topic

    def _leave(self, topic: _Topic) -> None:
        topic.watchers -= 1
        self._open -= 1
        if topic.watchers == 0:
            if self._topics.get(_key_of(topic)) is topic:
                del self._topics[_key_of(topic)]
            if topic.poller is not None:
                topic.poller.cancel()

    async def close(self) -> None:
        """End every open watch with UNAVAILABLE ("shutting down, reconnect"); stop pollers."""
        self._closing = True
        for topic in list(self._topics.values()):
            await self._publish_error(topic, _shutting_down())
        pollers = list(self._pollers)
        for task in pollers:
            task.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)

    async def _publish(self, topic: _Topic, observation: Observed[Any]) -> None:
        self._show(topic, observation)

    def _show(self, topic: _Topic, observation: Observed[Any]) -> None:
        """Make `observation` the topic's next version and wake its watchers."""
        topic.version += 1
        topic.latest = dataclasses.replace(observation, version=topic.version)
        _wake(topic)

    async def _publish_error(self, topic: _Topic, error: GatewayError) -> None:
        if topic.error is None:
            topic.error = error
        _wake(topic)

    async def _end(self, topic: _Topic, error: GatewayError) -> None:
        """End every watch of `topic` with `error` (on every replica, when this one leads);
        later watchers get a new topic."""
        if topic.lease is not None and self._shared is not None:
            with contextlib.suppress(SharedUnavailable):
                await self._shared.publish_error(topic.lease, error)
        self._end_here(topic, error)

    def _end_here(self, topic: _Topic, error: GatewayError) -> None:
        if self._topics.get(_key_of(topic)) is topic:
            del self._topics[_key_of(topic)]
        if topic.error is None:
            topic.error = error
        topic.turn.set()
        _wake(topic)

    async def _run(self, topic: _Topic) -> None:
        """The topic's task: poll (alone, or shared with the other replicas)."""
        if self._shared is None or topic.subject.exchange_prefix is None:  # batch shapes only
            await self._poll(topic)
        else:
            await self._coordinate(topic, self._shared)

    async def _coordinate(self, topic: _Topic, shared: StatusExchange) -> None:
        """Shared mode: follow the replicas' status, lead when the lease is free, poll locally
        while Redis cannot be reached (gateway.watch.exchange)."""
        prefix = topic.subject.exchange_prefix or ""
        key = shared.key(topic.credential.tenant, prefix + topic.batch_id)
        handler = functools.partial(self._received, topic)
        try:
            while not _finished(topic):
                try:
                    await shared.subscribe(key, handler)
                    # Read at every look, not only the first: pub/sub is at most once, so a
                    # message lost while the reader reconnected is made good within renew_every.
                    snapshot = await shared.latest(key)
                    if snapshot is not None:
                        self._adopt(topic, snapshot)
                    if _finished(topic):
                        return
                    lease = await shared.acquire(key)
                except SharedUnavailable:
                    topic.local = True
                    try:
                        outcome = await self._poll(topic)
                    finally:
                        topic.local = False
                    if outcome is _Outcome.DONE:
                        return
                    continue
                if lease is None:  # another replica polls: follow it, look again now and then
                    topic.turn.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(shared.renew_every):
                            await topic.turn.wait()
                    continue
                topic.lease = lease
                topic.wake.clear()
                keeper = asyncio.create_task(self._keep(topic, shared, lease))
                try:
                    outcome = await self._poll(topic)
                finally:
                    keeper.cancel()
                    if topic.lease is lease:
                        topic.lease = None
                        with contextlib.suppress(SharedUnavailable):
                            await shared.release(lease)
                if outcome is _Outcome.DONE:
                    return
        finally:
            with contextlib.suppress(SharedUnavailable):
                await shared.unsubscribe(key, handler)

    async def _keep(self, topic: _Topic, shared: StatusExchange, lease: Lease) -> None:
        """Renew the lease while this replica polls; on losing it, stop the poller."""
        while topic.lease is lease:
            stop_if_cancelled()
            await asyncio.sleep(shared.renew_every)
            try:
                kept = await shared.renew(lease)
            except SharedUnavailable:
                continue  # the next publication finds out; renewals go on meanwhile
            if not kept and topic.lease is lease:
                log.info("poll lease lost: following the new holder", batch_id=topic.batch_id)
                topic.lease = None
                topic.wake.set()
                return

    def _received(self, topic: _Topic, news: SharedNews) -> None:
        """A message of another replica (or this one's own, echoed) about the batch."""
        if news.kind == "released":
            topic.turn.set()
        elif news.kind == "error":
            if topic.lease is None and news.error is not None and not _finished(topic):
                self._end_here(topic, news.error)
        elif news.shared is not None:
            self._adopt(topic, news.shared)

    def _adopt(self, topic: _Topic, shared: SharedStatus) -> None:
        """Take in a status the replicas share: never an older one, never one equal to the
        latest (a new holder's first poll, this replica's own echo)."""
        if shared.version <= topic.shared_version:
            return
        contiguous = shared.version == topic.shared_version + 1
        base, topic.shared_version, topic.shared_status = (
            topic.shared_status,
            shared.version,
            shared.status,
        )
        position = shared.position or topic.position
        latest = topic.latest
        if latest is not None and latest.status == shared.status and position == topic.position:
            return
        events = _remade(base, shared) if contiguous and shared.since == topic.position else None
        age = max(0.0, (datetime.now(UTC) - shared.observed_at).total_seconds())
        observation = Observation(
            shared.status,
            shared.observed_at,
            read_at=self._clock() - age,
            terminal=topic.subject.final(shared.status),
            events=events if position != topic.position else (),
            since=topic.position,
            position=position,
        )
        topic.position = position
        self._show(topic, observation)
        if observation.terminal:
            topic.turn.set()

    async def _announce(self, topic: _Topic, observation: Observed[Any]) -> bool:
        """Publish a change this topic's poller read: through Redis first when this replica
        leads (False: its lease was lost, the new holder publishes), then to its watchers."""
        lease, shared = topic.lease, self._shared
        logged = topic.subject is BATCHES
        since = topic.position
        events: tuple[batch_pb2.BatchEvent, ...] = ()
        if lease is not None and shared is not None:
            try:
                published = await self._publish_shared(topic, shared, lease, observation)
            except SharedUnavailable:
                topic.lease, topic.local = None, True  # go on for this replica's watchers
            else:
                if published is None:
                    topic.lease = None
                    return False
                topic.shared_version, topic.shared_status = published.version, observation.status
                since, events = published.since or topic.position, tuple(published.events)
                if events and self._events is not None:
                    self._events.appended(topic.credential.tenant, topic.batch_id)
        elif shared is None and self._events is not None and logged:
            tenant, log = topic.credential.tenant, self._events
            previous: Any = None if topic.latest is None else topic.latest.status
            if topic.latest is None and isinstance(log, MemoryEventLog):
                # A poller starting again (its topic ended with its last watcher): on from
                # where the log is, not from nothing (every change an event again).
                previous, since = log.last_seen(tenant, topic.batch_id)
            made = changes(previous, observation.status, observation.observed_at)
            events = tuple(await log.append(tenant, topic.batch_id, made))
            if isinstance(log, MemoryEventLog):
                log.remember(tenant, topic.batch_id, observation.status)
        position = events[-1].event_id if events else since
        topic.position = position
        observation = dataclasses.replace(
            observation, events=events, since=since, position=position
        )
        await self._publish(topic, observation)
        return True

    async def _publish_shared(
        self, topic: _Topic, shared: StatusExchange, lease: Lease, observation: Observed[Any]
    ) -> Published | None:
        """The fenced publication of a change this replica read, with its events diffed
        against the last published status: when another publication came between (the
        previous holder's last), take that one in and diff again."""
        for _ in range(3):
            made = (
                changes(topic.shared_status, observation.status, observation.observed_at)
                if topic.subject is BATCHES
                else []
            )
            try:
                return await shared.publish(
                    lease,
                    observation.status,
                    observation.observed_at,
                    base=topic.shared_version,
                    events=made,
                )
            except StaleBase:
                snapshot = await shared.latest(lease.key)
                if snapshot is None:  # expired: nothing to diff against
                    topic.shared_version, topic.shared_status = 0, None
                else:
                    self._adopt(topic, snapshot)
        raise SharedUnavailable("the shared status kept moving under the lease holder")

    async def _wait(self, topic: _Topic, seconds: float) -> _Outcome | None:
        """Wait between polls; in shared mode, cut short by losing the lease or (local mode)
        by Redis coming back, and then say so."""
        shared = self._shared
        if shared is None:
            await self._sleep(seconds)
            return None
        waits: list[asyncio.Future[object]] = [asyncio.ensure_future(self._sleep(seconds))]
        if topic.local:
            waits.append(asyncio.ensure_future(shared.wait_available()))
        else:
            waits.append(asyncio.ensure_future(topic.wake.wait()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        if topic.local and shared.available:
            return _Outcome.REJOIN
        if not topic.local and topic.lease is None:
            return _Outcome.LOST
        return None

    async def _poll(self, topic: _Topic) -> _Outcome:
        """Poll until a terminal state, an error that ends the watches, or cancellation (and,
        in shared mode, until the lease is lost or Redis is back: see `_wait`)."""
        cadence = self.cadence
        interval = cadence.fast
        failures = 0
        started = self._clock()
        # The tenant key is an unsalted hash of the token, never logged: with Redis the lines
        # name the tenant as Redis does (a keyed hash, gateway.state.redis_client), else not.
        named = (
            {}
            if self._shared is None
            else {"tenant": self._shared.tenant_name(topic.credential.tenant)}
        )
        bound = structlog.get_logger("gateway.watch.hub").bind(
            **{topic.subject.id_key: topic.batch_id}, **named
        )
        try:
            while True:
                options = CallOptions(
                    token=topic.credential.token,
                    deadline=self._client.deadline_in(cadence.poll_timeout),
                    request_id=f"watch-{uuid.uuid4()}",
                    priority=Priority.POLL,  # the rate budget serves callers first
                )
                try:
                    answer = await self._read(topic, options)
                except QuotaExhausted as exc:
                    # The gateway's own rate budget is spent on callers: stretch the cadence to
                    # what it leaves, never end the watches for it (nothing was sent).
                    wait = max(exc.retry_after or 0.0, 0.05)
                    bound.debug("poll waits for the rate budget", wait_seconds=round(wait, 3))
                except (RateLimited, Unavailable, DeadlineExceeded) as exc:
                    failures += 1
                    wait = poll_failures.wait_after(exc, self._backoff(failures))
                    ended = poll_failures.give_up(
                        exc,
                        wait,
                        has_state=topic.latest is not None,
                        silent=self._clock() - started,
                        cap=self.max_retry_after,
                        token=topic.credential.token,
                        batch_id=topic.batch_id,
                        id_key=topic.subject.id_key,
                        not_found=topic.subject.not_found,
                    )
                    if ended is not None:
                        bound.info(
                            "poll ended the watches",
                            code=ended.code.name,
                            error=type(exc).__name__,
                            status=exc.status,
                            retry_after=ended.retry_after,
                        )
                        await self._end(topic, ended)
                        return _Outcome.DONE
                    if isinstance(exc, RateLimited):
                        bound.info("poll rate-limited", wait_seconds=round(wait, 3))
                    else:
                        bound.warning(
                            "poll failed; keeping the last state",
                            error=type(exc).__name__,
                            status=exc.status,
                            wait_seconds=round(wait, 3),
                        )
                except UpstreamError as exc:
                    error = poll_failures.watch_error(
                        exc,
                        token=topic.credential.token,
                        batch_id=topic.batch_id,
                        id_key=topic.subject.id_key,
                        not_found=topic.subject.not_found,
                    )
                    bound.info("poll ended the watches", code=error.code.name)
                    await self._end(topic, error)
                    return _Outcome.DONE
                else:
                    failures = 0
                    latest = topic.latest
                    if latest is None or answer != latest.status:
                        observation = Observed(
                            answer,
                            datetime.now(UTC),
                            read_at=self._clock(),
                            terminal=topic.subject.final(answer),
                        )
                        if not await self._announce(topic, observation):
                            return _Outcome.LOST
                        if observation.terminal:
                            return _Outcome.DONE
                        interval = cadence.fast
                    else:
                        interval = min(interval * cadence.factor, cadence.slow)
                    wait = interval
                outcome = await self._wait(topic, wait)
                if outcome is not None:
                    return outcome
        except asyncio.CancelledError:
            raise
        except Exception:
            bound.exception("status poller crashed")
            await self._end(
                topic,
                GatewayError(
                    grpc.StatusCode.INTERNAL,
                    Reason.INTERNAL_ERROR,
                    "the gateway's status poller failed; reconnect to resume the watch",
                ),
            )
            return _Outcome.DONE

    async def _read(self, topic: _Topic, options: CallOptions) -> Any:
        """One poll. A refusal of the rate budget while an upstream 429 pauses it is that
        429's (gateway.watch.poll_failures.paused_by_upstream), and fails the poll as it."""
        try:
            with tracing.poll_span(topic, topic.batch_id):
                return await topic.subject.read(self._client, topic.batch_id, options)
        except QuotaExhausted as exc:
            limited = poll_failures.paused_by_upstream(exc)
            if limited is None:
                raise
            raise limited from exc

    def _backoff(self, failures: int) -> float:
        """Full-jitter exponential backoff after `failures` transient failures in a row."""
        wait = full_jitter(
            failures, base=self.cadence.fast, cap=self.cadence.error_backoff_cap, rng=self._rng
        )
        return max(wait, 0.01)

    def fresh(self, credential: Credential, batch_id: str, max_age: float) -> Observation | None:
        """The batch's latest observation when it may answer a GetBatchStatus in place of an
        upstream read (docs/resilience.md, "Hot reads"): the topic of (credential's tenant,
        batch) exists, has no error, its poller is live, and the observation is at most
        `max_age` seconds old (on the hub's clock). A terminal one (COMPLETED, FAILED) whatever its
        age, its poller having stopped for that: the batch will not change any more, and the
        topic ends with its last watcher. None otherwise, with `max_age` <= 0, or shutting down.

        The age is since the poller read a change: polls that find nothing new do not renew it.
        """
        if max_age <= 0 or self._closing:
            return None
        topic = self._topics.get((BATCHES.kind, credential.tenant, batch_id))
        if topic is None or topic.error is not None or topic.latest is None:
            return None
        observation = topic.latest
        if observation.terminal:
            return observation
        if topic.poller is None or topic.poller.done():
            return None
        if self._clock() - observation.read_at > max_age:
            return None
        return observation


def _remade(base: Any, shared: SharedStatus) -> tuple[batch_pb2.BatchEvent, ...] | None:
    """The events of a publication, made again from the status before it (`changes` is a pure
    function of the two), with the ids the holder's append gave them; None when their number
    differs (a replica of another version): then the log is read instead."""
    if not shared.event_ids:
        return ()
    made = changes(base, shared.status, shared.observed_at)
    if len(made) != len(shared.event_ids):
        return None
    for event, event_id in zip(made, shared.event_ids, strict=True):
        event.event_id = event_id
    return tuple(made)


def _key_of(topic: _Topic) -> tuple[str, str, str]:
    return (topic.subject.kind, *topic.key)


def _finished(topic: _Topic) -> bool:
    """An error ended the topic's watches, or its latest state is terminal."""
    return topic.error is not None or (topic.latest is not None and topic.latest.terminal)


def _wake(topic: _Topic) -> None:
    """Wake every watcher of `topic` at once; later waiters wait for the next change."""
    changed, topic.changed = topic.changed, asyncio.Event()
    changed.set()


def _shutting_down() -> GatewayError:
    return GatewayError(
        grpc.StatusCode.UNAVAILABLE,
        Reason.SHUTTING_DOWN,
        "the gateway is shutting down: reconnect to resume the watch",
    )
