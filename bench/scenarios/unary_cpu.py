"""Unary CPU: CPU time per GetBatchStatus of the gateway, the contract floor, the naive hop and
the bare server (information: the headline is their instructions, unary_instructions.py).

All sit in front of nginx's canned 10-item answer (the bare one needs none), so what differs is
each server's own work. bench/unary_client.py (a process of its own) makes `streams` calls at a
time on one connection, every call a batch id of its own, so that no read is shared and every
call of the three hops is one upstream GET (checked against nginx's access log). CPU per call is
the server's utime+stime over the run divided by the calls. The four run interleaved (gateway,
contract floor, naive, bare, gateway, ...) `repetitions` times; medians are reported. CPU time
moves with the machine's load (the gateway / naive-hop ratio went from 0.29 to 0.55 with the
load alone), so none of these is a target any more.

The contract floor (bench/floor_server.py) is the least a server keeping the gateway's contract
can do per call, built from the gateway's own parts: what the gateway costs above it is its
validation, limits, retries, error mapping, log line and metrics.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from bench import cpu, unary_client
from bench.model import ScenarioResult, median, row
from bench.nginx import Nginx, nginx_upstream
from bench.servers import API_KEY, Running, bare, floor, gateway, naive_hop
from bench.settings import Settings

KEY = "unary_cpu"
TITLE = "Unary CPU against the fast upstream"
NEEDS = ("nginx",)
SIDES = ("gateway", "floor", "naive", "bare")
MAX_CALLS = 100_000


async def measure(
    server: Running, upstream: Nginx | None, calls: int, streams: int, tag: str
) -> dict[str, float]:
    """One client run of `calls` distinct reads: rate, server CPU per call, upstream requests
    per call."""
    window = cpu.CpuWindow(server.pid)
    nginx_window = cpu.CpuWindow(upstream.child.pid) if upstream else None
    before = upstream.status_requests() if upstream else 0
    window.start()
    if nginx_window:
        nginx_window.start()
    result = await unary_client.run(server.address, calls, streams, tag)
    seconds = window.stop()
    nginx_seconds = nginx_window.stop() if nginx_window else 0.0
    figures = {
        "calls": result["calls"],
        "calls_per_second": result["calls_per_second"],
        "cpu_us_per_call": seconds / result["calls"] * 1e6,
        "mean_latency_ms": result["mean_latency_ms"],
    }
    if upstream is not None:
        upstream_calls = upstream.status_requests() - before
        figures["upstream_per_call"] = upstream_calls / result["calls"]
        figures["nginx_cpu_us_per_call"] = nginx_seconds / max(upstream_calls, 1) * 1e6
        if upstream_calls != calls:
            raise RuntimeError(
                f"{server.child.name}: {calls} calls but {upstream_calls} upstream "
                "requests: some calls did not do the work"
            )
    return figures


async def run(settings: Settings, work_dir: Path) -> ScenarioResult:
    """Gateway, contract floor, naive hop and bare server, interleaved; medians."""
    async with AsyncExitStack() as stack:
        upstream = await stack.enter_async_context(nginx_upstream(work_dir))
        servers = {
            "gateway": await stack.enter_async_context(
                gateway(work_dir, upstream.url, api_key=API_KEY)
            ),
            "floor": await stack.enter_async_context(floor(work_dir, upstream.url, API_KEY)),
            "naive": await stack.enter_async_context(naive_hop(work_dir, upstream.url, API_KEY)),
            "bare": await stack.enter_async_context(bare(work_dir)),
        }
        upstream_of = {"gateway": upstream, "floor": upstream, "naive": upstream, "bare": None}
        calls: dict[str, int] = {}
        for index, (side, server) in enumerate(servers.items()):
            warm = await unary_client.run(
                server.address, settings.unary_warmup_calls, settings.streams, f"{index:08x}"
            )
            wanted = int(warm["calls_per_second"] * settings.unary_seconds)
            calls[side] = max(settings.unary_warmup_calls, min(wanted, MAX_CALLS))
        runs: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
        for repetition in range(settings.repetitions):
            for side in SIDES:
                runs[side].append(
                    await measure(
                        servers[side],
                        upstream_of[side],
                        calls[side],
                        settings.streams,
                        f"{repetition + 1:04x}{SIDES.index(side):04x}",
                    )
                )

    def med(side: str, figure: str) -> float:
        return median([r[figure] for r in runs[side]])

    def over(side: str, other: str) -> list[float]:
        """`side`'s CPU per call ÷ `other`'s, repetition by repetition."""
        return [
            s["cpu_us_per_call"] / o["cpu_us_per_call"]
            for s, o in zip(runs[side], runs[other], strict=True)
        ]

    ratios = {
        "gateway ÷ contract floor": over("gateway", "floor"),
        "gateway ÷ naive hop": over("gateway", "naive"),
        "contract floor ÷ naive hop": over("floor", "naive"),
        "gateway ÷ bare server": over("gateway", "bare"),
    }
    result = ScenarioResult(
        key=KEY,
        title=TITLE,
        what=(
            f"bench/unary_client.py, {settings.streams} concurrent calls on one connection, "
            f"GetBatchStatus of a canned 10-item batch, a batch id of its own per call; "
            f"{settings.repetitions} interleaved repetitions of about {settings.unary_seconds:g} "
            "s per server; medians. CPU = server utime+stime / calls. Information only: CPU "
            "time moves with the machine's load; the unary targets are on instructions."
        ),
        settings={"streams": settings.streams, "calls": calls, "repetitions": settings.repetitions},
        details={"runs": runs, "ratios": ratios},
    )
    rows = result.rows
    rows.append(row("gateway CPU per call", "µs", med("gateway", "cpu_us_per_call")))
    for name, values in ratios.items():
        rows.append(row(f"CPU {name}", "", median(values)))
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
