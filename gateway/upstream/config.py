"""The upstream client's settings: process-wide (`UpstreamConfig`) and per call (`CallOptions`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from gateway import __version__


@dataclass(frozen=True)
class UpstreamConfig:
    """How the client talks to one upstream. See docs/upstream-client.md for the policy."""

    base_url: str = "https://api.sofer.ai"
    default_timeout: float = 30.0
    """Seconds a call may take in all (attempts and waits) when the caller gives no deadline."""
    connect_timeout: float = 5.0
    """Upper bound on establishing one connection (further capped by the time left)."""
    attempt_timeout: float | None = None
    """Upper bound on one attempt; None lets an attempt use all the time left."""
    max_attempts: int = 5
    """HTTP attempts per call, the first included."""
    backoff_base: float = 0.1
    """Seconds: the ceiling of the first full-jitter wait; it doubles with each retry."""
    backoff_cap: float = 5.0
    """Seconds: the largest full-jitter ceiling (not applied to the upstream's Retry-After)."""
    budget_max_tokens: float = 10.0
    """Retry budget (gRFC A6): tokens at start; retries only while tokens > half of this."""
    budget_token_ratio: float = 0.1
    """Retry budget: tokens a successful attempt gives back (a transient failure costs 1)."""
    max_connections: int = 100
    """Connections in the shared pool (all of them may be kept alive)."""
    pool_timeout: float | None = None
    """Longest seconds an attempt waits for a free pooled connection (None: its whole time);
    past it the call fails PoolExhausted, before anything is sent."""
    max_response_bytes: int = 32 * 1024 * 1024
    """Largest answer taken from the upstream, its raw body and its decoded body each; past it
    the attempt fails ProtocolError (gateway.upstream.reply)."""
    user_agent: str = f"sofer-gateway/{__version__}"

    def __post_init__(self) -> None:
        positive = {
            "default_timeout": self.default_timeout,
            "connect_timeout": self.connect_timeout,
            "backoff_cap": self.backoff_cap,
            "budget_max_tokens": self.budget_max_tokens,
            "max_attempts": self.max_attempts,
            "max_connections": self.max_connections,
            "max_response_bytes": self.max_response_bytes,
        }
        if self.attempt_timeout is not None:
            positive["attempt_timeout"] = self.attempt_timeout
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"UpstreamConfig.{name} must be > 0, got {value!r}")
        if self.backoff_base < 0 or self.budget_token_ratio < 0:
            raise ValueError("UpstreamConfig.backoff_base and budget_token_ratio must be >= 0")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"UpstreamConfig.base_url must be an http(s) URL: {self.base_url!r}")


class Priority(enum.IntEnum):
    """Who goes first for the upstream rate budget (`--upstream-rate-limit`): lower first."""

    CREATE = 0
    """Creates (POST): a caller is about to start paid work."""
    READ = 1
    """Callers' reads."""
    POLL = 2
    """Background watch polls: they stretch their cadence to what the budget leaves."""


@dataclass
class CallOptions:
    """One call's credential, deadline and request id; `attempts` is filled in by the client."""

    token: str = field(repr=False)
    """The bearer credential, sent as `Authorization: Bearer <token>`; never logged or shown."""
    deadline: float | None = None
    """Absolute time on the client's clock (time.monotonic by default); None: default_timeout."""
    request_id: str | None = None
    """Sent upstream as X-Request-Id."""
    attempts: int = 0
    """Set by the client: the HTTP attempts this call made (0 if none was sent)."""
    priority: Priority = Priority.READ
    """Its place in the upstream rate budget; creates are always Priority.CREATE."""

    def fresh(self) -> CallOptions:
        """A copy with no attempts counted (a shared read's own count): what
        `dataclasses.replace(self, attempts=0)` makes, without its introspection on every read."""
        return CallOptions(self.token, self.deadline, self.request_id, 0, self.priority)
