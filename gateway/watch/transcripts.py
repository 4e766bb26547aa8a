"""StreamBatchTranscripts: each item's result pushed as it finishes, riding on the status hub.

A stream is a watch of the batch (gateway.watch.hub: the same poller as WatchBatchStatus, so
transcript subscribers cost no extra status polling). Each observation is scanned for items
that reached a terminal state since the stream's last look; for each one, in the batch's order:

- COMPLETED: its transcript, from the shared cache (gateway.watch.transcript_cache: one upstream
  fetch per tenant, transcription and filter, however many streams want it);
- any other terminal state (FAILED, CANCELLED, INSUFFICIENT_FUNDS): its info alone.

Items the caller named in `skip_transcription_ids` are passed over, fetched by nobody for it.

Resuming (gateway.watch.resume): items go out in the order of their last event in the batch's
log, each message's `resume_token` the position of its item's last event, so a stream resumed
from it sends again exactly the items whose last event is after it. An item whose change the
log does not show (Redis was unreachable when it happened) goes first, with the token the
stream had: resumed from there, it may be sent again (at least once, never lost).
When the batch is terminal, items still not terminal (the upstream gave up on them) are sent
as their info, and the stream ends OK.

Messages go out as bytes (gateway.server.passthrough). A transcript's part is the same for every
stream, so the cache keeps it serialized; the counts, which differ per moment, are a second
message serialized on its own and appended: protobuf parses concatenated messages as one,
merged (the later fields win, and these fields are only in the second).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from sofer.batch.v1 import batch_service_pb2 as pb

from gateway.access.credentials import Credential
from gateway.contract import mapping
from gateway.events import positions
from gateway.events.model import EventLogReader
from gateway.upstream import Transcription
from gateway.watch import resume
from gateway.watch.hub import StatusHub
from gateway.watch.transcript_cache import TranscriptCache

TERMINAL_ITEM_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "INSUFFICIENT_FUNDS"})
"""Transcription states an item does not leave (INSUFFICIENT_FUNDS: the upstream's own)."""


def completed_message(answer: Transcription) -> bytes:
    """A completed item's message without its counts: what the cache keeps."""
    message = pb.StreamBatchTranscriptsResponse(
        info=mapping.transcription_info(answer.info), transcription=mapping.transcription(answer)
    )
    data: bytes = message.SerializeToString()
    return data


async def batch_transcripts(
    hub: StatusHub,
    cache: TranscriptCache,
    request: pb.StreamBatchTranscriptsRequest,
    credential: Credential,
    *,
    log: EventLogReader,
    request_id: str,
    note: Callable[[str], None],
) -> AsyncIterator[bytes]:
    """The serialized messages of one StreamBatchTranscripts stream (see the module), for the
    call of `credential` and `request_id`; `note` is told each transcript id fetched (the
    call's log line and error metadata name the last). Raises GatewayError for a bad or
    expired `resume_token` (gateway.watch.resume)."""
    skip = frozenset(request.skip_transcription_ids)
    done: set[str] = set()
    word_format = mapping.filter_param(request.filter_hebrew_word_format)
    after = resume.start(request.resume_token, request.batch_id)
    cursor = resume.Cursor(log, credential, request.batch_id, after)
    first = True
    async for observation in hub.watch(credential, request.batch_id):
        status = observation.status
        before = cursor.position
        if first and after is None:
            # The whole log up to now: where each item's last change is, for the tokens.
            events = (
                await cursor.read_between(None, observation.position)
                if observation.position
                else []
            )
            cursor.position = observation.position
        else:
            events = await cursor.read_to(observation, strict=first)
        last_event = {e.transcription_id: e.event_id for e in events if e.transcription_id}
        states = [(item, str(item.status)) for item in status.transcriptions]
        if first and after is not None:
            # Resumed: an item that was where it is now at the token was sent then (or skipped).
            done.update(item.id for item, _ in states if item.id not in last_event)
        first = False
        finished = sum(1 for _, state in states if state in TERMINAL_ITEM_STATES)
        counts = pb.StreamBatchTranscriptsResponse(
            finished_count=finished, total_count=status.total_count
        )
        due = [
            (item, state)
            for item, state in states
            if item.id not in done
            and item.id not in skip
            and (state in TERMINAL_ITEM_STATES or observation.terminal)
        ]
        # In the order of their last events (those the log did not show first): the token of
        # each message then covers exactly the items sent before it.
        due.sort(key=lambda pair: positions.order(last_event.get(pair[0].id, "")))
        position = before
        for item, state in due:
            done.add(item.id)
            position = last_event.get(item.id, position)
            if state == "COMPLETED":
                note(item.id)
                data = await cache.message(
                    credential,
                    item.id,
                    word_format,
                    completed_message,
                    request_id=request_id,
                )
            else:
                data = pb.StreamBatchTranscriptsResponse(
                    info=mapping.transcription_info(item)
                ).SerializeToString()
            counts.resume_token = (
                positions.make_token(request.batch_id, position) if position else ""
            )
            yield data + counts.SerializeToString()
