"""A webhook endpoint for tests (no tests here): an aiohttp server on loopback, port 0, that
records every delivery and answers as the test says.

`receiver.answers` is a list of statuses used up one per request (then `receiver.status`,
200 by default); `receiver.hold` (an asyncio.Event) makes requests wait until it is set;
`receiver.redirect_to` makes every answer a 302 there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from standardwebhooks import Webhook


@dataclass
class Delivery:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes
    status: int
    """What the receiver answered."""

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def verified(self, secret: str) -> Any:
        """The payload, verified with the standardwebhooks package (raises if not genuine)."""
        return Webhook(secret).verify(self.body, self.headers)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A recording webhook endpoint (see the module)."""

    answers: list[int] = field(default_factory=list)
    status: int = 200
    hold: asyncio.Event | None = None
    redirect_to: str = ""
    started: int = 0
    """Requests received so far, answered or not (held ones included)."""
    deliveries: list[Delivery] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.started += 1
        async with self.arrived:
            self.arrived.notify_all()
        if self.hold is not None:
            await self.hold.wait()
        status = self.answers.pop(0) if self.answers else self.status
        headers = {k.lower(): v for k, v in request.headers.items()}
        async with self.arrived:
            self.deliveries.append(Delivery(headers, body, status))
            self.arrived.notify_all()
        if self.redirect_to:
            raise web.HTTPFound(self.redirect_to)
        return web.Response(status=status, text="x" * 100_000 if status == 200 else "")

    async def wait_started(self, count: int) -> None:
        """Wait (at most 30 s) until `count` requests arrived, answered or not."""
        async with asyncio.timeout(30), self.arrived:
            await self.arrived.wait_for(lambda: self.started >= count)

    async def wait_until(self, done: Callable[[list[Delivery]], bool]) -> list[Delivery]:
        """Wait (at most 60 s) until `done(deliveries)`; the deliveries."""
        async with asyncio.timeout(60), self.arrived:
            await self.arrived.wait_for(lambda: done(self.deliveries))
        return list(self.deliveries)

    async def wait_for(self, count: int) -> list[Delivery]:
        """Wait (at most 30 s) until `count` requests were answered 2xx; all requests so far."""
        async with asyncio.timeout(30), self.arrived:
            await self.arrived.wait_for(
                lambda: sum(200 <= d.status < 300 for d in self.deliveries) >= count
            )
        return list(self.deliveries)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook endpoint on loopback (tests/helpers/webhook_receiver.py)."""
    made = Receiver()
    await made.start()
    try:
        yield made
    finally:
        await made.stop()
