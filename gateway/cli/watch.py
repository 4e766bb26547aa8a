"""`watch`: follow a batch with `WatchBatchStatus` until it is COMPLETED or FAILED, reconnecting
when the stream breaks (see gateway.cli.reconnect for when and how long)."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TextIO

import grpc
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc

from gateway.cli import render
from gateway.cli.errors import ClientError, ExitCode
from gateway.cli.reconnect import Reconnect, Reconnector, ReconnectPolicy

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
Metadata = Sequence[tuple[str, str]]
Sleep = Callable[[float], Awaitable[None]]

RPC = "WatchBatchStatus"
TERMINAL = frozenset({batch_pb2.BATCH_STATE_COMPLETED, batch_pb2.BATCH_STATE_FAILED})


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


class _Shown:
    """The last status shown. After a reconnect the new stream starts with the current state,
    usually the one already shown, and a lagging gateway could even send an older one: neither
    is shown, so the output never repeats itself or goes backwards."""

    def __init__(self) -> None:
        self.status: batch_pb2.BatchStatus | None = None

    def accept(self, status: batch_pb2.BatchStatus) -> bool:
        """Whether `status` is news (and now the last shown)."""
        last = self.status
        if last is not None:
            if _content(status) == _content(last):
                return False
            new, old = _progress(status), _progress(last)
            if new[0] < old[0] or new[1] < old[1]:
                return False
        self.status = status
        return True


async def watch(
    stub: Stub,
    batch_id: str,
    out: TextIO,
    *,
    err: TextIO | None = None,
    json: bool = False,
    metadata: Metadata = (),
    tty: bool | None = None,
    clock: Callable[[], float] = time.monotonic,
    tick: float = 1.0,
    reconnect: ReconnectPolicy | None = None,
    rng: Callable[[], float] = random.random,
    sleep: Sleep = asyncio.sleep,
) -> int:
    """Watch `batch_id` until it ends; exit status 0 when COMPLETED, 1 when FAILED.

    Human output: the progress line on `err` (redrawn every `tick` seconds on a terminal, where
    `tty` defaults to `err.isatty()`; one line per update otherwise), then a summary line and
    the table of items on `out`. With `json`, one JSON line per update on `out` and nothing
    else. A broken stream is reopened as `reconnect` says (default `ReconnectPolicy()`), with a
    note on `err` each time (a JSON object with `json`); a final error, or one past the
    reconnect timeout, raises `RpcFailed`; a stream that ends before a terminal state raises
    `ClientError`. Cancelling the task cancels the call. `clock` (monotonic), `rng` (uniform in
    [0, 1), for the backoff's jitter) and `sleep` make the timing testable.
    """
    err = sys.stderr if err is None else err
    live = None if json else render.LiveLine(err, tty=err.isatty() if tty is None else tty)
    started = clock()
    reconnector = Reconnector(reconnect or ReconnectPolicy(), rpc=RPC, clock=clock, rng=rng)
    last: batch_pb2.BatchStatus | None = None

    def show(status: batch_pb2.BatchStatus) -> None:
        nonlocal last
        last = status
        if live is None:
            render.write_json_line(out, render.message_dict(status))
        else:
            live.show(render.progress_line(status, clock() - started))

    def redraw() -> None:
        if live is not None and last is not None:
            live.show(render.progress_line(last, clock() - started))

    try:
        last = await follow_status(
            stub,
            batch_id,
            show,
            metadata=metadata,
            reconnector=reconnector,
            redraw=redraw if live is not None and live.tty else None,
            announce=lambda step: _announce(step, batch_id, err, live),
            tick=tick,
            sleep=sleep,
        )
    finally:
        if live is not None:
            live.end()
    if last is None:
        raise ClientError(f"{RPC} ended without a status for batch {batch_id}")
    if last.state not in TERMINAL:
        raise ClientError(
            f"{RPC} ended while batch {batch_id} was {render.batch_state_name(last.state)}"
        )
    if live is not None:
        out.write(render.summary_line(last, clock() - started) + "\n")
        out.write(render.items_table(last.transcriptions))
        out.flush()
    return ExitCode.OK if last.state == batch_pb2.BATCH_STATE_COMPLETED else ExitCode.BATCH_FAILED


async def follow_status(
    stub: Stub,
    batch_id: str,
    show: Callable[[batch_pb2.BatchStatus], None],
    *,
    metadata: Metadata = (),
    reconnector: Reconnector,
    redraw: Callable[[], None] | None = None,
    announce: Callable[[Reconnect], None] | None = None,
    heard: Callable[[], None] | None = None,
    tick: float = 1.0,
    sleep: Sleep = asyncio.sleep,
) -> batch_pb2.BatchStatus | None:
    """Follow `batch_id` with WatchBatchStatus until it is terminal: the loop of `watch`, for any
    command that shows a batch's progress (`watch`, `fetch`).

    `show(status)` for each status that is news (never a repeat, never backwards: `_Shown`);
    `heard()` for every status received, news or not (the gateway serves the batch);
    `redraw()` every `tick` seconds while the stream is quiet; `announce(step)` before each
    reconnect's wait. A broken stream is reopened as `reconnector` says, which raises `RpcFailed`
    (or `GaveUp`) when it will not. Returns the last status shown; None, or one not terminal,
    when a stream ended OK before the batch did.
    """
    shown = _Shown()

    def received(status: batch_pb2.BatchStatus) -> None:
        reconnector.connected()  # a stream that delivers is the end of a run of failures
        if heard is not None:
            heard()
        if shown.accept(status):
            show(status)

    while True:
        try:
            await _follow(
                stub, batch_id, metadata, received, redraw, tick=tick, done=lambda: _ended(shown)
            )
            return shown.status
        except grpc.aio.AioRpcError as error:
            failure = error
        step = reconnector.failed(failure)  # raises when it is final or time is up
        if announce is not None:
            announce(step)
        await sleep(step.wait)


def _ended(shown: _Shown) -> bool:
    return shown.status is not None and shown.status.state in TERMINAL


async def _follow(
    stub: Stub,
    batch_id: str,
    metadata: Metadata,
    received: Callable[[batch_pb2.BatchStatus], None],
    redraw: Callable[[], None] | None,
    *,
    tick: float,
    done: Callable[[], bool],
) -> None:
    """One stream: each status to `received` until `done()` or the stream ends; `redraw` every
    `tick` seconds while it is quiet. An RPC error propagates; the call is cancelled on the way
    out."""
    call = stub.WatchBatchStatus(
        batch_service_pb2.WatchBatchStatusRequest(batch_id=batch_id),
        metadata=tuple(metadata),
        wait_for_ready=False,
    )
    read: asyncio.Future[Any] | None = None
    try:
        while not done():
            read = asyncio.ensure_future(call.read())
            if redraw is not None:
                # Keep the elapsed time moving on a terminal while the batch is quiet.
                while not (await asyncio.wait({read}, timeout=tick))[0]:
                    redraw()
            message = await read
            read = None
            if not isinstance(message, batch_service_pb2.WatchBatchStatusResponse):  # EOF
                return
            received(message.batch_status)
    finally:
        if read is not None and not read.done():
            read.cancel()
            await asyncio.gather(read, return_exceptions=True)
        call.cancel()  # a no-op once the stream has ended


def _announce(step: Reconnect, batch_id: str, err: TextIO, live: render.LiveLine | None) -> None:
    """Say that the watch reconnects: a JSON object with --json, else a line for people."""
    fields = (step.code.name, step.reason, step.details)
    if live is None:
        render.write_json_line(
            err, render.reconnect_event(batch_id, *fields, wait=step.wait, attempt=step.attempt)
        )
        return
    live.end()  # on a terminal, the note goes under the progress line, not over it
    err.write(render.reconnect_note(RPC, *fields, wait=step.wait, attempt=step.attempt) + "\n")
    err.flush()
