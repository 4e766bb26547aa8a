"""Tracing (gateway.observability.tracing): a server span per RPC, a client span per upstream
attempt, W3C traceparent upstream, status polls linked to their watches; off unless OTEL_* asks for
it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import ConfigError, GatewayConfig
from gateway.connect.server import faces_of
from gateway.observability import tracing
from gateway.server.process import Gateway
from gateway.upstream import CallOptions, NotFound, UpstreamClient, UpstreamConfig
from tests.conftest import bearer
from tests.helpers.calls import (
    REQUEST_ID_KEY,
    create_express,
    eventually,
    fault,
    recording_upstream,
    rpc_error,
    source,
)
from tests.helpers.processes import start_serve
from tests.helpers.streams import drain

SERVICE = "/sofer.batch.v1.BatchTranscriptionService/"
STATUS_ROUTE = "GET /v1/transcriptions/batch/{batch_id}/status"
UNKNOWN = "0f0e0d0c-0b0a-4988-8776-655443322110"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture(autouse=True)
def no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from no OTEL_* variable, whatever the runner's environment holds."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


@dataclass
class Traced:
    """Tracing installed for one test with an in-memory exporter behind the real processor."""

    exporter: InMemorySpanExporter
    tracing: tracing.Tracing

    def spans(self) -> list[ReadableSpan]:
        """Every span ended so far, flushed through the BatchSpanProcessor."""
        assert self.tracing.force_flush()
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        """The ended spans called `name`."""
        return [span for span in self.spans() if span.name == name]

    async def server_span(self, name: str) -> ReadableSpan:
        """The one server span called `name`, once it has ended: it ends after the answer the
        client already holds, when grpc's interceptor gets its status back."""

        async def ended() -> list[ReadableSpan]:
            return self.named(name)

        return one(await eventually(ended, bool, within=10.0, interval=0.02))


@pytest.fixture
async def traced() -> AsyncIterator[Traced]:
    """Tracing on, as gateway.observability.tracing sets it up, exporting to memory."""
    exporter = InMemorySpanExporter()
    installed = tracing.install([exporter])
    try:
        yield Traced(exporter, installed)
    finally:
        await installed.shutdown()
    assert not tracing.enabled()


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Items take long enough for a watch to see several polls."""
    return SandboxConfig(item_seconds=1.5, manifest_validation_seconds=0.0)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """Fast polls, so that a watch is served by a few of them."""
    return dataclasses.replace(gateway_config, watch_fast_interval=0.1, watch_slow_interval=0.2)


@pytest.fixture
async def gateway(
    traced: Traced, gateway_config: GatewayConfig, protocol: str
) -> AsyncIterator[Gateway]:
    """The real gateway, started after tracing was installed (as the process does); its HTTP
    port too for a `protocol` other than gRPC."""
    config = gateway_config
    if protocol != "grpc":
        config = dataclasses.replace(config, http_listen="127.0.0.1:0")
    async with Gateway(config, faces_of(config)) as running:
        yield running


class Topic:
    """Stands for a status-hub topic: any weakly referenceable object."""


def attribute(span: ReadableSpan, key: str) -> object:
    """One attribute of `span` (None when absent)."""
    return (span.attributes or {}).get(key)


def one(spans: list[ReadableSpan]) -> ReadableSpan:
    """The only span of the list."""
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def status_code(span: ReadableSpan) -> object:
    """The HTTP status of a client span, in the old or the stable semantic conventions."""
    return attribute(span, "http.status_code") or attribute(span, "http.response.status_code")


# -- a unary RPC ------------------------------------------------------------------------------


async def test_unary_rpc_is_a_server_span_with_a_client_span_per_attempt(
    traced: Traced, sandbox: SandboxServer, stub: pb_grpc.BatchTranscriptionServiceStub
) -> None:
    """A GetBatchStatus answered 429 then 200 upstream is one server span with two client
    spans under it, named for the route: attempt 1, then attempt 2 after the Retry-After wait,
    each with its HTTP status and the call's request id."""
    created = await create_express(stub, source(1))
    traced.exporter.clear()
    await fault(
        sandbox,
        status=429,
        count=1,
        retry_after=0.2,
        retry_after_format="ms",
        path_prefix="/v1/transcriptions/batch/",
    )
    metadata = (*bearer(), (REQUEST_ID_KEY, "trace-me-1"))
    await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=metadata
    )

    server = await traced.server_span(SERVICE + "GetBatchStatus")
    assert server.kind == SpanKind.SERVER
    assert server.parent is None
    attempts = sorted(traced.named(STATUS_ROUTE), key=lambda s: s.start_time or 0)
    assert [s.kind for s in attempts] == [SpanKind.CLIENT, SpanKind.CLIENT]
    for span in attempts:
        assert span.parent is not None
        assert span.parent.span_id == server.context.span_id
        assert span.context.trace_id == server.context.trace_id
        assert attribute(span, "sofer.request_id") == "trace-me-1"
        assert attribute(span, "url.template") == "/v1/transcriptions/batch/{batch_id}/status"
    first, second = attempts
    assert (attribute(first, "sofer.upstream.attempt"), status_code(first)) == (1, 429)
    assert attribute(first, "sofer.upstream.waited_seconds") == 0.0
    assert (attribute(second, "sofer.upstream.attempt"), status_code(second)) == (2, 200)
    assert attribute(second, "sofer.upstream.waited_seconds") == pytest.approx(0.2)
    assert attribute(second, "http.request.resend_count") == 1


async def test_server_span_carries_the_request_id(
    traced: Traced, stub: pb_grpc.BatchTranscriptionServiceStub
) -> None:
    """The server span has the call's request id, the one its log line and errors quote."""
    metadata = (*bearer(), (REQUEST_ID_KEY, "ticket-4711"))
    await rpc_error(
        stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=metadata)
    )
    server = await traced.server_span(SERVICE + "GetBatchStatus")
    assert attribute(server, "sofer.request_id") == "ticket-4711"
    assert attribute(server, "rpc.grpc.status_code") == grpc.StatusCode.NOT_FOUND.value[0]


async def test_health_checks_make_no_spans(
    traced: Traced, channel: grpc.aio.Channel, stub: pb_grpc.BatchTranscriptionServiceStub
) -> None:
    """Health probes (kubelet's, every few seconds) are not traced; other RPCs are."""
    health = health_pb2_grpc.HealthStub(channel)
    await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    await stub.ListManifests(pb.ListManifestsRequest(), metadata=bearer())
    await traced.server_span(SERVICE + "ListManifests")
    names = [span.name for span in traced.spans()]
    assert SERVICE + "ListManifests" in names
    assert not [name for name in names if "grpc.health" in name]


# -- what goes upstream -----------------------------------------------------------------------


@asynccontextmanager
async def gateway_in_front_of(url: str) -> AsyncIterator[pb_grpc.BatchTranscriptionServiceStub]:
    """A gateway whose upstream is `url`, and a stub on a channel to it."""
    config = GatewayConfig(listen="127.0.0.1:0", upstream_url=url, api_key=None, max_attempts=1)
    async with Gateway(config) as running, grpc.aio.insecure_channel(running.address) as ch:
        yield pb_grpc.BatchTranscriptionServiceStub(ch)


async def test_upstream_request_carries_traceparent_of_its_attempt_span(traced: Traced) -> None:
    """The upstream receives W3C `traceparent` naming the call's trace and its attempt's span,
    and the call continues the caller's own trace when the caller sent one."""
    async with recording_upstream() as (url, record), gateway_in_front_of(url) as stub:
        metadata = (*bearer(), ("traceparent", f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        await rpc_error(
            stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=metadata)
        )
    server = await traced.server_span(SERVICE + "GetBatchStatus")
    attempt = one(traced.named(STATUS_ROUTE))
    assert server.context.trace_id == int(CALLER_TRACE, 16)
    assert server.parent is not None
    assert server.parent.span_id == int(CALLER_SPAN, 16)
    (_, headers), *_ = record.requests
    version, trace_id, span_id, flags = headers["traceparent"].split("-")
    assert (version, flags) == ("00", "01")
    assert int(trace_id, 16) == server.context.trace_id
    assert int(span_id, 16) == attempt.context.span_id


async def test_callers_baggage_is_not_forwarded_upstream(traced: Traced) -> None:
    """W3C baggage a caller sends stays in the gateway: the upstream is a third party."""
    async with recording_upstream() as (url, record), gateway_in_front_of(url) as stub:
        metadata = (*bearer(), ("baggage", "customer=acme,plan=gold"))
        await rpc_error(
            stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=metadata)
        )
    (_, headers), *_ = record.requests
    assert "traceparent" in headers
    assert "baggage" not in headers


async def test_a_captured_authorization_header_is_redacted(
    traced: Traced, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even an operator who asks to capture request headers never exports a token."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST", ".*")
    async with recording_upstream() as (url, _), gateway_in_front_of(url) as stub:
        await rpc_error(
            stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=bearer())
        )
    attempt = one(traced.named(STATUS_ROUTE))
    assert attribute(attempt, "http.request.header.authorization") == ("[REDACTED]",)
    assert "tenant-a-token" not in json.dumps([s.to_json() for s in traced.spans()])


def transport(name: str) -> httpx.AsyncBaseTransport | None:
    """The upstream client's transport: httpx's own, or the gateway's (None: the client makes
    it, gateway.upstream.transport: httpx-aiohttp's)."""
    return httpx.AsyncHTTPTransport() if name == "httpx" else None


@pytest.mark.parametrize("name", ["httpx", "gateway"])
async def test_every_transport_gets_attempt_spans_and_traceparent(
    traced: Traced, name: str
) -> None:
    """Whichever transport the upstream client sends with, each attempt is a client span and
    the upstream receives that span as the parent in `traceparent`."""
    async with recording_upstream() as (url, record):
        config = UpstreamConfig(base_url=url, max_attempts=1)
        async with UpstreamClient(
            config, transport=transport(name), instrument=tracing.instrument_client
        ) as client:
            with pytest.raises(NotFound):
                await client.get_batch_status(UNKNOWN, opts=CallOptions(token="t", request_id="r1"))
    attempt = one(traced.named(STATUS_ROUTE))
    assert attempt.kind == SpanKind.CLIENT
    assert (attribute(attempt, "sofer.upstream.attempt"), status_code(attempt)) == (1, 404)
    (_, headers), *_ = record.requests
    _, trace_id, span_id, _ = headers["traceparent"].split("-")
    assert (int(trace_id, 16), int(span_id, 16)) == (
        attempt.context.trace_id,
        attempt.context.span_id,
    )


# -- watches and polls ------------------------------------------------------------------------


async def test_polls_are_root_spans_linked_to_the_watches_they_serve(
    traced: Traced, stub: pb_grpc.BatchTranscriptionServiceStub
) -> None:
    """Each poll of a watched batch is a trace of its own, linked to the server span of every
    watch it serves; its upstream request is its child."""
    created = await create_express(stub, source(1))
    first = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=created.batch_id), metadata=bearer()
    )
    await first.read()
    second = stub.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=created.batch_id), metadata=bearer()
    )
    await second.read()
    await drain(first)
    await drain(second)

    async def watch_spans_ended() -> list[ReadableSpan]:
        return traced.named(SERVICE + "WatchBatchStatus")

    watches = await eventually(watch_spans_ended, lambda spans: len(spans) == 2)
    watch_spans = {span.context.span_id for span in watches}
    polls = traced.named(tracing.POLL_SPAN)
    assert len(polls) >= 2
    linked: set[int] = set()
    for poll in polls:
        assert poll.parent is None
        assert poll.context.trace_id not in {w.context.trace_id for w in watches}
        assert attribute(poll, "sofer.batch_id") == created.batch_id
        links = {link.context.span_id for link in poll.links}
        assert links
        assert links <= watch_spans
        linked |= links
    assert linked == watch_spans
    assert any(len(poll.links) == 2 for poll in polls)
    poll_ids = {poll.context.span_id for poll in polls}
    requests = traced.named(STATUS_ROUTE)
    assert {span.parent.span_id if span.parent else None for span in requests} == poll_ids
    assert all(str(attribute(span, "sofer.request_id")).startswith("watch-") for span in requests)


async def test_a_poll_links_at_most_the_bound(
    traced: Traced, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_POLL_LINKS watches, a poll links the first ones and counts the others."""
    monkeypatch.setattr(tracing, "MAX_POLL_LINKS", 2)
    topic = Topic()
    provider = traced.tracing.provider
    assert provider is not None
    tracer = provider.get_tracer("test")
    keys = []
    for n in range(3):
        with tracer.start_as_current_span(f"watch {n}"):
            keys.append(tracing.watch_joined(topic))
    with tracing.poll_span(topic, "b-1"):
        pass
    tracing.watch_left(topic, keys[0])
    with tracing.poll_span(topic, "b-1"):
        pass
    watches = {s.name: s.context.span_id for s in traced.spans() if s.name.startswith("watch")}
    full, after = traced.named(tracing.POLL_SPAN)
    assert [link.context.span_id for link in full.links] == [watches["watch 0"], watches["watch 1"]]
    assert (attribute(full, "sofer.poll.watches"), attribute(full, "sofer.poll.links_dropped")) == (
        3,
        1,
    )
    assert [link.context.span_id for link in after.links] == [
        watches["watch 1"],
        watches["watch 2"],
    ]
    assert attribute(after, "sofer.poll.links_dropped") == 0


# -- off --------------------------------------------------------------------------------------


async def test_off_by_default_installs_nothing_and_sends_no_traceparent() -> None:
    """Without OTEL_* settings the gateway installs no tracing: no server interceptor, no
    instrumented upstream client, no traceparent upstream, and poll spans are no-ops."""
    async with recording_upstream() as (url, record):
        config = GatewayConfig(listen="127.0.0.1:0", upstream_url=url, api_key=None, max_attempts=1)
        async with Gateway(config) as running, grpc.aio.insecure_channel(running.address) as ch:
            stub = pb_grpc.BatchTranscriptionServiceStub(ch)
            await rpc_error(
                stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=bearer())
            )
            assert not tracing.enabled()
            assert tracing.server_interceptors() == []
            assert running.client is not None
            http = running.client._http
            assert not getattr(http, "_is_instrumented_by_opentelemetry", False)
            with tracing.poll_span(object(), "b-1") as span:
                assert span is None
    (_, headers), *_ = record.requests
    assert "traceparent" not in headers


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"OTEL_TRACES_EXPORTER": "none"},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
        {"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"},
        {"OTEL_SERVICE_NAME": "gw", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod"},
    ],
)
def test_tracing_is_off_unless_an_exporter_or_endpoint_is_configured(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    """No exporter named (or `none`), or the SDK disabled: tracing stays off."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert tracing.exporter_names() == []


# -- choosing exporters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "names"),
    [
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ["otlp_proto_grpc"]),
        (
            {
                "OTEL_TRACES_EXPORTER": "console, otlp",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            },
            ["console", "otlp_proto_http"],
        ),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"},
            ["otlp_proto_http"],
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, ["otlp_proto_grpc"]),
        (
            {
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            },
            ["otlp_proto_http"],
        ),
    ],
)
def test_exporters_follow_otel_traces_exporter_and_the_otlp_protocol(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], names: list[str]
) -> None:
    """OTEL_TRACES_EXPORTER picks the exporters as opentelemetry-instrument does (`otlp` by
    OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, grpc by default); an OTLP endpoint alone means otlp."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert tracing.exporter_names() == names


def test_exporter_types_are_the_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    """console, OTLP over gRPC and OTLP over HTTP are the SDK's own exporters."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
    exporters = tracing.exporters_from_env(["console", "otlp_proto_grpc", "otlp_proto_http"])
    try:
        assert [type(e) for e in exporters] == [
            ConsoleSpanExporter,
            GrpcSpanExporter,
            HttpSpanExporter,
        ]
    finally:
        for exporter in exporters:
            exporter.shutdown()


def test_bad_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exporter that is not installed, or an OTLP protocol the SDK lacks, is a ConfigError
    naming the variable (serve exits 2 with it) rather than a traceback."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "jaeger")
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER='jaeger'"):
        tracing.exporters_from_env(tracing.exporter_names())
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
        tracing.exporter_names()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "udp")
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='udp'"):
        tracing.exporter_names()


def test_an_exporter_named_twice_is_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`OTEL_TRACES_EXPORTER=console,console` exports each span once."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console, console")
    exporters = tracing.exporters_from_env(tracing.exporter_names())
    try:
        assert [type(e) for e in exporters] == [ConsoleSpanExporter]
    finally:
        for exporter in exporters:
            exporter.shutdown()


def test_resource_names_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """service.name is sofer-gateway unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES says
    otherwise; OTEL_RESOURCE_ATTRIBUTES adds the rest."""
    assert tracing.resource().attributes["service.name"] == "sofer-gateway"
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=edge,deployment.environment=prod")
    attributes = tracing.resource().attributes
    assert (attributes["service.name"], attributes["deployment.environment"]) == ("edge", "prod")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "gw-eu")
    assert tracing.resource().attributes["service.name"] == "gw-eu"


# -- the serve process ------------------------------------------------------------------------


async def call_and_stop(env: dict[str, str]) -> str:
    """`serve` (embedded sandbox) with `env`: one CreateBatch, then SIGTERM; all it printed
    after it started serving."""
    process, address = await start_serve("--sandbox-item-seconds", "0.2", env=env)
    assert process.stdout is not None
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            await create_express(pb_grpc.BatchTranscriptionServiceStub(channel), source(1))
    finally:
        process.send_signal(signal.SIGTERM)
        out = await asyncio.wait_for(process.stdout.read(), 30)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    return out.decode()


async def test_serve_with_the_console_exporter_prints_its_spans() -> None:
    """`OTEL_TRACES_EXPORTER=console sofer-gateway serve` prints each span as JSON on stdout,
    flushed when the process stops."""
    out = await call_and_stop({"OTEL_TRACES_EXPORTER": "console"})
    assert f'"name": "{SERVICE}CreateBatch"' in out
    assert '"name": "POST /v1/transcriptions/batch"' in out
    assert '"service.name": "sofer-gateway"' in out


@dataclass
class Received:
    """What the OTLP/HTTP receiver was sent: one export request per POST /v1/traces."""

    exports: list[trace_service_pb2.ExportTraceServiceRequest] = field(default_factory=list)

    def spans(self) -> Iterator[tuple[str, str]]:
        """(service.name, span name) for every span received."""
        for export in self.exports:
            for resource_spans in export.resource_spans:
                attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        yield attrs.get("service.name", ""), span.name


@asynccontextmanager
async def otlp_http_receiver() -> AsyncIterator[tuple[str, Received]]:
    """A minimal OTLP/HTTP collector on 127.0.0.1, port 0: its endpoint and what it received."""
    received = Received()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        if request_line.startswith("POST /v1/traces "):
            received.exports.append(trace_service_pb2.ExportTraceServiceRequest.FromString(body))
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", received
    finally:
        server.close()
        await server.wait_closed()


async def test_serve_exports_over_otlp_http() -> None:
    """`OTEL_TRACES_EXPORTER=otlp` with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf sends the
    spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, under OTEL_SERVICE_NAME."""
    async with otlp_http_receiver() as (endpoint, received):
        await call_and_stop(
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                "OTEL_SERVICE_NAME": "gw-under-test",
            }
        )
    spans = set(received.spans())
    assert ("gw-under-test", SERVICE + "CreateBatch") in spans
    assert ("gw-under-test", "POST /v1/transcriptions/batch") in spans


# -- the HTTP port --------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["connect"])
async def test_a_connect_call_has_a_server_span_naming_its_protocol(
    traced: Traced, stub: Any, gateway: Gateway
) -> None:
    """A call on the HTTP port gets a server span named as a gRPC call's, a child of the
    caller's `traceparent`, with its protocol (connect) and request id."""
    metadata = (
        *bearer(),
        (REQUEST_ID_KEY, "ticket-4712"),
        ("traceparent", f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"),
    )
    await rpc_error(
        stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=metadata)
    )
    server = await traced.server_span(SERVICE + "GetBatchStatus")
    assert server.kind is SpanKind.SERVER
    assert server.context.trace_id == int(CALLER_TRACE, 16)
    assert attribute(server, "sofer.protocol") == "connect"
    assert attribute(server, "rpc.system") == "connect_rpc"
    assert attribute(server, "sofer.request_id") == "ticket-4712"
