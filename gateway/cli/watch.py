"""`watch`: follow a batch with `WatchBatchStatus` until it is COMPLETED or FAILED, reconnecting
when the stream breaks (see gateway.cli.reconnect for when and how long)."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO

from sofer.batch.v1 import batch_pb2, batch_service_pb2_grpc
from sofer_gateway_client import TERMINAL, GatewayError, watch_batch_async

from gateway.cli import render
from gateway.cli.errors import ClientError, ExitCode
from gateway.cli.reconnect import TIMEOUT_FLAG, Reconnect, Reconnector, ReconnectPolicy, failure

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
Metadata = Sequence[tuple[str, str]]
Sleep = Callable[[float], Awaitable[None]]

RPC = "WatchBatchStatus"


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
    command that shows a batch's progress (`watch`, `fetch`), over the client package's
    reconnecting watch (`sofer_gateway_client.watch_batch_async`).

    `show(status)` for each status that is news (never a repeat, never backwards);
    `heard()` for every status received, news or not (the gateway serves the batch);
    `redraw()` every `tick` seconds while the stream is quiet; `announce(step)` before each
    reconnect's wait. A broken stream is reopened with `reconnector`'s policy, clock and jitter;
    a final error raises `RpcFailed`, giving up `GaveUp`. Returns the last status shown; None,
    or one not terminal, when a stream ended OK before the batch did.
    """
    statuses = watch_batch_async(
        stub,
        batch_id,
        metadata=metadata,
        policy=reconnector.policy,
        on_reconnect=None if announce is None else lambda step: announce(Reconnect.of(step)),
        on_received=None if heard is None else lambda _: heard(),
        sleep=sleep,
        clock=reconnector.clock,
        rng=reconnector.rng,
        timeout_name=TIMEOUT_FLAG,
    )
    last: batch_pb2.BatchStatus | None = None
    following: asyncio.Future[batch_pb2.BatchStatus] | None = None
    try:
        while True:
            following = asyncio.ensure_future(anext(statuses))
            if redraw is not None:
                # Keep the elapsed time moving on a terminal while the batch is quiet.
                while not (await asyncio.wait({following}, timeout=tick))[0]:
                    redraw()
            try:
                last = await following
            except StopAsyncIteration:
                return last
            following = None
            show(last)
    except GatewayError as error:
        raise failure(RPC, error) from None
    finally:
        if following is not None and not following.done():
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
        await statuses.aclose()  # cancels the call


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
