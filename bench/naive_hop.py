"""The naive hop: the least a gateway's GetBatchStatus can do, as a reference for its cost.

A grpc.aio server with one generic handler: one `httpx.AsyncClient` GET to the upstream,
`json.loads`, the response proto built by hand. No validation, no retries, no logging, no
limits. `python -m bench.naive_hop --upstream-url URL --api-key KEY` prints
`{"event": "bench server listening", "address": ...}` and serves until SIGTERM.

Every benchmark server (this one, the contract floor, the bare server) runs on uvloop, the loop
`sofer-gateway serve` runs on, so that the sides compared differ by their work per call, not by
their event loop (`run_server`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import grpc
import httpx
import uvloop
from google.protobuf.timestamp_pb2 import Timestamp
from sofer.batch.v1 import batch_pb2
from sofer.batch.v1 import batch_service_pb2 as pb

SERVICE = "sofer.batch.v1.BatchTranscriptionService"
READY_EVENT = "bench server listening"


def batch_status(data: dict[str, Any]) -> batch_pb2.BatchStatus:
    """An upstream BatchStatusResponse (parsed JSON) as the proto, field by field."""
    items = []
    for item in data["transcriptions"]:
        created = Timestamp()
        created.FromJsonString(item["created_at"])
        info = batch_pb2.TranscriptionInfo(
            id=item["id"],
            client_item_id=item.get("client_item_id") or "",
            title=item["title"],
            created_at=created,
            primary_language="LANGUAGE_" + item["primary_language"].upper(),
            hebrew_word_format=[
                "HEBREW_WORD_FORMAT_" + f.upper() for f in item["hebrew_word_format"]
            ],
            state="TRANSCRIPTION_STATE_" + item["status"],
            model=item.get("model") or "",
        )
        if item.get("num_speakers") is not None:
            info.num_speakers = item["num_speakers"]
        if item.get("duration") is not None:
            info.duration = float(item["duration"])
        items.append(info)
    return batch_pb2.BatchStatus(
        batch_id=data["batch_id"],
        state="BATCH_STATE_" + data["status"],
        total_count=data["total_count"],
        completed_count=data["completed_count"],
        failed_count=data["failed_count"],
        pending_count=data["pending_count"],
        transcriptions=items,
    )


def handler(method: Any, *, request_streaming: bool = False) -> grpc.GenericRpcHandler[Any, Any]:
    """A generic handler serving `method` as GetBatchStatus (`request_streaming`: `method`
    takes the request stream and reads its one message itself, as the gateway's do)."""
    make = (
        grpc.stream_unary_rpc_method_handler
        if request_streaming
        else grpc.unary_unary_rpc_method_handler
    )
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "GetBatchStatus": make(
                method,
                request_deserializer=pb.GetBatchStatusRequest.FromString,
                response_serializer=pb.GetBatchStatusResponse.SerializeToString,
            )
        },
    )


async def serve(
    listen: str, method: Any, on_stop: Any = None, *, request_streaming: bool = False
) -> int:
    """Serve `method` on `listen` until SIGTERM or SIGINT; print where first."""
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler(method, request_streaming=request_streaming),))
    port = server.add_insecure_port(listen)
    await server.start()
    host = listen.rsplit(":", 1)[0]
    print(json.dumps({"event": READY_EVENT, "address": f"{host}:{port}"}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(1)
    if on_stop is not None:
        await on_stop()
    return 0


async def main_async(args: argparse.Namespace) -> int:
    """The naive hop with one shared AsyncClient, created inside the loop."""
    client = httpx.AsyncClient(
        base_url=args.upstream_url,
        headers={"authorization": f"Bearer {args.api_key}"},
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
    )

    async def get_batch_status(
        request: pb.GetBatchStatusRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetBatchStatusResponse:
        answer = await client.get(f"/v1/transcriptions/batch/{request.batch_id}/status")
        status = batch_status(json.loads(answer.content))
        status.observed_at.GetCurrentTime()
        return pb.GetBatchStatusResponse(batch_status=status)

    return await serve(args.listen, get_batch_status, client.aclose)


def run_hop(
    module: str,
    description: str | None,
    serve_with: Callable[[argparse.Namespace], Coroutine[Any, Any, int]],
    argv: Sequence[str] | None,
) -> int:
    """`python -m bench.<module> --upstream-url URL [--api-key KEY] [--listen ADDR]`: parse the
    flags every hop takes and run `serve_with` on them (the naive hop's, the contract floor's)."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{module}", description=description)
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--upstream-url", required=True)
    parser.add_argument("--api-key", default="bench-key")
    return run_server(serve_with(parser.parse_args(argv)))


def run_server(main: Coroutine[Any, Any, int]) -> int:
    """Run a benchmark server's `main` to its end on uvloop (as `sofer-gateway serve` runs)."""
    return uvloop.run(main)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bench.naive_hop`."""
    return run_hop("naive_hop", __doc__, main_async, argv)


if __name__ == "__main__":
    sys.exit(main())
