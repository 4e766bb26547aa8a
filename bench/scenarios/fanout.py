"""Fan-out: how long a state change takes to reach every watcher of its batch.

One sandbox (items take `fanout_item_seconds`, so batches change state every few seconds)
and one gateway; for each (watchers, batches) case, fresh batches, whose watchers open from
several client processes (at most `fanout_open_concurrency` awaiting their first message at a
time per process) and follow their batch until it ends. Every message after a stream's first
is a change: its delivery latency is its receipt time minus its `observed_at` (when the
gateway's poll read that state), both this machine's wall clock. The first message (the
current state) is not counted: its age says nothing about delivery.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from bench.clients import run_clients
from bench.model import ScenarioResult, at_most, percentile, row
from bench.servers import TOKEN, Running, gateway, sandbox
from bench.settings import Settings
from bench.sides import create_batches

KEY = "fanout"
TITLE = "Fan-out: delivery of a state change to every watcher"
NEEDS: tuple[str, ...] = ()
TARGET_P99_MS = {1: 50.0}  # one batch; many batches: 100 ms


async def one_case(
    settings: Settings, upstream: Running, server: Running, watchers: int, batch_count: int
) -> dict[str, Any]:
    """One case's raw figures: fresh batches, watchers following them to their end."""
    processes = settings.client_processes
    item = settings.fanout_item_seconds
    async with httpx.AsyncClient(timeout=30) as http:
        batches = await create_batches(http, upstream.address, TOKEN, batch_count, "fanout")
    specs = [
        {
            "mode": "follow",
            "target": server.address,
            "token": TOKEN,
            "batch_ids": batches[p % batch_count :] + batches[: p % batch_count],
            "streams": watchers // processes + (1 if p < watchers % processes else 0),
            "open_concurrency": settings.fanout_open_concurrency,
            "duration": 2 * item + 30,
        }
        for p in range(processes)
    ]
    combined = await run_clients(specs, 2 * item + 120)
    latencies_ms = [x * 1e3 for x in combined.delivery_latencies]
    return {
        "watchers": watchers,
        "batches": batch_count,
        "deliveries": len(latencies_ms),
        "p50_ms": percentile(latencies_ms, 0.5) if latencies_ms else None,
        "p99_ms": percentile(latencies_ms, 0.99) if latencies_ms else None,
        "max_ms": max(latencies_ms) if latencies_ms else None,
        "first_message_p99_s": percentile(combined.first_latencies, 0.99)
        if combined.first_latencies
        else None,
        "outcomes": dict(combined.outcomes),
        "refused": sum(combined.refused.values()),
    }


async def run(settings: Settings, work_dir: Path) -> ScenarioResult:
    """Every case, one after the other, against one sandbox and gateway."""
    async with (
        sandbox(work_dir, settings.fanout_item_seconds) as upstream,
        gateway(work_dir, upstream.address) as server,
    ):
        cases = [await one_case(settings, upstream, server, w, b) for w, b in settings.fanout_cases]
    result = ScenarioResult(
        key=KEY,
        title=TITLE,
        what=(
            f"watchers from {settings.client_processes} client processes follow their batch to "
            f"its end (items take {settings.fanout_item_seconds:g} s); latency = receipt - "
            "observed_at of every message after a stream's first."
        ),
        settings={
            "cases": [list(c) for c in settings.fanout_cases],
            "item_seconds": settings.fanout_item_seconds,
            "processes": settings.client_processes,
        },
        details={"cases": cases},
    )
    for case in cases:
        label = f"{case['watchers']} watchers over {case['batches']} batch" + (
            "es" if case["batches"] > 1 else ""
        )
        target = at_most(TARGET_P99_MS.get(case["batches"], 100.0))
        result.rows += [
            row(f"{label}: delivery p99", "ms", case["p99_ms"], target),
            row(f"{label}: delivery p50", "ms", case["p50_ms"]),
            row(f"{label}: delivery, slowest", "ms", case["max_ms"]),
            row(f"{label}: changes delivered", "messages", float(case["deliveries"])),
            row(f"{label}: streams refused", "streams", float(case["refused"])),
        ]
    return result
