"""Reading a unary method's one request message (gateway.server.request_message)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncGenerator
from typing import Any, NoReturn

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc

from gateway.server.request_message import _Wait
from tests.conftest import bearer

METHOD = "/sofer.batch.v1.BatchTranscriptionService/GetBatchStatus"


class _Context:
    """What `_Wait.one` uses of a servicer context: `read` (the message, after `delay`
    seconds; None: never) and `abort` (recorded, then raised as grpc.aio does)."""

    def __init__(self, message: object, delay: float | None = 0.0) -> None:
        self.message = message
        self.delay = delay
        self.aborted: list[tuple[grpc.StatusCode, str]] = []

    async def read(self) -> object:
        if self.delay is None:
            await asyncio.Event().wait()
        elif self.delay:
            await asyncio.sleep(self.delay)
        return self.message

    async def abort(self, code: grpc.StatusCode, details: str, **_: object) -> NoReturn:
        self.aborted.append((code, details))
        raise _Aborted


class _Aborted(Exception):
    """What the fake context's abort raises (grpc.aio's own is internal)."""


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


async def test_a_message_that_never_comes_ends_the_call_at_the_timeout() -> None:
    """No message: the call ends DEADLINE_EXCEEDED naming the timeout, no sooner than the
    timeout and no later than scheduling makes it."""
    context: Any = _Context(None, delay=None)
    started = time.monotonic()
    with pytest.raises(_Aborted):
        await _Wait(METHOD, 0.3).one(_never(), context)
    waited = time.monotonic() - started
    assert 0.3 <= waited <= 0.3 + 0.2, waited
    [(code, details)] = context.aborted
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "within 0.3 s" in details


async def test_a_call_cancelled_while_it_waits_stays_cancelled() -> None:
    """A client that goes away during the wait cancels the call: CancelledError goes on, never
    turned into a late answer."""
    context: Any = _Context(None, delay=None)
    wait = _Wait(METHOD, 5.0)
    task = asyncio.create_task(wait.one(_never(), context))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert context.aborted == []


async def test_messages_in_time_are_never_cut_beside_a_late_one() -> None:
    """Calls whose messages arrive before their timeout all get their message while another
    call's wait runs out: only the late call ends DEADLINE_EXCEEDED."""
    wait = _Wait(METHOD, 0.3)
    quick: list[Any] = [_Context(n, delay=0.05 * (n % 5)) for n in range(20)]
    slow: Any = _Context("late", delay=None)
    late = asyncio.create_task(wait.one(_never(), slow))
    got = await asyncio.gather(*(wait.one(_never(), c) for c in quick))
    assert got == list(range(20))
    with pytest.raises(_Aborted):
        await late
    assert [code for code, _ in slow.aborted] == [grpc.StatusCode.DEADLINE_EXCEEDED]
    assert all(c.aborted == [] for c in quick)


class _Untouched:
    """A request stream the wait must not touch."""

    def __aiter__(self) -> NoReturn:
        raise AssertionError("the request stream was iterated")


def _never() -> Any:
    return _Untouched()
