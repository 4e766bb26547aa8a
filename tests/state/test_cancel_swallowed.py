"""A loop that survives Redis errors still ends when its task is cancelled, even when the
cancellation came out of a Redis command as the library's own error."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from gateway.state.redis_client import stop_if_cancelled


async def _swallows_once(turns: list[int]) -> None:
    """A forever loop like a heartbeat's, whose 'Redis call' swallows the cancellation (the
    library's error in its place, survived by the loop's `except RedisError: continue`)."""
    for _ in range(100):  # bounded, so that without the check the test fails and ends
        stop_if_cancelled()
        turns.append(1)
        # The command in flight when the cancel lands; the library's error, which the loop's
        # `except RedisError: continue` survives.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0)


async def test_a_loop_that_swallowed_its_cancellation_ends_at_its_next_turn() -> None:
    """The task is cancelled while in its command; the loop swallows that, and still ends at
    the top of its next turn instead of running on forever (its owner's close() would hang:
    a gateway's stop did, once in twenty runs of a three-replica test)."""
    turns: list[int] = []
    task = asyncio.create_task(_swallows_once(turns))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(1):
            await task
    assert turns == [1]


async def test_a_task_not_cancelled_goes_on() -> None:
    """Without a cancellation, the check does nothing."""
    stop_if_cancelled()
