"""What a status poller does after a failed poll (gateway.watch.poll_failures), as the pure
functions it is: how long it waits, and when it ends the watches instead, with which error. The
hub's use of it over a scripted upstream: test_hub.py."""

from __future__ import annotations

import grpc
import pytest

from gateway.contract.errors import GatewayError, Reason
from gateway.upstream import (
    DeadlineExceeded,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
    UpstreamError,
)
from gateway.watch.poll_failures import give_up, wait_after, watch_error

TOKEN = "secret-token-of-the-tenant"
BATCH = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
CAP = 30.0


def limited(retry_after: float | None) -> RateLimited:
    return RateLimited("slow down", status=429, retry_after=retry_after)


def ends(
    exc: UpstreamError, wait: float, *, has_state: bool, silent: float = 0.0
) -> GatewayError | None:
    """`give_up` with the test's cap, token and batch."""
    return give_up(
        exc, wait, has_state=has_state, silent=silent, cap=CAP, token=TOKEN, batch_id=BATCH
    )


@pytest.mark.parametrize(
    ("exc", "backoff", "wait"),
    [
        pytest.param(limited(7.0), 1.5, 7.0, id="429-waits-its-retry-after"),
        pytest.param(limited(0.0), 1.5, 1.5, id="429-retry-after-0-backs-off"),
        pytest.param(limited(None), 1.5, 1.5, id="429-without-retry-after-backs-off"),
        pytest.param(Unavailable("busy", status=503), 2.0, 2.0, id="5xx-backs-off"),
        pytest.param(DeadlineExceeded("slow"), 4.0, 4.0, id="timeout-backs-off"),
    ],
)
def test_the_wait_is_the_upstreams_retry_after_or_the_backoff(
    exc: UpstreamError, backoff: float, wait: float
) -> None:
    """After a 429 the poller waits what the upstream asked (a Retry-After of 0, "now", is no
    reason to poll at once: it backs off); after any other transient failure, its backoff."""
    assert wait_after(exc, backoff) == wait


def test_a_retry_after_past_the_cap_ends_the_watches_whatever_their_state() -> None:
    """A 429 asking for longer than the cap ends the watches at once, with or without a state:
    RESOURCE_EXHAUSTED (RATE_LIMITED), RetryInfo = the upstream's delay, the batch named, and
    a message that says what to do."""
    for has_state in (True, False):
        error = ends(limited(3600.0), 3600.0, has_state=has_state)
        assert error is not None
        assert error.code is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error.reason is Reason.RATE_LIMITED
        assert error.retry_after == 3600.0
        assert error.metadata["batch_id"] == BATCH
        assert "watch again after the RetryInfo delay" in error.message


def test_waits_within_the_cap_keep_a_watch_that_has_a_state() -> None:
    """With a state already sent, a Retry-After up to the cap and any transient failure are
    waited out, however long the poller has tried."""
    assert ends(limited(CAP), CAP, has_state=True, silent=1000.0) is None
    assert ends(Unavailable("busy", status=503), 20.0, has_state=True, silent=1000.0) is None


def test_a_topic_without_state_spends_at_most_the_cap_on_failed_polls() -> None:
    """With no state yet, failures are waited out while the time spent plus the next wait
    stays within the cap; the failure that would pass it ends the watches with its own error:
    a 429 RESOURCE_EXHAUSTED with RetryInfo = the wait it would have had, a 5xx UNAVAILABLE."""
    assert ends(limited(7.0), 7.0, has_state=False, silent=23.0) is None  # 30 s: at the cap
    rate_limited = ends(limited(7.0), 7.0, has_state=False, silent=24.0)
    assert rate_limited is not None
    assert rate_limited.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert rate_limited.retry_after == 7.0
    unavailable = ends(Unavailable("busy", status=503), 8.0, has_state=False, silent=24.0)
    assert unavailable is not None
    assert unavailable.code is grpc.StatusCode.UNAVAILABLE
    assert unavailable.retry_after is None
    assert "no status of this batch after 24 s" in unavailable.message


def test_a_poll_timeout_without_state_ends_unavailable_not_deadline_exceeded() -> None:
    """The poll's own timeout is not the caller's deadline: a watch that never got a state
    because every poll timed out ends UNAVAILABLE (reconnect), with the upstream's reason."""
    error = ends(DeadlineExceeded("poll timed out"), 16.0, has_state=False, silent=20.0)
    assert error is not None
    assert error.code is grpc.StatusCode.UNAVAILABLE
    assert error.reason is Reason.UPSTREAM_TIMEOUT


@pytest.mark.parametrize(
    ("exc", "code", "reason"),
    [
        pytest.param(
            NotFound("Batch not found", status=404),
            grpc.StatusCode.NOT_FOUND,
            Reason.BATCH_NOT_FOUND,
            id="404",
        ),
        pytest.param(
            Unauthenticated("Invalid API key", status=401),
            grpc.StatusCode.UNAUTHENTICATED,
            Reason.UPSTREAM_UNAUTHENTICATED,
            id="401",
        ),
    ],
)
def test_a_final_failure_is_translated_by_the_one_table(
    exc: UpstreamError, code: grpc.StatusCode, reason: Reason
) -> None:
    """A final failure ends the watches with the gateway's translation of it, naming the batch:
    a 404 is the batch's own BATCH_NOT_FOUND, not a generic NOT_FOUND."""
    error = watch_error(exc, token=TOKEN, batch_id=BATCH)
    assert (error.code, error.reason) == (code, reason)
    assert error.metadata["batch_id"] == BATCH
    assert error.metadata["upstream_status"] == str(exc.status)
