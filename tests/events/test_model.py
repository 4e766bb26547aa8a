"""Two successive reads of a batch become the events a consumer would expect, in order."""

from __future__ import annotations

from datetime import UTC, datetime

from sofer.batch.v1 import batch_pb2

from gateway.events.model import changes
from gateway.upstream.models import BatchStatusResponse, TranscriptionInfo

WHEN = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def item(id_: str, state: str) -> TranscriptionInfo:
    return TranscriptionInfo(
        id=id_,
        title=id_,
        created_at=WHEN,
        primary_language="en",
        hebrew_word_format=(),
        status=state,
        client_item_id=f"client-{id_}",
    )


def status(batch: str, *states: str) -> BatchStatusResponse:
    done = sum(1 for s in states if s == "COMPLETED")
    failed = sum(1 for s in states if s == "FAILED")
    return BatchStatusResponse(
        batch_id="b",
        status=batch,
        total_count=len(states),
        completed_count=done,
        failed_count=failed,
        pending_count=len(states) - done - failed,
        transcriptions=tuple(item(f"t{i}", s) for i, s in enumerate(states)),
    )


def test_a_first_read_reports_what_has_moved_and_the_batch() -> None:
    """The first read makes an event for each item past where items start, then the batch's."""
    events = changes(None, status("PROCESSING", "PENDING", "PROCESSING", "COMPLETED"), WHEN)
    assert [(e.type, e.transcription_id) for e in events] == [
        (batch_pb2.BATCH_EVENT_TYPE_TRANSCRIPTION_UPDATED, "t1"),
        (batch_pb2.BATCH_EVENT_TYPE_TRANSCRIPTION_COMPLETED, "t2"),
        (batch_pb2.BATCH_EVENT_TYPE_BATCH_UPDATED, ""),
    ]
    assert events[1].client_item_id == "client-t2"
    assert events[1].transcription_state == batch_pb2.TRANSCRIPTION_STATE_COMPLETED
    assert all(
        e.completed_count == 1 and e.batch_state == batch_pb2.BATCH_STATE_PROCESSING for e in events
    )
    assert events[0].observed_at.ToDatetime(tzinfo=UTC) == WHEN


def test_only_what_changed_between_two_reads_is_an_event() -> None:
    """An unchanged item makes nothing; the batch's event comes last, after its items'."""
    before = status("PROCESSING", "PROCESSING", "PROCESSING")
    after = status("COMPLETED", "COMPLETED", "FAILED")
    kinds = [(e.type, e.transcription_id) for e in changes(before, after, WHEN)]
    assert kinds == [
        (batch_pb2.BATCH_EVENT_TYPE_TRANSCRIPTION_COMPLETED, "t0"),
        (batch_pb2.BATCH_EVENT_TYPE_TRANSCRIPTION_UPDATED, "t1"),
        (batch_pb2.BATCH_EVENT_TYPE_BATCH_UPDATED, ""),
    ]
    assert changes(after, after, WHEN) == []
