"""Webhooks beside watchers: does delivering a batch's events to 100 endpoints slow the delivery
of its changes to the batch's watchers?

One sandbox (items take `fanout_item_seconds`) and one gateway allowed to deliver to loopback;
one endpoint server in this process answering 204 on 100 paths. Two cases, interleaved
`repetitions` times: the fan-out scenario's first case (its watchers over one fresh batch,
latency = receipt - observed_at of every message after a stream's first) with no endpoint, and
the same with 100 tenant-wide endpoints registered (CreateWebhook), which receive every event of
the batch while the watchers follow it. The figure is the p99 with endpoints minus the p99
without, beside the spread (max - min) of the p99s without.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import grpc
from aiohttp import web
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc

from bench.model import ScenarioResult, row
from bench.scenarios.fanout import one_case
from bench.servers import METADATA, Running, gateway, sandbox
from bench.settings import Settings

KEY = "webhook_fanout"
TITLE = "Webhooks: 100 endpoints beside a batch's watchers"
NEEDS: tuple[str, ...] = ()
ENDPOINTS = 100


class Endpoints:
    """The endpoint server: 204 to every POST, counted."""

    def __init__(self) -> None:
        self.received = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _receive(self, request: web.Request) -> web.Response:
        await request.read()
        self.received += 1
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def _register(server: Running, endpoints: Endpoints) -> list[str]:
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = pb_grpc.BatchTranscriptionServiceStub(channel)
        made = [
            await stub.CreateWebhook(
                pb.CreateWebhookRequest(url=f"{endpoints.url}/hook/{i}"), metadata=METADATA
            )
            for i in range(ENDPOINTS)
        ]
    return [m.webhook.webhook_id for m in made]


async def _delete(server: Running, ids: list[str]) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = pb_grpc.BatchTranscriptionServiceStub(channel)
        for webhook_id in ids:
            await stub.DeleteWebhook(
                pb.DeleteWebhookRequest(webhook_id=webhook_id), metadata=METADATA
            )


async def run(settings: Settings, work_dir: Path) -> ScenarioResult:
    """Both cases, interleaved, against one sandbox, gateway and endpoint server."""
    watchers, _ = settings.fanout_cases[0]
    flags = ("--webhook-allow-http", "--webhook-allow-private-addresses")
    endpoints = Endpoints()
    await endpoints.start()
    without: list[dict[str, Any]] = []
    with_endpoints: list[dict[str, Any]] = []
    try:
        async with (
            sandbox(work_dir, settings.fanout_item_seconds) as upstream,
            gateway(work_dir, upstream.address, flags=flags) as server,
        ):
            for _ in range(settings.repetitions):
                without.append(await one_case(settings, upstream, server, watchers, 1))
                ids = await _register(server, endpoints)
                before = endpoints.received
                case = await one_case(settings, upstream, server, watchers, 1)
                case["webhook_deliveries"] = endpoints.received - before
                with_endpoints.append(case)
                await _delete(server, ids)
    finally:
        await endpoints.stop()
    base = [c["p99_ms"] for c in without if c["p99_ms"] is not None]
    hooked = [c["p99_ms"] for c in with_endpoints if c["p99_ms"] is not None]
    result = ScenarioResult(
        key=KEY,
        title=TITLE,
        what=(
            f"{watchers} watchers of one batch (items take {settings.fanout_item_seconds:g} s), "
            f"without and with {ENDPOINTS} tenant-wide webhook endpoints on loopback, "
            f"interleaved {settings.repetitions} times; latency as in the fan-out scenario."
        ),
        settings={"watchers": watchers, "endpoints": ENDPOINTS, "reps": settings.repetitions},
        details={"without": without, "with": with_endpoints},
    )
    if base and hooked:
        spread = max(base) - min(base)
        result.rows += [
            row("watchers' delivery p99, no endpoint (median)", "ms", statistics.median(base)),
            row(f"watchers' delivery p99, {ENDPOINTS} endpoints (median)", "ms",
                statistics.median(hooked)),
            row("p99 with endpoints - without (medians)", "ms",
                statistics.median(hooked) - statistics.median(base)),
            row("spread of the p99 without endpoints (max - min)", "ms", spread),
            row("webhook deliveries per batch (median)", "requests",
                float(statistics.median(c["webhook_deliveries"] for c in with_endpoints))),
        ]  # fmt: skip
    return result
