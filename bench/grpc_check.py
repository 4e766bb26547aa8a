"""A real gRPC client's check of a server's answers: h2load cannot see gRPC statuses."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc


async def check_status_calls(
    address: str,
    batch_id: str,
    *,
    calls: int = 20,
    items: int = 10,
    metadata: Sequence[tuple[str, str]] = (),
) -> int:
    """`calls` GetBatchStatus calls, 4 at a time; raise unless every one is OK with `items`
    items. Returns the calls made."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.BatchTranscriptionServiceStub(channel)
        request = pb.GetBatchStatusRequest(batch_id=batch_id)

        async def one() -> None:
            try:
                answer: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
                    request, metadata=tuple(metadata), timeout=30
                )
            except grpc.aio.AioRpcError as exc:
                raise RuntimeError(
                    f"{address}: GetBatchStatus failed {exc.code().name}: {exc.details()}"
                ) from exc
            got = len(answer.batch_status.transcriptions)
            if got != items:
                raise RuntimeError(f"{address}: GetBatchStatus gave {got} items, want {items}")

        for start in range(0, calls, 4):
            await asyncio.gather(*(one() for _ in range(min(4, calls - start))))
    return calls
