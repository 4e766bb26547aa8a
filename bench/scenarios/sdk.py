"""The gateway against the official SDK: same sandbox, same token, same workloads.

Side A is the official `soferai` SDK (`AsyncSoferAI`) straight to the sandbox; side B a
grpc.aio client through the gateway to the same sandbox. Both clients run in this process, one
after the other (A B A B ..., `repetitions` times), `streams` concurrent callers each:

- distinct batches: every call reads the next of `sdk_batches` batches;
- hot batch: every call reads the same batch;
- then once each: sequential reads (latency), sequential creates, and W followers of one fresh
  batch for its whole life (W SDK pollers every 1 s against W WatchBatchStatus streams),
  counting the sandbox's status requests.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from soferai import AsyncSoferAI

from bench.model import ScenarioResult, at_least, at_most, median, percentile, row
from bench.servers import TOKEN, gateway, sandbox
from bench.settings import Settings
from bench.sides import Admin, GatewaySide, SdkSide, create_batches

KEY = "sdk"
TITLE = "Against the official SDK (sandbox upstream)"
NEEDS: tuple[str, ...] = ()
CALL_TIMEOUT = 30.0

Call = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Round:
    """One timed concurrent round: calls, seconds, each call's latency, client CPU."""

    calls: int
    seconds: float
    latencies: list[float]
    client_cpu: float

    @property
    def rate(self) -> float:
        """Calls per second."""
        return self.calls / self.seconds

    def figures(self) -> dict[str, float]:
        """The round's figures for the JSON."""
        return {
            "calls": float(self.calls),
            "calls_per_second": self.rate,
            "p50_ms": percentile(self.latencies, 0.50) * 1e3,
            "p99_ms": percentile(self.latencies, 0.99) * 1e3,
            "client_cpu_ms_per_call": self.client_cpu / self.calls * 1e3,
        }


async def timed_round(call: Call, seconds: float, concurrency: int) -> Round:
    """`concurrency` workers calling `call` back to back for `seconds`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    cpu_started = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return Round(len(latencies), elapsed, latencies, time.process_time() - cpu_started)


async def sequential(call: Call, count: int) -> list[float]:
    """`count` calls one after another (after 10% of them unmeasured); their latencies."""
    for _ in range(max(1, count // 10)):
        await call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def run(settings: Settings, work_dir: Path) -> ScenarioResult:
    """Every workload on both sides."""
    concurrency = settings.streams
    limits = httpx.Limits(
        max_connections=max(concurrency, settings.sdk_followers) + 10,
        max_keepalive_connections=max(concurrency, settings.sdk_followers) + 10,
    )
    runs: dict[str, list[dict[str, float]]] = {
        f"{w}_{s}": [] for w in ("distinct", "hot") for s in ("sdk", "gateway")
    }
    async with (
        sandbox(work_dir, settings.sdk_item_seconds) as upstream,
        gateway(work_dir, upstream.address) as server,
        httpx.AsyncClient(timeout=CALL_TIMEOUT, limits=limits) as http,
        httpx.AsyncClient(timeout=CALL_TIMEOUT) as admin_http,
        grpc.aio.insecure_channel(server.address) as channel,
    ):
        await asyncio.wait_for(channel.channel_ready(), 30)
        sdk = SdkSide(AsyncSoferAI(api_key=TOKEN, base_url=upstream.address, httpx_client=http))
        via = GatewaySide(pb_grpc.BatchTranscriptionServiceStub(channel))
        admin = Admin(admin_http, upstream.address)
        await admin.reset()
        batches = await create_batches(
            admin_http, upstream.address, TOKEN, settings.sdk_batches, "distinct"
        )
        hot = batches[0]
        turn = itertools.count()

        def reader(side: SdkSide | GatewaySide, workload: str) -> Call:
            if workload == "hot":
                return lambda: side.status(hot)
            return lambda: side.status(batches[next(turn) % len(batches)])

        sides: dict[str, SdkSide | GatewaySide] = {"sdk": sdk, "gateway": via}
        for side in sides.values():  # warm both: connections, caches, code paths
            await timed_round(
                reader(side, "distinct"), min(1.0, settings.sdk_round_seconds), concurrency
            )
        hot_upstream_per_rpc: list[float] = []
        for _ in range(settings.repetitions):
            for workload in ("distinct", "hot"):
                for name, side in sides.items():
                    before = await admin.status_requests()
                    measured = await timed_round(
                        reader(side, workload), settings.sdk_round_seconds, concurrency
                    )
                    figures = measured.figures()
                    figures["upstream_per_rpc"] = (
                        await admin.status_requests() - before
                    ) / measured.calls
                    runs[f"{workload}_{name}"].append(figures)
                    if workload == "hot" and name == "gateway":
                        hot_upstream_per_rpc.append(figures["upstream_per_rpc"])

        sequential_ms = {
            name: [
                x * 1e3
                for x in await sequential(reader(side, "hot"), settings.sdk_sequential_calls)
            ]
            for name, side in sides.items()
        }
        counter = itertools.count()

        def creator(side: SdkSide | GatewaySide) -> Call:
            return lambda: side.create(f"create-{next(counter)}")

        creates_ms = {
            name: [x * 1e3 for x in await sequential(creator(side), settings.sdk_creates)]
            for name, side in sides.items()
        }
        followers = await follow(admin, sdk, via, settings.sdk_followers)

    def med(key: str, figure: str) -> float:
        return median([r[figure] for r in runs[key]])

    def ratio(workload: str, figure: str) -> float:
        pairs = zip(runs[f"{workload}_gateway"], runs[f"{workload}_sdk"], strict=True)
        return median([g[figure] / s[figure] for g, s in pairs])

    result = ScenarioResult(
        key=KEY,
        title=TITLE,
        what=(
            f"{concurrency} concurrent callers per side, rounds of "
            f"{settings.sdk_round_seconds:g} s, A B A B x{settings.repetitions}, medians; "
            f"distinct = {settings.sdk_batches} batches in turn; ratios gateway ÷ SDK per "
            "repetition, then their median."
        ),
        settings={
            "concurrency": concurrency,
            "round_seconds": settings.sdk_round_seconds,
            "batches": settings.sdk_batches,
            "repetitions": settings.repetitions,
            "sequential_calls": settings.sdk_sequential_calls,
            "creates": settings.sdk_creates,
            "followers": settings.sdk_followers,
            "item_seconds": settings.sdk_item_seconds,
        },
        details={"runs": runs, "followers": followers},
    )
    result.rows += [
        row(
            "distinct: throughput gateway ÷ SDK",
            "",
            ratio("distinct", "calls_per_second"),
            at_least(2),
        ),
        row("distinct: p99 gateway ÷ SDK", "", ratio("distinct", "p99_ms"), at_most(0.333)),
        row("hot: throughput gateway ÷ SDK", "", ratio("hot", "calls_per_second"), at_least(5)),
        row("distinct: SDK calls/s", "calls/s", med("distinct_sdk", "calls_per_second")),
        row("distinct: gateway calls/s", "calls/s", med("distinct_gateway", "calls_per_second")),
        row("distinct: SDK p99", "ms", med("distinct_sdk", "p99_ms")),
        row("distinct: gateway p99", "ms", med("distinct_gateway", "p99_ms")),
        row("hot: SDK calls/s", "calls/s", med("hot_sdk", "calls_per_second")),
        row("hot: gateway calls/s", "calls/s", med("hot_gateway", "calls_per_second")),
        row("hot: gateway upstream requests per RPC", "", median(hot_upstream_per_rpc)),
        row("client CPU per call, SDK", "ms", med("distinct_sdk", "client_cpu_ms_per_call")),
        row(
            "client CPU per call, gateway client",
            "ms",
            med("distinct_gateway", "client_cpu_ms_per_call"),
        ),
    ]
    for name in ("sdk", "gateway"):
        label = "SDK" if name == "sdk" else "gateway"
        result.rows += [
            row(f"sequential read p50, {label}", "ms", percentile(sequential_ms[name], 0.5)),
            row(f"sequential read p99, {label}", "ms", percentile(sequential_ms[name], 0.99)),
            row(f"sequential create p50, {label}", "ms", percentile(creates_ms[name], 0.5)),
        ]
    result.rows += [
        row(
            f"followers of one batch ({settings.sdk_followers}): status requests, SDK pollers",
            "requests",
            float(followers["sdk_requests"]),
        ),
        row(
            f"followers of one batch ({settings.sdk_followers}): status requests, gateway watches",
            "requests",
            float(followers["gateway_requests"]),
        ),
    ]
    return result


async def follow(admin: Admin, sdk: SdkSide, via: GatewaySide, followers: int) -> dict[str, Any]:
    """W SDK pollers (every 1 s) and then W gateway watchers of one fresh batch each, for its
    whole life: the sandbox's status requests and the seconds until all saw the end."""
    figures: dict[str, Any] = {}
    for name in ("sdk", "gateway"):
        await admin.reset()
        batch_id = await sdk.create(f"follow-{name}")
        started = time.perf_counter()
        if name == "sdk":
            await asyncio.gather(*(sdk.poll_until_done(batch_id, 1.0) for _ in range(followers)))
        else:
            counts = await asyncio.gather(
                *(via.watch_until_done(batch_id) for _ in range(followers))
            )
            if min(counts) < 1:
                raise RuntimeError("a watch ended without a single message")
        figures[f"{name}_seconds"] = time.perf_counter() - started
        figures[f"{name}_requests"] = await admin.status_requests()
    return figures
