"""Unary instructions: what each server executes per GetBatchStatus, counted by callgrind.

The headline figure of the unary sides. Instruction counts repeat within a few per cent on a
busy machine, where CPU time does not (bench/scenarios/unary_cpu.py keeps those as
information). Each server runs under callgrind (bench/callgrind.py) in front of the same nginx,
one after another (the smoke run starts its two at once), and bench/unary_client.py makes
`warmup` calls, then the `calls` that are counted, `streams` at a time over one connection; the
idle server's instructions over as long are subtracted. Every server runs on uvloop, as
`sofer-gateway serve` does, so that the sides differ by their work, not by their event loop.

The sides (the gateway's distinct ones one after the other in one process):

- distinct read: the gateway with its default flags, every call a batch id of its own, so no
  read is shared (single-flight or reuse window) and every call is one upstream GET. nginx
  answers every such id with the same canned bytes, as an upstream answers one unchanged batch
  read again;
- distinct answers: the same, with ids whose answers also differ byte for byte (bench/nginx.py,
  OWN_TAG): nothing built for one answer serves another;
- contract floor, naive hop, bare server (bench/floor_server.py, naive_hop.py, bare_server.py):
  the distinct read's calls;
- hot read: the gateway, every call the same batch id, `streams` callers at once: coalesced by
  single-flight and the status reuse window (stretched to callgrind's pace: HOT_REUSE_WINDOW).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import callgrind, canned
from bench.model import Row, ScenarioResult, Target, at_most, row
from bench.nginx import OWN_TAG, nginx_upstream
from bench.servers import API_KEY, HERE, Launch, Running, bare, floor, gateway, naive_hop
from bench.settings import Settings

KEY = "unary_instructions"
TITLE = "Unary instructions per call (callgrind)"
NEEDS = ("valgrind", "nginx")
STARTUP_PATIENCE = 600.0
"""Seconds a server under valgrind may take to start (uninstrumented, still 5 to 20 times
slower than without)."""

START = 1_828_000
"""Instructions per distinct read of the gateway at the start of issue 19 (commit 04512ea),
counted as this scenario counts, by `python -m bench.instructions start=DIR --sides gateway`
with DIR a checkout of that commit with its own .venv (docs/benchmarks.md)."""


DISTINCT_TAG = "0000beef"
"""The first group of the distinct reads' batch ids (any id but OWN_TAG's: the canned bytes)."""


@dataclass(frozen=True)
class Side:
    """One measured side: which server, and which batch ids its calls ask for."""

    label: str
    server: str
    """gateway, gateway-hot, floor, naive or bare (`server_of`)."""
    tag: str
    """The first group of its distinct batch ids (bench/unary_client.py); unused with
    `batch_id`."""
    batch_id: str | None = None
    """One batch id for every call (a hot read)."""


SIDES = {
    "gateway": Side("gateway, distinct read", "gateway", DISTINCT_TAG),
    "own": Side("gateway, distinct answers", "gateway", OWN_TAG),
    "floor": Side("contract floor", "floor", DISTINCT_TAG),
    "naive": Side("naive hop", "naive", DISTINCT_TAG),
    "bare": Side("bare server", "bare", DISTINCT_TAG),
    "hot": Side("gateway, hot read", "gateway-hot", DISTINCT_TAG, batch_id=canned.BATCH_ID),
}


HOT_REUSE_WINDOW = ("--status-reuse-window", "2.5")
"""The hot read's gateway flag. The reuse window is wall-clock time and the gateway runs about
50 times slower under callgrind: the default 0.05 s window would then share far fewer reads
than at full speed (0.4 upstream requests per call against about 0.01), so it is stretched as
much."""


def server_of(
    name: str, work_dir: Path, upstream_url: str, launch: Launch
) -> contextlib.AbstractAsyncContextManager[Running]:
    """The server `name` (gateway, gateway-hot, floor, naive, bare), started by `launch`."""
    makers: dict[str, Callable[[], contextlib.AbstractAsyncContextManager[Running]]] = {
        "gateway": lambda: gateway(work_dir, upstream_url, api_key=API_KEY, launch=launch),
        "gateway-hot": lambda: gateway(
            work_dir,
            upstream_url,
            api_key=API_KEY,
            flags=HOT_REUSE_WINDOW,
            name="gateway-hot",
            launch=launch,
        ),
        "floor": lambda: floor(work_dir, upstream_url, API_KEY, launch),
        "naive": lambda: naive_hop(work_dir, upstream_url, API_KEY, launch),
        "bare": lambda: bare(work_dir, launch),
    }
    return makers[name]()


@contextlib.asynccontextmanager
async def under_callgrind(
    name: str, work_dir: Path, upstream_url: str, launch: Launch = HERE
) -> AsyncIterator[Running]:
    """The server `name` started under callgrind, instrumentation off (`launch` says which
    interpreter and source tree)."""
    wrapped = Launch(
        wrapper=tuple(callgrind.wrapper(work_dir, name)),
        python=launch.python,
        cwd=launch.cwd,
        patience=STARTUP_PATIENCE,
    )
    async with server_of(name, work_dir, upstream_url, wrapped) as server:
        yield server


async def count_sides(
    server: str,
    keys: Sequence[str],
    work_dir: Path,
    settings: Settings,
    launch: Launch = HERE,
) -> dict[str, callgrind.Count]:
    """The instructions of the sides `keys`, all of the server `server`, one after another in
    one process of it started under callgrind (each side with its own warm-up)."""
    counts: dict[str, callgrind.Count] = {}
    own_dir = work_dir / server  # an nginx of its own: its log counts this server's requests
    own_dir.mkdir()
    async with (
        nginx_upstream(own_dir) as upstream,
        under_callgrind(server, own_dir, upstream.url, launch) as running,
    ):
        for key in keys:
            side = SIDES[key]
            counts[key] = await callgrind.count(
                running.pid,
                running.address,
                warmup=settings.instructions_warmup_calls,
                calls=settings.instructions_calls,
                concurrency=settings.streams,
                idle_seconds=settings.instructions_idle_seconds,
                tag=side.tag,
                batch_id=side.batch_id,
                upstream_requests=upstream.status_requests,
            )
    return counts


def by_server(keys: Sequence[str]) -> dict[str, list[str]]:
    """The sides `keys` grouped by the server they measure, in order."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(SIDES[key].server, []).append(key)
    return groups


QUICK_SIDES = ("gateway", "own", "bare")
"""The sides of the smoke run (`--quick`): two server processes, started at once."""
NOT_IN_QUICK = "not counted in --quick (each server under valgrind takes 10 to 20 s to start)"


async def run(settings: Settings, work_dir: Path) -> ScenarioResult:
    """Every side in turn (the gateway's in one process), each server a process of its own;
    the ratios between them."""
    counts: dict[str, callgrind.Count] = {}
    groups = by_server(QUICK_SIDES if settings.quick else list(SIDES))
    measuring = [count_sides(server, keys, work_dir, settings) for server, keys in groups.items()]
    if settings.quick:  # the smoke run: its servers at once (counts barely move with load)
        for counted in await asyncio.gather(*measuring):
            counts.update(counted)
    else:
        for one in measuring:
            counts.update(await one)
    per_call = {key: count.per_call for key, count in counts.items()}
    result = ScenarioResult(
        key=KEY,
        title=TITLE,
        what=(
            f"Each server under valgrind's callgrind in front of nginx, one after another: "
            f"{settings.instructions_warmup_calls} calls of warm-up, then "
            f"{settings.instructions_calls} counted GetBatchStatus calls ({settings.streams} at "
            "a time, one connection, bench/unary_client.py), the idle server's instructions "
            "over as long subtracted. Every server runs on uvloop, as `serve` does. Distinct "
            "read: every call a batch id of its own (no read shared), each answered by nginx "
            "with the same canned bytes (as an unchanged batch is answered again); distinct "
            "answers: ids whose answers differ too (nothing built once serves two calls); hot "
            "read: every call the same batch id (shared). M = millions of instructions per "
            "call."
        ),
        settings={
            "warmup_calls": settings.instructions_warmup_calls,
            "calls": settings.instructions_calls,
            "concurrency": settings.streams,
            "idle_seconds": settings.instructions_idle_seconds,
            "start": START,
        },
        details={key: dataclasses.asdict(count) for key, count in counts.items()},
    )

    def ratio(label: str, a: str, b: str, target: Target | None = None, note: str = "") -> Row:
        if a not in per_call or b not in per_call:
            return row(label, "", None, target, NOT_IN_QUICK)
        return row(label, "", per_call[a] / per_call[b], target, note)

    def million(label: str, key: str, target: Target | None = None, note: str = "") -> Row:
        value = per_call.get(key)
        if value is None:
            return row(label, "M", None, target, NOT_IN_QUICK)
        return row(label, "M", value / 1e6, target, note)

    hot = counts.get("hot")
    result.rows += [
        million(
            "gateway distinct read",
            "gateway",
            at_most(START / 1e6),
            f"at most what it was at the start of issue 19 (commit 04512ea): {START / 1e6:.3f} M",
        ),
        ratio("gateway ÷ contract floor", "gateway", "floor", at_most(1.05)),
        ratio("hot read ÷ bare server", "hot", "bare", at_most(1.6)),
        ratio("gateway ÷ bare server", "gateway", "bare"),
        ratio("gateway ÷ naive hop", "gateway", "naive"),
        ratio("contract floor ÷ naive hop", "floor", "naive"),
        ratio(
            "gateway, distinct answers ÷ contract floor",
            "own",
            "floor",
            note="every answer's bytes its own: nothing built once serves two calls",
        ),
        million("gateway, distinct answers", "own"),
        million("gateway, hot read", "hot"),
        row(
            "hot read: upstream requests per call",
            "",
            None if hot is None else hot.upstream_requests / hot.calls,
            note="with the reuse window stretched to callgrind's pace (about 0.01 at full speed)"
            if hot
            else NOT_IN_QUICK,
        ),
        million("contract floor", "floor"),
        million("naive hop", "naive"),
        million("bare server", "bare"),
        row(
            "gateway idle",
            "M/s",
            counts["gateway"].idle_per_second / 1e6,
            note="subtracted from each side's count for the time its calls took",
        ),
    ]
    return result
