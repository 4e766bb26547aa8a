"""When a broken watch reconnects, how long it waits first, and when it gives up.

A stream that fails UNAVAILABLE (the gateway restarting, `SHUTTING_DOWN`; a connection refused
or broken mid-stream) or RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` is opened again after
a capped full-jitter backoff, never sooner than the RetryInfo delay. Every other error is final
(NOT_FOUND, UNAUTHENTICATED, INVALID_ARGUMENT, ...): retrying would get the same answer. The
policy's timeout bounds one run of failures: it starts at the first failure after a stream last
delivered a message, and once it is spent (or a RetryInfo delay would overrun it) the watch
gives up with `GaveUp`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from sofer_gateway_client.errors import GatewayError


@dataclass(frozen=True)
class ReconnectPolicy:
    """The reconnect settings of a watch."""

    timeout: float = 300.0
    """Seconds of failing to get a stream before giving up; 0: never reconnect."""
    base: float = 0.5
    """Backoff ceiling of the first reconnect, in seconds; it doubles per failed attempt..."""
    cap: float = 10.0
    """...up to this."""
    floor: float = 0.05
    """Shortest wait: full jitter can draw 0, and a loop without a pause would spin."""


@dataclass(frozen=True)
class Reconnect:
    """One decision to reconnect: the attempt about to be made (2 = the first reconnect of a
    run of failures), the seconds to wait first, and the error that caused it."""

    attempt: int
    wait: float
    error: GatewayError


class GaveUp(GatewayError):
    """A watch stopped reconnecting: the code, message and details of the last error (`last`),
    and `why` it gave up."""

    def __init__(self, last: GatewayError, why: str) -> None:
        super().__init__(
            last.code,
            last.message,
            reason=last.reason,
            domain=last.domain,
            metadata=last.metadata,
            retry_after=last.retry_after,
            quota_violations=last.quota_violations,
        )
        self.last = last
        self.why = why

    def __str__(self) -> str:
        return f"{super().__str__()}; gave up reconnecting: {self.why}"


def is_retryable(error: GatewayError) -> bool:
    """UNAVAILABLE always; RESOURCE_EXHAUSTED only when the gateway said when (RetryInfo)."""
    if error.code is grpc.StatusCode.UNAVAILABLE:
        return True
    return error.code is grpc.StatusCode.RESOURCE_EXHAUSTED and error.retry_after is not None


def full_jitter(attempt: int, *, base: float, cap: float, rng: Callable[[], float]) -> float:
    """A wait drawn uniformly from [0, min(cap, base * 2**(attempt-1))) after attempt `attempt`
    ("full jitter": it spreads the reconnects of many watchers that failed together)."""
    exponent = min(attempt - 1, 62)  # 2**62 * base is past any cap; avoids float overflow
    return max(0.0, rng() * min(cap, base * (2.0**exponent)))


class Reconnects:
    """The reconnect state of one stream: `failed(error)` for each failed attempt, `connected()`
    when a stream delivers a message (which starts the next run of failures afresh). `clock`
    (monotonic seconds) and `rng` (uniform in [0, 1)) make it testable; `timeout_name` is how
    `GaveUp` names the policy's timeout (a command line names its flag)."""

    def __init__(
        self,
        policy: ReconnectPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        timeout_name: str = "timeout",
    ) -> None:
        self.policy = policy or ReconnectPolicy()
        self.timeout_name = timeout_name
        self._clock = clock
        self._rng = rng
        self._failures = 0
        self._since: float | None = None  # when this run of failures began

    def connected(self) -> None:
        """A stream delivered a message: the next failure starts a new run (and a new timeout)."""
        self._failures = 0
        self._since = None

    def failed(self, error: GatewayError) -> Reconnect:
        """The reconnect after `error`; raises `error` itself when it is final or reconnects
        are off (timeout 0), `GaveUp` once the timeout is spent or a RetryInfo delay is past it."""
        policy = self.policy
        if policy.timeout <= 0 or not is_retryable(error):
            raise error
        now = self._clock()
        if self._since is None:
            self._since = now
        self._failures += 1
        spent = now - self._since
        left = policy.timeout - spent
        if left <= 0:
            raise GaveUp(
                error,
                f"no stream for {spent:.1f} s, {self._failures} attempt(s) "
                f"({self.timeout_name} {policy.timeout:g})",
            ) from error
        if error.retry_after is not None and error.retry_after > left:
            raise GaveUp(
                error,
                f"the gateway asked to wait {error.retry_after:g} s, past the "
                f"{self.timeout_name} of {policy.timeout:g} s ({left:.1f} s left)",
            ) from error
        wait = full_jitter(self._failures, base=policy.base, cap=policy.cap, rng=self._rng)
        wait = max(wait, policy.floor, error.retry_after or 0.0)
        # The last attempt is made when the timeout runs out, not skipped.
        wait = min(wait, left)
        return Reconnect(self._failures + 1, wait, error)
