"""Reading a unary method's one request message (gateway.request_timeout)."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator
from typing import Any

import grpc
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc

from gateway.request_timeout import _Wait
from tests.conftest import bearer

METHOD = "/sofer.batch.v1.BatchTranscriptionService/GetBatchStatus"


class _Context:
    """What `_Wait.one` uses of a servicer context when the message is there."""

    def __init__(self, message: object) -> None:
        self.message = message

    async def read(self) -> object:
        return self.message


async def test_the_message_is_read_without_iterating_the_request_stream() -> None:
    """A unary method's message comes from `context.read()`: grpc.aio's request stream is
    never iterated, so no async generator is left suspended for the event loop's finalizer to
    close later, in a task of its own, on every call."""
    started: list[bool] = []

    async def requests() -> AsyncGenerator[str, None]:
        started.append(True)
        yield "the request"

    stream = requests()
    context: Any = _Context("the request")
    assert await _Wait(METHOD, 5.0).one(stream, context) == "the request"
    assert started == []
    await stream.aclose()


async def test_unary_calls_leave_no_request_generator_behind(
    stub: batch_service_pb2_grpc.BatchTranscriptionServiceStub,
) -> None:
    """Over real calls, grpc.aio's own request generator is never started (it would be one
    generator per call for the loop's finalizer)."""
    names: list[str] = []
    before = sys.get_asyncgen_hooks()

    def firstiter(agen: AsyncGenerator[Any, Any]) -> None:
        names.append(getattr(agen, "__name__", ""))  # grpc's are Cython's, without ag_code
        if before.firstiter is not None:
            before.firstiter(agen)

    sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=before.finalizer)
    try:
        for _ in range(5):
            error = None
            try:
                await stub.GetBatchStatus(
                    pb.GetBatchStatusRequest(batch_id="6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"),
                    metadata=bearer(),
                )
            except grpc.aio.AioRpcError as exc:
                error = exc
            assert error is not None
            assert error.code() == grpc.StatusCode.NOT_FOUND
    finally:
        sys.set_asyncgen_hooks(firstiter=before.firstiter, finalizer=before.finalizer)
    assert "_async_message_receiver" not in names, names
