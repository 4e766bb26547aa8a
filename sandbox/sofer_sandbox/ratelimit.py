"""Per-token rate limiting: a token bucket of `rate` requests per second, burst `rate`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`rate` requests per second per key; `check` says how long to wait when over."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._rate = rate
        self._capacity = max(rate, 1.0)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def check(self, key: str) -> float | None:
        """Take one request from `key`'s bucket: None when allowed, else seconds to wait."""
        now = self._clock()
        bucket = self._buckets.setdefault(key, _Bucket(self._capacity, now))
        bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self._rate

    def clear(self) -> None:
        """Forget every bucket."""
        self._buckets.clear()


def retry_after_headers(wait: float) -> dict[str, str]:
    """`Retry-After` in whole seconds (at least 1) and `retry-after-ms`."""
    return {
        "Retry-After": str(max(1, math.ceil(wait))),
        "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
    }
