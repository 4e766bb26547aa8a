"""The event log kept in memory (no --redis-url), and what every event log offers.

Each (tenant, batch) has its own log: events in the order they were appended, each with an id
(gateway.events.positions) and a link to the id before it in the same log, so a reader can
tell, from the first event it is handed, whether anything between its position and that event
was dropped (EventsExpired) without counting anything.

Bounded three ways (flags, README "Resuming a stream"): at most `max_events` events per batch
(the oldest go first), none older than `max_age` seconds (by the time they were appended), and
at most `max_batches` batches (the least recently appended to or read goes first). The log is
this process's alone and lost on restart: its ids carry a per-process epoch, so a token of an
earlier process is answered RESUME_TOKEN_EXPIRED, never with a wrong position.
"""

from __future__ import annotations

import bisect
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from sofer.batch.v1 import batch_pb2

from gateway.events import positions
from gateway.events.model import AppendListener, EventLogReader, EventsExpired

log = structlog.get_logger("gateway.events.log")

DEFAULT_MAX_AGE = 25 * 3600.0
"""Seconds an event is kept by default: a day of webhook retries (--webhook-retry-for) and an
hour to spare."""
DEFAULT_MAX_EVENTS = 5000
"""Events kept per batch by default: a batch of 500 items makes about 2,500 (three states per
item, a count change per item)."""
DEFAULT_MAX_BATCHES = 500
"""Batches the in-memory log keeps by default."""


@dataclass(frozen=True)
class LogBounds:
    """How much a log keeps (--event-log-max-events, --event-log-max-age,
    --event-log-max-batches)."""

    max_events: int = DEFAULT_MAX_EVENTS
    max_age: float = DEFAULT_MAX_AGE
    max_batches: int = DEFAULT_MAX_BATCHES
    """The in-memory log only: Redis keeps a batch's stream until its events are `max_age` old."""


class EventLog(EventLogReader, Protocol):
    """An event log: the read side, appending, and telling this replica's listeners."""

    async def append(
        self, tenant: str, batch_id: str, events: Sequence[batch_pb2.BatchEvent]
    ) -> list[batch_pb2.BatchEvent]:
        """Append `events` (without ids) in order, and tell the listeners; the events as kept,
        each with its `event_id`."""
        ...

    def appended(self, tenant: str, batch_id: str) -> None:
        """Tell this replica's listeners that the batch's log grew (appends made elsewhere, such
        as gateway.watch.exchange's fenced publication, call it)."""
        ...


class Listeners:
    """The `add_listener` / `appended` half of a log."""

    def __init__(self) -> None:
        self._listeners: list[AppendListener] = []

    def add_listener(self, listener: AppendListener) -> None:
        """Have `listener` told of each append on this replica."""
        self._listeners.append(listener)

    def appended(self, tenant: str, batch_id: str) -> None:
        """Tell every listener; one that fails is logged and does not stop the others."""
        for listener in self._listeners:
            try:
                listener(tenant, batch_id)
            except Exception:
                log.exception("event log listener failed", batch_id=batch_id)


@dataclass
class _Batch:
    numbers: list[int] = field(default_factory=list)
    """Each kept event's number, oldest first (for bisect)."""
    previous: list[int] = field(default_factory=list)
    """The number of the event appended before each (0: none)."""
    times: list[float] = field(default_factory=list)
    events: list[batch_pb2.BatchEvent] = field(default_factory=list)
    last: int = 0
    """The number of the last event appended (kept or not)."""
    status: object = None
    """The batch status the last events were made from (`remember`)."""

    def drop(self, count: int) -> None:
        del self.numbers[:count], self.previous[:count], self.times[:count], self.events[:count]


class MemoryEventLog(Listeners):
    """The per-(tenant, batch) event logs of this process (see the module)."""

    def __init__(
        self, bounds: LogBounds | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        """`clock` (epoch seconds) dates the events for `max_age`; tests inject one."""
        super().__init__()
        self.bounds = bounds or LogBounds()
        self._clock = clock
        self.epoch = uuid.uuid4().hex[:12]
        self._next = 0
        """Event numbers are drawn from one counter for every batch: a batch dropped and seen
        again continues with higher numbers, so its old positions can never match new events."""
        self._batches: OrderedDict[tuple[str, str], _Batch] = OrderedDict()

    def _id(self, number: int) -> str:
        return f"m{self.epoch}-{number}"

    async def append(
        self, tenant: str, batch_id: str, events: Sequence[batch_pb2.BatchEvent]
    ) -> list[batch_pb2.BatchEvent]:
        if not events:
            return []
        key = (tenant, batch_id)
        batch = self._batches.get(key)
        if batch is None:
            batch = self._batches[key] = _Batch()
            while len(self._batches) > self.bounds.max_batches:
                self._batches.popitem(last=False)
        self._batches.move_to_end(key)
        now = self._clock()
        kept: list[batch_pb2.BatchEvent] = []
        for event in events:
            self._next += 1
            stored = batch_pb2.BatchEvent()
            stored.CopyFrom(event)
            stored.event_id = self._id(self._next)
            batch.numbers.append(self._next)
            batch.previous.append(batch.last)
            batch.times.append(now)
            batch.events.append(stored)
            batch.last = self._next
            kept.append(stored)
        self._trim(batch)
        self.appended(tenant, batch_id)
        return kept

    def _trim(self, batch: _Batch) -> None:
        excess = len(batch.numbers) - self.bounds.max_events
        if excess > 0:
            batch.drop(excess)
        oldest = self._clock() - self.bounds.max_age
        stale = bisect.bisect_left(batch.times, oldest)
        if stale:
            batch.drop(stale)

    def remember(self, tenant: str, batch_id: str, status: object) -> None:
        """Keep `status` as the one the batch's next events are made against: a poller that
        starts again (its topic ended with its last watcher) diffs against it, not against
        nothing (which would make every change of the batch an event again)."""
        batch = self._batches.get((tenant, batch_id))
        if batch is not None:
            batch.status = status

    def last_seen(self, tenant: str, batch_id: str) -> tuple[object, str]:
        """The status `remember`ed for the batch (None: none) and the id of its last event
        ("": none)."""
        batch = self._batches.get((tenant, batch_id))
        if batch is None or not batch.last:
            return None, ""
        return batch.status, self._id(batch.last)

    def scope(self, tenant: str) -> str:
        return tenant  # in this process only: never written anywhere

    async def read_after(
        self, tenant: str, batch_id: str, after: str | None, *, limit: int
    ) -> Sequence[batch_pb2.BatchEvent]:
        return await self.read_scope(tenant, batch_id, after, limit=limit)

    async def read_scope(
        self, scope: str, batch_id: str, after: str | None, *, limit: int
    ) -> Sequence[batch_pb2.BatchEvent]:
        key = (scope, batch_id)
        batch = self._batches.get(key)
        if batch is not None:
            self._batches.move_to_end(key)
            self._trim(batch)
        if after is None:
            return [] if batch is None else list(batch.events[:limit])
        parsed = positions.memory_id(after)
        if parsed is None or parsed[0] != self.epoch:
            raise EventsExpired("the position is from another process's log (a restart)")
        number = parsed[1]
        if batch is None:
            if number == 0:
                return []
            raise EventsExpired("the batch's log is no longer kept")
        start = bisect.bisect_right(batch.numbers, number)
        if start == len(batch.numbers):
            if batch.last != number:
                raise EventsExpired("events after the position were dropped")
            return []
        if batch.previous[start] != number:
            raise EventsExpired("events after the position were dropped")
        return list(batch.events[start : start + limit])
