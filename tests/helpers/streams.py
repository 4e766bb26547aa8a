"""Helpers for tests of streaming calls and rich error details (no tests here)."""

from __future__ import annotations

from typing import Any

import grpc
from sofer.batch.v1 import batch_pb2


async def drain(call: Any) -> list[batch_pb2.BatchStatus]:
    """The remaining statuses of a watch call read with `read()` (the APIs don't mix)."""
    messages = []
    while (message := await call.read()) is not grpc.aio.EOF:  # type: ignore[attr-defined]
        messages.append(message.batch_status)
    return messages


def details_bin(error: grpc.aio.AioRpcError) -> bytes:
    """The google.rpc.Status trailer of a failed call."""
    pairs: Any = (
        error.trailing_metadata() or ()
    )  # grpc-stubs types these as objects; they are tuples
    for key, value in pairs:
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            return value
    raise AssertionError("no grpc-status-details-bin trailer")
