"""Idempotent creates: a request_id makes retries safe, and no create is ever silently doubled;
over gRPC and over Connect alike (each case runs through both)."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from sofer.batch.v1 import batch_service_pb2 as pb
from sofer.batch.v1 import batch_service_pb2_grpc as pb_grpc
from sofer_sandbox import SandboxServer

from gateway.contract.errors import GatewayError
from gateway.state.idempotency import IdempotencyStore
from tests.conftest import BOTH_PROTOCOLS, OTHER_TOKEN, bearer
from tests.helpers.calls import batch_request, error_info, fault, upstream_count

Stub = pb_grpc.BatchTranscriptionServiceStub
pytestmark = BOTH_PROTOCOLS  # every case over gRPC and over Connect (the HTTP port)
CREATE = "POST /v1/transcriptions/batch"
UPLOAD = "POST /v1/transcriptions/batch-files"


async def posts(sandbox: SandboxServer, what: str = CREATE) -> int:
    """How many requests of `what` the sandbox has received."""
    return await upstream_count(sandbox, what)


def reason(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason of a failed call."""
    return str(error_info(error).reason)


async def test_retry_returns_the_first_batch(stub: Stub, sandbox: SandboxServer) -> None:
    """The same request_id and payload twice: the first call's batch, one upstream POST, and the
    replay marked with `idempotent-replayed: true` trailing metadata."""
    request_id = str(uuid.uuid4())
    first = await stub.CreateBatch(batch_request(request_id), metadata=bearer())
    call = stub.CreateBatch(batch_request(request_id), metadata=bearer())
    second = await call
    assert second == first
    assert await posts(sandbox) == 1
    assert ("idempotent-replayed", "true") in tuple(await call.trailing_metadata() or ())


async def test_request_id_is_case_insensitive(stub: Stub, sandbox: SandboxServer) -> None:
    """A UUID is the same id in either case: the upper-case retry gets the first batch."""
    request_id = str(uuid.uuid4())
    first = await stub.CreateBatch(batch_request(request_id), metadata=bearer())
    second = await stub.CreateBatch(batch_request(request_id.upper()), metadata=bearer())
    assert second.batch_id == first.batch_id
    assert await posts(sandbox) == 1


async def test_concurrent_retries_make_one_upstream_call(
    stub: Stub, sandbox: SandboxServer
) -> None:
    """Ten calls with one request_id at once, while the upstream is slow: one POST, one batch."""
    await fault(sandbox, delay=0.5, count=1, method="POST", path_prefix="/v1/transcriptions/batch")
    request_id = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(stub.CreateBatch(batch_request(request_id), metadata=bearer()) for _ in range(10))
    )
    assert len({a.batch_id for a in answers}) == 1
    assert await posts(sandbox) == 1


async def test_answer_after_the_caller_gave_up_is_kept(stub: Stub, sandbox: SandboxServer) -> None:
    """The first caller's deadline passes while the upstream is still answering: it gets
    DEADLINE_EXCEEDED, the create completes anyway, and the retry gets that batch without a
    second POST."""
    await fault(sandbox, delay=1.0, count=1, method="POST", path_prefix="/v1/transcriptions/batch")
    request_id = str(uuid.uuid4())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateBatch(batch_request(request_id), metadata=bearer(), timeout=0.3)
    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    retry = await stub.CreateBatch(batch_request(request_id), metadata=bearer(), timeout=10)
    status = await stub.GetBatchStatus(
        pb.GetBatchStatusRequest(batch_id=retry.batch_id), metadata=bearer()
    )
    assert status.batch_status.total_count == 1
    assert await posts(sandbox) == 1


async def test_different_payload_is_refused(stub: Stub, sandbox: SandboxServer) -> None:
    """Reusing a request_id for another request: ALREADY_EXISTS (REQUEST_ID_REUSED), naming the
    request_id, and nothing sent upstream."""
    request_id = str(uuid.uuid4())
    await stub.CreateBatch(batch_request(request_id), metadata=bearer())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateBatch(
            batch_request(request_id, "https://e.com/other.mp3"), metadata=bearer()
        )
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason(raised.value) == "REQUEST_ID_REUSED"
    assert request_id in (raised.value.details() or "")
    assert await posts(sandbox) == 1


async def test_outcome_in_doubt_is_repeated_not_retried(stub: Stub, sandbox: SandboxServer) -> None:
    """A POST answered 500 may have created the batch: the call says OUTCOME_UNKNOWN, and a retry
    with the same request_id gets the same answer instead of a blind second create."""
    await fault(sandbox, status=500, count=1, method="POST", path_prefix="/v1/transcriptions/batch")
    request_id = str(uuid.uuid4())
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.CreateBatch(batch_request(request_id), metadata=bearer())
        assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
        assert reason(raised.value) == "OUTCOME_UNKNOWN"
    assert await posts(sandbox) == 1


async def test_definite_failure_can_be_retried(stub: Stub, sandbox: SandboxServer) -> None:
    """A create the upstream refused (429 longer than the deadline) did not happen: a retry with
    the same request_id is sent again and succeeds."""
    await fault(
        sandbox,
        status=429,
        count=1,
        retry_after=60,
        method="POST",
        path_prefix="/v1/transcriptions/batch",
    )
    request_id = str(uuid.uuid4())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateBatch(batch_request(request_id), metadata=bearer(), timeout=5)
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    answer = await stub.CreateBatch(batch_request(request_id), metadata=bearer())
    assert answer.batch_id
    assert await posts(sandbox) == 2


async def test_tenants_never_share_records(stub: Stub, sandbox: SandboxServer) -> None:
    """Another credential with the same request_id and payload gets its own batch, never the
    first tenant's."""
    request_id = str(uuid.uuid4())
    mine = await stub.CreateBatch(batch_request(request_id), metadata=bearer())
    theirs = await stub.CreateBatch(batch_request(request_id), metadata=bearer(OTHER_TOKEN))
    assert theirs.batch_id != mine.batch_id
    assert await posts(sandbox) == 2


async def test_without_request_id_each_call_creates(stub: Stub, sandbox: SandboxServer) -> None:
    """No request_id, no deduplication: two calls are two batches (documented)."""
    first = await stub.CreateBatch(batch_request(""), metadata=bearer())
    second = await stub.CreateBatch(batch_request(""), metadata=bearer())
    assert first.batch_id != second.batch_id
    assert await posts(sandbox) == 2


async def test_manifest_upload_is_idempotent(stub: Stub, sandbox: SandboxServer) -> None:
    """UploadManifest with one request_id twice: one manifest, one upstream POST."""
    request = pb.UploadManifestRequest(
        request_id=str(uuid.uuid4()), jsonl='{"audio_url": "https://e.com/a.mp3"}'
    )
    first = await stub.UploadManifest(request, metadata=bearer())
    second = await stub.UploadManifest(request, metadata=bearer())
    assert second.manifest.id == first.manifest.id
    assert await posts(sandbox, UPLOAD) == 1


async def test_store_forgets_after_ttl_and_stays_bounded() -> None:
    """Records expire after the TTL, and a tenant over its bound loses its oldest finished
    record first; a record still in flight is never dropped."""
    now = [0.0]
    store = IdempotencyStore(ttl=100, max_per_tenant=2, max_records=10, clock=lambda: now[0])

    async def make(value: str) -> str:
        return value

    async def create(request_id: str, value: str) -> tuple[str, bool]:
        return await store.run(
            "t", "Create", request_id, value, lambda: make(value), wait_until=None
        )

    assert await create("a", "1") == ("1", False)
    assert await create("a", "1") == ("1", True)
    await create("b", "2")
    await create("c", "3")  # over the bound of 2: "a" goes
    assert len(store) == 2
    assert await create("a", "1") == ("1", False)
    now[0] = 500.0  # past the TTL: everything is forgotten
    assert await create("b", "other payload") == ("other payload", False)
    with pytest.raises(GatewayError):
        await create("b", "different again")
