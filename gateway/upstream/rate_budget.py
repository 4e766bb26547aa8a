"""The upstream rate budget (`--upstream-rate-limit`): a token bucket per upstream credential in
front of every upstream request, retries and watch polls included.

`RateBudget.acquire` is awaited before each attempt (gateway.upstream.policy). Requests wait in
priority order (`Priority`: creates, then callers' reads, then watch polls), FIFO within one;
a request whose token cannot come before its deadline, given the queue ahead of it, is refused
at once (`Denied`, which the policy raises as QuotaExhausted: nothing was sent). A 429 with
Retry-After pauses the credential's bucket for every caller and poller (`pause`), up to
MAX_PAUSE. With a `SharedBuckets` (gateway.state.rate_budget_redis) the bucket lives in Redis and
every replica draws from it; each replica orders its own waiters. While the shared bucket cannot be
reached, the local one stands in, at the full rate. The policy itself is pure, in
gateway.upstream.rate_schedule; this module puts it on the event loop. Buckets are keyed by the
credential's tenant key (`tenant_key`), never by the token.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, NoReturn, Protocol

from gateway.upstream.config import Priority
from gateway.upstream.rate_schedule import Schedule, TokenBucket, Waiter

MAX_PAUSE: Final = 60.0
"""Seconds: the longest pause a 429's Retry-After imposes on a credential's bucket (a longer
one still reaches the call that got it, as RateLimited with its whole retry_after)."""
MIN_WAKE: Final = 0.001
"""Seconds: the shortest sleep of a queue's pump (a timer that fires a hair early retries)."""
SWEEP_EVERY: Final = 1024
"""Acquires between sweeps of idle credentials' buckets (a full bucket is a forgotten one)."""


def tenant_key(token: str) -> str:
    """The credential's tenant key (gateway.access.credentials.Credential.tenant: the same hash)."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class Denied(Exception):
    """No token before the deadline; `retry_after` is the seconds until one could be had.
    `upstream_wait`: when the bucket is paused by an upstream 429, the seconds the upstream
    asked to wait from now (its whole Retry-After, past MAX_PAUSE too, where this replica saw
    the 429; else what the pause has left); None when no 429 paused it."""

    def __init__(self, retry_after: float, upstream_wait: float | None = None) -> None:
        super().__init__(f"no rate-budget token for {retry_after:.3f} s")
        self.retry_after = retry_after
        self.upstream_wait = upstream_wait


@dataclass(frozen=True)
class SharedState:
    """A shared bucket's answer: whether a token was taken, the tokens it holds now (after the
    take; when paused, at the pause's end) and the seconds its pause has left."""

    granted: bool
    tokens: float
    paused_for: float


class SharedBuckets(Protocol):
    """Buckets every replica shares (gateway.state.rate_budget_redis.RedisRateBuckets). Both methods
    answer None when the store cannot be reached: the local bucket stands in meanwhile."""

    @property
    def available(self) -> bool:
        """Whether the store answered last time (False: do not even ask, it is being probed)."""

    async def take(self, tenant: str) -> SharedState | None:
        """Take one token from `tenant`'s bucket if it has one."""

    async def pause(self, tenant: str, seconds: float) -> SharedState | None:
        """Pause `tenant`'s bucket for `seconds` (never shortening a longer pause)."""

    async def close(self) -> None:
        """Stop whatever runs in the background."""


class RateObserver(Protocol):
    """Told of every token, refusal and pause (gateway.observability.metrics); must neither block
    nor raise."""

    def rate_waited(self, priority: Priority, seconds: float) -> None:
        """A request got its token after waiting `seconds` (0: at once)."""

    def rate_exhausted(self, priority: Priority) -> None:
        """A request was refused: no token before its deadline."""

    def rate_paused(self, seconds: float) -> None:
        """A 429's Retry-After paused a credential's bucket for `seconds`."""


@dataclass
class _Credential:
    schedule: Schedule
    local: TokenBucket
    mirror: TokenBucket
    """The shared bucket as this replica last saw it: for estimating waits only."""
    pump: asyncio.Task[None] | None = field(default=None, repr=False)
    asked_until: float = float("-inf")
    """Until when the last 429 on this replica asked to wait (its whole Retry-After)."""


class RateBudget:
    """`rate` upstream requests a second per credential, `burst` at once (0: ceil(rate)).

    Create it in the running loop; `share()` puts the buckets in a shared store; `close()`
    on stop. `clock` is the monotonic clock deadlines are on (the upstream client's).
    """

    def __init__(
        self,
        rate: float,
        burst: int = 0,
        *,
        clock: Callable[[], float] = time.monotonic,
        observer: RateObserver | None = None,
        max_pause: float = MAX_PAUSE,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"the rate budget needs a rate > 0, got {rate!r}")
        self.rate = rate
        self.burst = burst if burst > 0 else max(math.ceil(rate), 1)
        self.max_pause = max_pause
        self.pauses = 0
        """Pauses begun by a 429 (extensions of a running pause not counted)."""
        self._clock = clock
        self._observer = observer
        self._credentials: dict[str, _Credential] = {}
        self._shared: SharedBuckets | None = None
        self._acquires = 0

    def share(self, shared: SharedBuckets) -> None:
        """Draw tokens from `shared` (every replica's bucket) from now on."""
        self._shared = shared

    @property
    def shared(self) -> SharedBuckets | None:
        """The store `share` gave (None: this replica's buckets only)."""
        return self._shared

    async def close(self) -> None:
        """Stop the shared store's background work and every queue's pump."""
        if self._shared is not None:
            await self._shared.close()
        pumps = [c.pump for c in self._credentials.values() if c.pump is not None]
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)

    @property
    def waiting(self) -> int:
        """Requests waiting for a token now, all credentials together (for metrics)."""
        return sum(len(c.schedule.queue) for c in self._credentials.values())

    def paused_for(self) -> float:
        """Seconds the longest pause of any credential's bucket has left (0: none; metrics)."""
        now = self._clock()
        return max(
            (
                max(c.local.paused_for(now), c.mirror.paused_for(now))
                for c in self._credentials.values()
            ),
            default=0.0,
        )

    async def acquire(self, tenant: str, priority: Priority, deadline: float) -> float:
        """Wait for a token for `tenant` in `priority`'s turn; the seconds waited. Raises
        Denied, at once, when the token cannot come before `deadline`."""
        state = self._state(tenant)
        started = self._clock()
        schedule = state.schedule
        shared = self._shared if self._shared is not None and self._shared.available else None
        may_take = True
        if shared is not None:
            schedule.bucket = state.mirror
            may_take = False
            if schedule.ahead(priority) == 0:
                answer = await shared.take(tenant)
                if answer is not None and answer.granted:
                    return self._granted(priority, self._clock() - started)
                if answer is None:  # the store just went away: the local bucket stands in
                    schedule.bucket, may_take = state.local, True
                else:
                    state.mirror.sync(answer.tokens, answer.paused_for, self._clock())
        else:
            schedule.bucket = state.local
        now = self._clock()
        admission = schedule.admit(priority, deadline, now, may_take=may_take)
        if admission.granted:
            return self._granted(priority, now - started)
        waiter = admission.waiter
        if waiter is None:
            assert admission.retry_after is not None
            self._denied(state, priority, admission.retry_after)
        waiter.outcome = asyncio.get_running_loop().create_future()
        self._refuse(admission.bumped)
        self._start_pump(tenant, state)
        try:
            refused = await waiter.outcome
        except asyncio.CancelledError:
            schedule.remove(waiter)
            raise
        if refused is not None:
            self._denied(state, priority, refused)
        return self._granted(priority, self._clock() - started)

    async def pause(self, tenant: str, seconds: float) -> None:
        """A 429 asked to wait `seconds`: nobody gets a token for `tenant` until then (at most
        max_pause); waiters it pushes past their deadlines are refused at once. The whole wait
        asked is kept, for what refusals say (`Denied.upstream_wait`)."""
        if seconds <= 0:
            return
        state = self._state(tenant)
        now = self._clock()
        state.asked_until = max(state.asked_until, now + seconds)
        seconds = min(seconds, self.max_pause)
        fresh = state.local.pause(now + seconds, now)
        state.mirror.pause(now + seconds, now)  # whichever of the two the schedule uses now
        refused = state.schedule.overdue(now)
        if fresh:
            self.pauses += 1
            if self._observer is not None:
                self._observer.rate_paused(seconds)
        self._refuse(refused)
        if self._shared is not None and self._shared.available:
            await self._shared.pause(tenant, seconds)

    def _state(self, tenant: str) -> _Credential:
        self._acquires += 1
        if self._acquires % SWEEP_EVERY == 0:
            self._sweep()
        state = self._credentials.get(tenant)
        if state is None:
            now = self._clock()
            local = TokenBucket.full(self.rate, self.burst, now)
            mirror = TokenBucket.full(self.rate, self.burst, now)
            state = self._credentials[tenant] = _Credential(Schedule(local), local, mirror)
        return state

    def _sweep(self) -> None:
        """Forget the buckets nobody waits for that are full again: a new one is the same."""
        now = self._clock()
        for tenant, state in list(self._credentials.items()):
            idle = not state.schedule.queue and state.pump is None
            if idle and _full(state.local, now) and _full(state.mirror, now):
                del self._credentials[tenant]

    def _start_pump(self, tenant: str, state: _Credential) -> None:
        if state.pump is None:
            state.pump = asyncio.create_task(self._pump(tenant, state))

    async def _pump(self, tenant: str, state: _Credential) -> None:
        """Serve the queue's head as tokens come, until nobody waits."""
        schedule = state.schedule
        try:
            while schedule.queue:
                shared = self._shared
                if shared is not None and shared.available:
                    await self._serve_shared(tenant, state, shared)
                else:
                    schedule.bucket = state.local
                    granted, refused = schedule.pump(self._clock())
                    for waiter in granted:
                        _settle(waiter, None)
                    self._refuse(refused)
                now = self._clock()
                wake = schedule.next_wake(now)
                if wake is None:
                    break
                await asyncio.sleep(max(wake - now, MIN_WAKE))
        finally:
            state.pump = None

    async def _serve_shared(self, tenant: str, state: _Credential, shared: SharedBuckets) -> None:
        """Draw tokens from the shared bucket for the head of the queue while it has some."""
        schedule = state.schedule
        schedule.bucket = state.mirror
        while schedule.queue:
            answer = await shared.take(tenant)
            if answer is None:  # gone: the caller's loop goes on with the local bucket
                return
            state.mirror.sync(answer.tokens, answer.paused_for, self._clock())
            if not answer.granted:
                break
            waiter = schedule.grant_head()
            if waiter is not None:
                _settle(waiter, None)
        self._refuse(schedule.overdue(self._clock()))

    def _refuse(
        self, refused: list[tuple[Waiter, float]] | tuple[tuple[Waiter, float], ...]
    ) -> None:
        for waiter, retry_after in refused:
            _settle(waiter, max(retry_after, 0.0))

    def _granted(self, priority: Priority, waited: float) -> float:
        if self._observer is not None:
            self._observer.rate_waited(priority, waited)
        return waited

    def _denied(self, state: _Credential, priority: Priority, retry_after: float) -> NoReturn:
        if self._observer is not None:
            self._observer.rate_exhausted(priority)
        raise Denied(retry_after, self._upstream_wait(state))

    def _upstream_wait(self, state: _Credential) -> float | None:
        """While a 429 pauses the bucket: the seconds the upstream asked to wait from now."""
        now = self._clock()
        paused = max(state.local.paused_for(now), state.mirror.paused_for(now))
        if paused <= 0:
            return None
        return max(paused, state.asked_until - now)


def _full(bucket: TokenBucket, now: float) -> bool:
    return bucket.level(now) >= bucket.burst and not bucket.paused_for(now)


def _settle(waiter: Waiter, refused: float | None) -> None:
    if waiter.outcome is not None and not waiter.outcome.done():
        waiter.outcome.set_result(refused)
