"""Tracing: OpenTelemetry spans for RPCs, upstream attempts and status polls; off unless asked.

On when `OTEL_SDK_DISABLED` is not `true` and either `OTEL_TRACES_EXPORTER` names exporters
(anything but `none`), or it is unset and `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
`OTEL_EXPORTER_OTLP_ENDPOINT` is set (then `otlp`). Off, nothing is installed: no server
interceptor, no instrumented transport, and a poll span is a shared null context.

On, the process gets one SDK `TracerProvider` with a `BatchSpanProcessor` per exporter. The
exporters are chosen as the specification's variables say and as `opentelemetry-instrument`
chooses them: `OTEL_TRACES_EXPORTER` names entry points of the `opentelemetry_traces_exporter`
group (loaded by `importlib.metadata`; console, otlp_proto_grpc and otlp_proto_http come with
the gateway), and `otlp` is otlp_proto_grpc or otlp_proto_http as
`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or else `OTEL_EXPORTER_OTLP_PROTOCOL` says (`grpc`, the
default, or `http/protobuf`). The SDK's auto-configuration is not used: it sets the global
tracer, meter and logger providers, which a process can set once only, so it could neither be
shut down and started again (tests) nor leave metrics and logs to their own modules. The
provider is passed to each instrumentation explicitly and is never made global.

The SDK and the instrumentations are imported only when tracing is on: ~0.2 s of start-up the
embedded default and the client commands need not pay.

The spans (docs/tracing.md): a server span per RPC (opentelemetry-instrumentation-grpc; not for
grpc.health.v1.Health: probes every few seconds are noise); a client span per upstream attempt
(opentelemetry-instrumentation-httpx on the gateway's one AsyncClient, which also sends W3C
`traceparent`), with the attempt number, the seconds waited before it and the request id; and
a root span per status poll, linked to the server spans of the watches it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from gateway import __version__
from gateway.config import ConfigError
from gateway.upstream import attempt_info

if TYPE_CHECKING:
    import grpc
    import httpx
    from opentelemetry.instrumentation.httpx import RequestInfo
    from opentelemetry.propagators.textmap import TextMapPropagator
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

DEFAULT_SERVICE_NAME: Final = "sofer-gateway"
"""service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names one."""
MAX_POLL_LINKS: Final = 32
"""Links on one poll span: the first watches of the topic still open, in the order they came."""
UNTRACED_SERVICES: Final = ("grpc.health.v1.Health",)
"""Services without server spans (more with OTEL_PYTHON_GRPC_EXCLUDED_SERVICES)."""
POLL_SPAN: Final = "status poll"
EXPORTER_GROUP: Final = "opentelemetry_traces_exporter"
"""The entry-point group of trace exporters (the SDK's and any installed beside it)."""
OTLP_EXPORTERS: Final = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}
"""The exporter `otlp` stands for, by OTLP protocol (the specification's values)."""
REDACTED: Final = ("[REDACTED]",)
_CAPTURED_AUTHORIZATION: Final = "http.request.header.authorization"

_TRUE: Final = "true"


@dataclass
class _Active:
    """The process's tracing while it is on."""

    provider: TracerProvider
    tracer: trace.Tracer
    previous_propagator: TextMapPropagator
    holders: int = 1


_active: _Active | None = None
_watches: weakref.WeakKeyDictionary[object, dict[int, trace.SpanContext]] = (
    weakref.WeakKeyDictionary()
)
_watch_keys = itertools.count()
_OFF: Final = contextlib.nullcontext()


class Tracing:
    """One holder's share of the process's tracing; `shutdown()` gives it back (idempotent).
    The last holder's shutdown flushes every exporter and turns tracing off."""

    def __init__(self, active: _Active | None) -> None:
        self._active = active

    @property
    def enabled(self) -> bool:
        """Whether spans are being recorded and exported."""
        return self._active is not None

    @property
    def provider(self) -> TracerProvider | None:
        """The SDK provider in use (None when off)."""
        return None if self._active is None else self._active.provider

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export every span ended so far (blocking); False when an export did not finish in
        time. True when off: there is nothing to export."""
        return self._active is None or self._active.provider.force_flush(timeout_millis)

    async def shutdown(self) -> None:
        """Release this share; the last one shuts the provider down in a worker thread, since
        exporting the last batch (OTLP: up to its timeout) must not block the event loop."""
        global _active
        active, self._active = self._active, None
        if active is None:
            return
        active.holders -= 1
        if active.holders > 0:
            return
        _active = None
        propagate.set_global_textmap(active.previous_propagator)
        await asyncio.to_thread(active.provider.shutdown)


def enabled() -> bool:
    """Whether tracing is on in this process."""
    return _active is not None


def exporter_names() -> list[str]:
    """The trace exporters the environment asks for, by entry-point name ([]: tracing off).

    Raises ConfigError naming the variable when OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL is not one
    the SDK supports (grpc, http/protobuf)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == _TRUE:
        return []
    listed = os.environ.get("OTEL_TRACES_EXPORTER", "").strip()
    if listed.lower() == "none":
        return []
    if listed:
        names = [name.strip() for name in listed.split(",")]
    elif os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    ):
        names = ["otlp"]  # an endpoint alone asks for OTLP
    else:
        return []
    return [_otlp_exporter() if name == "otlp" else name for name in names]


def _otlp_exporter() -> str:
    """The exporter `otlp` stands for, by the OTLP protocol the environment names."""
    variable = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
    if not os.environ.get(variable, "").strip():
        variable = "OTEL_EXPORTER_OTLP_PROTOCOL"
    protocol = os.environ.get(variable, "").strip() or "grpc"
    if protocol not in OTLP_EXPORTERS:
        raise ConfigError(
            f"{variable}={protocol!r}: the otlp trace exporter speaks grpc or http/protobuf"
        )
    return OTLP_EXPORTERS[protocol]


def exporters_from_env(names: Sequence[str]) -> list[SpanExporter]:
    """One exporter per name (a name given twice, once), each configured by its own
    OTEL_EXPORTER_* variables.

    Raises ConfigError naming OTEL_TRACES_EXPORTER when a name is not an installed exporter."""
    from opentelemetry.sdk.trace.export import SpanExporter

    classes: dict[str, type[SpanExporter]] = {}
    for name in names:
        found = entry_points(group=EXPORTER_GROUP, name=name)
        exporter = next(iter(found)).load() if found else None
        if not (isinstance(exporter, type) and issubclass(exporter, SpanExporter)):
            raise ConfigError(
                f"OTEL_TRACES_EXPORTER={os.environ.get('OTEL_TRACES_EXPORTER', '')!r}: no trace "
                f"exporter {name!r} is installed (console, otlp, otlp_proto_grpc and "
                "otlp_proto_http come with the gateway)"
            )
        classes.setdefault(name, exporter)
    return [exporter() for exporter in classes.values()]


def resource() -> Resource:
    """The process's Resource: OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (which wins), with
    service.name `sofer-gateway` and service.version the gateway's where they name none."""
    from opentelemetry.sdk.resources import (
        SERVICE_NAME,
        SERVICE_VERSION,
        OTELResourceDetector,
        Resource,
    )

    from_env = OTELResourceDetector().detect().attributes
    defaults = {SERVICE_NAME: DEFAULT_SERVICE_NAME, SERVICE_VERSION: __version__}
    return Resource.create({k: v for k, v in defaults.items() if k not in from_env})


def install(exporters: Sequence[SpanExporter]) -> Tracing:
    """Turn tracing on with these exporters, each behind a BatchSpanProcessor (what `start`
    does with the environment's; tests pass an InMemorySpanExporter). Raises RuntimeError
    when tracing is already on."""
    global _active
    if _active is not None:
        raise RuntimeError("tracing is already on in this process")
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace.propagation.tracecontext import (
        TraceContextTextMapPropagator,
    )

    provider = TracerProvider(resource=resource())  # sampler: OTEL_TRACES_SAMPLER
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))  # OTEL_BSP_* tune it
    previous = propagate.get_global_textmap()
    if not os.environ.get("OTEL_PROPAGATORS"):
        # W3C trace context only: the default `baggage` would forward whatever baggage a
        # caller sent on to the Sofer.ai API, a third party. OTEL_PROPAGATORS opts back in.
        propagate.set_global_textmap(CompositePropagator([TraceContextTextMapPropagator()]))
    _active = _Active(provider, provider.get_tracer("gateway", __version__), previous)
    return Tracing(_active)


def start() -> Tracing:
    """The gateway's share of tracing: a new one per the environment, the one already on
    (installed by a test, or another gateway in this process), or an idle one when off."""
    if _active is not None:
        _active.holders += 1
        return Tracing(_active)
    names = exporter_names()
    if not names:
        return Tracing(None)
    return install(exporters_from_env(names))


def server_interceptors() -> list[grpc.aio.ServerInterceptor[Any, Any]]:
    """The grpc.aio server interceptors tracing needs ([] when off): put them first in the
    list, so the server span covers the other interceptors' work and records their aborts."""
    active = _active
    if active is None:
        return []
    from opentelemetry.instrumentation.grpc import (
        aio_server_interceptor,
        filters,
    )

    extra = os.environ.get("OTEL_PYTHON_GRPC_EXCLUDED_SERVICES", "")
    untraced = [*UNTRACED_SERVICES, *(s.strip() for s in extra.split(",") if s.strip())]
    traced = filters.negate(filters.any_of(*(filters.service_name(s) for s in untraced)))
    interceptor = aio_server_interceptor(  # type: ignore[no-untyped-call]
        tracer_provider=active.provider, filter_=traced
    )
    return [interceptor]


def instrument_client(client: httpx.AsyncClient) -> None:
    """A client span per request `client` sends, with W3C `traceparent` injected (nothing when
    off). Instruments this client's transport only, whatever transport that is."""
    active = _active
    if active is None:
        return
    from opentelemetry.instrumentation.httpx import (
        HTTPXClientInstrumentor,
    )

    HTTPXClientInstrumentor.instrument_client(
        client, tracer_provider=active.provider, request_hook=_describe_attempt
    )


async def _describe_attempt(span: trace.Span, request: RequestInfo) -> None:
    """Name the attempt's span for its route and add what the upstream client knows of it."""
    from opentelemetry.sdk.trace import ReadableSpan

    extensions = request.extensions or {}
    template = extensions.get(attempt_info.URL_TEMPLATE)
    if isinstance(template, str):
        method = request.method.decode() if isinstance(request.method, bytes) else request.method
        span.update_name(f"{method} {template}")  # semconv: {method} {url.template}
        span.set_attribute("url.template", template)
    info = extensions.get(attempt_info.ATTEMPT)
    if isinstance(info, attempt_info.AttemptInfo):
        span.set_attribute("sofer.upstream.attempt", info.number)
        span.set_attribute("sofer.upstream.waited_seconds", info.waited)
        if info.number > 1:
            span.set_attribute("http.request.resend_count", info.number - 1)
    request_id = extensions.get(attempt_info.REQUEST_ID)
    if isinstance(request_id, str):
        span.set_attribute("sofer.request_id", request_id)
    # The caller's or the gateway's token must never leave in telemetry, even when an operator
    # asks to capture request headers (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST).
    attributes = span.attributes if isinstance(span, ReadableSpan) else None
    if attributes and _CAPTURED_AUTHORIZATION in attributes:
        span.set_attribute(_CAPTURED_AUTHORIZATION, REDACTED)


def annotate_rpc(request_id: str, protocol: str = "grpc") -> None:
    """Put the call's request id and protocol (grpc, connect, grpc-web) on its server span (a
    no-op when off or not traced)."""
    span = trace.get_current_span()
    span.set_attribute("sofer.request_id", request_id)
    span.set_attribute("sofer.protocol", protocol)


def watch_joined(topic: object) -> int | None:
    """Remember the current watch's span for the polls of `topic` (held weakly: forgotten
    with the topic); the key to forget it by."""
    if _active is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    key = next(_watch_keys)
    _watches.setdefault(topic, {})[key] = context
    return key


def watch_left(topic: object, key: int | None) -> None:
    """Forget a watch remembered by `watch_joined`."""
    if key is not None and (watches := _watches.get(topic)) is not None:
        watches.pop(key, None)


def poll_span(topic: object, batch_id: str) -> contextlib.AbstractContextManager[object]:
    """A span for one poll of `topic`: a trace of its own (a poll serves every watcher alike,
    so it is no one watcher's child), linked to up to MAX_POLL_LINKS of the watches it
    serves. A shared null context when off."""
    active = _active
    if active is None:
        return _OFF
    watches = _watches.get(topic) or {}
    links = [trace.Link(c) for c in itertools.islice(watches.values(), MAX_POLL_LINKS)]
    return active.tracer.start_as_current_span(
        POLL_SPAN,
        context=otel_context.Context(),  # a root, whatever the caller's context holds
        links=links,
        attributes={
            "sofer.batch_id": batch_id,
            "sofer.poll.watches": len(watches),
            "sofer.poll.links_dropped": max(0, len(watches) - MAX_POLL_LINKS),
        },
    )
