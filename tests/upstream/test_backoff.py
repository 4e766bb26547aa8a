"""The policy's pure parts: jitter, Retry-After parsing, the retry budget and the retry table."""

from __future__ import annotations

from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.upstream import ProtocolError, RateLimited, RetryBudget, Unavailable
from gateway.upstream.backoff import full_jitter, retry_after
from gateway.upstream.retry import is_transient, should_retry

NOW = 1_700_000_000.0


@given(
    attempt=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0, max_value=10),
    cap=st.floats(min_value=0.001, max_value=60),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_full_jitter_bounds(attempt: int, base: float, cap: float, draw: float) -> None:
    """A wait is within [0, min(cap, base * 2**(attempt-1))], whatever the attempt number."""
    wait = full_jitter(attempt, base=base, cap=cap, rng=lambda: draw)
    assert 0 <= wait <= min(cap, base * 2.0 ** min(attempt - 1, 62))
    assert wait <= cap


def test_full_jitter_doubles_until_the_cap() -> None:
    """The ceiling doubles per attempt and stops at the cap."""
    ceilings = [full_jitter(n, base=0.1, cap=0.5, rng=lambda: 1.0) for n in range(1, 6)]
    assert ceilings == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "200", "retry-after": "9"}, 0.2),
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),
        ({"retry-after": formatdate(NOW + 7, usegmt=True)}, 7.0),
        ({"retry-after": formatdate(NOW - 60, usegmt=True)}, 0.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 -0000"}, 0.0),
        ({"retry-after": "whenever"}, None),
        ({"retry-after": "inf"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    """Retry-After (seconds or HTTP-date) and retry-after-ms become seconds; junk is None."""
    assert retry_after(headers, now=NOW) == (
        expected if expected is None else pytest.approx(expected)
    )


def test_budget_allows_retries_while_above_half() -> None:
    """Retries are allowed while tokens > max/2; failures cost 1 and never go below 0."""
    budget = RetryBudget(max_tokens=4, token_ratio=0.5)
    budget.record_failure()
    assert budget.allows_retry()  # 3 > 2
    budget.record_failure()
    assert not budget.allows_retry()  # 2 is not > 2
    for _ in range(10):
        budget.record_failure()
    assert budget.tokens == 0.0
    budget.record_success()
    assert budget.tokens == 0.5


def test_budget_never_exceeds_max_and_does_not_drift() -> None:
    """Successes fill the bucket up to max exactly, in exact tenths."""
    budget = RetryBudget(max_tokens=10, token_ratio=0.1)
    for _ in range(3):
        budget.record_failure()
    for _ in range(10):
        budget.record_success()
    assert budget.tokens == 8.0
    for _ in range(100):
        budget.record_success()
    assert budget.tokens == 10.0


@pytest.mark.parametrize(
    ("error", "get", "post", "transient"),
    [
        (RateLimited("x", status=429), True, True, True),
        (Unavailable("x", status=503), True, False, True),
        (Unavailable("x", status=408), True, False, True),
        (Unavailable("x", request_sent=False), True, True, True),
        (Unavailable("x", request_sent=True), True, False, True),
        (ProtocolError("x", status=200), False, False, False),
    ],
)
def test_retry_table(error: Unavailable, get: bool, post: bool, transient: bool) -> None:
    """Reads retry every transient failure; creates only where the upstream cannot have acted."""
    assert should_retry(error, idempotent=True) is get
    assert should_retry(error, idempotent=False) is post
    assert is_transient(error) is transient
