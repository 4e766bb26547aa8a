"""Single-flight: identical concurrent reads share one upstream call in flight.

The first caller of a key (the leader) starts the call as a task; callers of the same key that
arrive while it runs (followers) await that task instead of calling again. The servicer keys a
read by (tenant, operation, resource and parameters), so tenants never share and different
parameters (GetTranscription's filter) never share.

- Each waiter is bounded by its own deadline: whoever cancels it (in the gateway the RPC
  frame's answer scope, gateway.server.inflight, at the caller's deadline; or the caller leaving)
  takes only that waiter out. A waiter that leaves never fails the others, leader included.
- The shared call lives while anyone waits for it and is cancelled when its last waiter leaves:
  nobody is left to answer, so its upstream request is not worth finishing.
- Its bound is the caller's: the work the leader hands in carries its own deadline (the
  servicer gives it the gateway's default timeout, the cap of every unary call, not the
  leader's own deadline, which would fail followers that have longer).
- Its result or error reaches every caller that waited for it (the same object: callers must
  not mutate a shared result).
- A call that has finished is forgotten at once, so the next read after it starts a new one,
  unless the caller asks for `reuse` seconds: then a successful result answers identical reads
  for that long after it arrived (GetBatchStatus, whose answer carries `observed_at`, so a
  caller sees its age). At most MAX_REUSED results are kept; the oldest go first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

MAX_REUSED = 10_000
"""Finished results kept for reuse at most (the oldest are dropped first)."""


@dataclass(frozen=True)
class Shared(Generic[T]):
    """A read's result, and whose call produced it."""

    value: T
    leader: str | None
    """The leader's tag when this caller joined a call already in flight; None: it led."""


class _Flight:
    """One shared call: its task, its leader's tag, and how many callers wait for it."""

    def __init__(self, task: asyncio.Task[Any], tag: str) -> None:
        self.task = task
        self.tag = tag
        self.waiters = 0


class SingleFlight:
    """Calls in flight by key; one per key at a time."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._flights: dict[Hashable, _Flight] = {}
        self._reused: dict[Hashable, tuple[float, Any, str]] = {}
        """Finished results by key: (expiry on the clock, value, the tag of their call)."""

    def __len__(self) -> int:
        """Shared calls in flight now."""
        return len(self._flights)

    async def run(
        self,
        key: Hashable,
        work: Callable[[], Coroutine[Any, Any, T]],
        *,
        tag: str = "",
        reuse: float = 0.0,
    ) -> Shared[T]:
        """`work()`'s result, from the call in flight for `key`, from one that finished less
        than `reuse` seconds ago, or from a new one (`work` is called only then). `tag` (the
        leader's request id) is handed to the followers.

        Raises whatever the call raised; CancelledError only when this caller is cancelled.
        """
        if reuse > 0:
            kept = self._reused.get(key)
            if kept is not None and kept[0] > self._clock():
                return Shared(kept[1], kept[2])
        flight = self._flights.get(key)
        if flight is None or flight.task.done():  # done: not yet forgotten, but not to be reused
            flight = self._start(key, work, tag)
            leader = None
        else:
            leader = flight.tag
        if reuse > 0 and leader is None:
            flight.task.add_done_callback(lambda done: self._keep(key, done, tag, reuse))
        flight.waiters += 1
        try:
            # shield: a waiter cancelled (its deadline, its caller gone) leaves the call running
            value: T = await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                self._forget(key, flight)
                flight.task.cancel()
        return Shared(value, leader)

    def _start(
        self, key: Hashable, work: Callable[[], Coroutine[Any, Any, T]], tag: str
    ) -> _Flight:
        flight = self._flights[key] = _Flight(asyncio.create_task(work()), tag)
        flight.task.add_done_callback(lambda _: self._forget(key, flight))
        return flight

    def _keep(self, key: Hashable, done: asyncio.Task[Any], tag: str, reuse: float) -> None:
        """Keep a successful result for `reuse` seconds; drop expired and excess ones."""
        if done.cancelled() or done.exception() is not None:
            return
        now = self._clock()
        self._reused.pop(key, None)
        self._reused[key] = (now + reuse, done.result(), tag)
        while self._reused:
            oldest_key, (expiry, _, _) = next(iter(self._reused.items()))
            if expiry > now and len(self._reused) <= MAX_REUSED:
                break
            del self._reused[oldest_key]

    def _forget(self, key: Hashable, flight: _Flight) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
