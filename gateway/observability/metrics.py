"""Prometheus metrics: the gateway's own registry, the hooks that count, and the /metrics port.

One `GatewayMetrics` per `Gateway` (so that several gateways in one process never share a
series). Counters and histograms are fed by hooks on the paths every call takes: the RPC frame's
summary (gateway.server.frame), the retry policy's attempts (gateway.upstream.policy, as its
`AttemptObserver`) and the idempotent-replay branch of creates (gateway.server.servicer). What the
limiter, the status hub and the retry budget hold now is read at scrape time instead, by a
collector that asks the event loop for one snapshot (`_LoopState`), so those classes need no
hooks and the values are never stale.

The endpoint is prometheus_client's own WSGI server on a thread: a scrape's formatting, and the
process collector's reads of /proc, stay off the event loop, metrics still answer when the loop
is stuck (and `sofer_gateway_event_loop_lag_seconds` says so), and nothing is added to the loop
but one callback per scrape. Every label value comes from a closed set (RPC names, gRPC codes,
route templates, status classes, exception classes): never a token, an id or a path.
See docs/metrics.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sofer.batch.v1 import batch_service_pb2

from gateway.config import ConfigError
from gateway.upstream.attempt import Route
from gateway.upstream.config import Priority
from gateway.upstream.errors import UpstreamError

if TYPE_CHECKING:
    from gateway.upstream.rate_budget import RateBudget
    from gateway.upstream.retry_budget import RetryBudget

PREFIX = "sofer_gateway_"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: from a loopback answer (about 1 ms) to the default upstream timeout (30 s)."""
SNAPSHOT_TIMEOUT = 1.0
"""Seconds a scrape waits for the event loop to read the live values; then it goes without."""

K = TypeVar("K")
_SERVICE = batch_service_pb2.DESCRIPTOR.services_by_name["BatchTranscriptionService"]


class _Children(dict[K, Any]):
    """A metric's label children, bound on first use and kept: a hot path pays one dict
    lookup, never `labels()` (which validates, joins and locks)."""

    def __init__(self, metric: Counter | Histogram, labels: Callable[[K], tuple[str, ...]]):
        super().__init__()
        self._metric = metric
        self._labels = labels

    def bind(self, key: K) -> Any:
        """The child for `key`, bound now if it is not yet (it is exported from now on)."""
        return self[key]

    def __missing__(self, key: K) -> Any:
        child = self[key] = self._metric.labels(*self._labels(key))
        return child


def status_class(status: int | None, error: UpstreamError | None) -> str:
    """An attempt's outcome as a label: 2xx, 4xx, 429, 5xx, other (1xx/3xx), transport (no
    answer: refused, reset, timed out) or not_sent (no pooled connection came free)."""
    if status is None:
        return "not_sent" if error is not None and not error.request_sent else "transport"
    if status == 429:
        return "429"
    return _CLASSES.get(status // 100, "other")


_CLASSES = {2: "2xx", 4: "4xx", 5: "5xx"}
_WORD = re.compile(r"(?<!^)(?=[A-Z])")


def _reason(error_type: type[UpstreamError]) -> str:
    """RateLimited -> rate_limited: the exception tree is the closed set of retry reasons."""
    return _WORD.sub("_", error_type.__name__).lower()


def _operation(route: Route) -> str:
    """The route as the sandbox's stats name it: "GET /v1/transcriptions/{transcription_id}"."""
    return f"{route.method} {route.template}"


class GatewayMetrics:
    """The gateway's metrics: `registry` holds them, the hook methods count, `serve` exposes."""

    def __init__(self, *, quota_kinds: Iterable[str] = ()) -> None:
        """`quota_kinds`: the caller-quota kinds (gateway.access.caller_quota), each shown
        with 0 refusals before its first."""
        # No `_created` series: Prometheus ignores them in the text format, and they would
        # double the page. The switch is process-wide; the gateway is the process's only user.
        disable_created_metrics()  # type: ignore[no-untyped-call] # the library's own gap
        registry = self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(PREFIX + name, doc, labels, registry=registry)

        def histogram(name: str, doc: str, *labels: str) -> Histogram:
            return Histogram(PREFIX + name, doc, labels, registry=registry, buckets=BUCKETS)

        rpcs = counter(
            "rpcs_total",
            "RPCs ended, by method, gRPC code and protocol (grpc, connect, grpc-web)",
            "method",
            "code",
            "protocol",
        )
        durations = histogram(
            "rpc_duration_seconds", "Unary RPC latency, start to answer, by method", "method"
        )
        messages = counter(
            "stream_messages_total", "Messages sent on server streams, by method", "method"
        )
        requests = counter(
            "upstream_requests_total",
            "Upstream attempts, by operation and status class",
            "operation",
            "status_class",
        )
        latency = histogram(
            "upstream_request_duration_seconds",
            "Upstream attempt latency, by operation",
            "operation",
        )
        retries = counter("upstream_retries_total", "Upstream retries sent, by reason", "reason")
        waits = counter(
            "upstream_retry_wait_seconds_total",
            "Seconds waited before upstream retries, by source (retry_after or backoff)",
            "source",
        )
        gave_up = counter(
            "upstream_gave_up_total",
            "Upstream calls that ended in an error, by why no retry followed",
            "reason",
        )
        replays = counter(
            "idempotency_replays_total",
            "Creates answered from an earlier call with the same request_id, by method",
            "method",
        )
        caller_refusals = counter(
            "caller_quota_refusals_total",
            "Calls refused RESOURCE_EXHAUSTED (CALLER_QUOTA_EXCEEDED) because their caller held "
            "its share, by kind (calls or watches); never by caller",
            "kind",
        )
        self._rpcs: _Children[tuple[str, str, str]] = _Children(rpcs, lambda key: key)
        self._durations: _Children[str] = _Children(durations, lambda key: (key,))
        self._messages: _Children[str] = _Children(messages, lambda key: (key,))
        self._requests: _Children[tuple[Route, str]] = _Children(
            requests, lambda key: (_operation(key[0]), key[1])
        )
        self._latency: _Children[Route] = _Children(latency, lambda key: (_operation(key),))
        self._retries: _Children[type[UpstreamError]] = _Children(
            retries, lambda key: (_reason(key),)
        )
        self._waits: _Children[str] = _Children(waits, lambda key: (key,))
        self._gave_up: _Children[str] = _Children(gave_up, lambda key: (key,))
        self._replays: _Children[str] = _Children(replays, lambda key: (key,))
        rate_waits = histogram(
            "upstream_rate_budget_wait_seconds",
            "Seconds upstream requests waited for a rate-budget token, by priority",
            "priority",
        )
        rate_exhausted = counter(
            "upstream_rate_budget_exhausted_total",
            "Calls refused RESOURCE_EXHAUSTED (UPSTREAM_QUOTA_EXHAUSTED): no rate-budget token "
            "before their deadline, by priority",
            "priority",
        )
        self._rate_pauses = counter(
            "upstream_rate_budget_pauses_total",
            "Pauses of a credential's rate budget begun by a 429 with Retry-After",
        )
        self._rate_waits: _Children[Priority] = _Children(rate_waits, lambda p: (p.name.lower(),))
        self._rate_exhausted: _Children[Priority] = _Children(
            rate_exhausted, lambda p: (p.name.lower(),)
        )
        for priority in Priority:  # every priority shows a 0 before its first request
            self._rate_waits.bind(priority)
            self._rate_exhausted.bind(priority)
        self._caller_refusals: _Children[str] = _Children(caller_refusals, lambda key: (key,))
        for kind in quota_kinds:  # each shows a 0 before the first refusal
            self._caller_refusals.bind(kind)
        for method in _SERVICE.methods:  # every RPC shows a 0 before its first call
            self._rpcs.bind((method.name, "OK", "grpc"))
            if method.server_streaming:
                self._messages.bind(method.name)
            else:
                self._durations.bind(method.name)
        # --- webhooks ---
        webhook_attempts = counter(
            "webhook_attempts_total",
            "Webhook delivery attempts, by outcome (2xx, 3xx, 4xx, 5xx, or error: no answer)",
            "outcome",
        )
        self._webhook_attempts: _Children[str] = _Children(webhook_attempts, lambda k: (k,))
        for outcome in ("2xx", "3xx", "4xx", "5xx", "error"):
            self._webhook_attempts.bind(outcome)
        self._state = _LoopState()
        registry.register(self._state)
        self._endpoint: tuple[WSGIServer, threading.Thread] | None = None
        self.port = 0

    # Hooks: called on the event loop, once per RPC or attempt; they never block, and use the
    # children bound once per label set above instead of looking the labels up on each call.

    def rpc_ended(
        self, method: str, code: str, seconds: float, messages: int | None, protocol: str = "grpc"
    ) -> None:
        """An RPC carried by `protocol` ended with `code` after `seconds`; `messages` is None for
        a unary RPC, else what its stream sent (a watch's duration is its batch's, so it gets
        no histogram)."""
        self._rpcs[method, code, protocol].inc()
        if messages is None:
            self._durations[method].observe(seconds)
        elif messages:
            self._messages[method].inc(messages)

    def replayed(self, method: str) -> None:
        """A create was answered from the record of an earlier one with its request_id."""
        self._replays[method].inc()

    def webhook_attempted(self, outcome: str) -> None:
        """A webhook delivery attempt ended with `outcome` (gateway.webhooks.sender.Outcome)."""
        self._webhook_attempts[outcome].inc()

    def caller_quota_refused(self, kind: str) -> None:
        """A call was refused because its caller held its share of `kind`
        (gateway.access.caller_quota)."""
        self._caller_refusals[kind].inc()

    def attempted(
        self, route: Route, status: int | None, error: UpstreamError | None, seconds: float
    ) -> None:
        """One upstream attempt ended (AttemptObserver)."""
        self._requests[route, status_class(status, error)].inc()
        self._latency[route].observe(seconds)

    def retried(self, error: UpstreamError, waited: float) -> None:
        """A retry goes out after `waited` seconds (AttemptObserver)."""
        self._retries[type(error)].inc()
        # A Retry-After the upstream sent (a 429's, a 503's); a pool's own hint is backoff.
        asked = error.retry_after is not None and error.status is not None
        self._waits["retry_after" if asked else "backoff"].inc(waited)

    def gave_up(self, reason: str) -> None:
        """A call's last attempt failed and no retry follows, for `reason` (AttemptObserver)."""
        self._gave_up[reason].inc()

    def rate_waited(self, priority: Priority, seconds: float) -> None:
        """A request got its rate-budget token after `seconds` (RateObserver)."""
        self._rate_waits[priority].observe(seconds)

    def rate_exhausted(self, priority: Priority) -> None:
        """A request got no rate-budget token before its deadline (RateObserver)."""
        self._rate_exhausted[priority].inc()

    def rate_paused(self, seconds: float) -> None:
        """A 429 paused a credential's rate budget for `seconds` (RateObserver)."""
        self._rate_pauses.inc()

    # The live values and the endpoint.

    def track(self, loop: asyncio.AbstractEventLoop, *sources: Readings) -> None:
        """Export the live values `sources` report, read on `loop` at each scrape (each owner
        registers its own: the limiter, the status hub, the transcript cache, ...)."""
        self._state.loop = loop
        self._state.sources = sources

    def serve(self, listen: str) -> int:
        """Serve GET /metrics on `listen` (HOST:PORT, port 0 picks one) from a thread; return
        the port. ConfigError naming --metrics-listen when the address is bad or taken."""
        host, port = _address(listen)
        try:
            server, thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise ConfigError(
                f"--metrics-listen {listen}: cannot listen there ({exc.strerror or exc})"
            ) from exc
        self._endpoint = (server, thread)
        self.port = server.server_port
        return self.port

    async def close(self) -> None:
        """Stop the endpoint (idempotent); its thread is joined, its socket closed."""
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is not None:
            server, thread = endpoint
            # shutdown() waits for serve_forever's next poll (up to 0.5 s): not on the loop.
            await asyncio.to_thread(server.shutdown)
            server.server_close()
            await asyncio.to_thread(thread.join)


def _address(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")  # [::]:9464
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(
            f"--metrics-listen {listen}: expected HOST:PORT with a port from 0 to 65535"
        )
    return host, int(port)


@dataclass(frozen=True, slots=True)
class Reading:
    """One live value its owner reports at scrape time (read on the event loop): a gauge, or
    with `counter` a total the owner keeps. `name` is without the `sofer_gateway_` prefix."""

    name: str
    doc: str
    value: float
    counter: bool = False


Readings = Callable[[], Iterable[Reading]]
"""What an owner registers with `GatewayMetrics.track`: its live values, read at each scrape."""


def upstream_readings(budget: RetryBudget, rate: RateBudget | None) -> Readings:
    """The upstream client's budgets as readings (0s without --upstream-rate-limit: the
    dashboard's panel is there either way)."""

    def read() -> list[Reading]:
        return [
            Reading(
                "upstream_retry_budget_tokens",
                "Retry budget tokens left (retries stop at or below half the maximum)",
                budget.tokens,
            ),
            Reading(
                "upstream_rate_budget_waiting",
                "Upstream requests waiting for a rate-budget token now",
                rate.waiting if rate is not None else 0,
            ),
            Reading(
                "upstream_rate_budget_paused_seconds",
                "Seconds left of the longest rate-budget pause a 429 imposed (0: none paused)",
                rate.paused_for() if rate is not None else 0.0,
            ),
        ]

    return read


class _LoopState(Collector):
    """Gauges read at scrape time, on the event loop (the objects are the loop's alone)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sources: tuple[Readings, ...] = ()

    def describe(self) -> Iterable[Metric]:
        return []  # names vary with what is tracked; none collides with the counters'

    def collect(self) -> Iterable[Metric]:
        loop, sources = self.loop, self.sources
        if loop is None:
            return []
        lag, values = _on_loop(loop, lambda: _read(loop, sources))
        families: list[Metric] = [
            _gauge(
                "event_loop_lag_seconds",
                "Seconds the last scrape waited for the event loop to run its callback",
                lag,
            )
        ]
        if values is not None:
            families += values
        return families


def _on_loop(
    loop: asyncio.AbstractEventLoop, read: Callable[[], list[Metric]]
) -> tuple[float, list[Metric] | None]:
    """Run `read` on `loop` and return (seconds until it ran, its result), or None for the
    result when the loop is closed or did not get to it within SNAPSHOT_TIMEOUT."""
    try:
        here = asyncio.get_running_loop() is loop
    except RuntimeError:
        here = False
    if here:  # a scrape from the loop itself (tests): waiting for it would deadlock
        return 0.0, read()
    future: concurrent.futures.Future[tuple[float, list[Metric]]] = concurrent.futures.Future()
    asked = time.perf_counter()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result((time.perf_counter() - asked, read()))
            except Exception as exc:  # pragma: no cover - the reads are attribute reads
                future.set_exception(exc)

    try:
        loop.call_soon_threadsafe(run)
    except RuntimeError:  # the loop is closed: nothing live to read
        return 0.0, None
    try:
        return future.result(SNAPSHOT_TIMEOUT)
    except TimeoutError:
        future.cancel()
        return time.perf_counter() - asked, None


def _read(loop: asyncio.AbstractEventLoop, sources: tuple[Readings, ...]) -> list[Metric]:
    """The live values; runs on the loop, so no read races its writers."""
    families: list[Metric] = [
        _gauge("asyncio_tasks", "Tasks alive in the gateway's event loop", _tasks(loop))
    ]
    for source in sources:
        for reading in source():
            if reading.counter:
                families.append(
                    CounterMetricFamily(PREFIX + reading.name, reading.doc, value=reading.value)
                )
            else:
                families.append(_gauge(reading.name, reading.doc, reading.value))
    return families


def _tasks(loop: asyncio.AbstractEventLoop) -> int:
    return len(asyncio.all_tasks(loop))


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, doc, value=value)
