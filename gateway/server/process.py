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
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

import grpc
import structlog
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc

from gateway.access.caller_quota import CallerQuota, Kind
from gateway.access.credentials import CallerAuth, check_exposure
from gateway.config import SANDBOX_KEY, ConfigError, GatewayConfig
from gateway.events.log import EventLog, LogBounds, MemoryEventLog
from gateway.events.redis_log import RedisEventLog
from gateway.observability import tracing
from gateway.observability.metrics import GatewayMetrics, Reading, upstream_readings
from gateway.server.decoding import DecodeGuard
from gateway.server.grpc_adapter import for_grpc
from gateway.server.health import HealthServicer, start_health_listener
from gateway.server.inflight import InFlight
from gateway.server.limiter import ConcurrencyLimiter
from gateway.server.listen import NO_REUSEPORT, bind
from gateway.server.passthrough import PassThrough
from gateway.server.request_message import RequestMessageTimeout
from gateway.server.servicer import BatchTranscriptionServicer
from gateway.server.spend_guard import SpendGuard
from gateway.server.tls import TlsMaterial, load_tls
from gateway.state.audio_budget import MemoryAudioBudgets, RedisAudioBudgets
from gateway.state.idempotency import Idempotency, IdempotencyStore
from gateway.state.idempotency_redis import RedisIdempotencyStore
from gateway.state.manifest_items import MemoryManifestItems, RedisManifestItems
from gateway.state.rate_budget_redis import RedisRateBuckets
from gateway.state.redis_client import RedisConnection, redis_settings
from gateway.upstream import UpstreamClient
from gateway.upstream.rate_budget import RateBudget
from gateway.watch.exchange import StatusExchange
from gateway.watch.hub import Cadence, StatusHub
from gateway.webhooks.addresses import Policy as AddressPolicy
from gateway.webhooks.deliveries import Deliveries
from gateway.webhooks.deliveries import Policy as DeliveryPolicy
from gateway.webhooks.sender import Sender
from gateway.webhooks.service import Webhooks
from gateway.webhooks.store import MemoryWebhookStore, WebhookStore
from gateway.webhooks.store_redis import RedisWebhookStore

if TYPE_CHECKING:
    from sofer_sandbox import SandboxServer

SERVICE = batch_service_pb2.DESCRIPTOR.services_by_name["BatchTranscriptionService"]
SERVICE_NAME: str = SERVICE.full_name

log = structlog.get_logger("gateway.server.process")

SHUTDOWN_MARGIN = 0.25
"""Seconds before the shutdown grace ends at which unfinished calls answer by themselves."""
POLLER_CONNECTIONS = 64
"""Upstream connections kept beside --max-concurrent-calls for the watch pollers."""


SANDBOX_MISSING = (
    "no SOFER_API_KEY or SOFER_API_URL given, so the gateway would start its embedded sandbox "
    "upstream, which is not installed: pip install 'sofer-gateway[sandbox]' for the sandbox "
    "(in a clone: make install), or set SOFER_API_KEY (and SOFER_API_URL) for the real API"
)


def embedded_sandbox(item_seconds: float) -> SandboxServer:
    """The sandbox upstream on a free loopback port, not yet started. The sandbox is an extra
    (sofer-gateway[sandbox]: starlette and uvicorn), imported only when it is used: ConfigError
    saying what to install when it is missing."""
    try:
        from sofer_sandbox import SandboxConfig, SandboxServer
    except ImportError as exc:
        raise ConfigError(SANDBOX_MISSING) from exc
    return SandboxServer(SandboxConfig(item_seconds=item_seconds), host="127.0.0.1", port=0)


def upstream_connections(config: GatewayConfig) -> int:
    """The upstream pool's size: --upstream-max-connections, or (0) one connection per unary
    slot plus POLLER_CONNECTIONS, so that an admitted call never queues invisibly for one."""
    if config.upstream_max_connections > 0:
        return config.upstream_max_connections
    return config.max_concurrent_calls + POLLER_CONNECTIONS


def pending_backlog(config: GatewayConfig) -> tuple[int, int]:
    """grpc core's backlog of calls not yet matched to a handler: (soft, hard) limits.

    grpc.aio asks core for one call at a time, so a burst (every client reconnecting after a
    deploy) waits in core's backlog until the event loop takes it. Past the soft limit core
    refuses a growing share of new calls, past the hard limit all of them, and a call refused
    there ends a bare CANCELLED that the gateway never sees (no ErrorInfo, no log line). The
    soft limit holds everything the gateway admits at once by itself, every watch of
    --max-watches plus the unary calls working and queued, so that its own limits answer
    (RESOURCE_EXHAUSTED with a reason); the hard limit is twice that, so that even a burst of
    twice as many still reaches them (grpc's defaults are 1,000 and 3,000)."""
    soft = config.max_watches + config.max_concurrent_calls + config.max_queued_calls
    return soft, 2 * soft


def server_options(config: GatewayConfig) -> list[tuple[str, int]]:
    """grpc.aio server options: message sizes, streams per connection, the pending-call
    backlog (`pending_backlog`), and keepalive suited to long watch streams."""
    soft, hard = pending_backlog(config)
    options = [
        NO_REUSEPORT,  # one process per port: a taken port fails the start (gateway.server.listen)
        ("grpc.server.max_pending_requests", soft),
        ("grpc.server.max_pending_requests_hard_limit", hard),
        ("grpc.max_receive_message_length", config.max_receive_message_bytes),
        ("grpc.max_send_message_length", config.max_send_message_bytes),
        # Advertised in SETTINGS_MAX_CONCURRENT_STREAMS; core refuses streams past it, so one
        # connection cannot open calls without end (grpc's default is unlimited).
        ("grpc.max_concurrent_streams", config.max_concurrent_streams),
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


REDIS_HEALTH_SERVICE = "sofer.gateway.Redis"
"""The grpc.health.v1 service name that reports Redis (--redis-url only): SERVING while the
state is shared, NOT_SERVING while the gateway runs in local mode. Not a readiness signal: the
gateway serves either way (docs/redis.md)."""
REDIS_HEALTH_INTERVAL = 0.5
"""Seconds between looks at Redis's availability for REDIS_HEALTH_SERVICE."""


# --- connect ---
class Face(Protocol):
    """Another protocol's port serving the same servicer (gateway.connect: --http-listen)."""

    port: int

    async def stop(self, grace: float) -> None:
        """Stop taking calls; in-flight ones get `grace` seconds."""
        ...


FaceStarter = Callable[
    [BatchTranscriptionServicer, ServiceDescriptor, GatewayConfig, TlsMaterial | None],
    Awaitable[Face],
]
"""Starts a Face once the gRPC server serves (the layers above the server provide them)."""


class Gateway:
    """A running gateway: `async with Gateway(config) as gw:` serves on `gw.address`; `faces`
    start other protocols' ports over the same servicer (gateway.connect)."""

    def __init__(self, config: GatewayConfig, faces: Sequence[FaceStarter] = ()) -> None:
        self.config = config
        # --- connect ---
        self._face_starters = tuple(faces)
        self.faces: list[Face] = []
        self.sandbox: SandboxServer | None = None
        self.client: UpstreamClient | None = None
        self.rate_budget: RateBudget | None = None
        self.server: grpc.aio.Server | None = None
        self.health: HealthServicer | None = None
        self.hub: StatusHub | None = None
        self.idempotency: Idempotency | None = None
        self.redis: RedisConnection | None = None
        self.exchange: StatusExchange | None = None
        self.events: EventLog | None = None
        """The batches' event log (gateway.events), once started."""
        self._redis_health: asyncio.Task[None] | None = None
        self.limiter: ConcurrencyLimiter | None = None
        self.caller_quota: CallerQuota | None = None
        self.spend_guard: SpendGuard | None = None
        self.in_flight = InFlight()
        self.tracing: tracing.Tracing | None = None
        self.health_server: grpc.aio.Server | None = None
        self.health_port = 0
        self.metrics: GatewayMetrics | None = None
        self.metrics_port = 0
        self.port = 0
        self.upstream_url = ""
        # --- webhooks ---
        self.webhooks: Webhooks | None = None
        self.webhook_clock: Callable[[], float] = time.monotonic
        self.webhook_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        """What times and waits out webhook retries (tests inject a clock that never sleeps)."""

    @property
    def redis_available(self) -> bool | None:
        """Whether the shared store (Redis) answered last time it was asked; None: no
        --redis-url. The gateway stays SERVING without it (reads and watches work on)."""
        if isinstance(self.idempotency, RedisIdempotencyStore):
            exchange = self.exchange
            shared = exchange is None or exchange.available
            return self.idempotency.redis_available and shared
        return None

    def _redis_readings(self) -> list[Reading]:
        up = self.redis_available
        if up is None:  # with --redis-url only
            return []
        return [
            Reading(
                "redis_up",
                "With --redis-url: 1 while Redis answers (state shared by replicas), 0 while "
                "the gateway runs in local mode",
                1 if up else 0,
            )
        ]

    async def _report_redis(self) -> None:
        """Keep REDIS_HEALTH_SERVICE's health status on Redis: SERVING while it answers,
        NOT_SERVING in local mode. The gateway's own status stays SERVING either way."""
        shown: bool | None = None
        while self.health is not None:
            up = self.redis_available
            if up is not shown:
                shown = up
                status = health_pb2.HealthCheckResponse.SERVING
                if not up:
                    status = health_pb2.HealthCheckResponse.NOT_SERVING
                await self.health.set(REDIS_HEALTH_SERVICE, status)
            await asyncio.sleep(REDIS_HEALTH_INTERVAL)

    # --- webhooks ---
    async def _start_webhooks(self) -> Webhooks | None:
        """Webhooks over the event log: endpoints in Redis with --redis-url, else in memory."""
        if self.events is None or self.hub is None:
            return None
        config = self.config
        policy = AddressPolicy(
            allow_http=config.webhook_allow_http,
            allow_private=config.webhook_allow_private_addresses,
        )
        sender = Sender(policy)
        await sender.start()
        store: WebhookStore = (
            MemoryWebhookStore() if self.redis is None else RedisWebhookStore(self.redis)
        )
        deliveries = Deliveries(
            store,
            self.events,
            sender,
            DeliveryPolicy(
                retry_for=config.webhook_retry_for,
                # A lane's lease is a poller's: a dead replica's lanes move within about as long.
                lease=config.poll_lease,
                sweep_every=config.poll_lease / 2,
            ),
            clock=self.webhook_clock,
            sleep=self.webhook_sleep,
            counted=self.metrics.webhook_attempted if self.metrics is not None else None,
        )
        deliveries.start()
        return Webhooks(store, deliveries, self.hub, policy, self.events)

    def _webhook_readings(self) -> list[Reading]:
        hooks = self.webhooks
        if hooks is None:
            return []
        return [
            Reading("webhook_lanes", "Webhook delivery lanes running now", hooks.deliveries.lanes),
            Reading("webhook_batches_followed", "Batches watched for webhooks", hooks.followed),
        ]

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
        shared = redis_settings(config)
        # OTEL_* settings: a bad one is a ConfigError too; on, before the client and the server
        # are built, since both are instrumented as they are made.
        self.tracing = tracing.start()
        if config.embedded_sandbox:
            self.sandbox = embedded_sandbox(config.sandbox_item_seconds)
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
        if config.metrics_listen:  # before the client and servicer, which count into it
            self.metrics = GatewayMetrics(quota_kinds=[kind.value for kind in Kind])
            self.metrics_port = self.metrics.serve(config.metrics_listen)
        if config.upstream_rate_limit > 0:
            self.rate_budget = RateBudget(
                config.upstream_rate_limit, config.upstream_burst, observer=self.metrics
            )
        self.client = UpstreamClient(
            config.upstream(
                self.upstream_url,
                max_connections=upstream_connections(config),
                pool_timeout=config.max_queue_wait,
            ),
            observer=self.metrics,
            rate_budget=self.rate_budget,
            instrument=tracing.instrument_client,
        )
        await self.client.start()
        memory = IdempotencyStore(
            ttl=config.idempotency_ttl,
            max_per_tenant=config.idempotency_max_per_tenant,
            max_records=config.idempotency_max_records,
        )
        self.idempotency = memory
        if shared is not None:
            self.redis = RedisConnection(shared)
            await self.redis.start()
            if self.rate_budget is not None:  # one bucket per credential for every replica
                budget = self.rate_budget
                budget.share(RedisRateBuckets(self.redis, rate=budget.rate, burst=budget.burst))
            store = RedisIdempotencyStore(
                self.redis,
                ttl=config.idempotency_ttl,
                create_timeout=config.default_timeout,
                fallback=memory if shared.fallback_local else None,
            )
            await store.start()
            self.idempotency = store
        # --- issue 23: events ---
        bounds = LogBounds(
            max_events=config.event_log_max_events,
            max_age=config.event_log_max_age,
            max_batches=config.event_log_max_batches,
        )
        self.events = (
            MemoryEventLog(bounds) if self.redis is None else RedisEventLog(self.redis, bounds)
        )
        if self.redis is not None:
            stream = self.events if isinstance(self.events, RedisEventLog) else None
            self.exchange = StatusExchange(self.redis, lease=config.poll_lease, events=stream)
            await self.exchange.start()
        self.hub = StatusHub(
            self.client,
            Cadence(
                fast=config.watch_fast_interval,
                slow=max(config.watch_slow_interval, config.watch_fast_interval),
                factor=config.watch_backoff_factor,
            ),
            max_watches=config.max_watches,
            max_retry_after=config.watch_max_retry_after,
            shared=self.exchange,
            events=self.events,
        )
        self.server = grpc.aio.server(
            # Outermost first: the timeout reads each request with the guard's deserializer;
            # PassThrough innermost, so that the others keep the serializer it swaps in.
            interceptors=[
                *tracing.server_interceptors(),  # first: the span covers the rest
                RequestMessageTimeout(config.request_message_timeout),
                DecodeGuard(framed=[f"/{SERVICE_NAME}/"]),
                # The frame encodes every answer itself (to refuse one too large with its own
                # error): grpc sends the bytes as they are.
                PassThrough(f"/{SERVICE_NAME}/{m.name}" for m in SERVICE.methods),
            ],
            options=server_options(config),
        )
        self.limiter = ConcurrencyLimiter(
            config.max_concurrent_calls, config.max_queued_calls, config.max_queue_wait
        )
        self.caller_quota = CallerQuota.from_config(
            config, on_refused=self.metrics.caller_quota_refused if self.metrics else None
        )
        self.spend_guard = SpendGuard(
            self.client,
            preflight=config.balance_preflight,
            daily_audio_hours=config.caller_daily_audio_hours,
            budgets=MemoryAudioBudgets() if self.redis is None else RedisAudioBudgets(self.redis),
        )
        # --- webhooks ---
        self.webhooks = await self._start_webhooks()
        servicer = BatchTranscriptionServicer(
            self.client,
            self.hub,
            api_key=api_key,
            default_timeout=config.default_timeout,
            idempotency=self.idempotency,
            limiter=self.limiter,
            caller_auth=callers,
            in_flight=self.in_flight,
            status_max_age=config.status_max_age,
            status_reuse=config.status_reuse_window,
            metrics=self.metrics,
            caller_quota=self.caller_quota,
            max_response_bytes=config.max_send_message_bytes,
            spend_guard=self.spend_guard,
            max_upload_bytes=config.max_upload_bytes,
            manifest_items=(
                MemoryManifestItems() if self.redis is None else RedisManifestItems(self.redis)
            ),
            webhooks=self.webhooks,  # --- webhooks ---
        )
        if self.metrics is not None:
            self.metrics.track(
                asyncio.get_running_loop(),
                self.hub.readings,
                upstream_readings(self.client.budget, self.rate_budget),
                servicer.transcripts.readings,
                self._redis_readings,
                self.limiter.readings,
                self._webhook_readings,  # --- webhooks ---
            )
        batch_service_pb2_grpc.add_BatchTranscriptionServiceServicer_to_server(
            for_grpc(servicer, SERVICE), self.server
        )
        self.health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server
        )
        credentials = None if tls is None else tls.server_credentials()
        self.port = bind(self.server, config.listen, "--listen", credentials)
        await self.server.start()
        # --- connect ---
        for start_face in self._face_starters:
            self.faces.append(await start_face(servicer, SERVICE, config, tls))
        serving = health_pb2.HealthCheckResponse.SERVING
        await self.health.set(health.OVERALL_HEALTH, serving)
        await self.health.set(SERVICE_NAME, serving)
        if self.redis is not None:
            self._redis_health = asyncio.create_task(self._report_redis(), name="redis health")
        if config.health_listen:
            self.health_server, self.health_port = await start_health_listener(
                self.health,
                config.health_listen,
                request_message_timeout=config.request_message_timeout,
                max_concurrent_streams=config.max_concurrent_streams,
            )
        log.info(
            "gateway serving",
            address=self.address,
            upstream=self.upstream_url,
            embedded_sandbox=self.sandbox is not None,
            credentials="configured key" if api_key else "callers' own tokens only",
            tls="mutual" if tls is not None and tls.mutual else ("on" if tls else "off"),
            caller_tokens=callers.tokens,
            health_port=self.health_port or None,
            metrics_port=self.metrics_port or None,
            http_port=self.faces[0].port if self.faces else None,  # --- connect ---
            event_loop=type(asyncio.get_running_loop()).__module__.partition(".")[0],
        )

    async def stop(self, grace: float | None = None, drain: float = 0.0) -> None:
        """Health NOT_SERVING; `drain` seconds of serving on (load balancers stop sending);
        open watches end UNAVAILABLE ("shutting down, reconnect") and their pollers stop; then
        the server: in-flight unary RPCs get `grace` seconds, and those still running just
        before it ends answer with their own status (gateway.server.inflight: OUTCOME_UNKNOWN for a
        create that was sent, else SHUTTING_DOWN) rather than grpc's bare cancel; then the
        upstream client and the sandbox: the reverse of start."""
        grace = self.config.shutdown_grace if grace is None else grace
        if self._redis_health is not None:
            self._redis_health.cancel()
            self._redis_health = None
        if self.health is not None:
            await self.health.enter_graceful_shutdown()
        if drain > 0 and self.server is not None:
            log.info("draining: health NOT_SERVING, still serving", drain_seconds=drain)
            await asyncio.sleep(drain)
        if self.webhooks is not None:  # --- webhooks --- before the hub: their watches end
            await self.webhooks.close()
            await self.webhooks.deliveries.sender.close()
            self.webhooks = None
        if self.hub is not None:
            await self.hub.close()
        # --- connect --- the other ports stop with the gRPC one, under the same grace
        faces = [asyncio.create_task(face.stop(grace)) for face in self.faces]
        self.faces = []
        if self.server is not None:
            stopping = asyncio.create_task(self.server.stop(grace))
            await self.in_flight.wait_idle(grace - min(SHUTDOWN_MARGIN, grace / 4))
            self.in_flight.interrupt()
            await stopping
            self.server = None
        await asyncio.gather(*faces)
        if self.health_server is not None:  # after the main server: probes saw the drain
            await self.health_server.stop(0)
            self.health_server = None
        if self.idempotency is not None:
            await self.idempotency.close()
        if self.exchange is not None:  # after the hub: its pollers let their leases go
            await self.exchange.close()
            self.exchange = None
        if self.rate_budget is not None:  # before Redis: its probe uses the connection
            await self.rate_budget.close()
            self.rate_budget = None
        if self.redis is not None:
            await self.redis.aclose()
            self.redis = None
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        if self.sandbox is not None:
            await self.sandbox.__aexit__(None, None, None)
            self.sandbox = None
        if self.metrics is not None:  # late: scrapes go on through the drain and the grace
            await self.metrics.close()
        if self.tracing is not None:  # last: flush the spans of everything stopped above
            await self.tracing.shutdown()
            self.tracing = None

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


async def serve(config: GatewayConfig, faces: Sequence[FaceStarter] = ()) -> int:
    """Run the gateway until SIGINT or SIGTERM; then shut down gracefully and return 0.

    Settings that cannot work (gateway.config.ConfigError) print one line naming the flag to
    stderr and return 2 (the exit status of a usage error) instead of a traceback."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Gateway(config, faces) as gateway:
            await stop.wait()
            log.info(
                "shutting down",
                grace_seconds=config.shutdown_grace,
                drain_seconds=config.drain_delay,
            )
            await gateway.stop(drain=config.drain_delay)
    except ConfigError as exc:  # raised at start only: nothing was serving
        print(f"sofer-gateway serve: error: {exc}", file=sys.stderr)
        return 2
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    log.info("stopped")
    return 0
