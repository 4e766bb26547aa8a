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

from gateway.server.request_message import Expiry, _Wait
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
    assert await _Wait(METHOD, Expiry(5.0)).one(stream, context) == "the request"
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


async def test_a_message_that_never_comes_ends_the_call_within_a_tick_of_the_timeout() -> None:
    """No message: the call ends DEADLINE_EXCEEDED naming the timeout, no sooner than the
    timeout and at most a tick (a tenth of it) later, plus scheduling."""
    context: Any = _Context(None, delay=None)
    started = time.monotonic()
    with pytest.raises(_Aborted):
        await _Wait(METHOD, Expiry(0.5)).one(_never(), context)
    waited = time.monotonic() - started
    assert 0.5 <= waited <= 0.5 + Expiry(0.5).tick + 0.25, waited
    [(code, details)] = context.aborted
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "within 0.5 s" in details


async def test_a_call_cancelled_while_it_waits_stays_cancelled() -> None:
    """A client that goes away during the wait cancels the call: CancelledError goes on (never
    turned into a late answer), and its wait is forgotten."""
    context: Any = _Context(None, delay=None)
    wait = _Wait(METHOD, Expiry(5.0))
    task = asyncio.create_task(wait.one(_never(), context))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert context.aborted == []
    assert wait.expiry._waiting == {}


async def test_the_waits_of_many_calls_share_one_timer() -> None:
    """A thousand calls waiting at once arm one timer between them, not one each (what
    `asyncio.timeout` per call did), and each gets its own message."""
    loop = asyncio.get_running_loop()
    armed = 0
    real_call_at = loop.call_at

    def counting(when: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        nonlocal armed
        armed += 1
        return real_call_at(when, callback, *args, **kwargs)

    wait = _Wait(METHOD, Expiry(5.0))
    contexts: list[Any] = [_Context(n) for n in range(1000)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "call_at", counting)
        got = await asyncio.gather(*(wait.one(_never(), c) for c in contexts))
    assert got == list(range(1000))
    assert armed <= 2
    assert wait.expiry._waiting == {}


async def test_a_message_in_time_is_never_cut_by_the_sweep() -> None:
    """Calls whose messages arrive before their timeout, while the sweep runs for others that
    wait longer, all get their message: the sweep ends only the late."""
    wait = _Wait(METHOD, Expiry(0.3))
    quick: list[Any] = [_Context(n, delay=0.05 * (n % 5)) for n in range(20)]
    slow: Any = _Context("late", delay=None)
    late = asyncio.create_task(wait.one(_never(), slow))
    got = await asyncio.gather(*(wait.one(_never(), c) for c in quick))
    assert got == list(range(20))
    with pytest.raises(_Aborted):
        await late
    assert [code for code, _ in slow.aborted] == [grpc.StatusCode.DEADLINE_EXCEEDED]


class _Untouched:
    """A request stream the wait must not touch."""

    def __aiter__(self) -> NoReturn:
        raise AssertionError("the request stream was iterated")


def _never() -> Any:
    return _Untouched()
