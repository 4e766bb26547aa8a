"""`watch`: follow a batch with `WatchBatchStatus` until it is COMPLETED or FAILED."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import grpc
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc

from gateway.client import render
from gateway.client.errors import ClientError, ExitCode, RpcFailed

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
Metadata = Sequence[tuple[str, str]]

TERMINAL = frozenset({batch_pb2.BATCH_STATE_COMPLETED, batch_pb2.BATCH_STATE_FAILED})


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
) -> int:
    """Watch `batch_id` until it ends; exit status 0 when COMPLETED, 1 when FAILED.

    Human output: the progress line on `err` (redrawn every `tick` seconds on a terminal, where
    `tty` defaults to `err.isatty()`; one line per update otherwise), then a summary line and
    the table of items on `out`. With `json`, one JSON line per update on `out` and nothing
    else. An RPC error raises `RpcFailed`; a stream that ends before a terminal state raises
    `ClientError`. Cancelling the task cancels the call.
    """
    err = sys.stderr if err is None else err
    live = None if json else render.LiveLine(err, tty=err.isatty() if tty is None else tty)
    started = clock()
    last: batch_pb2.BatchStatus | None = None
    call = stub.WatchBatchStatus(
        batch_service_pb2.WatchBatchStatusRequest(batch_id=batch_id),
        metadata=tuple(metadata),
        wait_for_ready=False,
    )
    read: asyncio.Future[Any] | None = None
    try:
        while last is None or last.state not in TERMINAL:
            read = asyncio.ensure_future(call.read())
            if live is not None and live.tty:
                # Keep the elapsed time moving on a terminal while the batch is quiet.
                while not (await asyncio.wait({read}, timeout=tick))[0]:
                    if last is not None:
                        live.show(render.progress_line(last, clock() - started))
            message = await read
            read = None
            if not isinstance(message, batch_service_pb2.WatchBatchStatusResponse):  # EOF
                break
            last = message.batch_status
            if live is None:
                render.write_json_line(out, render.message_dict(last))
            else:
                live.show(render.progress_line(last, clock() - started))
    except grpc.aio.AioRpcError as error:
        raise RpcFailed.from_error("WatchBatchStatus", error) from None
    finally:
        if read is not None and not read.done():
            read.cancel()
            await asyncio.gather(read, return_exceptions=True)
        call.cancel()  # a no-op once the stream has ended
        if live is not None:
            live.end()
    if last is None:
        raise ClientError(f"WatchBatchStatus ended without a status for batch {batch_id}")
    if last.state not in TERMINAL:
        raise ClientError(
            f"WatchBatchStatus ended while batch {batch_id} was "
            f"{render.batch_state_name(last.state)}"
        )
    if live is not None:
        out.write(render.summary_line(last, clock() - started) + "\n")
        out.write(render.items_table(last.transcriptions))
        out.flush()
    return ExitCode.OK if last.state == batch_pb2.BATCH_STATE_COMPLETED else ExitCode.BATCH_FAILED
