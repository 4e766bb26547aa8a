"""Fault injection beyond the status table of test_grpc_errors.py: 429 storms without
Retry-After, answers slower than the deadline on every RPC, dropped connections on every create,
malformed and unexpected JSON on several RPCs, the upstream down at start and coming back, and
the retry budget limiting retries. After every scenario the gateway is healthy."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    assert_healthy,
    clear_faults,
    create_express,
    fault,
    finished_batch,
    has_detail,
    rpc_error,
    source,
    stats,
    upstream_count,
)
from tests.helpers.sandbox_http import SSL_CONTEXT

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pb = batch_service_pb2
SERVICE = "sofer.batch.v1.BatchTranscriptionService"
STATUS = "GET /v1/transcriptions/batch/{batch_id}/status"
STATUS_PREFIX = "/v1/transcriptions/batch/"
FILES_PREFIX = "/v1/transcriptions/batch-files"
OK_CODES = (grpc.StatusCode.OK,)
NEVER = (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)


async def upstream_json(sandbox: SandboxServer, path: str) -> Any:
    """What the sandbox really answers to GET `path` for the test tenant (a template for the
    malformed answers below)."""
    async with httpx.AsyncClient(base_url=sandbox.url, verify=SSL_CONTEXT, timeout=10) as http:
        response = await http.get(path, headers={"authorization": f"Bearer {TOKEN}"})
    response.raise_for_status()
    return response.json()


# -- 429 storms without Retry-After ------------------------------------------------------------


async def test_short_429_storm_without_retry_after_is_absorbed_by_backoff(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer
) -> None:
    """429s that name no delay are retried after the gateway's own backoff; the call succeeds."""
    created = await create_express(stub, source(1))
    await fault(sandbox, status=429, count=3, path_prefix=STATUS_PREFIX)
    response = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(), timeout=20
    )
    assert response.batch_status.batch_id == created.batch_id
    assert await upstream_count(sandbox, STATUS) == 4
    await assert_healthy(channel, stub)


async def test_endless_429_storm_without_retry_after_is_resource_exhausted(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer
) -> None:
    """A 429 storm with no Retry-After ends RESOURCE_EXHAUSTED (RATE_LIMITED, QuotaFailure)
    after at most max_attempts attempts, well inside the deadline."""
    created = await create_express(stub, source(1))
    await fault(sandbox, status=429, count=1000, path_prefix=STATUS_PREFIX)
    error = await rpc_error(
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(), timeout=20
        )
    )
    info = assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert info.metadata["upstream_status"] == "429"
    assert has_detail(error, error_details_pb2.QuotaFailure)
    assert 1 <= await upstream_count(sandbox, STATUS) <= 5
    await clear_faults(sandbox)
    await assert_healthy(channel, stub)


async def test_concurrent_calls_in_a_429_storm_each_end_ok_or_resource_exhausted(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer
) -> None:
    """Many callers in a 429 storm without Retry-After: each gets its answer or
    RESOURCE_EXHAUSTED (RATE_LIMITED); nobody hangs, nothing else comes back, and the storm
    costs the upstream at most max_attempts requests per call."""
    created = await create_express(stub, source(1))
    calls = 8
    await fault(sandbox, status=429, count=12, path_prefix=STATUS_PREFIX)

    async def one() -> str:
        try:
            response = await stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(), timeout=20
            )
        except grpc.aio.AioRpcError as error:
            assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
            return "exhausted"
        assert response.batch_status.batch_id == created.batch_id
        return "ok"

    outcomes = await asyncio.gather(*(one() for _ in range(calls)))
    assert set(outcomes) <= {"ok", "exhausted"}
    assert await upstream_count(sandbox, STATUS) <= calls * 5
    await clear_faults(sandbox)
    await assert_healthy(channel, stub)


async def test_429_storm_on_create_creates_nothing(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer
) -> None:
    """A create that only ever meets 429 (the upstream did nothing) ends RESOURCE_EXHAUSTED, not
    OUTCOME_UNKNOWN, and no batch exists afterwards."""
    await fault(sandbox, status=429, count=1000, method="POST")
    error = await rpc_error(
        stub.CreateBatch(pb.CreateBatchRequest(**_express_fields()), metadata=bearer(), timeout=20)
    )
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    await clear_faults(sandbox)
    created = await create_express(stub, source(1))
    assert created.total_count == 1  # the first batch of this tenant: the storm made none
    await assert_healthy(channel, stub)


def _express_fields() -> dict[str, Any]:
    return {
        "info": batch_pb2.BatchInfo(),
        "processing_mode": batch_pb2.PROCESSING_MODE_EXPRESS,
        "audio_sources": [source(1)],
    }


# -- answers slower than the deadline, on every RPC -------------------------------------------

DEADLINE = 1.0
MARGIN = 15.0  # generous: a loaded 2-core machine; a hang would be the upstream's 60 s


async def _ids(stub: Stub, sandbox: SandboxServer) -> dict[str, str]:
    created = await create_express(stub, source("slow", client_item_id="ep-1"))
    uploaded = await stub.UploadManifest(
        pb.UploadManifestRequest(jsonl='{"audio_url": "https://cdn.example.com/x.mp3"}\n'),
        metadata=bearer(),
    )
    return {
        "batch_id": created.batch_id,
        "transcription_id": created.transcription_ids[0],
        "batch_file_id": uploaded.manifest.id,
    }


def _every_rpc(stub: Stub, ids: dict[str, str]) -> dict[str, Callable[..., Awaitable[Any]]]:
    """One well-formed call of every RPC (a function of the call's keyword arguments)."""
    batch_id, transcription_id = ids["batch_id"], ids["transcription_id"]

    async def watch(**kwargs: Any) -> Any:
        call = stub.WatchBatchStatus(pb.WatchBatchStatusRequest(batch_id=batch_id), **kwargs)
        return [message async for message in call]

    return {
        "CreateBatch": lambda **kw: stub.CreateBatch(
            pb.CreateBatchRequest(**_express_fields()), **kw
        ),
        "UploadManifest": lambda **kw: stub.UploadManifest(
            pb.UploadManifestRequest(jsonl='{"audio_url": "https://cdn.example.com/y.mp3"}'), **kw
        ),
        "CreateManifestFromRss": lambda **kw: stub.CreateManifestFromRss(
            pb.CreateManifestFromRssRequest(rss_url="https://feeds.example.com/podcast.xml"), **kw
        ),
        "GetManifest": lambda **kw: stub.GetManifest(
            pb.GetManifestRequest(batch_file_id=ids["batch_file_id"]), **kw
        ),
        "ListManifests": lambda **kw: stub.ListManifests(pb.ListManifestsRequest(), **kw),
        "GetBatchStatus": lambda **kw: stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=batch_id), **kw
        ),
        "WatchBatchStatus": watch,
        "GetBatchItem": lambda **kw: stub.GetBatchItem(
            pb.GetBatchItemRequest(batch_id=batch_id, client_item_id="ep-1"), **kw
        ),
        "GetTranscription": lambda **kw: stub.GetTranscription(
            pb.GetTranscriptionRequest(transcription_id=transcription_id), **kw
        ),
        "GetTranscriptionStatus": lambda **kw: stub.GetTranscriptionStatus(
            pb.GetTranscriptionStatusRequest(transcription_id=transcription_id), **kw
        ),
    }


async def test_every_rpc_returns_by_its_deadline_when_the_upstream_is_slow(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer
) -> None:
    """With every upstream answer 60 s late, each RPC (unary and streaming, reads and creates)
    ends DEADLINE_EXCEEDED about when its 1 s deadline expires: none hangs for the upstream."""
    ids = await _ids(stub, sandbox)
    await fault(sandbox, delay=60.0, count=1000)
    rpcs = _every_rpc(stub, ids)

    async def timed(name: str) -> tuple[str, grpc.StatusCode, float]:
        started = time.monotonic()
        try:
            await rpcs[name](metadata=bearer(), timeout=DEADLINE)
        except grpc.aio.AioRpcError as error:
            return name, error.code(), time.monotonic() - started
        return name, grpc.StatusCode.OK, time.monotonic() - started

    results = await asyncio.gather(*(timed(name) for name in rpcs))
    for name, code, elapsed in results:
        assert code == grpc.StatusCode.DEADLINE_EXCEEDED, (name, code)
        assert elapsed < DEADLINE + MARGIN, (name, elapsed)
    await clear_faults(sandbox)
    await assert_healthy(channel, stub)


@pytest.mark.parametrize("gateway_config", [{"default_timeout": 1.0}], indirect=True)
async def test_every_rpc_without_a_deadline_is_bounded_by_the_gateway(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer
) -> None:
    """A caller without a deadline is protected by --default-timeout on every unary RPC: each
    ends DEADLINE_EXCEEDED (UPSTREAM_TIMEOUT) instead of waiting for the slow upstream."""
    ids = await _ids(stub, sandbox)
    await fault(sandbox, delay=60.0, count=1000)
    rpcs = _every_rpc(stub, ids)
    del rpcs["WatchBatchStatus"]  # a watch may last as long as its caller wants

    async def timed(name: str) -> tuple[str, grpc.aio.AioRpcError, float]:
        started = time.monotonic()
        error = await rpc_error(rpcs[name](metadata=bearer(), timeout=1.0 + MARGIN * 2))
        return name, error, time.monotonic() - started

    for name, error, elapsed in await asyncio.gather(*(timed(name) for name in rpcs)):
        assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED, (name, error.code())
        assert_error(error, grpc.StatusCode.DEADLINE_EXCEEDED, _timeout_reason(name))
        assert elapsed < 1.0 + MARGIN, (name, elapsed)
    await clear_faults(sandbox)
    await assert_healthy(channel, stub)


def _timeout_reason(rpc: str) -> str:
    """A create that timed out after sending may have acted: OUTCOME_UNKNOWN."""
    creates = {"CreateBatch", "UploadManifest", "CreateManifestFromRss"}
    return "OUTCOME_UNKNOWN" if rpc in creates else "UPSTREAM_TIMEOUT"


# -- dropped connections on creates -----------------------------------------------------------


@pytest.mark.parametrize(
    ("rpc", "key"),
    [
        ("UploadManifest", "POST /v1/transcriptions/batch-files"),
        ("CreateManifestFromRss", "POST /v1/transcriptions/batch-files/from-rss"),
    ],
)
async def test_dropped_connection_on_a_create_is_outcome_unknown_after_one_post(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer, rpc: str, key: str
) -> None:
    """A create whose connection drops after it was sent is UNAVAILABLE, OUTCOME_UNKNOWN, after
    exactly one POST: the gateway never guesses by creating again."""
    ids = await _ids(stub, sandbox)
    posts_before = await upstream_count(sandbox, key)
    await fault(sandbox, drop=True, method="POST")
    error = await rpc_error(_every_rpc(stub, ids)[rpc](metadata=bearer(), timeout=20))
    assert_error(error, grpc.StatusCode.UNAVAILABLE, "OUTCOME_UNKNOWN")
    assert "check before creating again" in (error.details() or "")
    assert await upstream_count(sandbox, key) - posts_before == 1
    await assert_healthy(channel, stub)


# -- malformed and unexpected JSON ------------------------------------------------------------


async def _answered(call: Awaitable[Any]) -> tuple[grpc.StatusCode, Any]:
    try:
        return grpc.StatusCode.OK, await call
    except grpc.aio.AioRpcError as exc:
        error = exc
    assert error.code() not in NEVER, (error.code(), error.details())
    assert error.details()
    return error.code(), error


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of `data` with the item at `path` replaced (or removed when value is ...)."""
    copy = json.loads(json.dumps(data))
    target = copy
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


BAD = "bad"  # UNAVAILABLE UPSTREAM_BAD_RESPONSE
MUTATIONS: list[tuple[str, tuple[Any, ...], Any, str]] = [
    ("wrong type: count as a string", ("total_count",), "1", BAD),
    ("wrong type: state as a number", ("status",), 3, BAD),
    ("wrong type: item list as an object", ("transcriptions",), {}, BAD),
    ("missing required field", ("batch_id",), ..., BAD),
    ("missing nested required field", ("transcriptions", 0, "created_at"), ..., BAD),
    ("null required field", ("completed_count",), None, BAD),
    ("count beyond int32", ("total_count",), 2**40, BAD),
    ("count beyond int64", ("pending_count",), 10**30, BAD),
    (
        "date-time out of range in UTC",
        ("transcriptions", 0, "created_at"),
        "9999-12-31T23:59:59-14:00",
        BAD,
    ),
    ("not a date-time", ("transcriptions", 0, "created_at"), "yesterday", BAD),
    ("lone surrogate in a string", ("transcriptions", 0, "title"), "\ud800", BAD),
    ("unknown batch state", ("status",), "PAUSED", "BATCH_STATE_UNSPECIFIED"),
    ("unknown item state", ("transcriptions", 0, "status"), "ON_HOLD", "ITEM_UNSPECIFIED"),
    ("unknown language", ("transcriptions", 0, "primary_language"), "xx", "LANGUAGE_UNSPECIFIED"),
    (
        "unknown word format",
        ("transcriptions", 0, "hebrew_word_format"),
        ["klingon"],
        "FORMAT_UNSPECIFIED",
    ),
    ("unknown extra fields", ("surprise",), {"nested": [1, 2, 3]}, "OK"),
]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [pytest.param(p, v, e, id=name) for name, p, v, e in MUTATIONS],
)
async def test_unexpected_batch_status_json(
    stub: Stub,
    channel: grpc.aio.Channel,
    sandbox: SandboxServer,
    path: tuple[Any, ...],
    value: Any,
    expected: str,
) -> None:
    """A batch status answer with wrong types, missing fields or out-of-range values is
    UNAVAILABLE UPSTREAM_BAD_RESPONSE (not retried); unknown enum values map to UNSPECIFIED and
    unknown fields are ignored (OK). Never INTERNAL or UNKNOWN."""
    created = await create_express(stub, source(1))
    real = await upstream_json(sandbox, f"/v1/transcriptions/batch/{created.batch_id}/status")
    body = _set(real, path, value)
    await fault(sandbox, body=json.dumps(body), path_prefix=STATUS_PREFIX)
    before = await upstream_count(sandbox, STATUS)
    code, answer = await _answered(
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(), timeout=20
        )
    )
    assert await upstream_count(sandbox, STATUS) - before == 1
    if expected == BAD:
        assert_error(answer, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_BAD_RESPONSE")
    else:
        assert code == grpc.StatusCode.OK
        status = answer.batch_status
        assert status.batch_id == created.batch_id
        item = status.transcriptions[0]
        if expected == "BATCH_STATE_UNSPECIFIED":
            assert status.state == batch_pb2.BATCH_STATE_UNSPECIFIED
        elif expected == "ITEM_UNSPECIFIED":
            assert item.state == batch_pb2.TRANSCRIPTION_STATE_UNSPECIFIED
        elif expected == "LANGUAGE_UNSPECIFIED":
            assert item.primary_language == batch_pb2.LANGUAGE_UNSPECIFIED
        elif expected == "FORMAT_UNSPECIFIED":
            assert list(item.hebrew_word_format) == [batch_pb2.HEBREW_WORD_FORMAT_UNSPECIFIED]
    await assert_healthy(channel, stub)


@pytest.mark.parametrize(
    "body",
    ["[]", "null", "42", '"a string"', "{", "", '{"detail": "ok"}', "[{}]"],
    ids=[
        "array",
        "null",
        "number",
        "string",
        "truncated",
        "empty",
        "wrong-object",
        "array-of-object",
    ],
)
@pytest.mark.parametrize(
    "rpc",
    ["GetManifest", "ListManifests", "GetTranscription", "GetTranscriptionStatus", "GetBatchItem"],
)
async def test_malformed_answers_to_reads_are_bad_response(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer, rpc: str, body: str
) -> None:
    """Whatever unusable 200 body a read gets (an array, null, a scalar, truncated or empty
    JSON, an object of the wrong shape), the caller sees UNAVAILABLE UPSTREAM_BAD_RESPONSE."""
    ids = await _ids(stub, sandbox)
    await fault(sandbox, body=body, method="GET")
    error = await rpc_error(_every_rpc(stub, ids)[rpc](metadata=bearer(), timeout=20))
    assert_error(error, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_BAD_RESPONSE")
    await assert_healthy(channel, stub)


@pytest.mark.parametrize("rpc", ["CreateBatch", "UploadManifest", "CreateManifestFromRss"])
@pytest.mark.parametrize("body", ["[]", '{"batch_id": 7}', '{"total_count": 1e999}'])
async def test_malformed_answers_to_creates_are_outcome_unknown(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer, rpc: str, body: str
) -> None:
    """An unusable 200 to a create may hide a created object: UNAVAILABLE OUTCOME_UNKNOWN."""
    ids = await _ids(stub, sandbox)
    await fault(sandbox, body=body, method="POST")
    error = await rpc_error(_every_rpc(stub, ids)[rpc](metadata=bearer(), timeout=20))
    assert_error(error, grpc.StatusCode.UNAVAILABLE, "OUTCOME_UNKNOWN")
    await assert_healthy(channel, stub)


async def test_unexpected_but_usable_answers_map_unknown_values_to_unspecified(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer
) -> None:
    """Unknown enum values from a newer upstream in a manifest, a transcription and a create
    answer map to the *_UNSPECIFIED values: the call succeeds."""
    ids = await _ids(stub, sandbox)
    await finished_batch(stub, ids["batch_id"])
    manifest = await upstream_json(sandbox, f"{FILES_PREFIX}/{ids['batch_file_id']}")
    await fault(sandbox, body=json.dumps({**manifest, "status": "ARCHIVED"}), method="GET")
    got = await stub.GetManifest(
        pb.GetManifestRequest(batch_file_id=ids["batch_file_id"]), metadata=bearer(), timeout=20
    )
    assert got.manifest.status == batch_pb2.MANIFEST_STATUS_UNSPECIFIED
    path = f"/v1/transcriptions/{ids['transcription_id']}"
    text = await upstream_json(sandbox, path)
    text["info"]["status"] = "REVIEWING"
    for stamp in text["timestamps"] or ():
        stamp["hebrew_word_format"] = ["elvish"]
    await fault(sandbox, body=json.dumps(text), method="GET")
    transcription = (
        await stub.GetTranscription(
            pb.GetTranscriptionRequest(transcription_id=ids["transcription_id"]),
            metadata=bearer(),
            timeout=20,
        )
    ).transcription
    assert transcription.info.state == batch_pb2.TRANSCRIPTION_STATE_UNSPECIFIED
    assert transcription.text == text["text"]
    for word in transcription.timestamps:
        assert list(word.hebrew_word_format) == [batch_pb2.HEBREW_WORD_FORMAT_UNSPECIFIED]
    answer = {"batch_id": ids["batch_id"], "transcription_ids": [], "total_count": 0}
    await fault(sandbox, body=json.dumps({**answer, "status": "QUEUED"}), method="POST")
    created = await stub.CreateBatch(
        pb.CreateBatchRequest(**_express_fields()), metadata=bearer(), timeout=20
    )
    assert created.state == batch_pb2.BATCH_STATE_UNSPECIFIED
    await assert_healthy(channel, stub)


# -- the upstream down at start, and coming back ----------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_upstream_down_at_start_then_coming_back() -> None:
    """A gateway whose upstream is down starts anyway and stays SERVING; calls fail UNAVAILABLE
    (UPSTREAM_UNAVAILABLE) long before their deadline; once the upstream listens on that
    address, the next call succeeds, although the failures drained the retry budget."""
    port = _free_port()
    config = GatewayConfig(
        listen="127.0.0.1:0",
        upstream_url=f"http://127.0.0.1:{port}",
        default_timeout=60.0,
        backoff_base=0.01,
        backoff_cap=0.1,
        shutdown_grace=0.5,
    )
    async with Gateway(config) as gateway, grpc.aio.insecure_channel(gateway.address) as channel:
        stub = Stub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(4):
            started = time.monotonic()
            error = await rpc_error(
                stub.ListManifests(pb.ListManifestsRequest(), metadata=bearer(), timeout=60)
            )
            assert_error(error, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_UNAVAILABLE")
            assert time.monotonic() - started < 30.0  # far from the 60 s deadline
            check = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=10)
            assert check.status == health_pb2.HealthCheckResponse.SERVING
        assert gateway.client is not None
        assert not gateway.client.budget.allows_retry()  # the failures drained the budget
        sandbox_config = SandboxConfig(item_seconds=0.5, manifest_validation_seconds=0.0)
        async with SandboxServer(sandbox_config, host="127.0.0.1", port=port):
            listed = await stub.ListManifests(
                pb.ListManifestsRequest(), metadata=bearer(), timeout=20
            )
            assert list(listed.manifests) == []
            created = await create_express(stub, source(1))
            assert created.total_count == 1
            await assert_healthy(channel, stub)


# -- the retry budget -------------------------------------------------------------------------


async def test_retry_budget_limits_retries_after_a_burst_of_failures(
    stub: Stub, channel: grpc.aio.Channel, sandbox: SandboxServer, gateway: Gateway
) -> None:
    """With the upstream failing 503, the first call retries to max_attempts (5), which drains
    the retry budget (gRFC A6, 10 tokens, retries only above 5): every later call makes one
    attempt only, so the burst costs the upstream far fewer requests than calls x attempts.
    Once the upstream recovers, calls succeed (first attempts are never throttled)."""
    created = await create_express(stub, source(1))
    await fault(sandbox, status=503, count=1000, path_prefix=STATUS_PREFIX)
    calls = 8
    per_call = []
    for _ in range(calls):
        before = await upstream_count(sandbox, STATUS)
        error = await rpc_error(
            stub.GetBatchStatus(
                pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(), timeout=20
            )
        )
        assert_error(error, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_UNAVAILABLE")
        per_call.append(await upstream_count(sandbox, STATUS) - before)
    assert per_call[0] == 5
    assert per_call[1:] == [1] * (calls - 1)
    assert sum(per_call) < calls * 5
    assert (await stats(sandbox))["requests"][STATUS] == sum(per_call)
    assert gateway.client is not None
    assert not gateway.client.budget.allows_retry()
    await clear_faults(sandbox)
    response = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer(), timeout=20
    )
    assert response.batch_status.batch_id == created.batch_id
    await assert_healthy(channel, stub)
