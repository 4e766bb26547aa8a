"""What a status poller does after a failed poll: wait (and how long), or end the watches.

Pure functions of the failure and the topic's situation, so the rule reads in one place and is
tested without I/O. Their one promise: a watcher never waits in silence without end.

- A 429 waits the upstream's `Retry-After`, unless it is longer than the cap
  (`max_retry_after`, --watch-max-retry-after): then the watches end at once,
  RESOURCE_EXHAUSTED (RATE_LIMITED) with RetryInfo carrying the upstream's delay, whatever
  state they have, since they would hear nothing for that long.
- A 429 without a usable `Retry-After` (none, unreadable, or 0), a 5xx, a timeout or a
  connection failure waits the poller's own bounded backoff; the watchers keep the last state.
- The gateway's own rate budget (`--upstream-rate-limit`) refusing a poll only stretches the
  cadence, unless a 429 paused the budget: that refusal counts as the 429 itself, with the wait
  the upstream asked (`paused_by_upstream`).
- A topic with no state at all may spend at most the cap on failed polls: the failure after
  which waiting would pass it ends the watches with its own error (a 429 RESOURCE_EXHAUSTED
  with RetryInfo = the wait it would have had; a 5xx or a poll timeout UNAVAILABLE).

A Retry-After shorter than what is left of one poll's deadline (`Cadence.poll_timeout`, 10 s) is
waited out inside the poll by the upstream client's own retry; the default cap (30 s) is above
it, so that wait stays within the cap too.
"""

from __future__ import annotations

import dataclasses

import grpc

from gateway.contract.errors import GatewayError, Reason, from_upstream
from gateway.upstream import QuotaExhausted, RateLimited, UpstreamError


def paused_by_upstream(exc: QuotaExhausted) -> RateLimited | None:
    """A refusal of the gateway's rate budget while an upstream 429 pauses it, as that 429
    (RateLimited with the wait the upstream asked, so past the cap the watches end
    RATE_LIMITED with it as RetryInfo); None for the budget's own refusal, which only
    stretches the cadence."""
    if exc.upstream_wait is None:
        return None
    return RateLimited(
        "the upstream answered 429 and asked to wait; until then the gateway sends it nothing "
        "for this credential",
        status=429,
        method=exc.method,
        path=exc.path,
        retry_after=exc.upstream_wait,
        request_sent=False,
    )


def wait_after(exc: UpstreamError, backoff: float) -> float:
    """Seconds to wait before the next poll: the upstream's Retry-After on a 429, else `backoff`.

    A Retry-After of 0 ("now") is no reason to poll again at once after a 429: back off.
    """
    if isinstance(exc, RateLimited) and exc.retry_after:
        return exc.retry_after
    return backoff


def give_up(
    exc: UpstreamError,
    wait: float,
    *,
    has_state: bool,
    silent: float,
    cap: float,
    token: str,
    batch_id: str,
    id_key: str = "batch_id",
    not_found: Reason = Reason.BATCH_NOT_FOUND,
) -> GatewayError | None:
    """The error that ends the watches instead of waiting `wait`, or None to wait.

    `silent` is how long (seconds) the topic's poller has been trying without any state.
    `batch_id` is the watched id, named `id_key` in the error (a manifest's: `batch_file_id`).
    """
    rate_limited = isinstance(exc, RateLimited)
    if rate_limited and wait > cap:
        return watch_error(
            exc,
            token=token,
            batch_id=batch_id,
            id_key=id_key,
            not_found=not_found,
            note=f"the upstream asked for {wait:.0f} s before the next status poll, longer "
            f"than this gateway waits ({cap:g} s): watch again after the RetryInfo delay, "
            "or poll GetBatchStatus",
            retry_after=wait,
        )
    if has_state or silent + wait <= cap:
        return None
    what = "manifest" if id_key == "batch_file_id" else "batch"
    note = f"no status of this {what} after {silent:.0f} s of failed polls: watch again"
    error = watch_error(
        exc,
        token=token,
        batch_id=batch_id,
        id_key=id_key,
        not_found=not_found,
        note=note + (" after the RetryInfo delay" if rate_limited else ""),
        retry_after=wait if rate_limited else None,
    )
    if error.code is grpc.StatusCode.DEADLINE_EXCEEDED:
        # The poll's own timeout, not the caller's deadline: tell the watcher to reconnect.
        error = dataclasses.replace(error, code=grpc.StatusCode.UNAVAILABLE)
    return error


def watch_error(
    exc: UpstreamError,
    *,
    token: str,
    batch_id: str,
    id_key: str = "batch_id",
    not_found: Reason = Reason.BATCH_NOT_FOUND,
    note: str = "",
    retry_after: float | None = None,
) -> GatewayError:
    """`exc` as the error that ends a topic's watches (translated by the one table); the
    watched id is named `id_key` in its metadata."""
    error = from_upstream(exc, token=token, metadata={id_key: batch_id}, not_found=not_found)
    if note:
        error = dataclasses.replace(error, message=f"{error.message} ({note})")
    if retry_after is not None:
        error = dataclasses.replace(error, retry_after=retry_after)
    return error
