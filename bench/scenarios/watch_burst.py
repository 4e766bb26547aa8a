"""Watch bursts: `burst_streams` WatchBatchStatus streams opened at once over `burst_batches`
batches, from several client processes, against the gateway in front of the sandbox.

Each stream's first message is timed from the burst's start; a stream that ends without one is
counted by gRPC code and ErrorInfo reason (a bare CANCELLED is a silent refusal). The gateway's
RSS is sampled during the burst, and its peak (VmHWM) read at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx

from bench import cpu
from bench.clients import run_clients
from bench.model import ScenarioResult, at_least, at_most, percentile, row
from bench.servers import TOKEN, gateway, sandbox
from bench.settings import Settings
from bench.sides import create_batches

KEY = "watch_burst"
TITLE = "Watch bursts"
NEEDS: tuple[str, ...] = ()
FIRST_MESSAGE_TARGET = 5.0


async def sample_rss(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    """Keep the largest RSS seen in peak[0] until `stop`."""
    while not stop.is_set():
        with contextlib.suppress(OSError):
            peak[0] = max(peak[0], cpu.memory(pid).rss_mb)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def run(settings: Settings, work_dir: Path) -> ScenarioResult:
    """One burst; figures of every stream."""
    streams, processes = settings.burst_streams, settings.client_processes
    async with (
        sandbox(work_dir, settings.burst_item_seconds) as upstream,
        gateway(work_dir, upstream.address) as server,
        httpx.AsyncClient(timeout=30) as http,
    ):
        batches = await create_batches(
            http, upstream.address, TOKEN, settings.burst_batches, "burst"
        )
        rss_before = cpu.memory(server.pid).rss_mb
        specs = [
            {
                "mode": "burst",
                "target": server.address,
                "token": TOKEN,
                # Rotated so that each process's stream i lands on a different batch.
                "batch_ids": batches[p:] + batches[:p],
                "streams": streams // processes + (1 if p < streams % processes else 0),
                "timeout": settings.burst_timeout,
            }
            for p in range(processes)
        ]
        peak = [rss_before]
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(server.pid, peak, stop))
        try:
            combined = await run_clients(specs, settings.burst_timeout + 120)
        finally:
            stop.set()
            await sampler
        memory = cpu.memory(server.pid)
    firsts = combined.first_latencies
    refused = sum(combined.refused.values())
    silent = sum(n for outcome, n in combined.refused.items() if "/" not in outcome)
    unanswered = combined.outcomes.get("no first message", 0)
    within = sum(1 for x in firsts if x <= FIRST_MESSAGE_TARGET)
    result = ScenarioResult(
        key=KEY,
        title=TITLE,
        what=(
            f"{streams} streams opened at once over {settings.burst_batches} batches from "
            f"{processes} client processes (gateway default flags, sandbox upstream); first "
            f"message timed from the burst's start; streams cancelled once all had one "
            f"(or after {settings.burst_timeout:g} s)."
        ),
        settings={"streams": streams, "batches": settings.burst_batches, "processes": processes},
        details={
            "outcomes": dict(combined.outcomes),
            "refused_by_outcome": dict(combined.refused),
            "rss_before_mb": rss_before,
        },
    )
    result.rows += [
        row(
            "streams refused (ended before a first message)", "streams", float(refused), at_most(0)
        ),
        row(
            "of which silent (no ErrorInfo reason, e.g. bare CANCELLED)",
            "streams",
            float(silent),
            at_most(0),
        ),
        row("streams without a first message by the end", "streams", float(unanswered), at_most(0)),
        row(
            "streams with a first message within 5 s",
            "%",
            100.0 * within / streams,
            at_least(100),
            note="of all streams opened",
        ),
        row("first message p50", "s", percentile(firsts, 0.5) if firsts else None),
        row("first message p99", "s", percentile(firsts, 0.99) if firsts else None),
        row(
            "first message, slowest",
            "s",
            max(firsts) if firsts else None,
            note="of the streams that got one",
        ),
        row("gateway peak RSS", "MB", max(peak[0], memory.peak_rss_mb), at_most(500)),
        row("gateway RSS before the burst", "MB", rss_before),
    ]
    return result
