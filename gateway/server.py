"""The gateway process: the grpc.aio server, its standard services, and what it owns.

`Gateway` starts, in order, the embedded sandbox (when configured so), the upstream client, and
the gRPC server with BatchTranscriptionService, grpc.health.v1 and server reflection; it stops
them in reverse order. Everything asyncio is created here, inside the running loop, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from types import TracebackType
from typing import Self

import grpc
import structlog
from grpc_health.v1 import _async as health_aio  # public as health.aio; grpc-stubs lacks it
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc

from gateway.config import SANDBOX_KEY, ConfigError, GatewayConfig
from gateway.credentials import CallerAuth, check_exposure
from gateway.decoding import DecodeGuard
from gateway.idempotency import IdempotencyStore
from gateway.limiter import ConcurrencyLimiter
from gateway.sandbox import SandboxConfig, SandboxServer
from gateway.servicer import BatchTranscriptionServicer
from gateway.status_hub import Cadence, StatusHub
from gateway.tls import load_tls
from gateway.upstream import UpstreamClient, UpstreamConfig

SERVICE_NAME: str = batch_service_pb2.DESCRIPTOR.services_by_name[
    "BatchTranscriptionService"
].full_name

log = structlog.get_logger("gateway.server")


def server_options(config: GatewayConfig) -> list[tuple[str, int]]:
    """grpc.aio server options: message sizes, and keepalive suited to long watch streams."""
    options = [
        ("grpc.max_receive_message_length", config.max_receive_message_bytes),
        ("grpc.max_send_message_length", config.max_send_message_bytes),
        # Ping idle connections so a watcher that vanished without a FIN is noticed and its
        # stream (and, for the last watcher, the poller) ends.
        ("grpc.keepalive_time_ms", int(config.keepalive_time * 1000)),
        ("grpc.keepalive_timeout_ms", int(config.keepalive_timeout * 1000)),
        # Let clients keep a quiet watch alive with their own pings, down to every 10 s.
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
    ]
    if config.max_connection_age > 0:
        options += [
            ("grpc.max_connection_age_ms", int(config.max_connection_age * 1000)),
            ("grpc.max_connection_age_grace_ms", int(config.max_connection_age_grace * 1000)),
        ]
    return options


class Gateway:
    """A running gateway: `async with Gateway(config) as gw:` serves on `gw.address`."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.sandbox: SandboxServer | None = None
        self.client: UpstreamClient | None = None
        self.server: grpc.aio.Server | None = None
        self.health: health_aio.HealthServicer | None = None
        self.hub: StatusHub | None = None
        self.idempotency: IdempotencyStore | None = None
        self.limiter: ConcurrencyLimiter | None = None
        self.port = 0
        self.upstream_url = ""

    @property
    def address(self) -> str:
        """host:port the gateway listens on (the real port when 0 was asked for)."""
        host = self.config.listen.rsplit(":", 1)[0]
        return f"{host}:{self.port}"

    async def start(self) -> None:
        """Start everything; on failure, stop what was started."""
        try:
            await self._start()
        except BaseException:
            await self.stop(0)
            raise

    async def _start(self) -> None:
        config = self.config
        api_key = config.api_key
        # Security settings first, so a bad one (ConfigError: `serve` exits 2) starts nothing.
        tls = load_tls(config)
        callers = CallerAuth.from_config(config, mtls=tls is not None and tls.mutual)
        check_exposure(config, callers)
        if config.embedded_sandbox:
            self.sandbox = SandboxServer(
                SandboxConfig(item_seconds=config.sandbox_item_seconds), host="127.0.0.1", port=0
            )
            await self.sandbox.__aenter__()
            self.upstream_url = self.sandbox.url
            api_key = SANDBOX_KEY
            log.info(
                "embedded sandbox started: no SOFER_API_URL or SOFER_API_KEY given, so the "
                "gateway talks to an in-process sandbox upstream",
                sandbox_url=self.sandbox.url,
            )
        else:
            assert config.upstream_url is not None
            self.upstream_url = config.upstream_url
        self.client = UpstreamClient(
            UpstreamConfig(
                base_url=self.upstream_url,
                default_timeout=config.default_timeout,
                connect_timeout=config.connect_timeout,
                max_attempts=config.max_attempts,
                backoff_base=config.backoff_base,
                backoff_cap=config.backoff_cap,
                budget_max_tokens=config.retry_budget_tokens,
                budget_token_ratio=config.retry_budget_ratio,
            )
        )
        await self.client.start()
        self.idempotency = IdempotencyStore(
            ttl=config.idempotency_ttl,
            max_per_tenant=config.idempotency_max_per_tenant,
            max_records=config.idempotency_max_records,
        )
        self.hub = StatusHub(
            self.client,
            Cadence(
                fast=config.watch_fast_interval,
                slow=max(config.watch_slow_interval, config.watch_fast_interval),
                factor=config.watch_backoff_factor,
            ),
            max_watches=config.max_watches,
        )
        self.server = grpc.aio.server(
            interceptors=[DecodeGuard(f"/{SERVICE_NAME}/")], options=server_options(config)
        )
        self.limiter = ConcurrencyLimiter(
            config.max_concurrent_calls, config.max_queued_calls, config.max_queue_wait
        )
        servicer = BatchTranscriptionServicer(
            self.client,
            self.hub,
            api_key=api_key,
            default_timeout=config.default_timeout,
            idempotency=self.idempotency,
            limiter=self.limiter,
            caller_auth=callers,
        )
        batch_service_pb2_grpc.add_BatchTranscriptionServiceServicer_to_server(
            servicer, self.server
        )
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server
        )
        if tls is None:
            self.port = self.server.add_insecure_port(config.listen)
        else:
            self.port = self.server.add_secure_port(config.listen, tls.server_credentials())
        if self.port == 0:
            raise OSError(f"cannot listen on {config.listen}")
        await self.server.start()
        serving = health_pb2.HealthCheckResponse.SERVING
        await self.health.set(health.OVERALL_HEALTH, serving)
        await self.health.set(SERVICE_NAME, serving)
        log.info(
            "gateway serving",
            address=self.address,
            upstream=self.upstream_url,
            embedded_sandbox=self.sandbox is not None,
            credentials="configured key" if api_key else "callers' own tokens only",
            tls="mutual" if tls is not None and tls.mutual else ("on" if tls else "off"),
            caller_tokens=callers.tokens,
        )

    async def stop(self, grace: float | None = None) -> None:
        """Health NOT_SERVING; open watches end UNAVAILABLE ("shutting down, reconnect") and
        their pollers stop; then the server (in-flight unary RPCs get `grace` seconds), the
        upstream client and the sandbox: the reverse of start."""
        grace = self.config.shutdown_grace if grace is None else grace
        if self.health is not None:
            await self.health.enter_graceful_shutdown()
        if self.hub is not None:
            await self.hub.close()
        if self.server is not None:
            await self.server.stop(grace)
            self.server = None
        if self.idempotency is not None:
            await self.idempotency.close()
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        if self.sandbox is not None:
            await self.sandbox.__aexit__(None, None, None)
            self.sandbox = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def serve(config: GatewayConfig) -> int:
    """Run the gateway until SIGINT or SIGTERM; then shut down gracefully and return 0.

    Settings that cannot work (gateway.config.ConfigError) print one line naming the flag to
    stderr and return 2 (the exit status of a usage error) instead of a traceback."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Gateway(config):
            await stop.wait()
            log.info("shutting down", grace_seconds=config.shutdown_grace)
    except ConfigError as exc:  # raised at start only: nothing was serving
        print(f"sofer-gateway serve: error: {exc}", file=sys.stderr)
        return 2
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    log.info("stopped")
    return 0
