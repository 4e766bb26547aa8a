"""Request counts per "METHOD /path/template", for the admin API's GET /_sandbox/stats."""

from __future__ import annotations

from collections import Counter
from typing import Any


class RequestStats:
    """Counts every /v1 request received, including faulted and rate-limited ones, and the
    resources the requests created (so a test can tell a retried create from a second one)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._created: Counter[str] = Counter()

    def count(self, method: str, template: str) -> None:
        """Count one request."""
        self._counts[f"{method} {template}"] += 1

    def created(self, kind: str) -> None:
        """Count one resource created ("batches", "manifests")."""
        self._created[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """`{"total": n, "requests": {"GET /v1/...": n, ...}, "created": {"batches": n}}`;
        `created` appears once something was created."""
        snapshot: dict[str, Any] = {
            "total": sum(self._counts.values()),
            "requests": dict(sorted(self._counts.items())),
        }
        if self._created:
            snapshot["created"] = dict(sorted(self._created.items()))
        return snapshot

    def clear(self) -> None:
        """Start counting from zero."""
        self._counts.clear()
        self._created.clear()
