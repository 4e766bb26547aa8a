"""The concurrency limiter on its own (gateway.server.limiter): admit, queue, shed, cancel, FIFO."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from gateway.contract.errors import GatewayError, Reason
from gateway.server.limiter import ConcurrencyLimiter


async def _settle() -> None:
    """Let every ready callback and task run (a few loop iterations)."""
    for _ in range(5):
        await asyncio.sleep(0)


def _assert_overloaded(error: GatewayError) -> None:
    assert error.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.reason is Reason.GATEWAY_OVERLOADED
    assert error.retry_after is not None
    assert error.retry_after > 0
    assert error.message


async def test_admits_at_once_under_the_limit() -> None:
    """Up to `limit` callers get a slot without waiting; releasing frees it."""
    limiter = ConcurrencyLimiter(2, max_queue=0, max_wait=0.0)
    await limiter.acquire(None)
    await limiter.acquire(None)
    assert (limiter.active, limiter.queued) == (2, 0)
    limiter.release()
    limiter.release()
    assert limiter.active == 0


async def test_queues_at_the_limit_and_admits_when_a_slot_frees() -> None:
    """At the limit a caller waits, and gets the slot the moment a holder releases it."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=60.0)
    await limiter.acquire(None)
    waiter = asyncio.create_task(limiter.acquire(None))
    await _settle()
    assert not waiter.done()
    assert (limiter.active, limiter.queued) == (1, 1)
    limiter.release()
    await waiter
    assert (limiter.active, limiter.queued) == (1, 0)
    limiter.release()
    assert limiter.active == 0


async def test_sheds_at_once_when_the_queue_is_full() -> None:
    """With the slots taken and the queue full, a caller is refused at once: RESOURCE_EXHAUSTED,
    GATEWAY_OVERLOADED, with a retry delay; the queued callers are unaffected."""
    limiter = ConcurrencyLimiter(1, max_queue=2, max_wait=60.0)
    await limiter.acquire(None)
    queued = [asyncio.create_task(limiter.acquire(None)) for _ in range(2)]
    await _settle()
    with pytest.raises(GatewayError) as caught:
        await limiter.acquire(None)
    _assert_overloaded(caught.value)
    assert "queue is full" in caught.value.message
    assert limiter.shed == 1
    assert (limiter.active, limiter.queued) == (1, 2)
    for _ in range(3):
        limiter.release()
        await _settle()
    await asyncio.gather(*queued)
    assert (limiter.active, limiter.queued) == (0, 0)


async def test_queue_of_zero_sheds_everything_past_the_limit() -> None:
    """`max_queue` 0: no waiting at all past the limit."""
    limiter = ConcurrencyLimiter(1, max_queue=0, max_wait=60.0)
    async with limiter.slot(None):
        with pytest.raises(GatewayError) as caught:
            await limiter.acquire(None)
        _assert_overloaded(caught.value)
    assert limiter.active == 0


async def test_sheds_at_once_when_the_deadline_has_passed() -> None:
    """A caller whose deadline is already spent is not queued at all."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=60.0)
    await limiter.acquire(None)
    with pytest.raises(GatewayError) as caught:
        await limiter.acquire(time.monotonic() - 1.0)
    _assert_overloaded(caught.value)
    assert limiter.queued == 0
    limiter.release()


async def test_a_queued_caller_gives_up_at_its_deadline_not_at_max_wait() -> None:
    """A queued caller waits no longer than its own deadline (shorter than `max_wait` here):
    it is shed while the slot is still held, and it leaves the queue."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=600.0)
    await limiter.acquire(None)
    started = time.monotonic()
    with pytest.raises(GatewayError) as caught:
        await limiter.acquire(started + 0.05)
    _assert_overloaded(caught.value)
    assert time.monotonic() - started < 300.0  # far from max_wait; the exact time is the loop's
    assert (limiter.active, limiter.queued) == (1, 0)
    limiter.release()
    assert limiter.active == 0


async def test_a_queued_caller_gives_up_after_max_wait() -> None:
    """Without a deadline, `max_wait` bounds the wait."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=0.05)
    async with limiter.slot(None):
        with pytest.raises(GatewayError) as caught:
            await limiter.acquire(None)
        _assert_overloaded(caught.value)
        assert limiter.queued == 0
    assert limiter.active == 0


async def test_cancel_while_queued_leaks_no_slot() -> None:
    """A caller cancelled while queued leaves the queue; its slot is never taken."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=60.0)
    await limiter.acquire(None)
    waiter = asyncio.create_task(limiter.acquire(None))
    await _settle()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (limiter.active, limiter.queued) == (1, 0)
    limiter.release()
    assert limiter.active == 0
    async with limiter.slot(None):  # the slot is usable again
        assert limiter.active == 1


async def test_cancel_right_after_the_hand_over_passes_the_slot_on() -> None:
    """A waiter handed a slot and cancelled before it could run passes the slot to the next
    waiter (or back to the pool): nothing leaks, nothing is lost."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=60.0)
    await limiter.acquire(None)
    first = asyncio.create_task(limiter.acquire(None))
    second = asyncio.create_task(limiter.acquire(None))
    await _settle()
    limiter.release()  # hands the slot to `first` ...
    first.cancel()  # ... which is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await first
    await second  # the slot went on to `second`
    assert (limiter.active, limiter.queued) == (1, 0)
    limiter.release()
    assert limiter.active == 0


async def test_cancel_of_the_body_releases_the_slot() -> None:
    """`slot()` releases on any exit of its body: error, cancellation."""
    limiter = ConcurrencyLimiter(1, max_queue=4, max_wait=60.0)

    async def hold() -> None:
        async with limiter.slot(None):
            await asyncio.sleep(3600)

    holder = asyncio.create_task(hold())
    await _settle()
    assert limiter.active == 1
    holder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder
    with pytest.raises(RuntimeError):
        async with limiter.slot(None):
            raise RuntimeError("boom")
    assert limiter.active == 0


async def test_waiters_are_admitted_first_in_first_out() -> None:
    """Queued callers get slots in arrival order, and a newcomer never overtakes the queue."""
    limiter = ConcurrencyLimiter(1, max_queue=10, max_wait=60.0)
    order: list[int] = []

    async def caller(n: int) -> None:
        async with limiter.slot(None):
            order.append(n)
            await asyncio.sleep(0)

    await limiter.acquire(None)
    tasks = []
    for n in range(6):
        tasks.append(asyncio.create_task(caller(n)))
        await _settle()  # each is queued before the next arrives
    assert limiter.queued == 6
    limiter.release()
    await asyncio.gather(*tasks)
    assert order == list(range(6))
    assert (limiter.active, limiter.queued) == (0, 0)


async def test_settings_that_cannot_work_are_refused() -> None:
    """A limit below 1 or a negative queue or wait is a programming error."""
    with pytest.raises(ValueError, match="limit"):
        ConcurrencyLimiter(0, max_queue=1, max_wait=1.0)
    with pytest.raises(ValueError, match="max_queue"):
        ConcurrencyLimiter(1, max_queue=-1, max_wait=1.0)
