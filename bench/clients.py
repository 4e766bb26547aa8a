"""Several watch client processes (bench/watch_client.py) driven together.

Each client connects first and says "ready"; only when all are ready are they told "go", so a
burst is one burst across processes, and the client side is spread over processes (and cores)
so that it is not the bottleneck. Burst clients then say "settled" (every stream has its first
message, or has ended) and cancel their streams only when told "cancel", which they are once
all have settled: the streams are cancelled once all had one, across processes, and no early
process's cancellations compete with a later one's burst for the gateway and the cores.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.procs import clean_environment

READY_TIMEOUT = 120.0


@dataclass
class Combined:
    """Every client's results together."""

    first_latencies: list[float] = field(default_factory=list)
    delivery_latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    messages: int = 0
    cycles: int = 0
    seconds: float = 0.0


def split(items: list[Any], parts: int) -> list[list[Any]]:
    """`items` dealt round-robin into `parts` lists."""
    return [items[i::parts] for i in range(parts)]


async def run_clients(specs: list[dict[str, Any]], limit: float) -> Combined:
    """One process per spec, started together; their results combined (within `limit`
    seconds of "go").

    Results come back in files, not on stdout: they hold every latency (megabytes), and a pipe
    nobody reads at the right moment stalls a writer."""
    with tempfile.TemporaryDirectory(prefix="sofer-bench-clients-") as tmp:
        paths = [Path(tmp) / f"client-{i}.json" for i in range(len(specs))]
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.watch_client",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=clean_environment(),
            )
            for _ in specs
        ]
        try:
            for process, spec, path in zip(processes, specs, paths, strict=True):
                assert process.stdin is not None
                process.stdin.write(json.dumps({**spec, "result_path": str(path)}).encode() + b"\n")
                await process.stdin.drain()
            for process in processes:
                line = await asyncio.wait_for(_line(process), READY_TIMEOUT)
                if line.get("event") != "ready":
                    raise RuntimeError(f"watch client not ready: {line}")
            held = all(spec["mode"] == "burst" for spec in specs)
            for process in processes:
                assert process.stdin is not None
                process.stdin.write(b"go\n")
                await process.stdin.drain()
                if not held:
                    process.stdin.close()
            if held:
                await asyncio.wait_for(_every(processes, "settled"), limit)
                for process in processes:
                    assert process.stdin is not None
                    process.stdin.write(b"cancel\n")
                    await process.stdin.drain()
                    process.stdin.close()
            await asyncio.wait_for(_every(processes, "result"), limit)
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in processes)), 30)
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        results = [json.loads(path.read_text()) for path in paths]
    combined = Combined()
    for result in results:
        combined.first_latencies += result["first_latencies"]
        combined.delivery_latencies += result["delivery_latencies"]
        combined.outcomes.update(result["outcomes"])
        combined.refused.update(result["refused"])
        combined.messages += result["messages"]
        combined.cycles += result["cycles"]
        combined.seconds = max(combined.seconds, result["seconds"])
    return combined


async def _every(processes: list[asyncio.subprocess.Process], event: str) -> None:
    """Each process's next line, which must be `event`."""
    for line in await asyncio.gather(*(_line(p) for p in processes)):
        if line.get("event") != event:
            raise RuntimeError(f"watch client said {line}, not {event!r}")


async def _line(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdout is not None
    raw = await process.stdout.readline()
    if not raw:
        raise RuntimeError(f"watch client exited (status {await process.wait()}) early")
    data: dict[str, Any] = json.loads(raw)
    return data
