"""Everything one sandbox app holds: its config, its state and its admin-controlled knobs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import Scope

from sofer_sandbox.config import SandboxConfig
from sofer_sandbox.faults import FaultQueue
from sofer_sandbox.ratelimit import RateLimiter
from sofer_sandbox.rss import FeedFetcher
from sofer_sandbox.state import Store
from sofer_sandbox.stats import RequestStats

# Closes the client connection of a request without any answer; True when it did.
ConnectionDropper = Callable[[Scope], bool]


@dataclass
class Runtime:
    """The state behind one app instance (kept in `app.state.sandbox`)."""

    config: SandboxConfig
    store: Store = field(init=False)
    faults: FaultQueue = field(default_factory=FaultQueue)
    stats: RequestStats = field(default_factory=RequestStats)
    limiter: RateLimiter | None = field(init=False, default=None)
    fetcher: FeedFetcher = field(init=False)
    dropper: ConnectionDropper | None = None
    # Set when the server shuts down: injected delays end at once instead of holding it up.
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.store = Store(self.config.start_balance_cents)
        if self.config.rate_limit is not None:
            self.limiter = RateLimiter(self.config.rate_limit, self.config.clock)
        self.fetcher = FeedFetcher(self.config.rss_max_bytes, self.config.rss_timeout_seconds)

    def now(self) -> float:
        """The sandbox clock."""
        return self.config.clock()

    async def delay(self, seconds: float) -> None:
        """Sleep for an injected delay, cut short when the server shuts down."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.closing.wait()

    def reset(self) -> None:
        """Forget tenants, faults, counts and rate-limit buckets."""
        self.store.clear()
        self.faults.clear()
        self.stats.clear()
        if self.limiter is not None:
            self.limiter.clear()


def runtime_of(request: Request) -> Runtime:
    """The Runtime of the app serving `request`."""
    return cast(Runtime, request.app.state.sandbox)


def runtime_of_app(app: Starlette) -> Runtime:
    """The Runtime of a sandbox app."""
    return cast(Runtime, app.state.sandbox)
