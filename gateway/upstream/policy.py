"""The policy around attempts: deadline, rate budget, retry table, retry budget and waits, in
that order."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import structlog

from gateway.upstream import attempt_info
from gateway.upstream.attempt import Route
from gateway.upstream.backoff import full_jitter
from gateway.upstream.config import CallOptions, Priority, UpstreamConfig
from gateway.upstream.errors import DeadlineExceeded, QuotaExhausted, RateLimited, UpstreamError
from gateway.upstream.rate_budget import Denied, RateBudget, tenant_key
from gateway.upstream.reply import Reply
from gateway.upstream.retry import is_transient, should_retry
from gateway.upstream.retry_budget import RetryBudget

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
Rng = Callable[[], float]
Attempt = Callable[[float], Awaitable[Reply]]
"""One attempt, given its timeout in seconds: the 2xx answer, or an UpstreamError."""

_log = structlog.get_logger("gateway.upstream")


E = TypeVar("E", bound=UpstreamError)


class AttemptObserver(Protocol):
    """Told of every attempt, retry and give-up (gateway.observability.metrics); called on the
    event loop, so it must neither block nor raise."""

    def attempted(
        self, route: Route, status: int | None, error: UpstreamError | None, seconds: float
    ) -> None:
        """An attempt ended: its HTTP status (None: no answer), its error, its duration."""

    def retried(self, error: UpstreamError, waited: float) -> None:
        """After `error`, `waited` seconds passed and a retry goes out now."""

    def gave_up(self, reason: str) -> None:
        """The last attempt failed and none follows: not_retryable, max_attempts, budget or
        deadline."""


class RetryPolicy:
    """Runs a call's attempts: each inside the deadline, retried per the table and the budget."""

    def __init__(
        self,
        config: UpstreamConfig,
        budget: RetryBudget,
        *,
        sleep: Sleep,
        clock: Clock,
        rng: Rng,
        observer: AttemptObserver | None = None,
        rate_budget: RateBudget | None = None,
    ) -> None:
        self._observer = observer
        self._rate = rate_budget
        self._config = config
        self._budget = budget
        self._sleep = sleep
        self._clock = clock
        self._rng = rng

    def deadline_for(self, opts: CallOptions) -> float:
        """The call's absolute deadline on the client's clock."""
        if opts.deadline is not None:
            return opts.deadline
        return self._clock() + self._config.default_timeout

    async def run(self, route: Route, opts: CallOptions, attempt: Attempt) -> Reply:
        """Attempt until a 2xx, a failure not to retry, or no attempts, budget or time left.

        Sets `opts.attempts`. The error raised is the last attempt's, except when the deadline
        is spent before an attempt could be sent: then DeadlineExceeded (chained to the last),
        and when the rate budget has no token for an attempt before the deadline: then
        QuotaExhausted, at once (never retried, no retry-budget cost).
        """
        deadline = self.deadline_for(opts)
        opts.attempts = 0
        last: UpstreamError | None = None
        wait = 0.0
        rate = self._rate if opts.token else None  # no credential, no account to spend
        tenant = tenant_key(opts.token) if rate is not None else ""
        priority = opts.priority if route.idempotent else Priority.CREATE
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise _deadline_spent(route, last) from last
            if rate is not None:
                try:
                    await rate.acquire(tenant, priority, deadline)
                except Denied as denied:
                    if self._observer is not None and last is not None:
                        self._observer.gave_up("rate_budget")
                    exhausted = _quota_exhausted(route, denied.retry_after, last)
                    exhausted.upstream_wait = denied.upstream_wait
                    raise exhausted from last
                remaining = deadline - self._clock()
                if remaining <= 0:
                    raise _deadline_spent(route, last) from last
            opts.attempts += 1
            attempt_info.current.set(attempt_info.AttemptInfo(opts.attempts, waited=wait))
            started = time.perf_counter()
            try:
                response = await attempt(self._attempt_timeout(remaining))
            except UpstreamError as error:
                if self._observer is not None:
                    seconds = time.perf_counter() - started
                    self._observer.attempted(route, error.status, error, seconds)
                if rate is not None and isinstance(error, RateLimited) and error.retry_after:
                    await rate.pause(tenant, error.retry_after)  # for every call of the tenant
                last = error
                wait = self._wait_or_raise(route, opts.attempts, error, deadline)
            else:
                if self._observer is not None:
                    seconds = time.perf_counter() - started
                    self._observer.attempted(route, response.status_code, None, seconds)
                self._budget.record_success()
                _log_attempt(route, opts.attempts, response.status_code, None, None, None)
                return response
            await self._sleep(wait)
            if self._observer is not None and last is not None:
                self._observer.retried(last, wait)

    def _attempt_timeout(self, remaining: float) -> float:
        limit = self._config.attempt_timeout
        return remaining if limit is None else min(remaining, limit)

    def _wait_or_raise(
        self, route: Route, attempt: int, error: UpstreamError, deadline: float
    ) -> float:
        """The wait before the next attempt; raises `error` when there is to be none."""
        if is_transient(error):
            self._budget.record_failure()
        reason = self._reason_to_stop(route, attempt, error)
        if reason is None:
            wait = error.retry_after
            if wait is None:
                wait = full_jitter(
                    attempt,
                    base=self._config.backoff_base,
                    cap=self._config.backoff_cap,
                    rng=self._rng,
                )
            if wait < deadline - self._clock():
                _log_attempt(route, attempt, error.status, error, wait, None)
                return wait
            reason = "deadline"
        if self._observer is not None:
            self._observer.gave_up(reason)
        _log_attempt(route, attempt, error.status, error, None, reason)
        raise error

    def _reason_to_stop(self, route: Route, attempt: int, error: UpstreamError) -> str | None:
        if not should_retry(error, idempotent=route.idempotent):
            return "not_retryable"
        if attempt >= self._config.max_attempts:
            return "max_attempts"
        if not self._budget.allows_retry():
            error.retries_throttled = True
            return "budget"
        return None


def _deadline_spent(route: Route, last: UpstreamError | None) -> DeadlineExceeded:
    return _unsent(DeadlineExceeded, "deadline spent before sending", route, last)


def _quota_exhausted(
    route: Route, retry_after: float, last: UpstreamError | None
) -> QuotaExhausted:
    message = (
        f"the gateway's upstream rate budget (--upstream-rate-limit) has no request for this "
        f"credential before the deadline: retry in {retry_after:.1f} s"
    )
    return _unsent(QuotaExhausted, message, route, last, retry_after=retry_after)


def _unsent(
    kind: type[E],
    message: str,
    route: Route,
    last: UpstreamError | None,
    *,
    retry_after: float | None = None,
) -> E:
    """An error of a call that ends before sending its next attempt: what the last attempt
    said, and whether the outcome is in doubt, come from that attempt."""
    if last is not None:
        message += f" (last attempt: {last.public_message})"
    return kind(
        message,
        method=route.method,
        path=route.template,
        outcome_unknown=last.outcome_unknown if last is not None else False,
        retry_after=retry_after,
        request_sent=False,
    )


def _log_attempt(
    route: Route,
    attempt: int,
    status: int | None,
    error: UpstreamError | None,
    wait: float | None,
    gave_up: str | None,
) -> None:
    """One debug line per attempt; never headers, never the credential."""
    _log.debug(
        "upstream_attempt",
        method=route.method,
        path=route.template,
        status=status,
        error=type(error).__name__ if error is not None else None,
        attempt=attempt,
        wait=round(wait, 3) if wait is not None else None,
        gave_up=gave_up,
    )
