"""Unary CPU: the gateway's own cost per GetBatchStatus, against a naive hop and a bare server.

All sit in front of nginx's canned 10-item answer (the bare one needs none), so what differs is
each server's own work. h2load drives `streams` concurrent streams on one connection; CPU per
call is the server's utime+stime over the run divided by the calls h2load saw succeed. The
four run interleaved (gateway, contract floor, naive, bare, gateway, ...) `repetitions` times;
medians are reported. Answers are checked with a real gRPC client before and after (h2load
counts gRPC errors as HTTP 200), and every call of the three hops must reach nginx once.

The contract floor (bench/floor_server.py) is the least a server keeping the gateway's contract
can do per call, built from the gateway's own parts: what the gateway costs above it is its
validation, limits, retries, error mapping, log line and metrics.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from sofer.batch.v1 import batch_service_pb2 as pb

from bench import canned, cpu, grpc_check, h2load
from bench.model import ScenarioResult, at_most, median, row
from bench.nginx import Nginx, nginx_upstream
from bench.servers import Running, bare, floor, gateway, naive_hop
from bench.settings import Settings

KEY = "unary_cpu"
TITLE = "Unary CPU against the fast upstream"
NEEDS = ("nginx", "h2load")
METHOD = "sofer.batch.v1.BatchTranscriptionService/GetBatchStatus"
API_KEY = "bench-upstream-key"  # nginx accepts any key
SIDES = ("gateway", "floor", "naive", "bare")
MAX_CALLS = 200_000


def request_file(work_dir: Path) -> Path:
    """The gRPC-framed GetBatchStatusRequest h2load sends on every stream."""
    path = work_dir / "get_batch_status.bin"
    path.write_bytes(h2load.grpc_frame(pb.GetBatchStatusRequest(batch_id=canned.BATCH_ID)))
    return path


async def measure(
    server: Running, upstream: Nginx | None, data: Path, calls: int, streams: int
) -> dict[str, float]:
    """One h2load run of `calls` calls: rate, server CPU per call, upstream requests per call."""
    window = cpu.CpuWindow(server.pid)
    nginx_window = cpu.CpuWindow(upstream.child.pid) if upstream else None
    before = upstream.status_requests() if upstream else 0
    window.start()
    if nginx_window:
        nginx_window.start()
    result = await h2load.run(server.address, METHOD, data, requests=calls, streams=streams)
    seconds = window.stop()
    nginx_seconds = nginx_window.stop() if nginx_window else 0.0
    if not result.clean:
        raise RuntimeError(f"{server.child.name}: h2load saw failures: {result}")
    figures = {
        "calls": float(result.succeeded),
        "calls_per_second": result.requests_per_second,
        "cpu_us_per_call": seconds / result.succeeded * 1e6,
        "mean_latency_ms": result.mean_request_seconds * 1e3,
    }
    if upstream is not None:
        upstream_calls = upstream.status_requests() - before
        figures["upstream_per_call"] = upstream_calls / result.succeeded
        figures["nginx_cpu_us_per_call"] = nginx_seconds / max(upstream_calls, 1) * 1e6
        if upstream_calls != result.succeeded:
            raise RuntimeError(
                f"{server.child.name}: {result.succeeded} calls but {upstream_calls} upstream "
                "requests: some calls did not do the work"
            )
    return figures


async def run(settings: Settings, work_dir: Path) -> ScenarioResult:
    """Gateway, naive hop and bare server, interleaved; medians."""
    data = request_file(work_dir)
    async with AsyncExitStack() as stack:
        upstream = await stack.enter_async_context(nginx_upstream(work_dir))
        servers = {
            "gateway": await stack.enter_async_context(
                # Every call does the whole hop, as the naive hop's do: h2load sends one request
                # over and over, which the gateway would otherwise share (the hot-batch scenario
                # measures that).
                gateway(
                    work_dir,
                    upstream.url,
                    api_key=API_KEY,
                    flags=("--status-reuse-window", "0"),
                )
            ),
            "floor": await stack.enter_async_context(floor(work_dir, upstream.url, API_KEY)),
            "naive": await stack.enter_async_context(naive_hop(work_dir, upstream.url, API_KEY)),
            "bare": await stack.enter_async_context(bare(work_dir)),
        }
        upstream_of = {"gateway": upstream, "floor": upstream, "naive": upstream, "bare": None}
        calls: dict[str, int] = {}
        for side, server in servers.items():
            await grpc_check.check_status_calls(server.address, canned.BATCH_ID)
            warm = await h2load.run(
                server.address,
                METHOD,
                data,
                requests=settings.unary_warmup_calls,
                streams=settings.streams,
            )
            wanted = int(warm.requests_per_second * settings.unary_seconds)
            calls[side] = max(settings.unary_warmup_calls, min(wanted, MAX_CALLS))
        runs: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
        for _ in range(settings.repetitions):
            for side in SIDES:
                runs[side].append(
                    await measure(
                        servers[side], upstream_of[side], data, calls[side], settings.streams
                    )
                )
        for server in servers.values():
            await grpc_check.check_status_calls(server.address, canned.BATCH_ID)

    def med(side: str, figure: str) -> float:
        return median([r[figure] for r in runs[side]])

    def over_naive(side: str) -> list[float]:
        """`side`'s CPU per call ÷ the naive hop's, repetition by repetition."""
        return [
            s["cpu_us_per_call"] / n["cpu_us_per_call"]
            for s, n in zip(runs[side], runs["naive"], strict=True)
        ]

    ratios = over_naive("gateway")
    floor_ratios = over_naive("floor")
    result = ScenarioResult(
        key=KEY,
        title=TITLE,
        what=(
            f"h2load, {settings.streams} concurrent streams on one connection, GetBatchStatus "
            f"of a canned 10-item batch; {settings.repetitions} interleaved repetitions of about "
            f"{settings.unary_seconds:g} s per server; medians. CPU = server utime+stime / calls."
        ),
        settings={"streams": settings.streams, "calls": calls, "repetitions": settings.repetitions},
        details={
            "runs": runs,
            "gateway_over_naive_cpu": ratios,
            "floor_over_naive_cpu": floor_ratios,
        },
    )
    rows = result.rows
    rows.append(row("gateway CPU per call", "µs", med("gateway", "cpu_us_per_call"), at_most(600)))
    rows.append(row("gateway CPU ÷ naive hop CPU", "", median(ratios), at_most(0.42)))
    rows.append(
        row(
            "contract floor CPU ÷ naive hop CPU",
            "",
            median(floor_ratios),
            note="the best a server keeping the gateway's contract shows (bench/floor_server.py)",
        )
    )
    sides = (
        ("gateway", "gateway"),
        ("floor", "contract floor"),
        ("naive", "naive hop"),
        ("bare", "bare server"),
    )
    for side, label in sides:
        rows.append(row(f"{label} calls/s", "calls/s", med(side, "calls_per_second")))
        if side != "gateway":
            rows.append(row(f"{label} CPU per call", "µs", med(side, "cpu_us_per_call")))
        rows.append(row(f"{label} mean latency", "ms", med(side, "mean_latency_ms")))
    rows.append(
        row(
            "nginx CPU per upstream request",
            "µs",
            med("gateway", "nginx_cpu_us_per_call"),
            note="the fast upstream's own cost, included in no server's figure",
        )
    )
    return result
