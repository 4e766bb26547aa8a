"""What operators and callers can trace: the x-request-id round trip, one log line per RPC; over
gRPC and over Connect alike (the cases with a `stub` run through both)."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import uuid
from typing import Any

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxServer

from gateway.config import GatewayConfig
from gateway.server.process import Gateway
from tests.conftest import BOTH_PROTOCOLS, TOKEN, bearer
from tests.helpers.calls import (
    REQUEST_ID_KEY,
    assert_error,
    error_info,
    eventually,
    express,
    fault,
    metadata_value,
    recording_upstream,
    rpc_error,
    rpc_lines,
    source,
    upstream_count,
)

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pytestmark = BOTH_PROTOCOLS  # the tests with a `stub`: over gRPC and over Connect
pb = batch_service_pb2
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UNKNOWN = "0f0e0d0c-0b0a-4988-8776-655443322110"
STATUS_PREFIX = "/v1/transcriptions/batch/"
STATUS = "GET /v1/transcriptions/batch/{batch_id}/status"


def with_request_id(request_id: str, token: str = TOKEN) -> tuple[tuple[str, str], ...]:
    """Metadata with the caller's credential and x-request-id."""
    return (*bearer(token), (REQUEST_ID_KEY, request_id))


# -- x-request-id -----------------------------------------------------------------------------


async def test_request_id_is_echoed_on_success(stub: Stub) -> None:
    """A successful call returns the caller's x-request-id in its initial metadata."""
    request_id = str(uuid.uuid4())
    call = stub.ListManifests(pb.ListManifestsRequest(), metadata=with_request_id(request_id))
    await call
    assert metadata_value(await call.initial_metadata(), REQUEST_ID_KEY) == request_id


async def test_request_id_is_echoed_on_error(stub: Stub) -> None:
    """A failed call returns the caller's x-request-id in its trailing metadata and in the
    ErrorInfo metadata, so a support ticket can quote it."""
    request_id = "ticket-4711.retry:2"
    error = await rpc_error(
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=with_request_id(request_id)
        )
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert metadata_value(error.trailing_metadata(), REQUEST_ID_KEY) == request_id
    assert error_info(error).metadata["request_id"] == request_id


async def test_request_id_is_echoed_on_validation_and_credential_errors(stub: Stub) -> None:
    """Errors raised before any upstream call carry the request id too."""
    invalid = await rpc_error(
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id="x"), metadata=with_request_id("req-invalid")
        )
    )
    anonymous = await rpc_error(
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=((REQUEST_ID_KEY, "req-anon"),)
        )
    )
    assert metadata_value(invalid.trailing_metadata(), REQUEST_ID_KEY) == "req-invalid"
    assert metadata_value(anonymous.trailing_metadata(), REQUEST_ID_KEY) == "req-anon"


async def test_request_id_is_generated_when_absent(stub: Stub) -> None:
    """Without x-request-id the gateway makes up a fresh UUID per call and returns it."""
    seen = []
    for _ in range(2):
        call = stub.ListManifests(pb.ListManifestsRequest(), metadata=bearer())
        await call
        seen.append(metadata_value(await call.initial_metadata(), REQUEST_ID_KEY))
    assert all(r is not None and UUID.match(r) for r in seen)
    assert seen[0] != seen[1]


@pytest.mark.parametrize(
    "bad", ["has spaces in it", "x" * 200, "semi;colon"], ids=["spaces", "long", "punctuation"]
)
async def test_unusable_request_id_is_replaced(stub: Stub, bad: str) -> None:
    """An x-request-id that is not a short token (spaces, too long, odd characters) is replaced
    by a generated UUID rather than logged or forwarded as given."""
    call = stub.ListManifests(pb.ListManifestsRequest(), metadata=with_request_id(bad))
    await call
    returned = metadata_value(await call.initial_metadata(), REQUEST_ID_KEY)
    assert returned is not None
    assert UUID.match(returned)


async def test_request_id_and_credential_reach_the_upstream(gateway_config: GatewayConfig) -> None:
    """The upstream receives the call's x-request-id as X-Request-Id and the caller's token as
    its bearer credential."""
    async with recording_upstream() as (url, record):
        config = dataclasses.replace(gateway_config, upstream_url=url)
        async with (
            Gateway(config) as gateway,
            grpc.aio.insecure_channel(gateway.address) as channel,
        ):
            stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub(channel)
            error = await rpc_error(
                stub.GetBatchStatus(
                    pb.GetBatchStatusRequest(batch_id=UNKNOWN),
                    metadata=with_request_id("trace-123"),
                )
            )
    assert_error(error, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")
    ((request_line, headers),) = record.requests
    assert request_line.startswith(f"GET /v1/transcriptions/batch/{UNKNOWN}/status ")
    assert headers["x-request-id"] == "trace-123"
    assert headers["authorization"] == f"Bearer {TOKEN}"


# -- the log line -----------------------------------------------------------------------------


def only_line(out: io.StringIO, request_id: str) -> dict[str, Any]:
    """The one summary line of the call with `request_id`."""
    found = [line for line in rpc_lines(out) if line.get("request_id") == request_id]
    assert len(found) == 1, found
    return found[0]


async def test_successful_call_logs_one_summary_line(logs: io.StringIO, stub: Stub) -> None:
    """A successful call logs exactly one "rpc" line with the method, OK, its duration, its
    request id, the batch id and the upstream attempts."""
    created: pb.CreateBatchResponse = await stub.CreateBatch(
        express(source(1)), metadata=with_request_id("log-create")
    )
    await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=with_request_id("log-get")
    )
    create_line = only_line(logs, "log-create")
    assert create_line["rpc"] == "CreateBatch"
    assert create_line["code"] == "OK"
    assert isinstance(create_line["duration_ms"], int | float)
    assert create_line["duration_ms"] >= 0
    assert create_line["batch_id"] == created.batch_id
    assert create_line["upstream_attempts"] == 1
    assert create_line["level"] == "info"
    assert "batch_file_id" not in create_line  # nothing empty: express batches have no manifest
    get_line = only_line(logs, "log-get")
    assert (get_line["rpc"], get_line["code"]) == ("GetBatchStatus", "OK")
    assert get_line["batch_id"] == created.batch_id
    assert len(rpc_lines(logs)) == 2


async def test_failed_call_logs_its_code_reason_and_attempts(
    logs: io.StringIO, stub: Stub, sandbox: SandboxServer
) -> None:
    """A failed call's line has its gRPC code, the ErrorInfo reason and every upstream attempt;
    a call refused by validation shows zero attempts."""
    await fault(sandbox, status=503, count=20, path_prefix=STATUS_PREFIX)
    await rpc_error(
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=with_request_id("log-503")
        )
    )
    await rpc_error(
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id="nope"), metadata=with_request_id("log-invalid")
        )
    )
    unavailable = only_line(logs, "log-503")
    assert (unavailable["code"], unavailable["reason"]) == ("UNAVAILABLE", "UPSTREAM_UNAVAILABLE")
    assert unavailable["upstream_attempts"] == 5
    assert unavailable["batch_id"] == UNKNOWN
    invalid = only_line(logs, "log-invalid")
    assert (invalid["code"], invalid["reason"]) == ("INVALID_ARGUMENT", "REQUEST_INVALID")
    assert invalid["upstream_attempts"] == 0


async def test_retried_call_logs_all_its_attempts(
    logs: io.StringIO, stub: Stub, sandbox: SandboxServer
) -> None:
    """A read that succeeded after two 429s logs OK with three upstream attempts, and every
    line it logged carries its request id."""
    created: pb.CreateBatchResponse = await stub.CreateBatch(express(source(1)), metadata=bearer())
    await fault(
        sandbox,
        status=429,
        count=2,
        retry_after=0.02,
        retry_after_format="ms",
        path_prefix=STATUS_PREFIX,
    )
    await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=with_request_id("log-429")
    )
    line = only_line(logs, "log-429")
    assert (line["code"], line["upstream_attempts"]) == ("OK", 3)
    attempts = [
        json.loads(raw)
        for raw in logs.getvalue().splitlines()
        if raw.startswith("{") and '"upstream_attempt"' in raw
    ]
    mine = [a for a in attempts if a.get("request_id") == "log-429"]
    assert [a["attempt"] for a in mine] == [1, 2, 3]


async def test_token_never_reaches_the_logs(
    logs: io.StringIO, stub: Stub, sandbox: SandboxServer
) -> None:
    """Whatever happens in a call (success, upstream errors that echo the token, a malformed
    credential), the token never appears in any log line, even at DEBUG."""
    created: pb.CreateBatchResponse = await stub.CreateBatch(express(source(1)), metadata=bearer())
    await fault(sandbox, status=400, body=f'{{"detail": "rejected {TOKEN}"}}')
    await fault(sandbox, status=500, count=2, body=f'{{"detail": "crashed for {TOKEN}"}}')
    await rpc_error(
        stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=bearer())
    )
    await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=created.batch_id), metadata=bearer()
    )
    await rpc_error(
        stub.ListManifests(
            pb.ListManifestsRequest(), metadata=(("authorization", f"Token {TOKEN}"),)
        )
    )
    text = logs.getvalue()
    assert len(rpc_lines(logs)) == 4
    assert TOKEN not in text


async def test_call_abandoned_by_its_deadline_is_not_logged_ok(
    logs: io.StringIO, stub: Stub, sandbox: SandboxServer
) -> None:
    """A call whose caller gave up (deadline passed while the upstream was slow) is logged with
    a failure code, never as OK."""
    await fault(sandbox, delay=5.0, path_prefix=STATUS_PREFIX)
    error = await rpc_error(
        stub.GetBatchStatus(
            pb.GetBatchStatusRequest(batch_id=UNKNOWN),
            metadata=with_request_id("log-deadline"),
            timeout=0.3,
        )
    )
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    line = await eventually(
        lambda: _lines_of(logs, "log-deadline"), lambda lines: len(lines) == 1, within=5.0
    )
    assert line[0]["code"] in ("DEADLINE_EXCEEDED", "CANCELLED")


async def _lines_of(out: io.StringIO, request_id: str) -> list[dict[str, Any]]:
    return [line for line in rpc_lines(out) if line.get("request_id") == request_id]


async def test_call_cancelled_by_its_caller_is_logged_cancelled(
    logs: io.StringIO, stub: Stub, sandbox: SandboxServer
) -> None:
    """A call the caller cancels while the upstream is slow is logged CANCELLED, never OK."""
    await fault(sandbox, delay=5.0, path_prefix=STATUS_PREFIX)
    call = stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=UNKNOWN), metadata=with_request_id("log-cancel")
    )
    await eventually(lambda: upstream_count(sandbox, STATUS), bool, within=5.0)
    call.cancel()
    line = await eventually(
        lambda: _lines_of(logs, "log-cancel"), lambda lines: len(lines) == 1, within=5.0
    )
    assert line[0]["code"] == "CANCELLED"
