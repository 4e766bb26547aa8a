"""Upstream failures through the sandbox's fault injection, as the caller sees them: the code, the
ErrorInfo reason and details, what was retried, and how many requests the upstream got; over
gRPC and over Connect alike (each case runs through both)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from sofer.batch.v1 import batch_pb2, batch_service_pb2, batch_service_pb2_grpc
from sofer_sandbox import SandboxConfig, SandboxServer

from tests.conftest import BOTH_PROTOCOLS, TOKEN, bearer
from tests.helpers.calls import (
    assert_error,
    batch_status,
    create_express,
    detail,
    express,
    fault,
    finished_batch,
    has_detail,
    retry_delay,
    rpc_error,
    source,
    upstream_count,
    upstream_total,
)

Stub = batch_service_pb2_grpc.BatchTranscriptionServiceStub
pytestmark = BOTH_PROTOCOLS  # every case over gRPC and over Connect (the HTTP port)
pb = batch_service_pb2
STATUS = "GET /v1/transcriptions/batch/{batch_id}/status"
STATUS_PREFIX = "/v1/transcriptions/batch/"
CREATE = "POST /v1/transcriptions/batch"
UNKNOWN = "0f0e0d0c-0b0a-4988-8776-655443322110"


async def status_call(stub: Stub, batch_id: str, **kwargs: Any) -> pb.GetBatchStatusResponse:
    """GetBatchStatus as the test tenant."""
    response: pb.GetBatchStatusResponse = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=batch_id), metadata=bearer(), **kwargs
    )
    return response


# -- 4xx --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (400, grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_REJECTED_REQUEST"),
        (422, grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_REJECTED_REQUEST"),
        (401, grpc.StatusCode.UNAUTHENTICATED, "UPSTREAM_UNAUTHENTICATED"),
        (403, grpc.StatusCode.PERMISSION_DENIED, "UPSTREAM_PERMISSION_DENIED"),
        (404, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND"),
        (409, grpc.StatusCode.ABORTED, "UPSTREAM_CONFLICT"),
        (410, grpc.StatusCode.FAILED_PRECONDITION, "UPSTREAM_FAILED_PRECONDITION"),
    ],
)
async def test_upstream_4xx_maps_to_its_code(
    stub: Stub, sandbox: SandboxServer, status: int, code: grpc.StatusCode, reason: str
) -> None:
    """Each upstream 4xx becomes its gRPC code, with the upstream's message and status in the
    details, the batch id in the ErrorInfo, and no retry."""
    created = await create_express(stub, source(1))
    await fault(sandbox, status=status, path_prefix=STATUS_PREFIX)
    error = await rpc_error(status_call(stub, created.batch_id))
    info = assert_error(error, code, reason)
    assert info.metadata["upstream_status"] == str(status)
    assert info.metadata["batch_id"] == created.batch_id
    assert f"injected HTTP {status}" in (error.details() or "")
    assert not has_detail(error, error_details_pb2.BadRequest)
    assert await upstream_count(sandbox, STATUS) == 1


@pytest.mark.parametrize(
    ("rpc", "request_message", "reason", "key"),
    [
        (
            "GetBatchStatus",
            pb.GetBatchStatusRequest(batch_id=UNKNOWN),
            "BATCH_NOT_FOUND",
            "batch_id",
        ),
        (
            "GetBatchItem",
            pb.GetBatchItemRequest(batch_id=UNKNOWN, client_item_id="ep-1"),
            "BATCH_ITEM_NOT_FOUND",
            "batch_id",
        ),
        (
            "GetManifest",
            pb.GetManifestRequest(batch_file_id=UNKNOWN),
            "MANIFEST_NOT_FOUND",
            "batch_file_id",
        ),
        (
            "GetTranscription",
            pb.GetTranscriptionRequest(transcription_id=UNKNOWN),
            "TRANSCRIPTION_NOT_FOUND",
            "transcription_id",
        ),
        (
            "GetTranscriptionStatus",
            pb.GetTranscriptionStatusRequest(transcription_id=UNKNOWN),
            "TRANSCRIPTION_NOT_FOUND",
            "transcription_id",
        ),
    ],
)
async def test_unknown_id_is_not_found_with_a_specific_reason(
    stub: Stub, rpc: str, request_message: Any, reason: str, key: str
) -> None:
    """An id the upstream does not know is NOT_FOUND, the reason naming what was looked up and
    the ErrorInfo carrying the id."""
    error = await rpc_error(getattr(stub, rpc)(request_message, metadata=bearer()))
    info = assert_error(error, grpc.StatusCode.NOT_FOUND, reason)
    assert info.metadata[key] == UNKNOWN
    assert info.metadata["upstream_status"] == "404"


async def test_standard_batch_from_unknown_manifest_is_rejected(stub: Stub) -> None:
    """A standard batch from a manifest that does not exist fails without creating anything;
    the sandbox answers 400 for it (as for another tenant's manifest), so INVALID_ARGUMENT."""
    request = pb.CreateBatchRequest(info=batch_pb2.BatchInfo(), batch_file_id=UNKNOWN)
    error = await rpc_error(stub.CreateBatch(request, metadata=bearer()))
    info = assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_REJECTED_REQUEST")
    assert info.metadata["batch_file_id"] == UNKNOWN


async def test_failed_transcription_is_rejected_by_the_upstream(stub: Stub) -> None:
    """GetTranscription of a FAILED item carries the upstream's 400 as INVALID_ARGUMENT."""
    created = await create_express(stub, source("fail-x"))
    final = await finished_batch(stub, created.batch_id)
    assert final.failed_count == 1
    error = await rpc_error(
        stub.GetTranscription(
            pb.GetTranscriptionRequest(transcription_id=created.transcription_ids[0]),
            metadata=bearer(),
        )
    )
    info = assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_REJECTED_REQUEST")
    assert info.metadata["transcription_id"] == created.transcription_ids[0]


# -- 429 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after_format", ["seconds", "date", "ms", "both"])
async def test_429_past_the_deadline_is_resource_exhausted_with_retry_info(
    stub: Stub, sandbox: SandboxServer, retry_after_format: str
) -> None:
    """A 429 asking for a wait longer than the caller's deadline (in any form of Retry-After)
    is returned at once as RESOURCE_EXHAUSTED, with the upstream's delay in RetryInfo and a
    QuotaFailure."""
    created = await create_express(stub, source(1))
    await fault(
        sandbox,
        status=429,
        retry_after=30,
        retry_after_format=retry_after_format,
        path_prefix=STATUS_PREFIX,
    )
    error = await rpc_error(status_call(stub, created.batch_id, timeout=5.0))
    info = assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert info.metadata["upstream_status"] == "429"
    assert 28.0 <= retry_delay(error) <= 30.0  # an HTTP-date has whole seconds
    quota = detail(error, error_details_pb2.QuotaFailure)
    assert len(quota.violations) == 1
    assert quota.violations[0].subject
    assert await upstream_count(sandbox, STATUS) == 1


async def test_429_until_attempts_run_out_is_resource_exhausted(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A 429 that keeps coming is retried up to the attempt limit (5), then RESOURCE_EXHAUSTED
    with the last delay the upstream asked for."""
    created = await create_express(stub, source(1))
    await fault(
        sandbox,
        status=429,
        count=20,
        retry_after=0.02,
        retry_after_format="ms",
        path_prefix=STATUS_PREFIX,
    )
    error = await rpc_error(status_call(stub, created.batch_id))
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert retry_delay(error) == pytest.approx(0.02)
    assert has_detail(error, error_details_pb2.QuotaFailure)
    assert await upstream_count(sandbox, STATUS) == 5


async def test_429_then_success_is_retried_transparently(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A short 429 burst on a read is absorbed: the caller just gets the answer."""
    created = await create_express(stub, source(1))
    await fault(
        sandbox,
        status=429,
        count=2,
        retry_after=0.05,
        retry_after_format="ms",
        path_prefix=STATUS_PREFIX,
    )
    response = await status_call(stub, created.batch_id)
    assert response.batch_status.batch_id == created.batch_id
    assert await upstream_count(sandbox, STATUS) == 3


async def test_429_on_create_batch_is_retried_and_creates_one_batch(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A 429 on CreateBatch (the upstream did nothing) is retried, and one batch results."""
    await fault(sandbox, status=429, retry_after=0.05, retry_after_format="ms", method="POST")
    created = await create_express(stub, source(1))
    assert created.total_count == 1
    assert await upstream_count(sandbox, CREATE) == 2


@pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(item_seconds=0.5, rate_limit=0.2)], ids=["rate-0.2-per-s"]
)
async def test_upstream_rate_limit_is_resource_exhausted(stub: Stub) -> None:
    """Over the upstream's own rate limit, a call whose deadline is shorter than the wait it
    asks for gets RESOURCE_EXHAUSTED with that wait in RetryInfo."""
    await stub.ListManifests(pb.ListManifestsRequest(), metadata=bearer())
    error = await rpc_error(
        stub.ListManifests(pb.ListManifestsRequest(), metadata=bearer(), timeout=2.0)
    )
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
    assert retry_delay(error) > 1.0
    assert has_detail(error, error_details_pb2.QuotaFailure)


# -- 5xx, connection failures, unreadable answers ---------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_burst_on_a_read_is_retried_then_ok(
    stub: Stub, sandbox: SandboxServer, status: int
) -> None:
    """A read that meets a short 5xx burst is retried and succeeds."""
    created = await create_express(stub, source(1))
    await fault(sandbox, status=status, count=2, path_prefix=STATUS_PREFIX)
    response = await status_call(stub, created.batch_id)
    assert response.batch_status.total_count == 1
    assert await upstream_count(sandbox, STATUS) == 3


async def test_5xx_that_persists_on_a_read_is_unavailable(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A read whose upstream keeps failing 503 ends UNAVAILABLE after the attempt limit."""
    created = await create_express(stub, source(1))
    await fault(sandbox, status=503, count=20, path_prefix=STATUS_PREFIX)
    error = await rpc_error(status_call(stub, created.batch_id))
    info = assert_error(error, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_UNAVAILABLE")
    assert info.metadata["upstream_status"] == "503"
    assert await upstream_count(sandbox, STATUS) == 5


async def test_500_on_create_batch_is_outcome_unknown_and_not_retried(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A 500 on CreateBatch is UNAVAILABLE with reason OUTCOME_UNKNOWN (the batch may exist),
    after exactly one upstream POST: never a second batch from a silent retry."""
    await fault(sandbox, status=500, method="POST")
    error = await rpc_error(stub.CreateBatch(express(source(1)), metadata=bearer()))
    info = assert_error(error, grpc.StatusCode.UNAVAILABLE, "OUTCOME_UNKNOWN")
    assert info.metadata["upstream_status"] == "500"
    assert await upstream_count(sandbox, CREATE) == 1


async def test_dropped_connection_on_a_read_is_retried(stub: Stub, sandbox: SandboxServer) -> None:
    """A read whose connection is dropped once is retried on a new one and succeeds."""
    created = await create_express(stub, source(1))
    await fault(sandbox, drop=True, path_prefix=STATUS_PREFIX)
    response = await status_call(stub, created.batch_id)
    assert response.batch_status.batch_id == created.batch_id
    assert await upstream_count(sandbox, STATUS) == 2


async def test_dropped_connections_on_a_read_are_unavailable(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A read whose connections keep dropping ends UNAVAILABLE after its 5 attempts, each sent
    twice (the transport sends a GET whose connection closed before any answer once more, as
    RFC 9112 allows for idempotent requests)."""
    created = await create_express(stub, source(1))
    await fault(sandbox, drop=True, count=20, path_prefix=STATUS_PREFIX)
    error = await rpc_error(status_call(stub, created.batch_id))
    assert_error(error, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_UNAVAILABLE")
    assert await upstream_count(sandbox, STATUS) == 10


async def test_dropped_connection_on_create_batch_is_outcome_unknown(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A CreateBatch whose connection drops after sending is UNAVAILABLE, OUTCOME_UNKNOWN, and
    not retried."""
    await fault(sandbox, drop=True, method="POST")
    error = await rpc_error(stub.CreateBatch(express(source(1)), metadata=bearer()))
    assert_error(error, grpc.StatusCode.UNAVAILABLE, "OUTCOME_UNKNOWN")
    assert await upstream_count(sandbox, CREATE) == 1


@pytest.mark.parametrize("body", ["{not json", '{"batch_id": 7}', "[]"])
async def test_malformed_answer_is_unavailable_bad_response(
    stub: Stub, sandbox: SandboxServer, body: str
) -> None:
    """A 200 whose body is not the expected JSON is UNAVAILABLE, reason UPSTREAM_BAD_RESPONSE,
    and not retried (the upstream would answer the same)."""
    created = await create_express(stub, source(1))
    await fault(sandbox, body=body, path_prefix=STATUS_PREFIX)
    error = await rpc_error(status_call(stub, created.batch_id))
    assert_error(error, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_BAD_RESPONSE")
    assert await upstream_count(sandbox, STATUS) == 1


async def test_malformed_answer_to_create_batch_is_outcome_unknown(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """An unreadable 200 to CreateBatch may hide a created batch: OUTCOME_UNKNOWN."""
    await fault(sandbox, body="<html>oops</html>", method="POST")
    error = await rpc_error(stub.CreateBatch(express(source(1)), metadata=bearer()))
    assert_error(error, grpc.StatusCode.UNAVAILABLE, "OUTCOME_UNKNOWN")
    assert await upstream_count(sandbox, CREATE) == 1


async def test_unreachable_upstream_is_unavailable(stub: Stub, sandbox: SandboxServer) -> None:
    """With the upstream gone, a read is UNAVAILABLE (after its retries), not a hang."""
    await sandbox.stop()
    error = await rpc_error(status_call(stub, UNKNOWN, timeout=10.0))
    assert_error(error, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_UNAVAILABLE")


# -- deadlines --------------------------------------------------------------------------------


async def test_slow_upstream_and_short_deadline_is_deadline_exceeded(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """A caller with a short deadline gets DEADLINE_EXCEEDED about when it expires, not when the
    slow upstream finally answers."""
    created = await create_express(stub, source(1))
    await fault(sandbox, delay=8.0, path_prefix=STATUS_PREFIX)
    started = time.monotonic()
    error = await rpc_error(status_call(stub, created.batch_id, timeout=0.5))
    elapsed = time.monotonic() - started
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert elapsed < 5.0


@pytest.mark.parametrize("gateway_config", [{"default_timeout": 0.5}], indirect=True)
async def test_gateway_timeout_is_deadline_exceeded_with_details(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """Without a caller deadline, the gateway's own time limit ends the call DEADLINE_EXCEEDED,
    reason UPSTREAM_TIMEOUT, well before the slow upstream answers."""
    created = await create_express(stub, source(1))
    await fault(sandbox, delay=8.0, path_prefix=STATUS_PREFIX)
    started = time.monotonic()
    error = await rpc_error(status_call(stub, created.batch_id))
    elapsed = time.monotonic() - started
    info = assert_error(error, grpc.StatusCode.DEADLINE_EXCEEDED, "UPSTREAM_TIMEOUT")
    assert info.metadata["batch_id"] == created.batch_id
    assert elapsed < 5.0


async def test_errors_never_carry_the_token(stub: Stub, sandbox: SandboxServer) -> None:
    """Even when the upstream echoes the caller's token in its message, the error hides it."""
    await fault(sandbox, status=400, body=f'{{"detail": "bad token {TOKEN}"}}')
    error = await rpc_error(status_call(stub, str(uuid.uuid4())))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_REJECTED_REQUEST")
    assert "[redacted]" in (error.details() or "")
    assert await upstream_total(sandbox) == 1
    status = await batch_status(stub, (await create_express(stub, source(1))).batch_id)
    assert status.total_count == 1
