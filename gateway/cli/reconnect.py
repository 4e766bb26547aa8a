"""When a broken watch reconnects, how long it waits first, and when it gives up.

A watch stream that ends with UNAVAILABLE (the gateway restarting, `SHUTTING_DOWN`; a connection
refused or broken mid-stream) or RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` is opened
again after a capped full-jitter backoff (`gateway.upstream.backoff.full_jitter`), never sooner
than the RetryInfo delay. Every other code is final (NOT_FOUND, UNAUTHENTICATED,
PERMISSION_DENIED, INVALID_ARGUMENT, ...): retrying would get the same answer. The reconnect
timeout bounds one run of failures: it starts at the first failure after a stream last delivered
a message, and once it is spent (or a RetryInfo delay would overrun it) the watch gives up.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from gateway.cli.errors import RpcFailed
from gateway.upstream.backoff import full_jitter


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
class StatusDetails:
    """What the rich error model (the `grpc-status-details-bin` trailer) says about an error."""

    reason: str = ""
    """The ErrorInfo reason (`SHUTTING_DOWN`), or empty."""
    retry_delay: float | None = None
    """The RetryInfo delay in seconds, or None without a RetryInfo."""


def status_details(error: grpc.aio.AioRpcError) -> StatusDetails:
    """The ErrorInfo reason and RetryInfo delay in `error`'s trailer; empty when there is none
    or it cannot be read (an error from another server, or from gRPC itself)."""
    try:
        # grpcio-status reads grpc-status-details-bin; an AioRpcError has the methods it uses
        # (code, details, trailing_metadata) though grpc-stubs types it as a Call.
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
    except (DecodeError, ValueError):  # unreadable, or its code is not the call's
        return StatusDetails()
    if status is None:
        return StatusDetails()
    reason, delay = "", None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            delay = max(0.0, retry.retry_delay.ToTimedelta().total_seconds())
    return StatusDetails(reason, delay)


def is_retryable(code: grpc.StatusCode, details: StatusDetails) -> bool:
    """UNAVAILABLE always; RESOURCE_EXHAUSTED only when the gateway said when (RetryInfo)."""
    if code is grpc.StatusCode.UNAVAILABLE:
        return True
    return code is grpc.StatusCode.RESOURCE_EXHAUSTED and details.retry_delay is not None


class GaveUp(RpcFailed):
    """A watch stopped reconnecting: the last error, then why it gave up."""

    def __init__(self, rpc: str, error: grpc.aio.AioRpcError, why: str) -> None:
        super().__init__(
            rpc, error.code(), error.details() or "", note=f"gave up reconnecting: {why}"
        )
        self.why = why


@dataclass(frozen=True)
class Reconnect:
    """One decision to reconnect: the attempt about to be made (2 = the first reconnect of a
    run of failures), the seconds to wait first, and the error that caused it."""

    attempt: int
    wait: float
    code: grpc.StatusCode
    reason: str
    details: str


class Reconnector:
    """The state of one watch's reconnects: `failed(error)` for each failed stream, `connected()`
    when a stream delivers a message (which starts the next run of failures afresh)."""

    def __init__(
        self,
        policy: ReconnectPolicy,
        *,
        rpc: str = "WatchBatchStatus",
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy
        self.rpc = rpc
        self._clock = clock
        self._rng = rng
        self._failures = 0
        self._since: float | None = None  # when this run of failures began

    def connected(self) -> None:
        """A stream delivered a message: the next failure starts a new run (and a new timeout)."""
        self._failures = 0
        self._since = None

    def failed(self, error: grpc.aio.AioRpcError) -> Reconnect:
        """The reconnect after `error`; raises `RpcFailed` for a final error or with reconnects
        off, `GaveUp` once the reconnect timeout is spent."""
        details = status_details(error)
        code = error.code()
        policy = self.policy
        if policy.timeout <= 0 or not is_retryable(code, details):
            raise RpcFailed.from_error(self.rpc, error)
        now = self._clock()
        if self._since is None:
            self._since = now
        self._failures += 1
        spent = now - self._since
        left = policy.timeout - spent
        if left <= 0:
            raise GaveUp(
                self.rpc,
                error,
                f"no stream for {spent:.1f} s, {self._failures} attempt(s) "
                f"(--reconnect-timeout {policy.timeout:g})",
            )
        if details.retry_delay is not None and details.retry_delay > left:
            raise GaveUp(
                self.rpc,
                error,
                f"the gateway asked to wait {details.retry_delay:g} s, past the "
                f"--reconnect-timeout of {policy.timeout:g} s ({left:.1f} s left)",
            )
        wait = full_jitter(self._failures, base=policy.base, cap=policy.cap, rng=self._rng)
        wait = max(wait, policy.floor, details.retry_delay or 0.0)
        # The last attempt is made when the timeout runs out, not skipped.
        wait = min(wait, left)
        return Reconnect(self._failures + 1, wait, code, details.reason, error.details() or "")
