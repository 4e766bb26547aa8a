"""Request counts per "METHOD /path/template", for the admin API's GET /_sandbox/stats."""

from __future__ import annotations

from collections import Counter
from typing import Any


class RequestStats:
    """Counts every /v1 request received, including faulted and rate-limited ones."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def count(self, method: str, template: str) -> None:
        """Count one request."""
        self._counts[f"{method} {template}"] += 1

    def snapshot(self) -> dict[str, Any]:
        """`{"total": n, "requests": {"GET /v1/...": n, ...}}`."""
        return {"total": sum(self._counts.values()), "requests": dict(sorted(self._counts.items()))}

    def clear(self) -> None:
        """Start counting from zero."""
        self._counts.clear()
