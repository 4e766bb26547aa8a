"""Follow a batch with WatchBatchStatus until it ends, reopening the stream when it breaks (sync
`watch_batch`, `grpc.aio` `watch_batch_async`).

gRPC's retries (the service config) do not cover a stream once its first message has arrived:
these iterators reopen it as `sofer_gateway_client.reconnect` says (UNAVAILABLE, SHUTTING_DOWN
included; RESOURCE_EXHAUSTED with a RetryInfo, waiting at least its delay), and yield each new
status once, in order, ending after the terminal one (COMPLETED or FAILED).

A reopened stream resumes with the `resume_token` of the last message received, so the
gateway (any replica) goes on from there; when the token has expired (RESUME_TOKEN_EXPIRED: the
gateway no longer holds the events after it) the stream is opened again at once without one,
from the current state. A reopened stream's first status is usually the one already yielded,
and a lagging replica could even send an older one: neither is yielded.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Sequence
from typing import Any

import grpc
from sofer.batch.v1 import batch_pb2, batch_service_pb2

from sofer_gateway_client.errors import GatewayError, from_rpc_error
from sofer_gateway_client.reconnect import Reconnect, ReconnectPolicy, Reconnects

TERMINAL = frozenset({batch_pb2.BATCH_STATE_COMPLETED, batch_pb2.BATCH_STATE_FAILED})
"""The states after which a batch never changes (the watch ends)."""

OnReconnect = Callable[[Reconnect], None]
OnReceived = Callable[[batch_pb2.BatchStatus], None]


def is_terminal(status: batch_pb2.BatchStatus) -> bool:
    """Whether `status` is COMPLETED or FAILED."""
    return status.state in TERMINAL


def _progress(status: batch_pb2.BatchStatus) -> tuple[int, int]:
    """How far a batch is: (state rank, items done); either going down is going backwards."""
    rank = 2 if status.state in TERMINAL else int(status.state == batch_pb2.BATCH_STATE_PROCESSING)
    return rank, status.completed_count + status.failed_count


def _content(status: batch_pb2.BatchStatus) -> batch_pb2.BatchStatus:
    """The status without what says when and what changed since the stream's last message."""
    copy = batch_pb2.BatchStatus()
    copy.CopyFrom(status)
    copy.ClearField("observed_at")
    copy.ClearField("changed_transcription_ids")
    return copy


class Latest:
    """The last status yielded: `accept` tells news from a repeat or a step backwards."""

    def __init__(self) -> None:
        self.status: batch_pb2.BatchStatus | None = None

    def accept(self, status: batch_pb2.BatchStatus) -> bool:
        """Whether `status` is news (and now the latest): not equal to the latest but for its
        time stamp and change list, and neither its state nor its items done going back."""
        last = self.status
        if last is not None:
            if _content(status) == _content(last):
                return False
            new, old = _progress(status), _progress(last)
            if new[0] < old[0] or new[1] < old[1]:
                return False
        self.status = status
        return True


EXPIRED = "RESUME_TOKEN_EXPIRED"
"""The reason of a resume token the gateway no longer holds: open without one."""


def _request(batch_id: str, token: str) -> batch_service_pb2.WatchBatchStatusRequest:
    return batch_service_pb2.WatchBatchStatusRequest(batch_id=batch_id, resume_token=token)


async def watch_batch_async(
    stub: Any,
    batch_id: str,
    *,
    metadata: Sequence[tuple[str, str]] = (),
    policy: ReconnectPolicy | None = None,
    on_reconnect: OnReconnect | None = None,
    on_received: OnReceived | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
    timeout_name: str = "timeout",
) -> AsyncGenerator[batch_pb2.BatchStatus, None]:
    """Each new status of `batch_id` from a `grpc.aio` `BatchTranscriptionServiceStub`, the
    terminal one last; reconnecting as `policy` says (default `ReconnectPolicy()`).

    A final error raises its `GatewayError` subclass; `GaveUp` when the reconnect timeout is
    spent. A stream that ends without error before the batch does ends the iteration too (check
    `is_terminal` on the last status). `on_reconnect(step)` is called before each reconnect's
    wait, `on_received(status)` for every status received, news or not. `sleep`, `clock` and
    `rng` (for the backoff's jitter) make the timing testable. Closing the iterator (`aclose`,
    or leaving an `async for`) cancels the call.
    """
    reconnects = Reconnects(policy, clock=clock, rng=rng, timeout_name=timeout_name)
    latest = Latest()
    token = ""
    while True:
        call = stub.WatchBatchStatus(
            _request(batch_id, token), metadata=tuple(metadata), wait_for_ready=False
        )
        try:
            while True:
                message = await call.read()
                if not isinstance(message, batch_service_pb2.WatchBatchStatusResponse):  # EOF
                    return
                reconnects.connected()  # a stream that delivers ends a run of failures
                token = message.resume_token or token
                status = message.batch_status
                if on_received is not None:
                    on_received(status)
                if latest.accept(status):
                    yield status
                    if is_terminal(status):
                        return
        except grpc.RpcError as error:
            failure: GatewayError = from_rpc_error(error)
            failure.__cause__ = error  # raised below, outside this handler
        finally:
            call.cancel()  # a no-op once the stream has ended
        if token and failure.reason == EXPIRED:
            token = ""  # the events after it are gone: from the current state, at once
            continue
        step = reconnects.failed(failure)  # raises when it is final or time is up
        if on_reconnect is not None:
            on_reconnect(step)
        await sleep(step.wait)


def watch_batch(
    stub: Any,
    batch_id: str,
    *,
    metadata: Sequence[tuple[str, str]] = (),
    policy: ReconnectPolicy | None = None,
    on_reconnect: OnReconnect | None = None,
    on_received: OnReceived | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
    timeout_name: str = "timeout",
) -> Generator[batch_pb2.BatchStatus, None, None]:
    """`watch_batch_async` for a sync `BatchTranscriptionServiceStub` (on `channel(...)`):
    the same statuses, reconnects, errors and hooks; closing the iterator cancels the call."""
    reconnects = Reconnects(policy, clock=clock, rng=rng, timeout_name=timeout_name)
    latest = Latest()
    token = ""
    while True:
        call = stub.WatchBatchStatus(
            _request(batch_id, token), metadata=tuple(metadata), wait_for_ready=False
        )
        try:
            for message in call:
                reconnects.connected()
                token = message.resume_token or token
                status = message.batch_status
                if on_received is not None:
                    on_received(status)
                if latest.accept(status):
                    yield status
                    if is_terminal(status):
                        return
            return
        except grpc.RpcError as error:
            failure: GatewayError = from_rpc_error(error)
            failure.__cause__ = error  # raised below, outside this handler
        finally:
            call.cancel()
        if token and failure.reason == EXPIRED:
            token = ""
            continue
        step = reconnects.failed(failure)
        if on_reconnect is not None:
            on_reconnect(step)
        sleep(step.wait)
