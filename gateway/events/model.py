"""What a batch event is, how a poller's two successive reads become events, and how the log is
read.

A poller (gateway.watch.hub) that reads a batch status different from the one before turns the
difference into `BatchEvent`s (`changes`), in this order: one per transcription whose state
changed, in the batch's order (TRANSCRIPTION_COMPLETED when it became COMPLETED, the transcript
being ready, else TRANSCRIPTION_UPDATED), then BATCH_UPDATED when the batch's state or a count
changed. Each carries the batch's state and counts after the change, so a consumer that reads
one event knows the batch's progress without the others. The first read of a batch (no
previous one) makes the events of everything that is not where a new batch starts: each
transcription past RECEIVED/PENDING, and the batch itself.

Events carry ids, never transcripts: a transcript is read with GetTranscription.

The log (one per tenant and batch) assigns each event its `event_id` when appending; readers
(resumable streams, webhook deliveries) read it through `EventLogReader`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from sofer.batch.v1 import batch_pb2

from gateway.contract import mapping
from gateway.upstream import BatchStatusResponse

EventType = batch_pb2.BatchEventType

INITIAL_ITEM_STATES = frozenset({"RECEIVED", "PENDING"})
"""Upstream transcription states a new item starts in: a first read makes no event for them."""

WEBHOOK_TYPE_NAMES: dict[int, str] = {
    batch_pb2.BATCH_EVENT_TYPE_BATCH_UPDATED: "batch.updated",
    batch_pb2.BATCH_EVENT_TYPE_TRANSCRIPTION_UPDATED: "transcription.updated",
    batch_pb2.BATCH_EVENT_TYPE_TRANSCRIPTION_COMPLETED: "transcription.completed",
}
"""Each event type's name in webhook payloads and endpoint filters (Standard Webhooks'
`group.event` style)."""


def changes(
    previous: BatchStatusResponse | None, current: BatchStatusResponse, observed_at: datetime
) -> list[batch_pb2.BatchEvent]:
    """The events between two successive reads of one batch (see the module), without ids."""
    before = {} if previous is None else {t.id: str(t.status) for t in previous.transcriptions}
    events: list[batch_pb2.BatchEvent] = []
    for item in current.transcriptions:
        state = str(item.status)
        if before.get(item.id) == state:
            continue
        if previous is None and state in INITIAL_ITEM_STATES:
            continue
        event = _event(current, observed_at)
        event.type = (
            batch_pb2.BATCH_EVENT_TYPE_TRANSCRIPTION_COMPLETED
            if state == "COMPLETED"
            else batch_pb2.BATCH_EVENT_TYPE_TRANSCRIPTION_UPDATED
        )
        event.transcription_id = item.id
        event.client_item_id = item.client_item_id or ""
        event.transcription_state = mapping.transcription_state(item.status)
        events.append(event)
    if previous is None or _batch_fields(previous) != _batch_fields(current):
        event = _event(current, observed_at)
        event.type = batch_pb2.BATCH_EVENT_TYPE_BATCH_UPDATED
        events.append(event)
    return events


def _batch_fields(status: BatchStatusResponse) -> tuple[object, ...]:
    return (
        str(status.status),
        status.total_count,
        status.completed_count,
        status.failed_count,
        status.pending_count,
    )


def _event(status: BatchStatusResponse, observed_at: datetime) -> batch_pb2.BatchEvent:
    event = batch_pb2.BatchEvent(
        batch_id=status.batch_id,
        batch_state=mapping.batch_state(status.status),
        total_count=status.total_count,
        completed_count=status.completed_count,
        failed_count=status.failed_count,
        pending_count=status.pending_count,
    )
    event.observed_at.FromDatetime(observed_at)
    return event


class EventsExpired(Exception):
    """The position read after is older than the oldest event the log still holds (trimmed by
    length or age, or lost with a restart of a log kept in memory): events would be missing."""


AppendListener = Callable[[str, str], None]
"""Told `(tenant, batch_id)` after events of that batch were appended on this replica."""


class EventLogReader(Protocol):
    """Read side of the event logs, per tenant (`Credential.tenant`) and batch."""

    async def read_after(
        self, tenant: str, batch_id: str, after: str | None, *, limit: int
    ) -> Sequence[batch_pb2.BatchEvent]:
        """The batch's events after the event id `after` (None: from the oldest kept), oldest
        first, at most `limit`, each with its `event_id`. Raises EventsExpired when events
        after `after` were dropped."""
        ...

    def scope(self, tenant: str) -> str:
        """How the log names `tenant` where it is kept: with Redis its keyed hash (the name in
        every gateway key, gateway.state.redis_client), so a reader that holds only that name
        (webhook deliveries taken over from another replica) can read; in memory `tenant`."""
        ...

    async def read_scope(
        self, scope: str, batch_id: str, after: str | None, *, limit: int
    ) -> Sequence[batch_pb2.BatchEvent]:
        """`read_after` for the tenant the log names `scope` (see `scope`)."""
        ...

    def add_listener(self, listener: AppendListener) -> None:
        """Have `listener` told of each append on this replica."""
        ...
