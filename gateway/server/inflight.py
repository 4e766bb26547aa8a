"""Unary calls in flight, and the time by which each must answer.

Two things end a unary call before its handler does, and both must still answer with the
gateway's own status and ErrorInfo, never grpc's bare one:

- the caller's deadline. Upstream work is given the deadline less a small margin
  (`answer_margin`), and the handler runs inside an `asyncio.timeout` at that time, so the call
  answers before the caller's deadline: a create that was sent answers `OUTCOME_UNKNOWN` ("it may
  exist: check, or retry with the same request_id") instead of grpc's bare DEADLINE_EXCEEDED;
- shutdown. `server.stop(grace)` cancels whatever is left when the grace ends, with a bare
  UNAVAILABLE "Cancelling all calls". Just before that, `InFlight.interrupt()` moves every open
  call's timeout to now, and each answers UNAVAILABLE itself (`OUTCOME_UNKNOWN` for a create that
  was sent, `SHUTTING_DOWN` otherwise).

`asyncio.timeout` (not a task cancel of our own) does the cutting: it uncancels properly, so a
caller's own cancellation still passes through untouched.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType

import grpc

from gateway.contract.errors import GatewayError, Reason

MIN_MARGIN = 0.05
"""Seconds: the smallest share of a caller's deadline kept back for the answer."""
MAX_MARGIN = 0.5
"""Seconds: the largest share kept back, for long deadlines."""


def answer_margin(remaining: float) -> float:
    """Seconds of a caller's `remaining` time kept back so the answer reaches it in time: a tenth,
    between MIN_MARGIN and MAX_MARGIN (never more than half of what is left)."""
    return min(max(remaining * 0.1, MIN_MARGIN), MAX_MARGIN, max(remaining, 0.0) / 2)


class Cut:
    """One call's answer scope: when it must answer, and why it was cut short, if it was."""

    def __init__(self) -> None:
        self.scope: asyncio.Timeout | None = None
        self.shutting_down = False

    def interrupt(self) -> None:
        """End the call now (shutdown): its handler sees the scope expire."""
        self.shutting_down = True
        if self.scope is not None and not self.scope.expired():
            self.scope.reschedule(asyncio.get_running_loop().time())


class InFlight:
    """The unary calls of one server that are running now."""

    def __init__(self) -> None:
        self._cuts: set[Cut] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.closing = False

    def __len__(self) -> int:
        return len(self._cuts)

    def scope(self, answer_by: float | None, timed_out: Callable[[Cut], GatewayError]) -> _Scope:
        """Run the body until it ends, `answer_by` (monotonic) passes, or shutdown interrupts
        it; then raise `timed_out(cut)` (the call's GatewayError) in place of TimeoutError."""
        return _Scope(self, answer_by, timed_out)

    async def wait_idle(self, seconds: float) -> bool:
        """Wait up to `seconds` for every call to end; True when none is left."""
        try:
            async with asyncio.timeout(max(seconds, 0.0)):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    def interrupt(self) -> None:
        """Shutdown: every open call (and any that starts from now) answers at once."""
        self.closing = True
        for cut in list(self._cuts):
            cut.interrupt()

    def enter(self, cut: Cut) -> None:
        """`cut`'s call is running (until `leave`)."""
        self._cuts.add(cut)
        self._idle.clear()

    def leave(self, cut: Cut) -> None:
        """`cut`'s call has ended, however it ended."""
        self._cuts.discard(cut)
        if not self._cuts:
            self._idle.set()


class _Scope:
    """`InFlight.scope`: a context manager class rather than a generator, since every unary
    call enters one (a generator-based one costs a generator and its throw on exit)."""

    __slots__ = ("_answer_by", "_cut", "_in_flight", "_timed_out", "_timeout")

    def __init__(
        self, in_flight: InFlight, answer_by: float | None, timed_out: Callable[[Cut], GatewayError]
    ) -> None:
        self._in_flight = in_flight
        self._answer_by = answer_by
        self._timed_out = timed_out
        self._cut = Cut()
        self._timeout: asyncio.Timeout | None = None

    async def __aenter__(self) -> Cut:
        cut, in_flight, answer_by = self._cut, self._in_flight, self._answer_by
        loop = asyncio.get_running_loop()
        when = None if answer_by is None else loop.time() + (answer_by - time.monotonic())
        in_flight.enter(cut)
        timeout = self._timeout = asyncio.timeout_at(when)
        try:
            await timeout.__aenter__()
        except BaseException:
            in_flight.leave(cut)
            raise
        cut.scope = timeout
        if in_flight.closing:
            cut.interrupt()
        return cut

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        timeout, cut = self._timeout, self._cut
        assert timeout is not None  # entered
        try:
            # Turns the expired scope's CancelledError into TimeoutError (and uncancels).
            await timeout.__aexit__(exc_type, exc, tb)
        except TimeoutError:
            if timeout.expired():
                raise self._timed_out(cut) from None
            raise
        finally:
            self._in_flight.leave(cut)
        if isinstance(exc, TimeoutError) and timeout.expired():
            raise self._timed_out(cut) from None
        return False


def cut_short(cut: Cut, *, in_doubt: bool, what: str, metadata: dict[str, str]) -> GatewayError:
    """The status of a call cut short by its deadline or by shutdown.

    `in_doubt`: a create was sent (or is still running for this request_id), so the upstream may
    have acted: OUTCOME_UNKNOWN, whatever cut it short.
    """
    if cut.shutting_down:
        code, reason = grpc.StatusCode.UNAVAILABLE, Reason.SHUTTING_DOWN
        message = f"the gateway is shutting down: the {what} was cut short"
    else:
        code, reason = grpc.StatusCode.DEADLINE_EXCEEDED, Reason.UPSTREAM_TIMEOUT
        message = f"the {what} did not finish before the caller's deadline"
    if in_doubt:
        reason = Reason.OUTCOME_UNKNOWN
        message += (
            " after the create was sent upstream: it may or may not have been made; retry with "
            "the same request_id to get its outcome, or check before creating again"
        )
    return GatewayError(code, reason, message, dict(metadata))
