"""When a broken watch reconnects, how long it waits first, and when it gives up: the client
package's policy (`sofer_gateway_client.reconnect`), reported in the CLI's terms.

A watch stream that ends with UNAVAILABLE (the gateway restarting, `SHUTTING_DOWN`; a connection
refused or broken mid-stream) or RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` is opened
again after a capped full-jitter backoff, never sooner than the RetryInfo delay. Every other code
is final (NOT_FOUND, UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, ...): retrying would
get the same answer. The reconnect timeout bounds one run of failures: it starts at the first
failure after a stream last delivered a message, and once it is spent (or a RetryInfo delay would
overrun it) the watch gives up. Here a final error becomes `RpcFailed` and giving up `GaveUp`,
the messages and exit status the commands report.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import sofer_gateway_client
from sofer_gateway_client import GatewayError, ReconnectPolicy, Reconnects, from_rpc_error

from gateway.cli.errors import RpcFailed

__all__ = [
    "TIMEOUT_FLAG",
    "GaveUp",
    "Reconnect",
    "ReconnectPolicy",
    "Reconnector",
]

TIMEOUT_FLAG = "--reconnect-timeout"
"""How a message that gives up names the reconnect timeout: the flag that sets it."""


class GaveUp(RpcFailed):
    """A watch stopped reconnecting: the last error, then why it gave up."""

    def __init__(self, rpc: str, error: GatewayError, why: str) -> None:
        super().__init__(rpc, error.code, error.message, note=f"gave up reconnecting: {why}")
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

    @classmethod
    def of(cls, step: sofer_gateway_client.Reconnect) -> Reconnect:
        """The CLI's view of the client package's decision."""
        error = step.error
        return cls(step.attempt, step.wait, error.code, error.reason, error.message)


def failure(rpc: str, error: GatewayError) -> RpcFailed:
    """The CLI's error for what the client package raised: `GaveUp`, or `RpcFailed`."""
    if isinstance(error, sofer_gateway_client.GaveUp):
        return GaveUp(rpc, error.last, error.why)
    return RpcFailed.from_gateway_error(rpc, error)


class Reconnector:
    """The state of one stream's reconnects: `failed(error)` for each failed stream or call,
    `connected()` when a stream delivers a message (which starts the next run of failures
    afresh). `clock` (monotonic) and `rng` (uniform in [0, 1), the backoff's jitter) are kept
    for the client package's watch iterator too (`gateway.cli.watch.follow_status`)."""

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
        self.clock = clock
        self.rng = rng
        self._reconnects = Reconnects(policy, clock=clock, rng=rng, timeout_name=TIMEOUT_FLAG)

    def connected(self) -> None:
        """A stream delivered a message: the next failure starts a new run (and a new timeout)."""
        self._reconnects.connected()

    def failed(self, error: grpc.aio.AioRpcError) -> Reconnect:
        """The reconnect after `error`; raises `RpcFailed` for a final error or with reconnects
        off, `GaveUp` once the reconnect timeout is spent."""
        try:
            return Reconnect.of(self._reconnects.failed(from_rpc_error(error)))
        except GatewayError as final:
            raise failure(self.rpc, final) from None
