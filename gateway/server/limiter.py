"""Bounded in-flight upstream work: a concurrency limit with deadline-aware FIFO queueing.

Every unary RPC holds one slot of the process's `ConcurrencyLimiter` while its handler runs
(`gateway.server.frame`). Under the limit a call is admitted at once. At the limit it waits in a
FIFO queue, but only while the queue is shorter than `max_queue`, and at most
min(time left before the call's deadline, `max_wait`). A call that cannot get a slot in that
time, or finds the queue full, fails at once with RESOURCE_EXHAUSTED (`GATEWAY_OVERLOADED`, a
RetryInfo with a small delay): an overloaded gateway sheds load fast instead of piling up work
that would only time out later.

Work that outlives its caller keeps the slot: a create that runs on, shielded, after its
caller's deadline (gateway.state.idempotency) takes the caller's slot over (`Slot.hand_over`) and
gives it back only when its upstream POST has ended, so upstream work never escapes the limit.

A finished call hands its slot straight to the oldest waiter, so a newcomer never overtakes the
queue. A waiter cancelled (or expired) while queued leaves the queue, and one cancelled just
after it was handed a slot passes the slot on: no slot ever leaks. Everything runs in one event
loop and the bookkeeping never awaits, so no lock is needed.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType

import grpc

from gateway.contract.errors import GatewayError, Reason
from gateway.observability.metrics import Reading

DEFAULT_RETRY_AFTER = 0.5
"""Seconds a shed caller is told to wait (RetryInfo) before trying again."""


class _Expired(Exception):
    """A queued waiter's wait ran out before a slot came free."""


@dataclass(eq=False)
class _Waiter:
    future: asyncio.Future[None]
    timer: asyncio.TimerHandle | None = field(default=None)


class Slot:
    """One held slot of a limiter; `release` gives it back, once (later calls do nothing)."""

    def __init__(self, limiter: ConcurrencyLimiter) -> None:
        self._limiter = limiter
        self._held = True
        self.handed_over = False

    def release(self) -> None:
        """Give the slot back (idempotent)."""
        if self._held:
            self._held = False
            self._limiter.release()

    def hand_over(self) -> Callable[[], None]:
        """Make the slot outlive the `slot()` block: whoever takes it calls the returned
        function (exactly when its work ends) instead of the block releasing it."""
        self.handed_over = True
        return self.release


class ConcurrencyLimiter:
    """At most `limit` holders at once; up to `max_queue` waiters, each for at most `max_wait`
    seconds (and never past its own deadline)."""

    def __init__(
        self,
        limit: int,
        max_queue: int,
        max_wait: float,
        *,
        retry_after: float = DEFAULT_RETRY_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if max_queue < 0 or max_wait < 0:
            raise ValueError("max_queue and max_wait must be at least 0")
        self.limit = limit
        self.max_queue = max_queue
        self.max_wait = max_wait
        self.retry_after = retry_after
        self._clock = clock
        self._active = 0
        self._waiters: deque[_Waiter] = deque()
        self.shed = 0
        """Calls refused so far (for logs, metrics and tests)."""

    @property
    def active(self) -> int:
        """Slots held now."""
        return self._active

    @property
    def queued(self) -> int:
        """Calls waiting for a slot now."""
        return len(self._waiters)

    def readings(self) -> list[Reading]:
        """The limiter's live values, for the metrics (GatewayMetrics.track)."""
        return [
            Reading("limiter_active_calls", "Unary RPCs holding a concurrency slot", self.active),
            Reading("limiter_queued_calls", "Unary RPCs waiting for a slot", self.queued),
            Reading("limiter_max_concurrent_calls", "Concurrency slots in all", self.limit),
            Reading(
                "limiter_shed",
                "Unary RPCs refused RESOURCE_EXHAUSTED (GATEWAY_OVERLOADED) by the limiter",
                self.shed,
                counter=True,
            ),
        ]

    def slot(self, deadline: float | None) -> _Held:
        """Hold one slot for the body (unless the body hands it over); `deadline` is absolute,
        on the limiter's clock (None: no deadline, so only `max_wait` bounds the wait). Raises
        GatewayError (RESOURCE_EXHAUSTED, GATEWAY_OVERLOADED) when no slot can be had in time."""
        return _Held(self, deadline)

    async def acquire(self, deadline: float | None) -> None:
        """Take a slot (see `slot`); the caller must `release` it exactly once."""
        if self._active < self.limit and not self._waiters:
            self._active += 1
            return
        if len(self._waiters) >= self.max_queue:
            raise self._overloaded("the gateway is at its concurrency limit and its queue is full")
        wait = self.max_wait
        if deadline is not None:
            wait = min(wait, deadline - self._clock())
        if wait <= 0:
            raise self._overloaded("the gateway is at its concurrency limit")
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future())
        waiter.timer = loop.call_later(wait, self._expire, waiter)
        self._waiters.append(waiter)
        try:
            await waiter.future
        except _Expired:
            raise self._overloaded(
                f"no capacity came free within {wait:.3g} s (the gateway is overloaded)"
            ) from None
        except asyncio.CancelledError:
            self._abandon(waiter)
            raise

    def release(self) -> None:
        """Give a slot back: to the oldest waiter if any, else to the pool."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if waiter.timer is not None:
                waiter.timer.cancel()
            if not waiter.future.done():
                waiter.future.set_result(None)  # the slot passes on; _active is unchanged
                return
        self._active -= 1

    def _expire(self, waiter: _Waiter) -> None:
        if waiter.future.done():  # pragma: no cover - the timer is cancelled on hand-over
            return
        self._remove(waiter)
        waiter.future.set_exception(_Expired())

    def _abandon(self, waiter: _Waiter) -> None:
        """A queued caller was cancelled: leave the queue, or pass on a slot already given."""
        if waiter.timer is not None:
            waiter.timer.cancel()
        future = waiter.future
        if future.done() and not future.cancelled() and future.exception() is None:
            self.release()  # handed a slot just before the cancel arrived
        else:
            self._remove(waiter)

    def _remove(self, waiter: _Waiter) -> None:
        with suppress(ValueError):
            self._waiters.remove(waiter)

    def _overloaded(self, message: str) -> GatewayError:
        self.shed += 1
        return GatewayError(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            Reason.GATEWAY_OVERLOADED,
            f"{message}; retry after a short wait",
            quota_subject="gateway concurrency limit",
            retry_after=self.retry_after,
        )


class _Held:
    """`ConcurrencyLimiter.slot`: a context manager class rather than a generator, since every
    unary call enters one."""

    __slots__ = ("_deadline", "_limiter", "_slot")

    def __init__(self, limiter: ConcurrencyLimiter, deadline: float | None) -> None:
        self._limiter = limiter
        self._deadline = deadline
        self._slot: Slot | None = None

    async def __aenter__(self) -> Slot:
        await self._limiter.acquire(self._deadline)
        held = self._slot = Slot(self._limiter)
        return held

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        held = self._slot
        if held is not None and not held.handed_over:
            held.release()
