"""A GetBatchStatus load client, run as its own process: `python -m bench.unary_client`.

h2load sends one request body over and over, so every call would read the same batch (which
the gateway shares: a hot read). This client asks for a batch id of its own on every call
(`TAG-0000-4000-8000-000000000000`, `...-000000000001`, ...: distinct reads, none shared; the
warm-up's ids have 9000 in their fourth group), or for one id on every call
(`--batch-id`: a hot read), `--concurrency` calls at a time on one connection, and checks that
every answer is OK with the canned batch's 10 items (so a gRPC error is never counted as a
call). It prints one JSON line: calls, seconds, calls/s and mean latency. It runs on uvloop
(a cheaper load generator) when uvloop is installed.

    python -m bench.unary_client ADDRESS --calls 1000 --concurrency 16 --tag 0000beef
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence

import grpc
import uvloop
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc

ITEMS = 10
COUNTED, WARMUP = "8000", "9000"
"""The fourth group of the measured calls' batch ids, and of the warm-up's."""


def batch_id(tag: str, group: str, index: int) -> str:
    """The distinct batch id number `index`: a UUID whose first group is `tag` (8 hex digits)."""
    return f"{tag}-0000-4000-{group}-{index:012x}"


async def calling(
    stub: pb_grpc.BatchTranscriptionServiceStub,
    calls: int,
    concurrency: int,
    one_id: str | None,
    tag: str,
    group: str,
) -> dict[str, float]:
    """`calls` GetBatchStatus calls, `concurrency` at a time; raise on any wrong answer."""
    next_call = 0
    latencies: list[float] = []

    async def worker() -> None:
        nonlocal next_call
        while next_call < calls:
            index, next_call = next_call, next_call + 1
            request = pb.GetBatchStatusRequest(batch_id=one_id or batch_id(tag, group, index))
            started = time.perf_counter()
            try:
                answer = await stub.GetBatchStatus(request, timeout=600)
            except grpc.aio.AioRpcError as exc:
                raise SystemExit(
                    f"unary_client: {request.batch_id}: {exc.code().name}: {exc.details()}"
                ) from exc
            latencies.append(time.perf_counter() - started)
            got = len(answer.batch_status.transcriptions)
            if got != ITEMS or not answer.batch_status.HasField("observed_at"):
                raise SystemExit(f"unary_client: {got} items (want {ITEMS}) or no observed_at")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return {
        "calls": float(calls),
        "seconds": seconds,
        "calls_per_second": calls / seconds,
        "mean_latency_ms": sum(latencies) / len(latencies) * 1e3,
    }


async def drive(args: argparse.Namespace) -> dict[str, float]:
    """The warm-up (if any) and its handshake, the measured calls, the closing handshake."""
    async with grpc.aio.insecure_channel(args.address) as channel:
        stub = pb_grpc.BatchTranscriptionServiceStub(channel)
        await channel.channel_ready()
        if args.warmup:
            await calling(stub, args.warmup, args.concurrency, args.batch_id, args.tag, WARMUP)
            print(json.dumps({"event": "warmed"}), flush=True)
            await asyncio.to_thread(sys.stdin.readline)
        figures = await calling(
            stub, args.calls, args.concurrency, args.batch_id, args.tag, COUNTED
        )
        if args.warmup:
            print(json.dumps(figures), flush=True)
            await asyncio.to_thread(sys.stdin.readline)
    return figures


async def run(
    address: str, calls: int, concurrency: int, tag: str, batch_id: str | None = None
) -> dict[str, float]:
    """Run this client as a process of its own (no warm-up) and return its figures: for the
    runner, whose own CPU must not be the client's."""
    argv = [sys.executable, "-m", "bench.unary_client", address, "--calls", str(calls)]
    argv += ["--concurrency", str(concurrency), "--tag", tag]
    if batch_id is not None:
        argv += ["--batch-id", batch_id]
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(
            f"bench.unary_client exited {process.returncode}: {err.decode()[-2000:]}"
        )
    figures: dict[str, float] = json.loads(out)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bench.unary_client`."""
    parser = argparse.ArgumentParser(prog="python -m bench.unary_client", description=__doc__)
    parser.add_argument("address", help="host:port of the server")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--tag", default="0000beef", help="8 hex digits: the first group of the distinct ids"
    )
    parser.add_argument("--batch-id", help="one batch id for every call (a hot read)")
    parser.add_argument(
        "--warmup", type=int, default=0, help="calls before the measured ones, then a handshake"
    )
    args = parser.parse_args(argv)
    figures = uvloop.run(drive(args))
    if not args.warmup:
        print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
