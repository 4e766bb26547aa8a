"""A status hub over a scripted upstream, on fake time (no tests here): the narrow unit tests of
the hub's polling policy (tests/watch/test_hub.py) and of fan-out build on it.

`harness(upstream)` gives a StatusHub whose sleeps pass at once on a `FakeTime` (recorded in
`time.sleeps`); `ScriptedUpstream` answers the hub's polls in order, and can hold the n-th one
back, as a slow upstream would. `sandbox_hub(time, url)` is a StatusHub polling a real sandbox
through a real upstream client, every wait of both on `time`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.access.credentials import Credential
from gateway.upstream import UpstreamClient, UpstreamConfig
from gateway.watch.hub import Cadence, StatusHub
from tests.helpers.clock import FakeTime
from tests.helpers.upstream import Answer, Script

BATCH = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
CADENCE = Cadence(fast=1.0, slow=4.0, factor=1.5, error_backoff_cap=8.0)
CALLER = Credential("t", "caller")
GUARD = 10.0  # seconds: only a hang guard; with fake time every test takes milliseconds


def status(state: str, done: int, total: int = 2) -> dict[str, Any]:
    """A BatchStatusResponse body with `done` of `total` items completed."""
    items = [
        {
            "id": f"00000000-0000-4000-8000-00000000000{i}",
            "title": f"Item {i + 1}",
            "created_at": "2026-01-01T00:00:00Z",
            "primary_language": "en",
            "hebrew_word_format": ["en", "he"],
            "status": "COMPLETED" if i < done else "PROCESSING",
        }
        for i in range(total)
    ]
    return {
        "batch_id": BATCH,
        "status": state,
        "total_count": total,
        "completed_count": done,
        "failed_count": 0,
        "pending_count": total - done,
        "transcriptions": items,
    }


class ScriptedUpstream:
    """A scripted upstream (`Script`) whose n-th request (from 1) can be held back: the
    handler of an `httpx.MockTransport`, answering as a slow upstream would."""

    def __init__(self, *answers: Answer) -> None:
        self.script = Script(*answers)
        self.arrived: dict[int, asyncio.Event] = {}
        self.release: dict[int, asyncio.Event] = {}

    def hold(self, n: int) -> None:
        """Hold the n-th request until `release[n]` is set; `arrived[n]` says it came."""
        self.arrived[n], self.release[n] = asyncio.Event(), asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        n = len(self.script.requests) + 1
        if n in self.release:
            self.arrived[n].set()
            await self.release[n].wait()
        return self.script(request)


@dataclass
class Harness:
    """A hub over a scripted upstream, on fake time. A sleep of `hold` seconds is held (and
    `holding` set) until `release` is set: a poller sleeping out a Retry-After."""

    hub: StatusHub
    time: FakeTime
    upstream: ScriptedUpstream
    hold: float | None = None
    holding: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def sleep(self, seconds: float) -> None:
        await self.time.sleep(seconds)
        if seconds == self.hold:
            self.holding.set()
            await self.release.wait()
        for _ in range(5):  # let the watchers, woken by the poller, take their turn
            await asyncio.sleep(0)


@asynccontextmanager
async def sandbox_hub(
    time: FakeTime,
    url: str,
    cadence: Cadence = CADENCE,
    *,
    max_attempts: int = 5,
    **settings: Any,
) -> AsyncIterator[StatusHub]:
    """A StatusHub polling the sandbox at `url` through a real UpstreamClient (fast retries),
    every wait of both (poll intervals, backoff, the client's retries) passing at once on
    `time`. Give the sandbox the same clock (`SandboxConfig(clock=time)`) and its batches move
    as the poller waits, and only then: a test of minutes of polling takes milliseconds.
    `max_attempts` is the client's (1: every failure reaches the poller); `settings` the hub's."""

    async def sleep(seconds: float) -> None:
        await time.sleep(seconds)
        for _ in range(5):  # let the watchers, woken by the poller, take their turn
            await asyncio.sleep(0)

    config = UpstreamConfig(
        base_url=url, backoff_base=0.05, backoff_cap=0.5, max_attempts=max_attempts
    )
    async with UpstreamClient(
        config, sleep=sleep, clock=time.clock, wall_clock=time.wall_clock, rng=lambda: 0.5
    ) as client:
        hub = StatusHub(client, cadence, sleep=sleep, clock=time.clock, rng=lambda: 0.5, **settings)
        try:
            yield hub
        finally:
            await hub.close()


@asynccontextmanager
async def harness(
    upstream: ScriptedUpstream, *, cap: float = 30.0, rng: float = 0.5, hold: float | None = None
) -> AsyncIterator[Harness]:
    """A StatusHub with `max_retry_after=cap` over `upstream`; closed afterwards."""
    config = UpstreamConfig(base_url="http://upstream.test", max_attempts=1)
    transport = httpx.MockTransport(upstream)
    async with UpstreamClient(config, transport=transport) as client:
        time = FakeTime()
        box: list[Harness] = []

        async def sleep(seconds: float) -> None:
            await box[0].sleep(seconds)

        hub = StatusHub(
            client, CADENCE, max_retry_after=cap, sleep=sleep, clock=time.clock, rng=lambda: rng
        )
        box.append(Harness(hub, time, upstream, hold))
        try:
            yield box[0]
        finally:
            box[0].release.set()
            await hub.close()
