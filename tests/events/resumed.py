"""What the resumable-stream tests share (no tests here): a batch that moves only when the test
moves the sandbox clock, and a watch read message by message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc

from tests.conftest import bearer
from tests.helpers.calls import source
from tests.helpers.clock import FakeTime

Stub = pb_grpc.BatchTranscriptionServiceStub
ITEM = 3.0
"""An item's seconds on the sandbox clock: item k of n is done at ITEM * (1 + k/n)."""
CADENCE = 0.05
"""The gateways' poll interval (real seconds)."""
TERMINAL = {batch_pb2.BATCH_STATE_COMPLETED, batch_pb2.BATCH_STATE_FAILED}


async def create(stub: Stub, items: int) -> str:
    """A batch of `items` express items; its id."""
    request = pb.CreateBatchRequest(
        audio_sources=[source(n) for n in range(items)], info=batch_pb2.BatchInfo()
    )
    answer = await stub.CreateBatch(request, metadata=bearer(), timeout=10)
    return str(answer.batch_id)


def finish(clock: FakeTime, created: float, done: int, items: int) -> None:
    """Move the sandbox clock to when `done` of the batch's `items` items have finished."""
    clock.advance(created + ITEM * (1 + (done - 1) / items) - clock.now)


class Watch:
    """One WatchBatchStatus stream, read message by message."""

    def __init__(self, stub: Stub, batch_id: str, token: str = "") -> None:
        self.call = stub.WatchBatchStatus(
            pb.WatchBatchStatusRequest(batch_id=batch_id, resume_token=token),
            metadata=bearer(),
            timeout=60,
        )
        self.messages: list[pb.WatchBatchStatusResponse] = []

    async def next(self) -> pb.WatchBatchStatusResponse:
        message = await asyncio.wait_for(self.call.read(), 30)
        assert message is not grpc.aio.EOF, "the stream ended"  # type: ignore[attr-defined]
        assert isinstance(message, pb.WatchBatchStatusResponse)
        self.messages.append(message)
        return message

    async def until(
        self, done: Callable[[pb.WatchBatchStatusResponse], bool]
    ) -> pb.WatchBatchStatusResponse:
        """Read until a message satisfies `done`; that message."""
        while True:
            message = await self.next()
            if done(message):
                return message

    async def to_the_end(self) -> None:
        """Read until the terminal state."""
        await self.until(lambda m: m.batch_status.state in TERMINAL)

    def events(self) -> list[batch_pb2.BatchEvent]:
        """Every event the stream delivered, in order."""
        return [event for message in self.messages for event in message.events]

    def cancel(self) -> None:
        """The subscriber goes away (its connection's stream is cancelled)."""
        self.call.cancel()


def completed(count: int) -> Callable[[pb.WatchBatchStatusResponse], bool]:
    return lambda message: message.batch_status.completed_count >= count


def described(events: list[batch_pb2.BatchEvent]) -> list[tuple[int, str, int, int]]:
    """What each event says, for comparing sequences."""
    return [(e.type, e.transcription_id, e.transcription_state, e.completed_count) for e in events]
