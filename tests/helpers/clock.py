"""Time that moves only when a test says so (no tests here).

`FakeTime` is the one manual clock of the suite: a monotonic clock (`clock()`, or the object
called), a wall clock (`wall_clock()`), and a `sleep` that records the wait and lets that much
time pass at once. Hand it to whatever takes a clock: the sandbox (`SandboxConfig(clock=...)`:
its items progress only when the test advances time), the upstream client (`sleep`, `clock`,
`wall_clock`), the status hub (`sleep`, `clock`), the single-flight group and the idempotency
store (`clock`).
"""

from __future__ import annotations

import pytest


class FakeTime:
    """A monotonic clock and a wall clock that move only when the test (or the code under test,
    through `sleep`) says so."""

    def __init__(self, now: float = 1000.0, wall: float = 1_700_000_000.0) -> None:
        self.now = now
        self.wall = wall
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        """Monotonic seconds, for code that takes the clock as a plain callable."""
        return self.now

    def clock(self) -> float:
        """Monotonic seconds (what deadlines are measured on)."""
        return self.now

    def wall_clock(self) -> float:
        """Epoch seconds (what an HTTP-date Retry-After is measured from)."""
        return self.wall

    def advance(self, seconds: float) -> None:
        """Let time pass."""
        self.now += seconds
        self.wall += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the wait and let that much time pass, instantly."""
        self.sleeps.append(seconds)
        self.advance(seconds)


@pytest.fixture
def sandbox_clock() -> FakeTime:
    """The clock a test's sandbox runs on, when its `sandbox_config` passes it on: the
    sandbox's batches move only when the test advances it."""
    return FakeTime()
