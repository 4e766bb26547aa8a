"""The process's one Redis client (redis-py's asyncio client), and the keyed hash that names
tenants in Redis.

`redis_settings(config)` checks the Redis settings at start (ConfigError naming the flag or
variable) and resolves the key secret; `RedisConnection` makes the client inside the running
loop and closes it on stop. Everything the gateway keeps in Redis is keyed by
`TenantHasher`: HMAC-SHA256, under a per-deployment secret, of the credential's tenant key
(itself a SHA-256 of the token), so that Redis holds no credential, and whoever reads Redis can
neither reverse a key into a token nor test a guessed token against it without the secret.

The secret: `SOFER_GATEWAY_REDIS_KEY_SECRET` when set (at least 16 characters; every replica
of a deployment must have the same one), else derived from the configured key
(`SOFER_API_KEY`), which the replicas of a deployment share anyway. A gateway with neither
refuses to start with --redis-url. Changing the secret (or, without one, the key) orphans the
records in Redis: retries after the change are not recognised (docs/redis.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import redis.asyncio as aioredis
import structlog
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.config import ConfigError, GatewayConfig

KEY_SECRET_ENV = "SOFER_GATEWAY_REDIS_KEY_SECRET"  # noqa: S105 (a variable's name)
MIN_KEY_SECRET = 16
"""Characters the explicit key secret must have (e.g. `secrets.token_urlsafe(32)`)."""
FALLBACKS = ("fail", "local")
"""The values of --idempotency-fallback."""
COMMAND_TIMEOUT = 2.0
"""Seconds one Redis command (or connecting) may take before Redis counts as unreachable: a
create with a request_id then fails fast instead of spending its caller's deadline."""
_DERIVE_LABEL = b"sofer-gateway redis key secret v1"
log = structlog.get_logger("gateway.state.redis_client")


@dataclass(frozen=True)
class RedisSettings:
    """The checked Redis settings of a gateway with --redis-url."""

    url: str = field(repr=False)  # may carry a password
    key_secret: bytes = field(repr=False)
    fallback_local: bool

    @property
    def where(self) -> str:
        """host:port (or the socket path) and the database, for the logs: never the password."""
        parts = urlsplit(self.url)
        if parts.scheme == "unix":
            return f"unix:{parts.path}"
        db = parts.path.strip("/") or "0"
        return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}/{db}"


def redis_settings(
    config: GatewayConfig, environ: Mapping[str, str] | None = None
) -> RedisSettings | None:
    """The Redis settings, checked (None: no --redis-url, state stays in memory).

    Raises ConfigError naming the flag (or variable) for a fallback that is not "fail" or
    "local", a URL redis-py cannot use, or no key secret to be had."""
    env = os.environ if environ is None else environ
    if config.idempotency_fallback not in FALLBACKS:
        raise ConfigError(
            f"--idempotency-fallback must be 'fail' or 'local', not {config.idempotency_fallback!r}"
        )
    if not config.redis_url:
        return None
    try:
        parse_url(config.redis_url)
    except ValueError as exc:
        raise ConfigError(
            f"--redis-url: not a Redis URL ({exc}); use redis://HOST:PORT/DB, rediss://... for "
            "TLS, or unix:///path/to/socket"
        ) from None
    return RedisSettings(
        url=config.redis_url,
        key_secret=_key_secret(config, env),
        fallback_local=config.idempotency_fallback == "local",
    )


def _key_secret(config: GatewayConfig, env: Mapping[str, str]) -> bytes:
    explicit = env.get(KEY_SECRET_ENV, "")
    if explicit:
        if len(explicit) < MIN_KEY_SECRET:
            raise ConfigError(
                f"{KEY_SECRET_ENV} must have at least {MIN_KEY_SECRET} characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return explicit.encode()
    if config.api_key:
        return hmac.new(config.api_key.encode(), _DERIVE_LABEL, hashlib.sha256).digest()
    raise ConfigError(
        f"--redis-url needs {KEY_SECRET_ENV} (the same secret on every replica: it keys the "
        "hashes that name tenants in Redis) when the gateway has no SOFER_API_KEY to derive it from"
    )


class TenantHasher:
    """Names a tenant in Redis: HMAC-SHA256 of its tenant key under the deployment's secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __call__(self, tenant: str) -> str:
        return hmac.new(self._secret, tenant.encode(), hashlib.sha256).hexdigest()[:32]

    def __repr__(self) -> str:
        return "TenantHasher(<secret>)"


class RedisConnection:
    """One redis.asyncio client per process: `start()` in the running loop, `aclose()` on stop.

    Commands fail after COMMAND_TIMEOUT; a connection found broken (Redis restarted) is
    reopened and the command tried once more, at once; anything longer is the caller's to
    handle (shared state says "unavailable" and rejoins when Redis answers again)."""

    def __init__(self, settings: RedisSettings) -> None:
        self.settings = settings
        self.hash_tenant = TenantHasher(settings.key_secret)
        self._client: aioredis.Redis | None = None

    @property
    def client(self) -> aioredis.Redis:
        """The client (after `start`)."""
        if self._client is None:
            raise RuntimeError("RedisConnection.start() was not called")
        return self._client

    async def start(self) -> None:
        """Make the client. Connects lazily: a Redis that is down does not stop the gateway."""
        self._client = aioredis.Redis.from_url(
            self.settings.url,
            socket_timeout=COMMAND_TIMEOUT,
            socket_connect_timeout=COMMAND_TIMEOUT,
            retry=Retry(NoBackoff(), 1),
            client_name="sofer-gateway",
        )

    async def aclose(self) -> None:
        """Close the client and its connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def stop_if_cancelled() -> None:
    """Raise CancelledError when the current task was asked to stop.

    A loop that survives Redis errors and goes on (a heartbeat, a probe, a sweep, a listener, a
    lease renewal) calls this at the top of each turn. A cancellation that lands while redis-py
    runs a command was seen not to end such a task: the idempotency heartbeat stayed
    "cancelling" in its loop and its owner's close() waited forever (a gateway's stop hung in
    about one of twenty runs of a three-replica test; none in forty with this check). The task
    still counts the request (`Task.cancelling()`), whatever became of the CancelledError."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Reachability:
    """Whether Redis answers, for one user of the connection (the shared pollers, the shared
    rate budget): `lost(exc)` says so once in the log, with what the gateway does meanwhile,
    and starts a probe that PINGs every `interval` seconds until Redis answers; then it says so
    once more and `available` is True again. `wait_available()` returns at that moment."""

    def __init__(
        self, redis: RedisConnection, *, meanwhile: str, again: str, interval: float = 1.0
    ) -> None:
        self._redis = redis
        self._meanwhile = meanwhile
        self._again = again
        self.interval = interval
        self._back = asyncio.Event()
        self._back.set()
        self._probe: asyncio.Task[None] | None = None

    @property
    def available(self) -> bool:
        """Whether Redis answered the last command."""
        return self._back.is_set()

    async def wait_available(self) -> None:
        """Return when Redis answers (at once when it does)."""
        await self._back.wait()

    def lost(self, exc: BaseException) -> None:
        """A command failed: Redis counts as down until a PING answers."""
        if not self.available:
            return
        self._back.clear()
        log.warning(
            f"redis unavailable: {self._meanwhile}",
            redis=self._redis.settings.where,
            error=type(exc).__name__,
        )
        self._probe = asyncio.create_task(self._wait(), name="redis probe")

    async def close(self) -> None:
        """Stop the probe, if one runs."""
        probe, self._probe = self._probe, None
        if probe is not None:
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe

    async def _wait(self) -> None:
        while True:
            stop_if_cancelled()
            await asyncio.sleep(self.interval)
            try:
                await self._redis.client.ping()
            except (RedisError, OSError):
                continue
            self._back.set()
            log.info(f"redis available again: {self._again}", redis=self._redis.settings.where)
            return
