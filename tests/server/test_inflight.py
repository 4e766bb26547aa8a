"""Unary calls in flight on their own (gateway.server.inflight): each answers in its own scope,
cut at its answer time or at shutdown with the call's own status, never grpc's bare one; the
caller's own cancellation passes through; shutdown waits for the calls to end. The scopes in a
real server: test_hardening.py (creates cut by a deadline or a shutdown)."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from gateway.contract.errors import GatewayError, Reason
from gateway.server.inflight import MAX_MARGIN, MIN_MARGIN, Cut, InFlight, answer_margin, cut_short

SOON = 0.05
"""Seconds to a call's answer time in the tests that let it pass (a real timer)."""


def status_of(cut: Cut) -> GatewayError:
    """What a GetBatchStatus would answer when cut short."""
    return cut_short(cut, in_doubt=False, what="read", metadata={"request_id": "r-1"})


async def forever() -> None:
    await asyncio.Event().wait()


@pytest.mark.parametrize(
    ("remaining", "margin"),
    [
        (0.2, 0.05),  # a tenth would be 0.02: at least MIN_MARGIN
        (3.0, 0.3),  # a tenth
        (60.0, 0.5),  # at most MAX_MARGIN
        (0.06, 0.03),  # never more than half of what is left
        (-1.0, 0.0),
    ],
)
def test_the_margin_kept_for_the_answer(remaining: float, margin: float) -> None:
    """A tenth of the caller's remaining time is kept back for the answer, between
    MIN_MARGIN and MAX_MARGIN, and never more than half of what is left."""
    assert answer_margin(remaining) == pytest.approx(margin)
    assert answer_margin(remaining) <= max(MAX_MARGIN, MIN_MARGIN)


async def test_a_call_past_its_answer_time_answers_with_its_own_status() -> None:
    """A call still running at its answer time is cut then and raises the call's own error
    (DEADLINE_EXCEEDED, UPSTREAM_TIMEOUT, its metadata), not a TimeoutError or a cancel."""
    in_flight = InFlight()
    started = time.monotonic()
    with pytest.raises(GatewayError) as cut:
        async with in_flight.scope(time.monotonic() + SOON, status_of):
            await forever()
    assert time.monotonic() - started < 5.0
    assert cut.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    assert cut.value.reason is Reason.UPSTREAM_TIMEOUT
    assert cut.value.metadata == {"request_id": "r-1"}
    assert len(in_flight) == 0


async def test_a_call_that_ends_in_time_answers_as_it_ends() -> None:
    """A call that ends before its answer time, or has none, is left alone: its result or
    its own error (a TimeoutError of its own included) comes out unchanged."""
    in_flight = InFlight()
    async with in_flight.scope(time.monotonic() + 60.0, status_of) as cut:
        await asyncio.sleep(0)
    assert not cut.shutting_down
    with pytest.raises(TimeoutError):
        async with in_flight.scope(None, status_of):
            raise TimeoutError("the handler's own")
    with pytest.raises(LookupError):
        async with in_flight.scope(time.monotonic() + 60.0, status_of):
            raise LookupError("not found")
    assert len(in_flight) == 0


async def test_the_callers_own_cancel_passes_through() -> None:
    """A call cancelled from outside (its client went away) ends cancelled, not with a status
    of the gateway's: the scope never swallows a cancel it did not make."""
    in_flight = InFlight()
    entered = asyncio.Event()

    async def handler() -> None:
        async with in_flight.scope(time.monotonic() + 60.0, status_of):
            entered.set()
            await forever()

    task = asyncio.create_task(handler())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(in_flight) == 0


async def test_shutdown_cuts_every_open_call_with_its_own_status() -> None:
    """`interrupt()` (shutdown) ends every open call at once, each with UNAVAILABLE
    SHUTTING_DOWN (OUTCOME_UNKNOWN for a create that was sent), and a call that starts
    afterwards is cut at once."""
    in_flight = InFlight()
    entered = asyncio.Event()

    async def call(in_doubt: bool) -> GatewayError:
        def status(cut: Cut) -> GatewayError:
            return cut_short(cut, in_doubt=in_doubt, what="create", metadata={})

        try:
            async with in_flight.scope(time.monotonic() + 60.0, status):
                entered.set()
                await forever()
        except GatewayError as error:
            return error
        raise AssertionError("the call was not cut")

    calls = [asyncio.create_task(call(in_doubt)) for in_doubt in (False, True)]
    await entered.wait()
    await asyncio.sleep(0)
    assert len(in_flight) == 2
    in_flight.interrupt()
    read, create = await asyncio.gather(*calls)
    assert (read.code, read.reason) == (grpc.StatusCode.UNAVAILABLE, Reason.SHUTTING_DOWN)
    assert (create.code, create.reason) == (grpc.StatusCode.UNAVAILABLE, Reason.OUTCOME_UNKNOWN)
    assert "retry with the same request_id" in create.message
    late = await call(False)
    assert late.reason is Reason.SHUTTING_DOWN


async def test_wait_idle_says_whether_every_call_ended_in_time() -> None:
    """Shutdown waits for the calls in flight: True at once with none, True when the last ends
    within the wait, False when one outlives it (then it is still counted)."""
    in_flight = InFlight()
    assert await in_flight.wait_idle(0.0)
    release = asyncio.Event()
    entered = asyncio.Event()

    async def handler() -> None:
        async with in_flight.scope(None, status_of):
            entered.set()
            await release.wait()

    task = asyncio.create_task(handler())
    await entered.wait()
    assert not await in_flight.wait_idle(SOON)
    assert len(in_flight) == 1
    waiting = asyncio.create_task(in_flight.wait_idle(60.0))
    release.set()
    assert await waiting
    await task
    assert len(in_flight) == 0


def test_a_deadline_cut_of_a_create_in_doubt_says_outcome_unknown() -> None:
    """A create cut by its caller's deadline after it was sent: DEADLINE_EXCEEDED with
    OUTCOME_UNKNOWN and the advice to retry with the same request_id."""
    error = cut_short(Cut(), in_doubt=True, what="create", metadata={"request_id": "r-9"})
    assert (error.code, error.reason) == (
        grpc.StatusCode.DEADLINE_EXCEEDED,
        Reason.OUTCOME_UNKNOWN,
    )
    assert "did not finish before the caller's deadline" in error.message
    assert "retry with the same request_id" in error.message
    assert error.metadata == {"request_id": "r-9"}
