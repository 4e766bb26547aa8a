"""Reading a unary method's one request message (gateway.request_timeout)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gateway.request_timeout import _Wait


async def test_the_request_stream_is_closed_once_its_message_is_read() -> None:
    """A unary method's request stream is closed as soon as its one message is in, not left
    open for the event loop's finalizer to close later in a task of its own (one per call)."""
    closed: list[bool] = []

    async def requests() -> AsyncIterator[str]:
        try:
            yield "the request"
            yield "a second message a unary method never reads"
        finally:
            closed.append(True)

    stream = requests()  # still referenced: only an explicit close can run its finally
    context: Any = None  # not used when the message arrives in time
    assert (
        await _Wait("/sofer.batch.v1.BatchTranscriptionService/GetBatchStatus", 5.0).one(
            stream, context
        )
        == "the request"
    )
    assert closed == [True]
