"""How long to wait before a retry: the upstream's own request, else capped full-jitter backoff."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime


def full_jitter(attempt: int, *, base: float, cap: float, rng: Callable[[], float]) -> float:
    """A wait drawn uniformly from [0, min(cap, base * 2**(attempt-1))) after attempt `attempt`.

    "Full jitter" (AWS architecture blog, "Exponential Backoff And Jitter"): it spreads the
    retries of many callers that failed together. `rng` returns a float in [0, 1).
    """
    exponent = min(attempt - 1, 62)  # 2**62 * base is past any cap; avoids float overflow
    ceiling = min(cap, base * (2.0**exponent))
    return max(0.0, rng() * ceiling)


def retry_after(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds the upstream asked us to wait, or None when it asked nothing readable.

    `retry-after-ms` (milliseconds, a float) wins over `Retry-After`, which is either
    delta-seconds or an HTTP-date (then measured from `now`, a wall-clock epoch time).
    A date in the past, or a negative number, means "now": 0.
    """
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; RFC 9110 dates are all GMT anyway.
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None
