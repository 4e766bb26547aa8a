"""Retry throttling for one upstream, as in gRFC A6: a failing upstream is not hammered."""

from __future__ import annotations

from typing import Final

_SCALE: Final = 1000  # tokens are kept in thousandths, as A6 asks, so 0.1 steps never drift


class RetryBudget:
    """A token bucket shared by every call to one upstream.

    Starts full at `max_tokens`. Each transient failure (a retryable status or a transport
    error, whichever method) costs one token, each success gives back `token_ratio`, and a
    retry is allowed only while tokens > max_tokens / 2. First attempts are never throttled.
    Not thread-safe, nor need it be: it lives in one event loop and never awaits.
    """

    def __init__(self, max_tokens: float = 10.0, token_ratio: float = 0.1) -> None:
        self._max = round(max_tokens * _SCALE)
        self._ratio = round(token_ratio * _SCALE)
        self._tokens = self._max

    @property
    def tokens(self) -> float:
        """The tokens left (for logs, metrics and tests)."""
        return self._tokens / _SCALE

    def allows_retry(self) -> bool:
        """True while the upstream has not failed too often lately."""
        return self._tokens * 2 > self._max

    def record_failure(self) -> None:
        """A transient failure: one token less (never below zero)."""
        self._tokens = max(0, self._tokens - _SCALE)

    def record_success(self) -> None:
        """A success: `token_ratio` tokens back (never above the maximum)."""
        self._tokens = min(self._max, self._tokens + self._ratio)
