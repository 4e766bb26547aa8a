"""A transcription's status as the status hub sees it: a batch of one (gateway.watch.subjects)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.upstream import TranscriptionInfo
from gateway.watch.subjects import TRANSCRIPTIONS, batch_of_one


def info(status: str) -> TranscriptionInfo:
    """A transcription in `status`."""
    return TranscriptionInfo(
        id="t-1",
        title="T",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        primary_language="en",
        hebrew_word_format=(),
        status=status,
    )


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("RECEIVED", False),
        ("PENDING", False),
        ("PROCESSING", False),
        ("UPLOADED", False),
        ("COMPLETED", True),
        ("FAILED", True),
        ("CANCELLED", True),
        ("INSUFFICIENT_FUNDS", True),
    ],
)
def test_a_watch_ends_at_every_final_state_of_a_transcription(status: str, terminal: bool) -> None:
    """The batch of one is terminal exactly when the transcription is final, and carries it."""
    batch = batch_of_one(info(status))
    assert TRANSCRIPTIONS.final(batch) is terminal
    assert batch.transcriptions == (info(status),)
    assert batch.batch_id == "t-1"
    assert batch.completed_count + batch.failed_count + batch.pending_count == 1
