"""Metrics: `--metrics-listen` serves Prometheus metrics that count real traffic, carry no id or
token in any label, stay off by default, and cover everything the Grafana dashboard queries."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import promql_parser
import pytest
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import ConfigError, GatewayConfig
from gateway.server.process import Gateway
from gateway.upstream import client as upstream_client
from gateway.upstream.attempt import Route
from tests.conftest import OTHER_TOKEN, TOKEN, bearer
from tests.helpers import REPO
from tests.helpers.calls import (
    eventually,
    express,
    fault,
    rpc_error,
    source,
    stats,
)
from tests.helpers.metrics import scrape
from tests.helpers.streams import drain

pb = batch_service_pb2
Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
DASHBOARD = REPO / "deploy" / "grafana" / "gateway.json"
STATUS = "GET /v1/transcriptions/batch/{batch_id}/status"
CREATE = "POST /v1/transcriptions/batch"
ROUTES = {
    f"{r.method} {r.template}" for r in vars(upstream_client).values() if isinstance(r, Route)
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@pytest.fixture
def gateway_config(gateway_config: GatewayConfig) -> GatewayConfig:
    """The shared settings, with metrics on a free loopback port."""
    return dataclasses.replace(gateway_config, metrics_listen="127.0.0.1:0")


@pytest.fixture
async def stub_of(gateway: Gateway) -> AsyncIterator[Stub]:
    """A stub on a channel to the test's gateway."""
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        yield Stub(channel)


async def _create(stub: Stub, request_id: str = "") -> pb.CreateBatchResponse:
    request = express(source(1), source(2), request_id=request_id)
    response: pb.CreateBatchResponse = await stub.CreateBatch(request, metadata=bearer())
    return response


async def _status(stub: Stub, batch_id: str, token: str = TOKEN) -> pb.GetBatchStatusResponse:
    request = pb.GetBatchStatusRequest(batch_id=batch_id)
    response: pb.GetBatchStatusResponse = await stub.GetBatchStatus(request, metadata=bearer(token))
    return response


async def test_a_scrape_counts_the_traffic_it_followed(
    gateway: Gateway, sandbox: SandboxServer, stub_of: Stub
) -> None:
    """After a create, its replay, reads, a 404, a 429 retried after its Retry-After and a watch
    to the end, the scrape shows each of them: RPCs by method and code, latencies, upstream
    requests by operation and status class (matching what the upstream itself counted),
    retries by reason, the second waited on Retry-After, the replay, and no open watch."""
    request_id = str(uuid.uuid4())
    batch_id = (await _create(stub_of, request_id)).batch_id
    replay = await _create(stub_of, request_id)
    assert replay.batch_id == batch_id
    for _ in range(3):
        await _status(stub_of, batch_id)
    missing = await rpc_error(_status(stub_of, str(uuid.uuid4())))
    assert missing.code() is grpc.StatusCode.NOT_FOUND
    limited = (await _create(stub_of)).batch_id  # a batch nobody has read: no shared answer
    await fault(
        sandbox,
        status=429,
        count=1,
        retry_after=1,
        path_prefix=f"/v1/transcriptions/batch/{limited}/status",
    )
    await _status(stub_of, limited)  # 429, one second, then OK
    watch = stub_of.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer()
    )
    messages = await drain(watch)
    assert await watch.code() is grpc.StatusCode.OK

    seen = await eventually(
        lambda: scrape(gateway.metrics_port),
        lambda s: s.value("sofer_gateway_active_pollers") == 0,
    )
    rpcs = "sofer_gateway_rpcs_total"
    assert seen.value(rpcs, method="CreateBatch", code="OK") == 3
    assert seen.value("sofer_gateway_idempotency_replays_total", method="CreateBatch") == 1
    assert seen.value(rpcs, method="GetBatchStatus", code="OK") == 4
    assert seen.value(rpcs, method="GetBatchStatus", code="NOT_FOUND") == 1
    assert seen.value(rpcs, method="WatchBatchStatus", code="OK") == 1
    stream_messages = seen.value("sofer_gateway_stream_messages_total", method="WatchBatchStatus")
    assert stream_messages == len(messages) >= 1
    # Unary latency: one observation per call, +Inf bucket included; none for the stream.
    durations = "sofer_gateway_rpc_duration_seconds"
    assert seen.value(f"{durations}_count", method="GetBatchStatus") == 5
    assert seen.value(f"{durations}_bucket", method="GetBatchStatus", le="+Inf") == 5
    assert seen.value(f"{durations}_sum", method="GetBatchStatus") > 0
    assert seen.value(f"{durations}_count", method="WatchBatchStatus") == 0

    # Upstream: every request the sandbox received, by the route it names, and no other.
    requests = "sofer_gateway_upstream_requests_total"
    counted = (await stats(sandbox))["requests"]
    for operation in {s.labels["operation"] for s in seen.samples if s.name == requests}:
        assert seen.value(requests, operation=operation) == counted.get(operation), operation
    assert seen.value(requests) == sum(counted.values())
    assert seen.value(requests, operation=CREATE, status_class="2xx") == 2
    assert seen.value(requests, operation=STATUS, status_class="429") == 1
    assert seen.value(requests, operation=STATUS, status_class="4xx") == 1
    latency = "sofer_gateway_upstream_request_duration_seconds_count"
    assert seen.value(latency, operation=STATUS) == seen.value(requests, operation=STATUS)
    assert seen.value("sofer_gateway_upstream_retries_total", reason="rate_limited") == 1
    assert seen.value("sofer_gateway_upstream_retries_total") == 1
    waited = "sofer_gateway_upstream_retry_wait_seconds_total"
    assert seen.value(waited, source="retry_after") == 1.0
    assert seen.value("sofer_gateway_upstream_gave_up_total", reason="not_retryable") == 1

    # Live values, read at scrape time.
    assert gateway.client is not None
    budget = seen.value("sofer_gateway_upstream_retry_budget_tokens")
    assert budget == gateway.client.budget.tokens
    assert budget < 10.0  # the 429 cost a token; a few successes gave back 0.1 each
    assert seen.value("sofer_gateway_open_watches") == 0
    assert seen.value("sofer_gateway_limiter_active_calls") == 0
    assert seen.value("sofer_gateway_limiter_queued_calls") == 0
    assert seen.value("sofer_gateway_limiter_shed_total") == 0
    assert seen.value("sofer_gateway_limiter_max_concurrent_calls") == 256
    assert seen.value("sofer_gateway_asyncio_tasks") >= 1
    assert seen.has("sofer_gateway_event_loop_lag_seconds")
    # The standard process and platform metrics.
    assert seen.value("process_cpu_seconds_total") > 0
    assert seen.value("process_resident_memory_bytes") > 0
    assert seen.has("python_info")
    assert seen.has("python_gc_collections_total")


async def test_open_watches_pollers_and_tasks_are_live_and_return_to_their_baseline(
    gateway_config: GatewayConfig, sandbox_config: SandboxConfig
) -> None:
    """While watches are open the scrape shows them, their one shared poller, and the loop's
    tasks grown by at least one per watch; once they end, all three are back where they were
    (what the benchmark's churn scenario checks: no task left behind)."""
    slow = dataclasses.replace(sandbox_config, item_seconds=60.0)  # no watch ends by itself
    async with SandboxServer(slow) as sandbox:
        config = dataclasses.replace(gateway_config, upstream_url=sandbox.url)
        async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as ch:
            await _watch_and_cancel(Stub(ch), gateway.metrics_port)


async def _watch_and_cancel(stub_of: Stub, port: int) -> None:
    batch_id = (await _create(stub_of)).batch_id
    warm = stub_of.WatchBatchStatus(
        pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer()
    )
    await warm.read()
    warm.cancel()
    quiet = await eventually(
        lambda: scrape(port), lambda s: s.value("sofer_gateway_active_pollers") == 0
    )
    baseline = quiet.value("sofer_gateway_asyncio_tasks")
    watches = [
        stub_of.WatchBatchStatus(pb.WatchBatchStatusRequest(batch_id=batch_id), metadata=bearer())
        for _ in range(5)
    ]
    for watch in watches:
        await watch.read()
    busy = await scrape(port)
    assert busy.value("sofer_gateway_open_watches") == 5
    assert busy.value("sofer_gateway_active_pollers") == 1
    assert busy.value("sofer_gateway_asyncio_tasks") >= baseline + 5
    for watch in watches:
        watch.cancel()
    after = await eventually(
        lambda: scrape(port),
        lambda s: (
            s.value("sofer_gateway_active_pollers") == 0
            and s.value("sofer_gateway_asyncio_tasks") <= baseline
        ),
    )
    assert after.value("sofer_gateway_open_watches") == 0
    assert after.value("sofer_gateway_rpcs_total", method="WatchBatchStatus", code="CANCELLED") == 6


async def test_a_shed_call_shows_in_the_limiter_metrics(
    gateway_config: GatewayConfig, sandbox: SandboxServer
) -> None:
    """With one slot and no queue, a call that finds the slot taken is shed: the scrape shows
    the slot held while the slow call runs, then one shed call and its RESOURCE_EXHAUSTED."""
    config = dataclasses.replace(gateway_config, max_concurrent_calls=1, max_queued_calls=0)
    async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as ch:
        stub = Stub(ch)
        batch_id = (await _create(stub)).batch_id
        await fault(sandbox, delay=3.0, count=1, path_prefix="/v1/transcriptions/batch/")
        slow = asyncio.ensure_future(_status(stub, batch_id))
        holding = await eventually(
            lambda: scrape(gateway.metrics_port),
            lambda s: s.value("sofer_gateway_limiter_active_calls") == 1,
        )
        assert holding.value("sofer_gateway_limiter_queued_calls") == 0
        shed = await rpc_error(_status(stub, batch_id))
        assert shed.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        await slow
        seen = await scrape(gateway.metrics_port)
    assert seen.value("sofer_gateway_limiter_shed_total") == 1
    assert seen.value("sofer_gateway_limiter_max_concurrent_calls") == 1
    rpcs = "sofer_gateway_rpcs_total"
    assert seen.value(rpcs, method="GetBatchStatus", code="RESOURCE_EXHAUSTED") == 1
    assert seen.value(rpcs, method="GetBatchStatus", code="OK") == 1


async def test_no_label_value_carries_an_id_or_a_token(
    gateway: Gateway, sandbox: SandboxServer, stub_of: Stub
) -> None:
    """Whatever the traffic (two tenants, creates with request ids, reads of real and unknown
    ids, a failed upstream call), no label value of any series is a batch id, a request id,
    any UUID, a token or a path with an id in it: every label comes from a closed set."""
    request_id = str(uuid.uuid4())
    batch_id = (await _create(stub_of, request_id)).batch_id
    await _status(stub_of, batch_id)
    unknown = str(uuid.uuid4())
    await rpc_error(_status(stub_of, unknown, token=OTHER_TOKEN))
    await rpc_error(_status(stub_of, batch_id, token=OTHER_TOKEN))  # another tenant's: 404
    fresh = (await _create(stub_of)).batch_id  # read by nobody yet: its read goes upstream
    await fault(sandbox, status=503, count=1, path_prefix=f"/v1/transcriptions/batch/{fresh}")
    await _status(stub_of, fresh)  # 503, then retried OK
    seen = await scrape(gateway.metrics_port)
    secrets = (batch_id, fresh, request_id, unknown, TOKEN, OTHER_TOKEN, "Bearer")
    values = {v for s in seen.samples for v in s.labels.values()}
    assert values  # the scan saw labels at all
    for value in values:
        assert not UUID.search(value), value
        assert not any(secret in value for secret in secrets), value
        assert "/" not in value or value in ROUTES, value  # paths only as route templates
    assert seen.value("sofer_gateway_upstream_retries_total", reason="unavailable") == 1


async def test_metrics_are_off_by_default(sandbox: SandboxServer) -> None:
    """Without --metrics-listen no metrics port is opened and nothing is counted."""
    config = GatewayConfig(listen="127.0.0.1:0", upstream_url=sandbox.url)
    assert config.metrics_listen == ""
    async with Gateway(config) as gateway:
        assert gateway.metrics is None
        assert gateway.metrics_port == 0


async def test_two_gateways_in_one_process_count_apart(
    gateway_config: GatewayConfig,
) -> None:
    """Each gateway has a registry of its own: calls to one never show in the other's scrape."""
    async with Gateway(gateway_config) as first, Gateway(gateway_config) as second:
        async with grpc.aio.insecure_channel(first.address) as channel:
            await rpc_error(_status(Stub(channel), str(uuid.uuid4())))
        assert first.metrics_port != second.metrics_port
        one, other = await scrape(first.metrics_port), await scrape(second.metrics_port)
    name = "sofer_gateway_rpcs_total"
    assert one.value(name, method="GetBatchStatus", code="NOT_FOUND") == 1
    assert other.value(name, method="GetBatchStatus", code="NOT_FOUND") == 0


@pytest.mark.parametrize("listen", ["no-port", "127.0.0.1:99999", ":9464"])
async def test_a_bad_metrics_address_is_refused_naming_the_flag(
    gateway_config: GatewayConfig, listen: str
) -> None:
    """A metrics address that is not HOST:PORT fails the start with an error naming the flag."""
    config = dataclasses.replace(gateway_config, metrics_listen=listen)
    with pytest.raises(ConfigError, match="--metrics-listen") as raised:
        await Gateway(config).start()
    assert "HOST:PORT" in str(raised.value)


async def test_a_taken_metrics_port_fails_the_start(gateway_config: GatewayConfig) -> None:
    """A metrics port already in use fails the start (naming the flag) and leaves nothing
    running, rather than a gateway nobody can scrape."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = dataclasses.replace(gateway_config, metrics_listen=f"127.0.0.1:{port}")
        gateway = Gateway(config)
        with pytest.raises(ConfigError, match=f"--metrics-listen 127.0.0.1:{port}"):
            await gateway.start()
    assert gateway.server is None
    assert gateway.client is None


# -- the Grafana dashboard ---------------------------------------------------------------------


def _expressions(node: Any) -> Iterator[str]:
    """Every PromQL `expr` in a dashboard (panels, rows' panels, targets, templating)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str) and value.strip():
                yield value
            else:
                yield from _expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _expressions(item)


GRAFANA_VARIABLES = re.compile(r"\$(__rate_interval|__interval|__range)\b|\$\{__\w+\}")


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects, from promql-parser's syntax tree."""
    tree = promql_parser.parse(GRAFANA_VARIABLES.sub("5m", expr))
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            names.update(m.value for m in node.matchers.matchers if m.name == "__name__")
        elif isinstance(node, promql_parser.MatrixSelector):
            walk(node.vector_selector)
        elif isinstance(node, promql_parser.BinaryExpr):
            walk(node.lhs)
            walk(node.rhs)
        elif isinstance(node, promql_parser.Call):
            for arg in node.args:
                walk(arg)
        elif isinstance(
            node,
            promql_parser.AggregateExpr
            | promql_parser.ParenExpr
            | promql_parser.SubqueryExpr
            | promql_parser.UnaryExpr,
        ):
            walk(node.expr)
            if isinstance(node, promql_parser.AggregateExpr) and node.param is not None:
                walk(node.param)

    walk(tree)
    return names


def test_metric_names_reads_selectors_anywhere_in_an_expression() -> None:
    """The name walk finds selectors inside functions, aggregations, ranges and binary
    operators, and ignores label names, functions and Grafana's interval variables."""
    expr = (
        "histogram_quantile(0.99, sum by (le) (rate(a_bucket{method!=''}[$__rate_interval])))"
        " / on() group_left() (sum(rate(b_total[5m] offset 1m)) + -c) > bool topk(3, d)"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c", "d"}
    assert metric_names('{__name__="e"}') == {"e"}
    assert metric_names("f[5m:1m]") == {"f"}  # a subquery


def test_the_dashboard_is_a_grafana_dashboard_with_the_panels_operators_need() -> None:
    """deploy/grafana/gateway.json is a Grafana dashboard (schema version, unique panel ids,
    a Prometheus datasource variable) whose panels cover RPCs, latency, the upstream, retries,
    Retry-After, the limiter, watches, the budget and the process."""
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 36
    assert dashboard["uid"]
    panels = dashboard["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    used = set().union(*(metric_names(e) for e in _expressions(dashboard)))
    for needed in (
        "sofer_gateway_rpcs_total",
        "sofer_gateway_rpc_duration_seconds_bucket",
        "sofer_gateway_upstream_requests_total",
        "sofer_gateway_upstream_retries_total",
        "sofer_gateway_upstream_retry_wait_seconds_total",
        "sofer_gateway_limiter_shed_total",
        "sofer_gateway_open_watches",
        "sofer_gateway_active_pollers",
        "sofer_gateway_upstream_retry_budget_tokens",
        "sofer_gateway_upstream_rate_budget_wait_seconds_bucket",
        "sofer_gateway_upstream_rate_budget_exhausted_total",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    ):
        assert needed in used, needed
    for panel in panels:
        if panel.get("type") != "row":
            assert panel["targets"], panel["title"]
            assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])


async def test_every_metric_the_dashboard_queries_is_one_the_gateway_exports(
    gateway: Gateway, stub_of: Stub
) -> None:
    """Each series name in each PromQL expression of the dashboard is exported by a real
    gateway's /metrics (histograms' _bucket/_sum/_count and counters' _total included), so no
    panel stays empty because of a typo or a renamed metric."""
    await rpc_error(_status(stub_of, str(uuid.uuid4())))  # some upstream traffic too
    exported = (await scrape(gateway.metrics_port)).exported_names()
    expressions = list(_expressions(json.loads(DASHBOARD.read_text())))
    assert len(expressions) >= 10
    for expr in expressions:
        names = metric_names(expr)
        assert names, expr
        assert names <= exported, (expr, names - exported)
