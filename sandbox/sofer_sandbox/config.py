"""The sandbox's settings: one frozen dataclass, shared by the app, the server and the CLI."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SandboxConfig:
    """How the sandbox upstream behaves; every field has a default fit for tests.

    `clock` drives every time-dependent answer (item progress, manifest validation, the rate
    limiter) so that a test can step time by hand; `wall_clock` (epoch seconds) stamps the
    `created_at` of batches and transcriptions, and never affects behaviour.
    """

    # Each item goes RECEIVED -> PROCESSING -> COMPLETED (or FAILED) in this many seconds.
    item_seconds: float = 5.0
    # How long a new manifest stays PENDING_VALIDATION; 0 answers VALID/INVALID at once.
    manifest_validation_seconds: float = 0.5
    # Requests per second per token; None disables the limiter.
    rate_limit: float | None = None
    # Accepted bearer tokens; empty means any non-empty token is a tenant of its own.
    api_keys: frozenset[str] = frozenset()
    # Monotonic seconds; injectable for deterministic tests.
    clock: Callable[[], float] = field(default=time.monotonic)
    # Epoch seconds for `created_at` stamps; injectable so a test can create at known times.
    wall_clock: Callable[[], float] = field(default=time.time)
    # Manifest listing: default and maximum page size of GET /v1/transcriptions/batch-files.
    list_page_size: int = 50
    list_max_page_size: int = 100
    # RSS import: largest feed accepted, and the fetch timeout.
    rss_max_bytes: int = 5 * 1024 * 1024
    rss_timeout_seconds: float = 10.0
    # Each API key's starting balance in cents (GET /v1/balance/); None: a key has no account
    # (404, and its work has no funds) until the admin API funds it. The default ($1,000,000)
    # is more than any test or benchmark spends unless it asks to run out.
    start_balance_cents: int | None = 100_000_000
    # Largest decoded base64 `audio_file` accepted (single create, duration); above it a 422.
    max_audio_file_bytes: int = 100 * 1024 * 1024
