"""Resumable streams: each message's `resume_token`, and a request's token turned into exactly
the events after it, then live ones.

A stream keeps its position in the batch's event log (gateway.events: an event id, "" before
it has one). Each observation of the hub says the log's position before and after its events
(gateway.watch.hub); a stream whose position is the observation's `since` takes the
observation's own events (made once for every such stream: gateway.watch.fanout); any other
(a slow stream that skipped versions, a stream resumed from a token, a replica that did not see
the publication) reads the log from its position to the observation's. So each event reaches
a stream once, in the log's order, whichever replica serves it and however it was conflated.

Errors: a token that is not one or is another batch's fails INVALID_ARGUMENT on
`resume_token`; a position the log no longer holds fails OUT_OF_RANGE RESUME_TOKEN_EXPIRED,
whose message gives the way back (open without a token).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import grpc
from sofer.batch.v1 import batch_pb2

from gateway.access.credentials import Credential
from gateway.contract.errors import GatewayError, Reason, invalid_argument
from gateway.events import positions
from gateway.events.model import EventLogReader, EventsExpired
from gateway.validation import Violation
from gateway.validation.rules import Reason as FieldReason
from gateway.watch import fanout
from gateway.watch.hub import Observation, StatusHub

PAGE = 1000
"""Events read from the log at once."""


def start(token: str, batch_id: str) -> str | None:
    """The position a request's `resume_token` names (None: no token); raises GatewayError
    INVALID_ARGUMENT on `resume_token`."""
    if not token:
        return None
    try:
        return positions.read_token(token, batch_id)
    except positions.InvalidToken as exc:
        raise invalid_argument(
            [Violation("resume_token", FieldReason.INVALID_RESUME_TOKEN, str(exc))]
        ) from None


def expired(batch_id: str) -> GatewayError:
    """The error of a position the log no longer holds."""
    return GatewayError(
        grpc.StatusCode.OUT_OF_RANGE,
        Reason.RESUME_TOKEN_EXPIRED,
        "the resume_token is older than the events this gateway keeps (trimmed by "
        "--event-log-max-events or --event-log-max-age, or lost with a restart of a gateway "
        "without Redis): open the stream without a resume_token for the current state",
        {"batch_id": batch_id},
    )


class Cursor:
    """One stream's position in its batch's log."""

    def __init__(
        self, log: EventLogReader, credential: Credential, batch_id: str, position: str | None
    ) -> None:
        self._log = log
        self._tenant = credential.tenant
        self.batch_id = batch_id
        self.position = position or ""

    async def read_to(
        self, observation: Observation, *, strict: bool = True
    ) -> list[batch_pb2.BatchEvent]:
        """The events from the stream's position to the observation's, and move there: the
        observation's own when the stream is where they start, else read from the log.

        Not `strict` (a stream already going, not a request's token): when the log lost them
        (Redis flushed or restarted empty under the stream), the observation's own events
        only, rather than ending a stream its client could not resume better."""
        target = observation.position
        if not target or target == self.position:
            return []
        if self.position and positions.order(target) < positions.order(self.position):
            # a replica behind the one that gave the token: wait for it to catch up (never
            # step back, which would send events twice)
            if strict:
                await self.read_between(self.position, self.position)
            return []
        if observation.events is not None and observation.since == self.position:
            self.position = target
            return list(observation.events)
        try:
            events = await self.read_between(self.position or None, target)
        except GatewayError:
            if strict:
                raise
            events = list(observation.events or ())
        self.position = target
        return events

    async def read_between(self, after: str | None, until: str) -> list[batch_pb2.BatchEvent]:
        """The log's events after `after` (None: from its oldest) up to `until`, included."""
        found: list[batch_pb2.BatchEvent] = []
        limit = positions.order(until)
        while True:
            try:
                page = await self._log.read_after(self._tenant, self.batch_id, after, limit=PAGE)
            except EventsExpired:
                raise expired(self.batch_id) from None
            for event in page:
                if positions.order(event.event_id) > limit:
                    return found
                found.append(event)
                if event.event_id == until:
                    return found
            if len(page) < PAGE:
                return found
            after = page[-1].event_id

    def token(self) -> str:
        """The resume token of the stream's position ("" before it has one)."""
        return positions.make_token(self.batch_id, self.position) if self.position else ""


async def watch_messages(
    hub: StatusHub,
    log: EventLogReader,
    credential: Credential,
    batch_id: str,
    after: str | None,
) -> AsyncIterator[bytes]:
    """The serialized WatchBatchStatus messages of one stream, resumed after the position
    `after` (None: from the current state, no events in the first message)."""
    cursor = Cursor(log, credential, batch_id, after)
    previous: Observation | None = None
    async for observation in hub.watch(credential, batch_id):
        if (
            previous is not None
            and observation.version != previous.version + 1
            and observation.status == previous.status
            and observation.position in ("", cursor.position)
        ):
            continue  # a watcher that skipped a change and its undoing: nothing new to say
        if previous is None and after is None:
            cursor.position = observation.position
            data = fanout.with_events(observation, None, batch_id)
        elif (
            previous is not None
            and observation.events is not None
            and observation.since == cursor.position
        ):
            await cursor.read_to(observation)
            data = fanout.with_events(observation, previous, batch_id)
        else:
            events: Sequence[batch_pb2.BatchEvent] = await cursor.read_to(
                observation, strict=previous is None
            )
            data = fanout.message_bytes(observation, previous) + fanout.tail(
                batch_id, events, cursor.position
            )
        yield data
        previous = observation
