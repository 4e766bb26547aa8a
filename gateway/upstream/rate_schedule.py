"""The rate budget's policy, pure: one credential's token bucket and the requests waiting for it.

No I/O and no clock of its own: every method is told `now`, so the policy is tested with plain
numbers (tests/upstream/test_rate_schedule.py). gateway.upstream.rate_budget puts it on the event
loop, and gateway.state.rate_budget_redis puts the bucket itself in Redis (then the `TokenBucket`
here is a mirror of the shared one, synced from each answer, used only to estimate waits).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from dataclasses import dataclass, field

EPSILON = 1e-9
"""Tokens: the float slack under which a bucket that should hold one token is taken to."""


@dataclass
class TokenBucket:
    """`rate` tokens a second up to `burst`; none at all before `paused_until`.

    `tokens` is the level at time `updated`; `updated` may lie in the future (the end of a
    pause), and the level is frozen until then.
    """

    rate: float
    burst: float
    tokens: float
    updated: float
    paused_until: float = float("-inf")

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        """A bucket holding its whole burst at `now`."""
        return cls(rate, burst, burst, now)

    def level(self, now: float) -> float:
        """The tokens the bucket holds at `now` (frozen before `updated`)."""
        if now <= self.updated:
            return self.tokens
        return min(self.burst, self.tokens + (now - self.updated) * self.rate)

    def ready_at(self, n: int, now: float) -> float:
        """When the `n`-th token from `now` can be taken, if the ones before it are taken as
        they come (so the burst caps only what is there now)."""
        start = max(now, self.paused_until)
        need = n - self.level(start)
        return start if need <= EPSILON else start + need / self.rate

    def take(self, now: float) -> bool:
        """Take one token at `now` if there is one (and no pause)."""
        if now < self.paused_until:
            return False
        level = self.level(now)
        if level + EPSILON < 1.0:
            return False
        self.tokens, self.updated = max(level - 1.0, 0.0), max(now, self.updated)
        return True

    def pause(self, until: float, now: float) -> bool:
        """No token for anyone before `until`; then one at once, the rest at the rate. True
        when the bucket was not paused at `now` (a new pause, not the extension of one)."""
        fresh = self.paused_until <= now
        if until > self.paused_until:
            self.paused_until = until
            self.tokens, self.updated = min(1.0, self.burst), until
        return fresh and until > now

    def paused_for(self, now: float) -> float:
        """Seconds until the pause ends (0: not paused)."""
        return max(self.paused_until - now, 0.0)

    def sync(self, tokens: float, paused_for: float, now: float) -> None:
        """Become the image of a shared bucket that holds `tokens` now (or, when paused, at the
        end of its pause) and is paused for `paused_for` more seconds."""
        self.tokens = tokens
        self.paused_until = now + paused_for if paused_for > 0 else float("-inf")
        self.updated = now + paused_for


@dataclass(eq=False)
class Waiter:
    """One request waiting for a token: served by `priority` (lower first), then by `seq`."""

    priority: int
    deadline: float
    since: float
    seq: int
    outcome: asyncio.Future[float | None] | None = field(default=None, repr=False)
    """Set by the event-loop layer: None when granted, else the retry_after of a refusal."""

    @property
    def order(self) -> tuple[int, int]:
        return (self.priority, self.seq)


@dataclass(frozen=True)
class Admission:
    """What `Schedule.admit` decided: granted now, queued as `waiter`, or refused with
    `retry_after`; `bumped` are queued waiters the newcomer pushed past their deadlines."""

    granted: bool = False
    waiter: Waiter | None = None
    retry_after: float | None = None
    bumped: tuple[tuple[Waiter, float], ...] = ()


class Schedule:
    """One credential's queue, in priority order then FIFO, in front of `bucket`.

    Only the head of the queue may take a token; a newcomer takes one at once only when no
    waiter of its priority or a higher one is queued. A waiter whose token cannot come before
    its deadline, given the queue ahead of it, is refused at once, never left to time out.
    """

    def __init__(self, bucket: TokenBucket) -> None:
        self.bucket = bucket
        self.queue: list[Waiter] = []
        self._seq = itertools.count()

    def ahead(self, priority: int) -> int:
        """Waiters that go before a newcomer of `priority` (its own priority or higher)."""
        return bisect.bisect_left(self.queue, (priority + 1, -1), key=lambda w: w.order)

    def admit(
        self, priority: int, deadline: float, now: float, *, may_take: bool = True
    ) -> Admission:
        """A token now, a place in the queue, or a refusal (`may_take=False`: the token is
        someone else's to give, as with the shared bucket: only queue or refuse)."""
        ahead = self.ahead(priority)
        if ahead == 0 and may_take and self.bucket.take(now):
            return Admission(granted=True)
        eta = self.bucket.ready_at(ahead + 1, now)
        if eta >= deadline:
            return Admission(retry_after=eta - now)
        waiter = Waiter(priority, deadline, now, next(self._seq))
        self.queue.insert(ahead, waiter)
        return Admission(waiter=waiter, bumped=tuple(self.overdue(now)))

    def pump(self, now: float) -> tuple[list[Waiter], list[tuple[Waiter, float]]]:
        """Give the tokens there are to the head of the queue: (granted, refused with their
        retry_after), both already out of the queue."""
        granted: list[Waiter] = []
        while self.queue and self.bucket.take(now):
            granted.append(self.queue.pop(0))
        return granted, self.overdue(now)

    def grant_head(self) -> Waiter | None:
        """The head of the queue, out of it (its token came from elsewhere: the shared bucket)."""
        return self.queue.pop(0) if self.queue else None

    def overdue(self, now: float) -> list[tuple[Waiter, float]]:
        """The waiters whose token would now come at or after their deadline (a pause, a
        newcomer of higher priority, other replicas' demand), out of the queue, each with the
        seconds until its token would have come."""
        refused: list[tuple[Waiter, float]] = []
        kept: list[Waiter] = []
        for waiter in self.queue:
            eta = self.bucket.ready_at(len(kept) + 1, now)
            if eta >= waiter.deadline:
                refused.append((waiter, eta - now))
            else:
                kept.append(waiter)
        self.queue = kept
        return refused

    def pause(self, until: float, now: float) -> tuple[bool, list[tuple[Waiter, float]]]:
        """Pause the bucket until `until`: (a new pause?, the waiters it pushes past their
        deadlines)."""
        fresh = self.bucket.pause(until, now)
        return fresh, self.overdue(now)

    def next_wake(self, now: float) -> float | None:
        """When the head's token comes (None: nobody waits)."""
        return self.bucket.ready_at(1, now) if self.queue else None

    def remove(self, waiter: Waiter) -> None:
        """Forget a waiter that stopped waiting (its caller went away)."""
        if waiter in self.queue:
            self.queue.remove(waiter)
