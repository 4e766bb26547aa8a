"""Request counts per "METHOD /path/template", for the admin API's GET /_sandbox/stats."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class RequestStats:
    """Counts every /v1 request received, including faulted and rate-limited ones, and the
    resources the requests created (so a test can tell a retried create from a second one)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._created: Counter[str] = Counter()
        self._in_flight = 0
        self._peak = 0

    def count(self, method: str, template: str) -> None:
        """Count one request."""
        self._counts[f"{method} {template}"] += 1

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Count one /v1 request as in flight while the body runs (for the peak)."""
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)
        try:
            yield
        finally:
            self._in_flight -= 1

    def created(self, kind: str) -> None:
        """Count one resource created ("batches", "manifests")."""
        self._created[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """`{"total": n, "requests": {"GET /v1/...": n, ...}, "created": {"batches": n},
        "peak_in_flight": n}`; `created` appears once something was created, `peak_in_flight`
        (the most /v1 requests being served at once) once a request was received."""
        snapshot: dict[str, Any] = {
            "total": sum(self._counts.values()),
            "requests": dict(sorted(self._counts.items())),
        }
        if self._peak:
            snapshot["peak_in_flight"] = self._peak
        if self._created:
            snapshot["created"] = dict(sorted(self._created.items()))
        return snapshot

    def clear(self) -> None:
        """Start counting from zero."""
        self._counts.clear()
        self._created.clear()
        self._peak = self._in_flight
