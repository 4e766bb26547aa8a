"""Churn: does the gateway give back what calls and watches take?

Against the gateway in front of nginx: a warm-up (some watch cycles and unary calls), then the
gateway's RSS and thread count; then `churn_watch_cycles` watch-then-cancel cycles (open, first
message, cancel) from several client processes and `churn_unary_calls` unary calls (h2load);
after a pause for clean-up, RSS and threads again. The asyncio task count needs the gateway's
help (a metrics endpoint), which it does not have yet: reported as n/a.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench import canned, cpu, h2load
from bench.clients import run_clients
from bench.model import ScenarioResult, at_most, row
from bench.nginx import nginx_upstream
from bench.servers import API_KEY, TOKEN, Running, gateway
from bench.settings import Settings

KEY = "churn"
TITLE = "Churn: watch-then-cancel cycles and unary calls"
NEEDS = ("nginx", "h2load")
BATCHES = [f"{canned.BATCH_ID[:-4]}{i:04x}" for i in range(100)]


async def cycles(server: Running, count: int, processes: int, concurrency: int) -> dict[str, Any]:
    """`count` watch-then-cancel cycles over `processes` client processes."""
    specs = [
        {
            "mode": "churn",
            "target": server.address,
            "token": TOKEN,
            "batch_ids": BATCHES,
            "cycles": count // processes + (1 if p < count % processes else 0),
            "concurrency": max(1, concurrency // processes),
        }
        for p in range(processes)
    ]
    combined = await run_clients(specs, 600)
    return {"cycles": combined.cycles, "outcomes": dict(combined.outcomes)}


async def run(settings: Settings, work_dir: Path) -> ScenarioResult:
    """Warm-up, snapshot, churn, snapshot."""
    data = h2load.status_request_file(work_dir)
    processes = settings.client_processes
    async with (
        nginx_upstream(work_dir) as upstream,
        gateway(work_dir, upstream.url, api_key=API_KEY) as server,
    ):
        await cycles(server, settings.churn_warmup_cycles, processes, settings.streams)
        await h2load.run(
            server.address, h2load.STATUS_METHOD, data, requests=settings.churn_warmup_calls
        )
        await asyncio.sleep(settings.churn_settle_seconds)
        before = cpu.memory(server.pid)
        watch = await cycles(server, settings.churn_watch_cycles, processes, settings.streams)
        unary = await h2load.run(
            server.address,
            h2load.STATUS_METHOD,
            data,
            requests=settings.churn_unary_calls,
            streams=settings.streams,
        )
        await asyncio.sleep(settings.churn_settle_seconds)
        after = cpu.memory(server.pid)
    growth = 100.0 * (after.rss_mb - before.rss_mb) / before.rss_mb
    result = ScenarioResult(
        key=KEY,
        title=TITLE,
        what=(
            f"after a warm-up of {settings.churn_warmup_cycles} watch cycles and "
            f"{settings.churn_warmup_calls} unary calls: {settings.churn_watch_cycles} "
            f"watch-then-cancel cycles ({processes} client processes) and "
            f"{settings.churn_unary_calls} unary calls (h2load), then "
            f"{settings.churn_settle_seconds:g} s of rest."
        ),
        settings={
            "watch_cycles": settings.churn_watch_cycles,
            "unary_calls": settings.churn_unary_calls,
        },
        details={
            "watch": watch,
            "unary": {"succeeded": unary.succeeded, "failed": unary.failed + unary.errored},
            "before": vars(before),
            "after": vars(after),
        },
    )
    result.rows += [
        row("RSS growth", "%", growth, at_most(10)),
        row("RSS before", "MB", before.rss_mb),
        row("RSS after", "MB", after.rss_mb),
        row("threads before", "threads", float(before.threads)),
        row("threads after", "threads", float(after.threads)),
        row(
            "asyncio task count",
            "tasks",
            None,
            note="n/a: the gateway exposes no task count yet (metrics will add it)",
        ),
        row("watch cycles completed", "cycles", float(watch["cycles"])),
        row("unary calls succeeded", "calls", float(unary.succeeded)),
    ]
    return result
