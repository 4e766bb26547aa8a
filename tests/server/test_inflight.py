"""Unary calls in flight and the time by which each must answer (gateway.server.inflight)."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from gateway.contract.errors import GatewayError, Reason
from gateway.server.inflight import MAX_MARGIN, MIN_MARGIN, Cut, InFlight, answer_margin, cut_short


def _status(cut: Cut) -> GatewayError:
    return cut_short(cut, in_doubt=False, what="GetBatchStatus", metadata={"batch_id": "b"})


@pytest.mark.parametrize(
    ("remaining", "margin"),
    [(0.04, 0.02), (0.2, MIN_MARGIN), (2.0, 0.2), (30.0, MAX_MARGIN), (-1.0, 0.0)],
)
def test_the_answer_margin_is_a_tenth_within_its_bounds(remaining: float, margin: float) -> None:
    """A tenth of the caller's remaining time is kept for the answer, at least MIN_MARGIN and
    at most MAX_MARGIN, never more than half of what is left."""
    assert answer_margin(remaining) == pytest.approx(margin)


async def test_the_server_is_idle_only_when_every_call_has_ended() -> None:
    """`wait_idle` is True at once with no call, False while a call runs, and True once it
    has ended, however it ended."""
    in_flight = InFlight()
    assert await in_flight.wait_idle(0.0)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def call() -> None:
        async with in_flight.scope(None, _status):
            entered.set()
            await release.wait()
            raise ValueError("the handler failed")

    task = asyncio.create_task(call())
    await entered.wait()
    assert len(in_flight) == 1
    assert not await in_flight.wait_idle(0.05)
    release.set()
    with pytest.raises(ValueError, match="the handler failed"):
        await task
    assert len(in_flight) == 0
    assert await in_flight.wait_idle(1.0)


async def test_a_call_past_its_answer_time_ends_with_the_gateways_deadline_status() -> None:
    """A call still running at its answer-by time ends DEADLINE_EXCEEDED UPSTREAM_TIMEOUT, its
    metadata kept, rather than a bare cancellation."""
    in_flight = InFlight()
    with pytest.raises(GatewayError) as ended:
        async with in_flight.scope(time.monotonic() + 0.05, _status):
            await asyncio.Event().wait()
    assert (ended.value.code, ended.value.reason) == (
        grpc.StatusCode.DEADLINE_EXCEEDED,
        Reason.UPSTREAM_TIMEOUT,
    )
    assert ended.value.metadata == {"batch_id": "b"}
    assert len(in_flight) == 0


async def test_shutdown_ends_open_calls_and_calls_that_start_after_it() -> None:
    """`interrupt` ends every open call UNAVAILABLE SHUTTING_DOWN at once, and so does a call
    that starts afterwards; a create that was sent says OUTCOME_UNKNOWN instead."""
    in_flight = InFlight()
    entered = asyncio.Event()

    async def call() -> None:
        async with in_flight.scope(None, _status):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(call())
    await entered.wait()
    in_flight.interrupt()
    with pytest.raises(GatewayError) as open_call:
        await task
    assert (open_call.value.code, open_call.value.reason) == (
        grpc.StatusCode.UNAVAILABLE,
        Reason.SHUTTING_DOWN,
    )

    def in_doubt(cut: Cut) -> GatewayError:
        return cut_short(cut, in_doubt=True, what="CreateBatch", metadata={})

    with pytest.raises(GatewayError) as late_call:
        async with in_flight.scope(None, in_doubt):
            await asyncio.Event().wait()
    assert (late_call.value.code, late_call.value.reason) == (
        grpc.StatusCode.UNAVAILABLE,
        Reason.OUTCOME_UNKNOWN,
    )
    assert await in_flight.wait_idle(0.0)


async def test_a_callers_own_cancellation_passes_through() -> None:
    """A call cancelled by its caller stays cancelled: the scope never turns it into a status."""
    in_flight = InFlight()
    entered = asyncio.Event()

    async def call() -> None:
        async with in_flight.scope(time.monotonic() + 30, _status):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(call())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(in_flight) == 0
